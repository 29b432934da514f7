"""numbers: Arabic, Chinese and mixed numerals, with property tests against int formatting."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govingest.parsers.numbers import as_json_number, parse_arabic, parse_chinese, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1), ("十", 10), ("十五", 15), ("二十", 20), ("九十九", 99), ("一百零五", 105),
        ("一百一十", 110), ("一千零一十", 1010), ("两千三百万", 23_000_000), ("十万", 100_000),
        ("三亿五千万", 350_000_000), ("一万零一", 10_001), ("二〇二四", 2024), ("三〇五", 305),
    ],
)
def test_chinese(text: str, value: int) -> None:
    assert parse_chinese(text) == value


@pytest.mark.parametrize("text", ["", "万", "十十", "一一", "三五十", "十四五", "abc", "一是"])
def test_chinese_rejects_words_that_are_not_numerals(text: str) -> None:
    assert parse_chinese(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("29136", Decimal(29136)), ("1,000", Decimal(1000)), ("69.75", Decimal("69.75")),
        ("1.84万", Decimal(18400)), ("10.61万", Decimal(106100)), ("385.886万", Decimal(3858860)),
        ("3亿", Decimal(300_000_000)), ("十五", Decimal(15)),
    ],
)
def test_parse_number(text: str, value: Decimal) -> None:
    assert parse_number(text) == value


def test_money_in_wan_is_exact() -> None:
    # float arithmetic would give 3858860.0000000005
    assert as_json_number(parse_number("385.886万")) == 3858860
    assert isinstance(as_json_number(Decimal("18400.00")), int)
    assert as_json_number(Decimal("69.75")) == 69.75


@pytest.mark.parametrize("text", ["1.2.3", "12a", "", "1,00", "-"])
def test_arabic_rejects_malformed(text: str) -> None:
    assert parse_arabic(text) is None


_DIGITS = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """Reference formatter written independently of the parser (standard reading form)."""
    if n == 0:
        return "零"

    def below_10000(x: int, leading: bool) -> str:
        out = ""
        zero = False
        for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = x // unit_value % 10
            if d == 0:
                zero = bool(out) or not leading
                continue
            if zero and (out or not leading):
                out += "零"
            zero = False
            out += ("" if (unit == "十" and d == 1 and not out and leading) else _DIGITS[d]) + unit
        return out

    parts = []
    groups = [(n // 100_000_000, "亿"), (n // 10_000 % 10_000, "万"), (n % 10_000, "")]
    started = False
    for value, unit in groups:
        if value == 0:
            continue
        text = below_10000(value, leading=not started)
        if started and value < 1000 and not text.startswith("零"):
            text = "零" + text
        parts.append(text + unit)
        started = True
    return "".join(parts)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=1, max_value=99_999_999_999))
def test_chinese_round_trip(n: int) -> None:
    assert parse_chinese(to_chinese(n)) == n


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_arabic_with_and_without_separators(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=0, max_value=100_000, places=3, allow_nan=False, allow_infinity=False))
def test_wan_multiplies_exactly(d: Decimal) -> None:
    text = f"{d:f}"
    assert parse_number(text + "万") == d * 10_000
