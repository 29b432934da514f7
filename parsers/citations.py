"""citations: the documents a text cites — 《…条例》 titles and 国办发〔2024〕12号 numbers.

Chinese official writing cites in two ways, often together: a title in book-title
marks with its document kind as the last word (《福建省安全生产条例》, 《…的通知》),
and a document number (发文字号) `机关代字〔年份〕序号号`, usually in parentheses
right after the title. A title and the number that follows it within a few
characters are one citation. Titles whose last word is no document kind (《人民日报》,
a TV series) are not citations. The document's own number and title (printed in its
header) are not cited by it.

Consumers resolve citations to documents by `doc_number` or by `title_key` (the title
without spaces, marks and edition notes such as （试行）), both computed here.
"""
from __future__ import annotations

import re

from govingest.parsers.model import Citation

# Kinds of official documents (the 公文 types and the forms of laws and rules), longest
# first so 条例 is not read as 例. A compound name keeps its base kind: 实施方案 → 方案,
# 管理办法 → 办法, 实施细则 → 细则, so consumers group by a short, closed list.
KINDS: tuple[str, ...] = tuple(sorted((
    "法", "条例", "办法", "规定", "通知", "方案", "预案", "意见", "规划", "决定", "细则", "规则", "标准",
    "纲要", "指南", "公告", "通告", "批复", "函", "报告", "计划", "指引", "制度", "章程", "准则", "目录",
    "清单", "守则", "要点", "规范", "决议", "命令", "令", "通报", "纪要", "解释", "规程", "导则",
), key=len, reverse=True))
# 《…》 with no nested marks and no line break inside; 2–100 characters.
_BOOK = re.compile(r"《([^《》\n]{2,100})》")
# 机关代字〔2024〕12号: brackets as typed (〔〕 [] ［］ （） 【】 ﹝﹞), spaces tolerated. The
# bracketed year is found first and the agency's code read backwards from it: a regex
# that starts with the code would be tried at every character of the text.
_YEAR_NUMBER = re.compile(r"\s*[〔\[［(（【﹝]\s*((?:19|20)\d{2})\s*[〕\]］)）】﹞]\s*第?\s*(\d{1,5})\s*号")
_CODE_BEFORE = re.compile(r"[\u4e00-\u9fffA-Za-z]{1,12}$")
# Words that end up in front of an agency abbreviation (根据闽政〔2020〕5号) and are not part of it.
_GLUE_WORDS = "根据|按照|依据|依照|参照|对照|执行|落实|贯彻|印发|转发|关于|以及|通过|号文|文件|附件|号|见|即|和|及|与|或|的|是|为"
_LEADING_WORDS = re.compile(rf"^.*(?:{_GLUE_WORDS})(?=[\u4e00-\u9fffA-Za-z]{{2}})|^(?:{_GLUE_WORDS})+$")
# Edition notes that do not change which document a title names.
_EDITION = re.compile(r"[（(](?:试行|暂行|修订|修正|征求意见稿|草案|送审稿|\d{4}年(?:修订|修正)?版?|\d{4})[）)]$")
_TITLE_NOISE = re.compile(r"[\s\u3000《》〈〉“”\"'‘’·・]")
# Between a title and its own number only an opening bracket, a colon or spaces stand.
_PAIR_GLUE = re.compile(r"[\s（(:：]{0,3}")


def normalize_doc_number(prefix: str, year: str, number: str) -> str:
    """One spelling per document number: 〔〕 brackets, no spaces, no leading zeros."""
    return f"{prefix}〔{year}〕{int(number)}号"


def title_key(title: str | None) -> str | None:
    """The form titles are matched by: no spaces or quote marks, no trailing edition note."""
    if not title:
        return None
    key = _TITLE_NOISE.sub("", title)
    key = _EDITION.sub("", key)
    return key or None


def kind_of(title: str) -> str | None:
    """The document kind a title ends with (条例, 通知 …), edition notes set aside."""
    bare = _EDITION.sub("", _TITLE_NOISE.sub("", title))
    for kind in KINDS:
        if bare.endswith(kind):
            return kind
    return None


def _doc_numbers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, normalized number) of each document number in the text."""
    out: list[tuple[int, int, str]] = []
    for m in _YEAR_NUMBER.finditer(text):
        code = _CODE_BEFORE.search(text, max(0, m.start() - 12), m.start())
        prefix = _LEADING_WORDS.sub("", code.group(0)) if code else ""
        if not prefix:
            continue  # "〔2024〕3号" with nothing naming the issuer cannot be resolved
        out.append((m.start() - len(prefix), m.end(), normalize_doc_number(prefix, m.group(1), m.group(2))))
    return out


def extract_citations(text: str, *, own_doc_number: str | None = None, own_title: str | None = None) -> list[Citation]:
    """Citations in document order, each once; a title and the number right after it are one."""
    numbers = _doc_numbers(text)
    own_key = title_key(own_title)
    own_number = _normalized(own_doc_number)
    used_numbers: set[int] = set()
    found: list[tuple[int, Citation]] = []
    for m in _BOOK.finditer(text):
        title = m.group(1).strip()
        kind = kind_of(title)
        if kind is None:
            continue
        number = None
        for i, (start, _end, value) in enumerate(numbers):
            if i not in used_numbers and start >= m.end() and _PAIR_GLUE.fullmatch(text, m.end(), start):
                number = value
                used_numbers.add(i)
                break
        found.append((m.start(), Citation(title=title, doc_number=number, kind=kind, title_key=title_key(title))))
    for i, (start, _end, value) in enumerate(numbers):
        if i not in used_numbers:
            found.append((start, Citation(title=None, doc_number=value, kind=None)))
    found.sort(key=lambda pair: pair[0])
    out: list[Citation] = []
    seen: set[tuple[str | None, str | None]] = set()
    for _, c in found:
        key = (title_key(c.title), c.doc_number)
        if key in seen:
            continue
        if (c.doc_number is not None and c.doc_number == own_number) or (own_key and title_key(c.title) == own_key):
            continue  # the document's own header, not a citation
        if c.doc_number is None and any(title_key(c.title) == k for k, _ in seen):
            continue  # the same title already cited (once with its number)
        seen.add(key)
        out.append(c)
    return _merge_title_only(out)


def _merge_title_only(citations: list[Citation]) -> list[Citation]:
    """Drop a bare 《title》 when the same title is also cited with its number."""
    numbered = {title_key(c.title) for c in citations if c.title and c.doc_number}
    return [c for c in citations if c.doc_number is not None or title_key(c.title) not in numbered]


def canonical_doc_number(doc_number: str) -> str:
    """A stated document number (disclosure table, header line) in the one spelling citations use."""
    found = _doc_numbers(doc_number)
    return found[0][2] if found and found[0][0] == 0 else doc_number.replace(" ", "")


def _normalized(doc_number: str | None) -> str | None:
    return canonical_doc_number(doc_number) if doc_number else None
