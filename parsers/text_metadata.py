"""Metadata of plain-text input (no HTML): a title-like first line, 小编为大家整理的《…》.

Text files carry no meta tags, so the title comes from how such texts are written:
document-sharing sites wrap the title in their intro sentence, and a report's first
line is its title when it is short, unpunctuated and not a section marker.
"""
from __future__ import annotations

import re

_WRAPPED_BOOK = re.compile(r"小编为大家(?:精心)?(?:整理|收集|搜集|准备|带来|分享)了?的?《([^》]{2,80})》")
_WRAPPED_PLAIN = re.compile(
    r"小编为大家(?:精心)?(?:整理|收集|搜集|准备|带来|分享)了?的?([^，,。《》]{2,80}?)[，,]\s*"
    r"(?:供大家参考|仅供参考|欢迎阅读|希望对)"
)
_SECTION_MARKER = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、])")
_TITLE_LINE = re.compile(r"[^。；;！!？?，,]{4,60}")
_DATE_ONLY = re.compile(r"[\d\s年月日:：\-/.]+")
_TITLE_SEARCH_LINES = 40


def title_from_text(paragraphs: list[str]) -> str | None:
    """The document's title, or None when the text does not state one."""
    head = paragraphs[:_TITLE_SEARCH_LINES]
    for line in head:
        m = _WRAPPED_BOOK.search(line) or _WRAPPED_PLAIN.search(line)
        if m:
            return m.group(1).strip()
    for line in head:
        line = line.strip()
        if not line:
            continue
        if _TITLE_LINE.fullmatch(line) and not _SECTION_MARKER.match(line) and not _DATE_ONLY.fullmatch(line):
            return line
        return None  # only the first non-empty line can be the title
    return None
