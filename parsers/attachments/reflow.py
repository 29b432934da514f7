"""Lines of a laid-out page (PDF, OFD) back into paragraphs.

A PDF has no paragraphs, only lines broken where the page width ran out. A line that
runs (nearly) to the full measure and does not end a sentence continues on the next
line; a short line, a sentence end, or a next line opening with an outline marker
(一、, （一）, 1., 第三条) ends the paragraph. Page furniture goes: page numbers
(- 3 -, 第3页 共9页) and running heads repeated on most pages.
"""
from __future__ import annotations

import re
from collections import Counter

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SENTENCE_END = re.compile(r"[。！？；：!?;:”」』）)】]$")
_OPENS_SECTION = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d{1,2}[.．、](?!\d)|第[一二三四五六七八九十百\d]+[条章节]|附件|附表)"
    # a line of its own: the document number under the title, a date
    r"|^\S{1,12}[〔\[［]\s*(?:19|20)\d{2}\s*[〕\]］]\s*\d{1,5}\s*号$|^(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－\s]*\d{1,4}[-—–－\s]*|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+"
    r"|page\s*\d+(?:\s*of\s*\d+)?)$", re.I)
# The spaces PDF text layers put between CJK and Latin/digits ("2024 年", "企业 1200 家").
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[0-9A-Za-z%])|(?<=[0-9A-Za-z%]) (?=[{_CJK}])")
_FULL_SHARE = 0.85
# A line this short after a half-full unfinished line is the tail of a wrapped title.
_TAIL_CHARS = 8


def strip_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers, and lines repeated on more than half of three or more pages."""
    repeated: set[str] = set()
    if len(pages) >= 3:
        counts = Counter(line for page in pages for line in set(page[:2] + page[-2:]))
        repeated = {line for line, n in counts.items() if n > len(pages) / 2}
    return [[ln for ln in page if ln not in repeated and not _PAGE_NUMBER.match(ln)] for page in pages]


def reflow(lines: list[str]) -> list[str]:
    """Paragraphs from page lines (see module doc)."""
    lines = [_CJK_GAP.sub("", ln.strip()) for ln in lines]
    lines = [ln for ln in lines if ln]
    if not lines:
        return []
    widths = sorted(len(ln) for ln in lines)
    full = widths[int(0.9 * (len(widths) - 1))]
    out: list[str] = []
    joinable = half = False
    for line in lines:
        tail = half and len(line) <= _TAIL_CHARS and not _SENTENCE_END.search(line)
        if out and (joinable or tail) and not _OPENS_SECTION.match(line):
            out[-1] += line
        else:
            out.append(line)
        open_end = not _SENTENCE_END.search(line) and "\t" not in line
        joinable = open_end and len(line) >= _FULL_SHARE * full
        half = open_end and len(line) >= full / 2
    return out
