"""normalize: script detection, t2s, width/punctuation/whitespace canonical form.

Also run by tests/compat/run_reimplementation.sh with opencc-python-reimplemented, so
it imports only parsers.normalize and asserts, per binding, what that binding must do.
"""
from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from govingest.parsers.normalize import (
    count_traditional,
    detect_script,
    normalize_paragraphs,
    normalize_text,
    opencc_binding,
    to_simplified,
    traditional_chars,
)

TRAD = "今年以來,市應急局堅決落實中央和省、市關於應急管理工作的安排部署,紮實推進防災減災救災。"
SIMP = "今年以来，市应急局坚决落实中央和省、市关于应急管理工作的安排部署，扎实推进防灾减灾救灾。"


def test_detects_traditional_and_simplified() -> None:
    assert detect_script(TRAD) == "hant"
    assert detect_script(SIMP) == "hans"
    assert count_traditional(SIMP) == 0


def test_a_couple_of_ambiguous_characters_do_not_make_a_page_traditional() -> None:
    # 乾 and 於 are Traditional-only in OpenCC's table but appear in Simplified names and quotes.
    page = "乾隆年间的档案。" + SIMP * 20 + "青出於蓝。"
    assert count_traditional(page) >= 2
    assert detect_script(page) == "hans"


def test_traditional_page_converted_to_simplified() -> None:
    out = normalize_paragraphs([TRAD, "掃一掃在手機打開當前頁"], "hant")
    assert out[0] == SIMP
    assert out[1] == "扫一扫在手机打开当前页"
    for word in ("應急", "災害", "隱患", "監測"):
        assert word not in "".join(normalize_paragraphs([f"加強{word}工作"], "hant"))


def test_simplified_text_is_not_run_through_opencc() -> None:
    # 乾 would become 干 under t2s; a Simplified page must keep its characters.
    assert normalize_paragraphs(["乾隆年间的档案"], "hans") == ["乾隆年间的档案"]
    assert to_simplified(SIMP) is SIMP


def test_government_terms_per_binding() -> None:
    converted = to_simplified("關於批覆的通知")
    assert converted.startswith("关于")
    if opencc_binding() == "official":
        assert converted == "关于批复的通知"  # the official phrase tables know 批覆
    else:
        assert converted in ("关于批复的通知", "关于批覆的通知")  # the reimplementation may leave 覆


def test_traditional_set_is_built_from_opencc() -> None:
    chars = traditional_chars()
    assert {"國", "應", "災", "掃", "機"} <= chars
    assert not {"国", "应", "灾", "扫", "机", "的"} & chars


def test_width_folds_to_ascii_and_keeps_values() -> None:
    assert normalize_text("检查企业２９１３６家，ＡＢｃ１．５％") == "检查企业29136家，ABc1.5%"


def test_punctuation_between_cjk_is_chinese() -> None:
    assert normalize_text("事故一起,受伤一人") == "事故一起，受伤一人"
    assert normalize_text("时间:10:30") == "时间：10:30"
    assert normalize_text("(一)压实责任") == "（一）压实责任"
    assert normalize_text("分别下降20.8%,安全形势") == "分别下降20.8%，安全形势"


def test_punctuation_inside_numbers_and_latin_stays_ascii() -> None:
    assert normalize_text("投入1,000,000元") == "投入1,000,000元"
    assert normalize_text("见 http://www.gov.cn/a?b=1 页面") == "见 http://www.gov.cn/a?b=1 页面"
    assert normalize_text("(a, b)") == "(a, b)"


def test_whitespace_and_zero_width() -> None:
    assert normalize_text("\u3000\u3000正文\u00a0\u00a0第一段\u200b。 ") == "正文 第一段。"
    assert normalize_paragraphs(["第一段\n\n第二段", "  ", "\ufeff第三段"], "hans") == ["第一段", "第二段", "第三段"]


def test_fold_matches_nfkc_for_comparison() -> None:
    # A consumer comparing after NFKC sees the seeds' ASCII punctuation.
    assert unicodedata.normalize("NFKC", normalize_text("发生生产安全事故一起,受伤一人")) == "发生生产安全事故一起,受伤一人"


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("的是一二三中国应急管理局國應災機,.;:!?()（）。，、%％ \u3000\u00a0\u200b0123456789０１２ＡＢａｂAb-/“”《》\n")
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_paragraphs([text], detect_script(text))
    assert normalize_paragraphs(once, detect_script("\n".join(once))) == once
    for line in once:
        assert normalize_text(line) == line


def _digits(s: str) -> list[str]:
    return re.findall(r"\d+", unicodedata.normalize("NFKC", s))


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_normalize_never_changes_digit_values(text: str) -> None:
    out = "\n".join(normalize_paragraphs([text], detect_script(text)))
    assert _digits(out) == _digits(text.replace("\u200b", ""))
