"""text_metadata: titles of plain-text documents."""
from __future__ import annotations

from govingest.parsers.text_metadata import title_from_text

BODY = "今年以来，市应急局坚决落实中央和省、市关于应急管理工作的安排部署。"


def test_title_like_first_line() -> None:
    assert title_from_text(["市应急管理局2024年国庆期间安全生产工作总结", "更新时间:2024-11", BODY]) == (
        "市应急管理局2024年国庆期间安全生产工作总结"
    )


def test_aggregator_wrappers() -> None:
    assert title_from_text(["下面是小编为大家整理的全区安全生产工作情况汇报，供大家参考。", BODY]) == "全区安全生产工作情况汇报"
    assert title_from_text(["下面是小编为大家整理的《2024年工作总结》，欢迎阅读。", BODY]) == "2024年工作总结"


def test_no_title_when_the_text_starts_with_body_or_a_section() -> None:
    assert title_from_text([BODY, "一、主要工作"]) is None
    assert title_from_text(["一、主要工作开展情况", BODY]) is None
    assert title_from_text(["2024年11月5日", BODY]) is None
    assert title_from_text([]) is None
