"""facts: numbers with units, qualifiers, money, indicators, spans and sections."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from govingest.parsers.clean import clean
from govingest.parsers.facts import extract_facts
from govingest.parsers.flags import detect_flags
from govingest.parsers.model import Fact
from govingest.parsers.normalize import detect_script, normalize_paragraphs
from govingest.parsers.outline import parse_outline


def facts_of(*paragraphs: str) -> list[Fact]:
    ps = list(paragraphs)
    return extract_facts(ps, parse_outline(ps))


def one(text: str) -> Fact:
    found = facts_of(text)
    assert len(found) == 1, found
    return found[0]


def test_indicator_before_the_number() -> None:
    f = one("检查企业29136家。")
    assert (f.indicator, f.value, f.unit, f.qualifier) == ("检查企业", 29136, "家", None)


def test_indicator_after_the_number_when_before_is_a_bare_verb_or_empty() -> None:
    f = facts_of("协调4所学校、3个社区开放部分区域。")
    assert [(x.indicator, x.value, x.unit) for x in f] == [("学校", 4, "所"), ("社区", 3, "个")]
    g = one("警示教育片放映，1.84万人次参加。")
    assert (g.indicator, g.value, g.unit) == ("参加", 18400, "人次")


def test_de_modifier_points_to_what_follows() -> None:
    f = facts_of("接入公安、水务等22家应急联动单位的13万路视频信号。")
    assert [(x.indicator, x.value, x.unit) for x in f] == [("应急联动单位", 22, "家"), ("视频信号", 130000, "路")]


def test_qualifiers() -> None:
    f = facts_of("清理林区道路约69.75公里，可燃物近238.8吨，群发短信88万余条，储备物资10余万件，不足5人，覆盖100人以上。")
    got = [(x.value, x.unit, x.qualifier) for x in f]
    assert got == [
        (69.75, "公里", "about"), (238.8, "吨", "nearly"), (880000, "条", "at_least"),
        (100000, "件", "at_least"), (5, "人", "at_most"), (100, "人", "at_least"),
    ]


def test_money_is_expanded_to_yuan() -> None:
    f = facts_of("行政处罚10.61万元，下发救助资金385.886万元，投入2亿元。")
    assert [(x.value, x.unit) for x in f] == [(106100, "元"), (3858860, "元"), (200_000_000, "元")]
    assert all(isinstance(x.value, int) for x in f)


def test_percent_and_chinese_numerals() -> None:
    f = facts_of("截至目前，发生生产安全事故一起，受伤一人。十五个专项领导小组，分别下降20.8%和36.7%。")
    got = [(x.indicator, x.value, x.unit) for x in f]
    assert got[:3] == [("发生生产安全事故", 1, "起"), ("受伤", 1, "人"), ("专项领导小组", 15, "个")]
    assert [(x.value, x.unit) for x in f[3:]] == [(20.8, "%"), (36.7, "%")]


def test_not_facts_dates_years_phones_doc_numbers_words() -> None:
    text = (
        "2024年11月5日，教思政厅函〔2024〕10号，电话：0991-3193615，1-6月份，"
        "第3次会议，编制防汛指挥一张图，一体化平台，统一指挥，唯一一家，集中2个月，与大家一起。"
    )
    assert facts_of(text) == []


def test_placeholders_are_never_facts() -> None:
    assert facts_of("总计检查企业*家，排查隐患*处，罚款*万元，占比*%。") == []


def test_spans_index_the_joined_text_and_sections_follow_the_outline() -> None:
    ps = ["一、主要工作", "（一）排查整治", "检查企业29136家，整改隐患11040处。", "二、下一步", "培训5800余人。"]
    text = "\n".join(ps)
    found = extract_facts(ps, parse_outline(ps))
    assert [text[f.span[0]:f.span[1]] for f in found] == ["29136家", "11040处", "5800余人"]
    assert [f.section for f in found] == ["1.1", "1.1", "2"]
    assert found[2].qualifier == "at_least"


def test_preamble_fact_has_no_section() -> None:
    ps = ["全市共发生生产安全事故19起。", "一、工作", "检查企业7.2万家次。"]
    found = extract_facts(ps, parse_outline(ps))
    assert [(f.section, f.value, f.unit) for f in found] == [(None, 19, "起"), ("1", 72000, "家次")]


def test_clause_that_only_says_what_was_done_points_after() -> None:
    f = one("返校后在72小时内由学校组织安排2次核酸检测。")
    assert (f.indicator, f.value, f.unit) == ("核酸检测", 2, "次")


def test_list_marker_is_not_part_of_the_indicator_and_chao_is_at_least() -> None:
    assert one("2.中级培训费160元").indicator == "中级培训费"
    f = one("来自多家学校的超300名学生参加。")
    assert (f.value, f.unit, f.qualifier) == (300, "名", "at_least")


_ALPHABET = list("一二三四五六七八九十百千万亿两零〇余多约近超以上下左右不足第是、。，,;：:（）()*%.-0123456789"
                 "家个人次处元条项年月日号起所检查企业隐患的和等\n ")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=60), max_size=8))
def test_text_stages_never_crash_and_spans_stay_inside(paragraphs: list[str]) -> None:
    cleaned = clean(paragraphs)
    ps = normalize_paragraphs(cleaned.paragraphs, detect_script("\n".join(cleaned.paragraphs)))
    outline = parse_outline(ps)
    text = "\n".join(ps)
    for f in extract_facts(ps, outline):
        assert 0 <= f.span[0] < f.span[1] <= len(text)
        assert isinstance(f.value, (int, float)) and f.value >= 0
        assert f.unit in text[f.span[0]:f.span[1]]
    detect_flags(paragraphs, ps)


def test_parenthetical_and_conjunction_keep_the_indicator() -> None:
    f = facts_of("累计通报部门、镇（街）14个，分别下降20.8%和36.7%。")
    assert [(x.indicator, x.value, x.unit) for x in f] == [
        ("镇（街）", 14, "个"), ("下降", 20.8, "%"), ("下降", 36.7, "%"),
    ]


def test_words_ending_in_a_qualifier_character_are_not_qualifiers() -> None:
    f = facts_of("与企业签约5家，最近3次检查均合格。")
    assert [(x.value, x.qualifier) for x in f] == [(5, None), (3, None)]


def test_a_figure_that_describes_the_next_ones_group_stays_in_its_indicator() -> None:
    """统计公报 phrasing seen on the 宜春 page: "超10亿元的99户" counts the enterprises above a
    threshold; the indicator of 99 was the bare "的" left after the threshold figure."""
    facts = extract_facts(["全市规模以上工业企业中，营业收入超10亿元的99户，超亿元的560户。"], [])
    assert [(f.indicator, f.value, f.unit) for f in facts] == [
        ("营业收入", 1_000_000_000, "元"), ("营业收入超10亿元的", 99, "户"), ("超亿元的", 560, "户")]
    assert facts[0].qualifier == "at_least" and facts[1].qualifier is None


def test_a_definition_states_a_threshold_not_a_fact() -> None:
    """A 统计公报's notes define its terms by thresholds; those are not figures of the year.
    The same threshold in a sentence that reports something is kept, with 及以上 read as
    "at least"."""
    notes = ["规模以上工业企业是指年主营业务收入2000万元及以上的工业法人单位。全年新增规模以上工业企业35家。"]
    facts = extract_facts(notes, [])
    assert [(f.indicator, f.value, f.unit) for f in facts] == [("全年新增规模以上工业企业", 35, "家")]
    reported = extract_facts(["全年主营业务收入2000万元及以上的企业达到512家。"], [])
    assert reported[0].value == 20_000_000 and reported[0].qualifier == "at_least"
    assert (reported[1].value, reported[1].unit) == (512, "家")


def test_a_data_table_gives_its_figures_by_column() -> None:
    """The 万载县 2015 统计公报's 主要工业产品产量 table, as extraction keeps it: units in their
    own column or in the header, so no figure has its unit after it."""
    lines = ["主要工业产品产量", "产品名称 计量单位 产量 较上年±%", "饮料酒 千升 15767 18.64",
             "塑料制品 吨 183946 -26.63", "乡镇 罚款（万元） 检查企业（家）", "双桥镇 12.5 215", "高城镇 — 187",
             "全年完成工业增加值644350万元。"]
    facts = extract_facts(lines, [])
    got = [(f.indicator, f.value, f.unit) for f in facts]
    assert got == [("饮料酒产量", 15767, "千升"), ("饮料酒较上年", 18.64, "%"), ("塑料制品产量", 183946, "吨"),
                   ("塑料制品较上年", -26.63, "%"), ("双桥镇罚款", 125000, "元"), ("双桥镇检查企业", 215, "家"),
                   ("高城镇检查企业", 187, "家"), ("全年完成工业增加值", 6443500000, "元")]
    text = "\n".join(lines)
    assert [text[f.span[0]:f.span[1]] for f in facts[:4]] == ["15767", "18.64", "183946", "-26.63"]


def test_lines_that_do_not_line_up_are_no_table() -> None:
    # a cell with a space inside shifts the columns: nothing is read against the wrong header
    assert extract_facts(["产品名称 计量单位 产量", "饮料酒 千升 15767", "塑料 制品 吨 183946"], []) == []
    # one row is no table, and a header of figures is a data row
    assert extract_facts(["产品名称 计量单位 产量", "饮料酒 千升 15767"], []) == []
    assert extract_facts(["2014 2015 2016", "产量 12 15", "销量 10 11"], []) == []


def test_the_real_communique_table_gives_its_seven_products() -> None:
    from pathlib import Path

    from govingest.parsers.pipeline import parse

    page = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "html" / \
        "simonxinw-wanzai.gov.cn__9c059bf058ef4db8b3c8f920e22186fe.html"
    facts = {(f.indicator, f.unit): f.value for f in parse(page.read_bytes(), content_type="text/html").facts}
    assert facts[("饮料酒产量", "千升")] == 15767 and facts[("烟花鞭炮产量", "万箱")] == 1575
    assert facts[("供电量较上年", "%")] == 8.83
    assert sum(1 for indicator, _unit in facts if indicator.endswith("较上年")) == 7
