"""outline: marker levels, heading+body paragraphs, unnumbered headings, restarts, items."""
from __future__ import annotations

from govingest.parsers.model import OutlineNode
from govingest.parsers.outline import parse_outline, section_of

BODY = "全年共组织防暴雨过程6次、防台风过程4次，下沉干部4471人次，转移人员279人次。"


def shape(nodes: list[OutlineNode]) -> list[tuple]:
    return [(n.number, n.marker, n.heading, shape(n.children)) for n in nodes]


def test_levels_by_marker_style() -> None:
    ps = ["一、主要工作", "（一）压实责任", BODY, "1.高位部署", "（1）召开常委会", BODY, "（二）排险除患", BODY, "二、工作要点", BODY]
    assert shape(parse_outline(ps)) == [
        ("1", "一、", "主要工作", [
            ("1.1", "（一）", "压实责任", [
                ("1.1.1", "1.", "高位部署", [("1.1.1.1", "（1）", "召开常委会", [])]),
            ]),
            ("1.2", "（二）", "排险除患", []),
        ]),
        ("2", "二、", "工作要点", []),
    ]


def test_heading_and_body_in_one_paragraph() -> None:
    out = parse_outline(["一、工作情况", "(一)狠抓责任落实。出台文件明确公共场所人员聚集安全属地职责。"])
    child = out[0].children[0]
    assert (child.marker, child.heading) == ("(一)", "狠抓责任落实")


def test_long_numbered_sentence_has_no_heading() -> None:
    long = "1." + "这是一个很长的编号段落" * 8 + "，没有句号的标题部分。"
    out = parse_outline([long])
    assert out[0].marker == "1." and out[0].heading is None


def test_unnumbered_heading_starts_a_top_level_section() -> None:
    ps = ["报告正文开头" + BODY, "（一）坚持党建引领。" + BODY, "2025年工作安排和打算", BODY, "（一）聚焦重点工作。" + BODY]
    out = parse_outline(ps)
    assert [(n.marker, n.heading) for n in out] == [("（一）", "坚持党建引领"), (None, "2025年工作安排和打算")]
    assert [c.heading for c in out[1].children] == ["聚焦重点工作"]


def test_short_line_under_a_heading_is_its_body() -> None:
    out = parse_outline(["活动安排如下。" + BODY, "三、活动时间", "2024年6月至12月", "四、活动内容", BODY])
    assert [(n.marker, n.heading) for n in out] == [("三、", "活动时间"), ("四、", "活动内容")]


def test_first_line_title_is_not_a_section() -> None:
    out = parse_outline(["市应急管理局2024年国庆期间安全生产工作总结", BODY, "一、工作开展情况", BODY])
    assert [n.heading for n in out] == ["工作开展情况"]


def test_short_lines_in_a_list_are_not_headings() -> None:
    out = parse_outline([BODY, "新疆文化艺术学校", "达州市达川区中医医院", "绵阳市中医医院", BODY])
    assert out == []


def test_numbering_restart_makes_an_implicit_section() -> None:
    ps = ["四、坚持品牌引领", "（一）突出一条主线。" + BODY, "（二）叫响一个品牌。" + BODY,
          "下半年，我们将着力补短板、强弱项，重点做好以下几个方面的工作：", "（一）牢牢守住安全生产基本盘。" + BODY,
          "（二）打好自然灾害防治攻坚战。" + BODY]
    out = parse_outline(ps)
    assert [(n.marker, n.heading, len(n.children)) for n in out] == [("四、", "坚持品牌引领", 2), (None, None, 2)]
    assert out[1].children[0].heading == "牢牢守住安全生产基本盘"
    assert (out[1].start, out[1].end) == (4, 6)


def test_items_and_ranges() -> None:
    ps = ["（一）以如履薄冰的作风守底线",
          "一是抓牢安全生产党政责任。深入学习贯彻。二是督促企业落实主体责任，开展培训。",
          "三是强化风险隐患治本攻坚；坚持边查边改。", "（二）以守土有责的担当求作为", BODY]
    out = parse_outline(ps)
    assert out[0].items == ["抓牢安全生产党政责任", "督促企业落实主体责任", "强化风险隐患治本攻坚"]
    assert (out[0].start, out[0].end, out[1].start, out[1].end) == (0, 3, 3, 5)
    assert [section_of(out, i) for i in range(5)] == ["1", "1", "1", "2", "2"]


def test_to_json_is_the_contract_shape() -> None:
    node = parse_outline(["一、总体情况", "（一）排查。" + BODY])[0]
    assert node.to_json() == {
        "marker": "一、", "heading": "总体情况", "items": [],
        "children": [{"marker": "（一）", "heading": "排查", "children": [], "items": []}],
    }


def test_no_markers_no_outline() -> None:
    assert parse_outline([BODY, BODY]) == []
    assert parse_outline([]) == []


def test_chapters_are_above_numbered_sections() -> None:
    out = parse_outline(["第一章 总则", "一、基本情况", BODY, "第二章 附则", "一、其他", BODY])
    assert [(n.marker, n.heading, [c.heading for c in n.children]) for n in out] == [
        ("第一章", "总则", ["基本情况"]), ("第二章", "附则", ["其他"]),
    ]


def test_end_matter_label_closes_the_last_numbered_section() -> None:
    # a 统计公报 ends with 注释： and numbered notes: they are not items of its last 十二、
    ps = ["宜春市统计公报", "十一、社会保障", BODY, "十二、安全生产", BODY, "注释：", "1.本公报中数据均为初步统计数。",
          "2.增长速度按不变价格计算。", "资料来源：", "财政数据来自市财政局；其他数据来自市统计局。"]
    assert shape(parse_outline(ps)) == [
        ("1", "十一、", "社会保障", []),
        ("2", "十二、", "安全生产", []),
        ("3", None, "注释", [("3.1", "1.", "本公报中数据均为初步统计数", []), ("3.2", "2.", "增长速度按不变价格计算", [])]),
        ("4", None, "资料来源", []),
    ]


def test_a_label_inside_a_sentence_is_not_end_matter() -> None:
    ps = ["一、工作要求", "注：以上数据为初步统计。", "1.加强领导"]
    out = parse_outline(ps)
    assert [n.marker for n in out] == ["一、"] and out[0].children[0].marker == "1."
