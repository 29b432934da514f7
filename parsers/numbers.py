"""Numbers as Chinese documents write them: 29136, 1,000, 1.84万, 十五, 一百零五, 3万余, 10余万.

Values are `Decimal` so that 385.886万 is exactly 3858860 (a float would give
3858860.0000000005); `as_json_number` turns the result into an int when it is whole.
Pure functions, no regexes shared with callers except the patterns exported below.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CN_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
CN_SMALL_UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNITS: dict[str, int] = {"万": 10_000, "亿": 100_000_000}

CN_NUMERAL_CHARS = "".join(CN_DIGITS) + "".join(CN_SMALL_UNITS) + "".join(CN_BIG_UNITS)
ARABIC_PATTERN = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
CHINESE_PATTERN = f"[{CN_NUMERAL_CHARS}]+"
MULTIPLIERS: dict[str, int] = {"万": 10_000, "亿": 100_000_000, "千万": 10_000_000, "百万": 1_000_000, "千": 1000}

_ARABIC = re.compile(f"(?:{ARABIC_PATTERN})")
_CHINESE = re.compile(CHINESE_PATTERN)


def parse_arabic(s: str) -> Decimal | None:
    """'29136', '1,000', '69.75' → Decimal; anything else → None."""
    if not _ARABIC.fullmatch(s):
        return None
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None


def parse_chinese(s: str) -> int | None:
    """Chinese numerals → int: 十五 15, 一百零五 105, 两千三百万 23000000, 三〇五 305.

    Digit-by-digit forms without unit characters (二〇二四, 一九九八) read positionally;
    two such digits (一一, 三五) are a word or a range and give None.
    Returns None for strings that are not a well-formed numeral (十十, 万, empty).
    """
    if not s or not _CHINESE.fullmatch(s):
        return None
    if all(ch in CN_DIGITS for ch in s):
        if len(s) == 1:
            return CN_DIGITS[s]
        if len(s) == 2 and not set(s) & {"〇", "零"}:
            return None  # 唯一一家, 三五个: a word or a range, not the number 11 or 35
        return int("".join(str(CN_DIGITS[ch]) for ch in s))
    total = 0  # completed big-unit groups (亿, 万)
    section = 0  # current group below 万
    digit: int | None = None
    last_small = 10_000  # small units must fall within a group: 千 > 百 > 十
    last_big = 10**12
    for ch in s:
        if ch in CN_DIGITS:
            if digit is not None and CN_DIGITS[ch] != 0 and digit != 0:
                return None  # two digits in a row inside a unit form: 三五十
            digit = CN_DIGITS[ch]
        elif ch in CN_SMALL_UNITS:
            unit = CN_SMALL_UNITS[ch]
            if unit >= last_small:
                return None
            section += (1 if digit is None else digit) * unit
            digit = None
            last_small = unit
        else:  # 万 / 亿
            unit = CN_BIG_UNITS[ch]
            group = section + (digit or 0)
            if group == 0 and total == 0:
                return None
            if unit >= last_big:
                # 万万 or 万 after 亿-level groups: multiply what we have (一万万 is rare but valid)
                total = (total + group) * unit
            else:
                total += group * unit
            last_big = unit
            section, digit, last_small = 0, None, 10_000
    return total + section + (digit or 0)


def parse_number(s: str) -> Decimal | None:
    """Arabic, Chinese, or Arabic with a multiplier: '1.84万' → 18400, '3亿' → 300000000."""
    s = s.strip()
    if not s:
        return None
    value = parse_arabic(s)
    if value is not None:
        return value
    for suffix in sorted(MULTIPLIERS, key=len, reverse=True):
        if s.endswith(suffix) and len(s) > len(suffix):
            base = parse_arabic(s[: -len(suffix)])
            if base is not None:
                return base * MULTIPLIERS[suffix]
    cn = parse_chinese(s)
    return Decimal(cn) if cn is not None else None


def as_json_number(value: Decimal) -> int | float:
    """An int when whole (18400), else a float (69.75): what JSON consumers expect."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
