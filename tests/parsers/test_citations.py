"""Citations: 《…》 titles that name documents, document numbers, one citation for a title and its number."""
from __future__ import annotations

from govingest.parsers.citations import extract_citations, kind_of, title_key
from govingest.parsers.model import Citation


def _c(text: str, **kw: str) -> list[tuple[str | None, str | None, str | None]]:
    return [(c.title, c.doc_number, c.kind) for c in extract_citations(text, **kw)]


def test_a_title_and_the_number_after_it_are_one_citation() -> None:
    text = "根据《国务院办公厅关于推进政务新媒体健康有序发展的意见》（国办发〔2018〕123号）精神，现提出如下意见。"
    assert _c(text) == [("国务院办公厅关于推进政务新媒体健康有序发展的意见", "国办发〔2018〕123号", "意见")]


def test_bare_numbers_in_any_bracket_are_normalized() -> None:
    text = "按照闽政[2020]5号和厦府办〔 2021 〕 08 号文件要求，以及（2019）12号。"
    assert _c(text) == [(None, "闽政〔2020〕5号", None), (None, "厦府办〔2021〕8号", None)]


def test_kinds_and_titles_that_name_no_document() -> None:
    text = ("学习《中华人民共和国安全生产法》《福建省安全生产条例》和《厦门市安全生产专项整治三年行动实施方案》，"
            "观看《安全生产 责任在肩》，阅读《人民日报》，签订《安全生产责任书》。")
    assert _c(text) == [("中华人民共和国安全生产法", None, "法"), ("福建省安全生产条例", None, "条例"),
                        ("厦门市安全生产专项整治三年行动实施方案", None, "方案")]  # the base kind


def test_own_number_and_title_are_not_citations() -> None:
    text = "国务院关于某事的决定\n国发〔2018〕43号\n根据《国务院关于某事的决定》和国发〔2017〕1号，现决定如下。"
    assert _c(text, own_doc_number="国发〔2018〕43号", own_title="国务院关于某事的决定") == [(None, "国发〔2017〕1号", None)]


def test_each_citation_once_and_a_bare_title_dropped_when_also_cited_with_its_number() -> None:
    text = "《突发事件应对法》规定……依据《某省应急预案》（某政〔2020〕3号）。再次强调《某省应急预案》和《突发事件应对法》。"
    assert _c(text) == [("突发事件应对法", None, "法"), ("某省应急预案", "某政〔2020〕3号", "预案")]


def test_title_key_ignores_edition_notes_and_marks() -> None:
    assert title_key("某市应急预案（试行）") == title_key("某市应急 预案") == "某市应急预案"
    assert title_key("关于〈某条例〉的说明") == "关于某条例的说明"
    assert kind_of("某市城市管理办法（2024年修订）") == "办法"
    assert extract_citations("见《某市应急预案（试行）》。") == [
        Citation("某市应急预案（试行）", None, "预案", "某市应急预案")]
