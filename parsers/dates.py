"""dates: the date formats government pages print, as 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM'.

Shared by the metadata labels (发布时间：…) and the disclosure table (成文日期：…).
"""
from __future__ import annotations

import re

# 2024-06-13 14:54, 2024年6月13日 14:54, 2024/6/13, 2024.06.13; the ratio sign ∶ is used as a colon.
_DATE = re.compile(
    r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(\d{1,2})\s*[:：∶时]\s*(\d{2}))?"
)

def normalize_date(value: str | None) -> str | None:
    """'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM' from the date formats gov pages print."""
    if not value:
        return None
    m = _DATE.search(value)
    if not m:
        return None
    year, month, day, hour, minute = m.groups()
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    date = f"{year}-{int(month):02d}-{int(day):02d}"
    if hour is not None and int(hour) < 24 and int(minute) < 60:
        return f"{date}T{int(hour):02d}:{minute}"
    return date


def printed_dates(text: str) -> set[str]:
    """Every 'YYYY-MM-DD' the text prints, in any of the formats `normalize_date` reads."""
    return {d[:10] for m in _DATE.finditer(text) if (d := normalize_date(m.group(0)))}
