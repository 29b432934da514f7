"""facts: numeric facts (检查企业29136家, 1.84万人次, 下降20.8%) with spans into the text.

A fact is a number followed by a counting unit. Requiring the unit is what keeps
dates (2024年), 文号 (〔2024〕10号), phone numbers and codes out: none of them is
followed by one of `UNITS`. Chinese numerals are read too (一起 → 1, 十五个 → 15),
but a one-character numeral only when its unit ends the clause (事故一起，), since
一张图 / 一体化 / 三个清单 are words, not counts.

The indicator is the clause before the number (检查企业29136家 → 检查企业) unless that
is empty, a bare verb or a 的-modifier; then it is the phrase after the unit
(协调4所学校 → 学校, 1.84万人次参加 → 参加).
"""
from __future__ import annotations

import re
from decimal import Decimal

from govingest.parsers.model import Fact, OutlineNode, Qualifier
from govingest.parsers.numbers import ARABIC_PATTERN, CHINESE_PATTERN, MULTIPLIERS, as_json_number, parse_number
from govingest.parsers.outline import section_of
from govingest.parsers.table_facts import TableFigure, table_figures

# Longest first, so 人次 wins over 人 and 平方公里 over 公里.
UNITS: tuple[str, ...] = tuple(sorted((
    "元", "%", "‰", "个百分点", "倍",
    "人次", "家次", "个次", "辆次", "场次", "艘次", "架次", "批次", "户次", "车次", "台次", "件次", "起次",
    "人", "名", "位", "户", "家", "个", "所", "起", "件", "项", "条", "处", "次", "场", "篇", "份",
    "路", "辆", "栋", "幢", "座", "台", "支", "套", "块", "部", "种", "类", "期", "间", "例", "宗",
    "批", "轮", "册", "张", "株", "棵", "头", "只", "艘", "架", "面", "根", "盏",
    "吨", "公斤", "千克", "克", "公里", "千米", "米", "平方米", "平方公里", "亩", "公顷", "立方米",
    "千瓦", "千瓦时", "兆瓦", "万千瓦",
), key=len, reverse=True))
_UNIT_PATTERN = "|".join(re.escape(u) for u in UNITS)
_MULT_PATTERN = "|".join(sorted(MULTIPLIERS, key=len, reverse=True))

_FACT = re.compile(
    rf"(?<![\d.,A-Za-z/\-:·*×])"
    rf"(?P<num>{ARABIC_PATTERN}|{CHINESE_PATTERN})"
    rf"(?P<more1>余|多)?(?P<mult>{_MULT_PATTERN})?(?P<more2>余|多)?"
    rf"(?P<unit>{_UNIT_PATTERN})"
    rf"(?P<post>及以上|及以下|以上|以下|以内|左右)?"
)
_CLAUSE_BREAK = set("，,。；;：:！!？?、（）()\n")  # quotes are not breaks: “云上直播”70场
_PHRASE_BREAK = _CLAUSE_BREAK | set(" 0123456789")
_SENTENCE_END = set("，,。；;：:！!？?、）)\n")
_CN_CHARS = set("零〇一二两三四五六七八九十百千万亿")

_BEFORE_QUALIFIERS: list[tuple[str, Qualifier]] = [
    ("约为", "about"), ("大约", "about"), ("约", "about"),
    ("将近", "nearly"), ("接近", "nearly"), ("近", "nearly"),
    ("超过", "at_least"), ("逾", "at_least"), ("多达", "at_least"), ("超", "at_least"),
    ("不足", "at_most"), ("不到", "at_most"), ("低于", "at_most"),
]
_AFTER_QUALIFIERS: dict[str, Qualifier] = {
    "余": "at_least", "多": "at_least", "以上": "at_least", "左右": "about", "以下": "at_most", "以内": "at_most",
    "及以上": "at_least", "及以下": "at_most",
}
# A sentence that defines a term states a threshold, not something counted or measured:
# 规模以上工业企业是指年主营业务收入2000万元及以上的工业法人单位 (a 统计公报's notes).
_DEFINES = ("是指", "指的是", "系指")
_SENTENCE_BREAK = set("。；;！!？?\n")
_LEAD_FILLERS = ("共计", "累计", "合计", "总计", "其中", "以及", "同时", "分别", "全市", "全区", "全县", "全省",
                 "共", "已", "并", "和", "及", "与", "另", "还", "又", "均", "等", "对", "向", "在", "给")
_TRAIL_FILLERS = ("达到", "高达", "达", "计", "为", "有", "共", "了", "各")
_BARE_VERBS = frozenset((
    "协调", "组织", "开展", "举办", "召开", "完成", "发放", "派出", "出动", "配备", "建成", "新建", "建设",
    "创建", "成立", "设立", "组建", "参加", "参与", "涉及", "覆盖", "惠及", "帮助", "服务", "走访", "慰问",
    "吸纳", "签订", "投入", "选派", "下达", "向", "对", "与", "在", "给予", "包括", "推动", "推进", "指导",
    "督促", "邀请", "接待", "培育", "引进", "新增", "累计", "共", "有", "为", "达",
    "全市", "全区", "全县", "全省", "全国", "各级", "各地", "其中", "以及", "和", "及",
))
_TRAILING_VERBS = (*tuple(v for v in _BARE_VERBS if len(v) >= 2), "安排", "进行", "抽调", "实施", "提供")
# Endings that make the number modify what follows: 单位的13万路视频信号, 台风等6次灾害过程, 政府和2个园区.
_MODIFIER_ENDINGS = ("的", "等", "和", "及", "与", "或")
_SHORT_BEFORE = 2  # 加强2座尾矿库: a one- or two-character verb before, the counted thing after
_AFTER_CUTS = ("的", "全部", "全面", "均", "已", "并", "及", "和", "与", "等", "进行", "开展", "参加", "积极",
               "开放", "签约", "通过", "实施", "建立", "组成", "在", "被")
# A list marker opening the clause is not part of what is counted: "2.中级培训费160元".
_LIST_MARKER = re.compile(r"^(?:\d{1,2}[.、．]|[（(][一二三四五六七八九十\d]{1,3}[）)]|[一二三四五六七八九十]{1,3}、)")
_TOGETHER = set("和与同跟")  # 与大家一起: "together", not one incident
_DURATIONS = ("月", "小时", "工作日", "星期", "季度", "年度")  # 2个月 is a duration
# Single-character qualifiers that end a word instead: 签约, 节约, 最近, 附近, 赶超.
_NOT_QUALIFIER_AFTER = {"约": set("签节制邀预合公条履违特契婚隐"), "近": set("最附临靠亲贴"), "超": set("赶高")}
_INDICATOR_MAX = 20
_PAREN_MAX = 20  # a parenthetical this short is part of the clause: 镇（街）, 县（市、区）
_AFTER_MAX = 12


def extract_facts(paragraphs: list[str], outline: list[OutlineNode]) -> list[Fact]:
    """Numeric facts of the normalized paragraphs. Spans index "\\n".join(paragraphs).

    A data table's rows give their figures by column (`parsers/table_facts`), not as sentences.
    """
    table: dict[int, list[TableFigure]] = {}
    for figure in table_figures(paragraphs):
        table.setdefault(figure.line, []).append(figure)
    facts: list[Fact] = []
    offset = 0
    for index, paragraph in enumerate(paragraphs):
        section = section_of(outline, index)
        if index in table:
            facts.extend(Fact(f.indicator, *_in_base_unit(f.value, f.unit), qualifier=None,
                              span=(offset + f.start, offset + f.end), section=section) for f in table[index])
        else:
            facts.extend(_paragraph_facts(paragraph, offset, section))
        offset += len(paragraph) + 1
    return facts


def _in_base_unit(value: Decimal, unit: str) -> tuple[int | float, str]:
    """A table's 万元 column as sentences give it: 12.5 万元 → 125000 元 (the multiplier
    goes into the value, as for 10.61万元 in a sentence), unless 万X is a unit itself (万千瓦)."""
    for mult in sorted(MULTIPLIERS, key=len, reverse=True):
        rest = unit[len(mult):]
        if unit.startswith(mult) and rest in UNITS and unit not in UNITS:
            return as_json_number(value * MULTIPLIERS[mult]), rest
    return as_json_number(value), unit


def _paragraph_facts(text: str, offset: int, section: str | None) -> list[Fact]:
    out: list[Fact] = []
    last_end = 0
    last_indicator = ""
    for m in _FACT.finditer(text):
        if not _plausible(m, text):
            continue
        value = _value(m)
        if value is None:
            continue
        qualifier: Qualifier | None = None
        for key in ("more1", "more2", "post"):
            if m.group(key):
                qualifier = _AFTER_QUALIFIERS[m.group(key)]
        clause_start = max(last_end, _clause_start(text, m.start()))
        if text.startswith("的", clause_start) and clause_start == last_end:
            # 营业收入超10亿元的99户: the previous figure describes this one's group, so
            # the indicator is the whole phrase, not the bare "的" left after it
            clause_start = _clause_start(text, m.start())
        before = text[clause_start:m.start()]
        before, before_qualifier = _trim_before(before)
        qualifier = before_qualifier or qualifier
        after = _after_phrase(text, m.end())
        indicator = _choose_indicator(before, after) or last_indicator
        unit = m.group("unit")  # 10.61万元 → 106100 元: the multiplier is in the value
        out.append(Fact(
            indicator=indicator, value=as_json_number(value), unit=unit, qualifier=qualifier,
            span=(offset + m.start(), offset + m.end()), section=section,
        ))
        last_end = m.end()
        last_indicator = indicator
    return out


def _plausible(m: re.Match[str], text: str) -> bool:
    num = m.group("num")
    start = m.start()
    prev = text[start - 1] if start > 0 else ""
    if prev == "第":
        return False  # ordinal: 第3次 is the third time, not three times
    if _defines(text, start):
        return False
    if m.group("unit") == "个" and text.startswith(_DURATIONS, m.end()):
        return False  # 2个月, 3个工作日: a duration, not a count
    if num[0] in _CN_CHARS:
        if prev in _CN_CHARS:
            return False  # the tail of a longer word/numeral: 唯一一家, 十四五个
        if len(num) == 1:
            nxt = text[m.end()] if m.end() < len(text) else "\n"
            if nxt not in _SENTENCE_END:
                return False
            clause = text[_clause_start(text, start):start]
            if num + m.group("unit") == "一起" and _TOGETHER & set(clause):
                return False  # 与大家一起: "together", not one incident
    return True


def _defines(text: str, pos: int) -> bool:
    """Whether the sentence holding `pos` defines a term before it (see _DEFINES)."""
    i = pos
    while i > 0 and text[i - 1] not in _SENTENCE_BREAK:
        i -= 1
    return any(word in text[i:pos] for word in _DEFINES)


def _value(m: re.Match[str]) -> Decimal | None:
    base = parse_number(m.group("num"))
    if base is None:
        return None
    if m.group("mult"):
        base *= MULTIPLIERS[m.group("mult")]
    return base


def _clause_start(text: str, pos: int) -> int:
    """Start of the clause holding `pos`; a parenthetical belongs to it: 镇（街）14个."""
    i = pos
    while i > 0:
        ch = text[i - 1]
        if ch in "）)":
            opening = max(text.rfind("（", 0, i - 1), text.rfind("(", 0, i - 1))
            inner = text[opening + 1:i - 1]
            if opening == -1 or len(inner) > _PAREN_MAX or any(c in "。；;\n" for c in inner):
                break
            i = opening
            continue
        if ch in _CLAUSE_BREAK:
            break
        i -= 1
    return i


def _trim_before(before: str) -> tuple[str, Qualifier | None]:
    qualifier: Qualifier | None = None
    s = before.strip()
    changed = True
    while changed and s:
        changed = False
        for word, q in _BEFORE_QUALIFIERS:
            if s.endswith(word) and not (len(s) > 1 and s[-2] in _NOT_QUALIFIER_AFTER.get(word, ())):
                s, qualifier, changed = s[: -len(word)], qualifier or q, True
                break
        for word in _TRAIL_FILLERS:
            if s.endswith(word) and len(s) > len(word):
                s, changed = s[: -len(word)], True
                break
    changed = True
    while changed and s:
        changed = False
        for word in _LEAD_FILLERS:
            if s.startswith(word) and len(s) > len(word):
                s, changed = s[len(word):], True
                break
    s = _LIST_MARKER.sub("", s)
    if s in _LEAD_FILLERS:
        s = ""  # 下降20.8%和36.7%: "和" names nothing; the previous indicator carries over
    return s[-_INDICATOR_MAX:].strip(), qualifier


def _after_phrase(text: str, pos: int) -> str:
    end = pos
    while end < len(text) and end - pos < _AFTER_MAX and text[end] not in _PHRASE_BREAK:
        end += 1
    phrase = text[pos:end]
    for cut in _AFTER_CUTS:
        k = phrase.find(cut)
        if k > 0:
            phrase = phrase[:k]
    phrase = phrase.strip("“”\"")
    return "" if phrase in _LEAD_FILLERS else phrase


def _choose_indicator(before: str, after: str) -> str:
    """Before the number unless the clause before only says what was done (组织安排2次核酸检测)."""
    if after and (
        len(before) <= _SHORT_BEFORE
        or before.endswith(_MODIFIER_ENDINGS)
        or before in _BARE_VERBS
        or before.endswith(_TRAILING_VERBS)
    ):
        return after
    return before or after
