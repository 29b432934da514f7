"""outline: the section tree (一、/(一)/1./(1), unnumbered headings, 一是/二是 items).

Chinese official documents number their levels in a fixed order (GB/T 9704 and
common practice): 第一章/第一部分 → 一、 → (一) → 1. → (1). Levels are therefore ranked by marker style,
not by first appearance, so a document that starts at (一) still nests 1. under it.

* A marker paragraph is a section; its heading is the text up to the first 。 when the
  heading and its body share one paragraph ("(一)狠抓责任落实。出台文件…").
* A short, unpunctuated paragraph between body paragraphs ("2025年工作安排和打算") is
  an unnumbered top-level heading (marker null). The first paragraph is left alone:
  in a plain-text document it is the title, not a section.
* A line that is only an end-matter label ("注释：", "附注：", "资料来源：") is an
  unnumbered top-level heading too: the notes under it (1./2./[1]) are not part of the
  last numbered section (a 统计公报's 十二、 does not own its 注释).
* When numbering restarts at 一/1 under a parent that already has sections of that
  style, the new run goes into an implicit section (marker and heading null): it is
  the body's next part whose heading the page did not write.
* 一是/二是… inside a section's paragraphs become that section's `items`.

Each node gets `start`/`end` (paragraph range) and a dotted `number` ("2.3") so
facts can name their section.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from govingest.parsers.model import OutlineNode
from govingest.parsers.numbers import parse_chinese

_CN = "一二三四五六七八九十百"
# (rank, regex) — rank 1 is the top level. Parens may be ASCII or fullwidth.
_MARKERS: list[tuple[int, re.Pattern[str]]] = [
    (0, re.compile(f"^第([{_CN}]+)(?:章|部分)[\\s　]*")),
    (1, re.compile(f"^([{_CN}]+)[、.．]")),
    (2, re.compile(f"^[（(]([{_CN}]+)[）)]")),
    (3, re.compile(r"^(\d{1,2})(?:[、．]|\.(?!\d))")),
    (4, re.compile(r"^[（(](\d{1,2})[）)]")),
]
_UNNUMBERED_RANK = 1
_HEADING_MAX = 60  # longer text before the first 。 is a sentence, not a heading
_BARE_HEADING = re.compile(r"[^\s。，,；;：:！!？?、|]{4,30}")
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")
# End matter that follows the numbered body: a standalone label line, nothing else on it.
_END_MATTER = re.compile(r"(注释|附注|注|资料来源|数据来源)[\s　]*[：:]")
_ITEM = re.compile(f"(?:^|(?<=[。；;！!]))\\s*([{_CN}]+)是([^。；;]*)")


@dataclass
class _Marker:
    rank: int
    marker: str
    ordinal: int
    heading: str | None


def _read_marker(paragraph: str) -> _Marker | None:
    for rank, regex in _MARKERS:
        m = regex.match(paragraph)
        if m is None:
            continue
        raw = m.group(1)
        ordinal = int(raw) if raw.isdigit() else parse_chinese(raw)
        if ordinal is None or ordinal == 0:
            continue
        rest = paragraph[m.end():].strip()
        return _Marker(rank, m.group(0).strip(), ordinal, _heading_of(rest))
    return None


def _heading_of(rest: str) -> str | None:
    if not rest:
        return None
    stop = rest.find("。")
    if 0 < stop <= _HEADING_MAX:
        return rest[:stop]
    if stop == -1 and len(rest) <= _HEADING_MAX:
        return rest.rstrip("：:；;，,")
    return None  # a marker followed by a long sentence: a numbered paragraph without heading


def _is_bare_heading(paragraphs: list[str], i: int) -> bool:
    """A short unpunctuated line standing between body text (not the title line)."""
    p = paragraphs[i]
    if i == 0 or i + 1 >= len(paragraphs) or not _BARE_HEADING.fullmatch(p):
        return False
    if len(_HAS_CJK.findall(p)) < 4 or p[-1].isdigit():
        return False
    prev, nxt = paragraphs[i - 1], paragraphs[i + 1]
    # right after a section heading a short line is that section's body (三、活动时间 / 2024年6月至12月)
    prev_is_body = prev[-1] in "。！!？?；;" or len(prev) > 40
    next_is_body = len(nxt) > 40 or _read_marker(nxt) is not None
    return prev_is_body and next_is_body


def parse_outline(paragraphs: list[str]) -> list[OutlineNode]:
    """The section tree of normalized paragraphs, in document order."""
    roots: list[OutlineNode] = []
    stack: list[tuple[int, OutlineNode]] = []  # (rank, node), ranks strictly increasing
    owner: list[OutlineNode | None] = []  # deepest section for each paragraph

    for i, p in enumerate(paragraphs):
        found = _read_marker(p)
        if found is None and _is_bare_heading(paragraphs, i):
            found = _Marker(_UNNUMBERED_RANK, "", 0, p)
        if found is None and i > 0 and (end := _END_MATTER.fullmatch(p.strip())):
            found = _Marker(_UNNUMBERED_RANK, "", 0, end.group(1))
        if found is None:
            owner.append(stack[-1][1] if stack else None)
            continue
        node = OutlineNode(marker=found.marker or None, heading=found.heading, start=i)
        while stack and stack[-1][0] >= found.rank:
            stack.pop()
        siblings = stack[-1][1].children if stack else roots
        if found.ordinal == 1 and any(_same_style(s, node) for s in siblings):
            implicit = OutlineNode(marker=None, heading=None, start=i)
            parent_rank = found.rank - 1
            while stack and stack[-1][0] >= parent_rank:
                stack.pop()
            (stack[-1][1].children if stack else roots).append(implicit)
            stack.append((parent_rank, implicit))
            siblings = implicit.children
        siblings.append(node)
        stack.append((found.rank, node))
        owner.append(node)

    for i, p in enumerate(paragraphs):
        section = owner[i]
        if section is not None:
            section.items.extend(_items(p))
    _number(roots, "", len(paragraphs))
    return roots


def _same_style(a: OutlineNode, b: OutlineNode) -> bool:
    if a.marker is None or b.marker is None:
        return False
    return _style(a.marker) == _style(b.marker)


def _style(marker: str) -> str:
    """'一、' and '三、' share a style; so do '(一)' and '（二）'."""
    s = re.sub(f"[{_CN}]+", "一", marker)
    s = re.sub(r"\d+", "1", s)
    return s.replace("（", "(").replace("）", ")").replace("．", ".")


def _items(paragraph: str) -> list[str]:
    """一是X，…。二是Y。 → [X, Y]: the item's lead phrase, up to its first comma."""
    out: list[str] = []
    for m in _ITEM.finditer(paragraph):
        if parse_chinese(m.group(1)) is None:
            continue
        text = m.group(2).strip()
        comma = min((k for k in (text.find("，"), text.find(",")) if k >= 4), default=-1)
        text = text[:comma] if comma > 0 else text
        if text:
            out.append(text)
    return out


def _number(nodes: list[OutlineNode], prefix: str, parent_end: int) -> None:
    for k, node in enumerate(nodes):
        node.number = f"{prefix}{k + 1}"
        node.end = nodes[k + 1].start if k + 1 < len(nodes) else parent_end
        _number(node.children, node.number + ".", node.end)


def section_of(outline: list[OutlineNode], paragraph_index: int) -> str | None:
    """Dotted number of the deepest section whose range holds the paragraph."""
    found: str | None = None
    nodes = outline
    while nodes:
        for node in nodes:
            if node.start <= paragraph_index < node.end:
                found = node.number
                nodes = node.children
                break
        else:
            break
    return found
