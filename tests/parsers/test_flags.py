"""flags: truncation with hidden character counts, template blanks, aggregator pages."""
from __future__ import annotations

from govingest.parsers.clean import clean
from govingest.parsers.flags import detect_flags
from govingest.parsers.model import Flags
from tests.conftest import SEEDS

BODY = "全区认真贯彻落实安全生产重要指示批示精神，安全生产形势总体稳定。"


def test_plain_report_has_no_flags() -> None:
    assert detect_flags([BODY, "网上办事微信"], [BODY]) == Flags()


def test_hidden_text_marks_truncation_even_after_clean_removed_it() -> None:
    raw = [BODY, "---此处隐藏2296字,下载后查看---", BODY]
    kept = clean(raw).paragraphs
    assert "此处隐藏" not in "".join(kept)
    flags = detect_flags(raw, kept)
    assert (flags.truncated, flags.hidden_chars) == (True, 2296)


def test_traditional_hidden_text() -> None:
    flags = detect_flags(["---此處隱藏815字,下載後查看---"], [BODY])
    assert (flags.truncated, flags.hidden_chars) == (True, 815)


def test_placeholders_count_template_blanks_only() -> None:
    kept = ["总计检查企业（单位）*家，排查隐患*处，罚款*万元，截至*月*日，占比*%。", "持续开展“*+*+N”专项整治。"]
    assert detect_flags(kept, kept).placeholders == 6  # *+*+N is a name, not a blank before a unit


def test_aggregator_wrappers() -> None:
    for wrapper in ("下面是小编为大家整理的全区安全生产工作情况汇报,供大家参考。", "更新时间:2024-11 来源:网友投稿", "推荐访问:"):
        assert detect_flags([wrapper, BODY], [BODY]).aggregator, wrapper


def test_seeds() -> None:
    def flags(name: str) -> Flags:
        raw = (SEEDS / name).read_text(encoding="utf-8").split("\n")
        return detect_flags(raw, clean(raw).paragraphs)

    assert flags("001_45f128e10a0a12d6.txt") == Flags(truncated=True, hidden_chars=2296, placeholders=0, aggregator=True)
    f002 = flags("002_5feff6bba74b0f8e.txt")
    assert f002.aggregator and not f002.truncated and f002.placeholders >= 20
    assert flags("003_954119954ce7fb59.txt") == Flags()
