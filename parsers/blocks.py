"""blocks: the article block of a page no known container matches, by text shape.

Why not trafilatura alone: on pages without a known body container it keeps what
looks like running text around the body, including a portal's directory of links
(部委网站, 省（区市）政府网站 lists), and it loses bodies laid out in table cells.
Readability's idea works better on these pages: an article is where the text that is
*not* inside links, and full of sentence punctuation, concentrates.

Every element gets, bottom-up in one pass, the length of its text outside links, the
length of its link text and its count of sentence punctuation (，。；！？、 and ASCII
,;!?). A candidate block (div, td, article, section, main, table, p …) scores

    score = 10 · punctuation + 0.2 · text − 3 · link text

so a navigation directory (all links, no sentences) scores below zero, a layout table
row (body cell + menu cell) scores below its body cell, and a page wrapper scores below
the body because everything it adds is links and short labels. A link to a document
file (.pdf, .doc …) is an attachment the body lists: its text counts as text. Among
near-equal scores the innermost block wins (a wrapper that adds nothing but a share bar
is not chosen).
A data table of figures has no punctuation but much text outside links, so a page
that is mostly a table still finds it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
                   "button", "select", "option", "textarea", "input", "head", "title", "nav", "header",
                   "footer", "aside", "form", "map", "audio", "video"})
_CANDIDATES = frozenset({"div", "td", "article", "section", "main", "table", "tbody", "p", "center", "font",
                         "blockquote", "dd", "body"})
_PUNCT = re.compile(r"[，。；！？、,;!?]")
_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")
# An element named like chrome (menu, footer, link lists) is never the article.
_CHROME_NAME = re.compile(
    r"nav|menu|footer|foot|header|head|banner|sidebar|side|aside|breadcrumb|crumb|copyright|link|share|"
    r"comment|related|recommend|hot|rank|login|search|tool|qrcode|ewm|weixin|gotop|float|popup|ad[sv]?\b", re.I)
# A link to a document file (an attachment the body lists) is article text, not navigation.
_DOCUMENT_HREF = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|et|pptx?|ofd|txt|csv|zip|rar|7z)(?:$|[?#])", re.I)
_WEIGHT_PUNCT = 10.0
_WEIGHT_TEXT = 0.2
_WEIGHT_LINK = 3.0
# Within this share of the best score, a block inside it is preferred (it adds less chrome).
_NEAR = 0.95
MIN_WORDS = 40


@dataclass
class _Tally:
    text: int = 0  # word characters outside links
    link: int = 0  # word characters inside links
    punct: int = 0  # sentence punctuation outside links

    def score(self) -> float:
        return _WEIGHT_PUNCT * self.punct + _WEIGHT_TEXT * self.text - _WEIGHT_LINK * self.link


def _chrome_named(el: HtmlElement) -> bool:
    name = f"{el.get('class') or ''} {el.get('id') or ''}"
    return bool(name.strip()) and _CHROME_NAME.search(name) is not None


def best_block(tree: HtmlElement) -> HtmlElement | None:
    """The element holding the article by text shape, or None when nothing reads as one."""
    body = tree.find("body")
    root = body if body is not None else tree
    stack: list[_Tally] = []
    in_link = 0
    candidates: list[tuple[HtmlElement, _Tally, int]] = []
    depth = 0
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if el is not root and (not tag or tag in _SKIP or _chrome_named(el)):
                walker.skip_subtree()
                # an "end" event still comes for a skipped element: push a tally it can pop
                stack.append(_Tally())
                depth += 1
                continue
            t = _Tally()
            stack.append(t)
            depth += 1
            if _is_link(tag, el):
                in_link += 1
            if el.text:
                _add(t, el.text, in_link > 0)
            continue
        t = stack.pop()
        depth -= 1
        skipped = el is not root and (not tag or tag in _SKIP or _chrome_named(el))
        if _is_link(tag, el) and not skipped:
            in_link -= 1
        if not skipped and tag in _CANDIDATES and t.text >= MIN_WORDS:
            candidates.append((el, t, depth))
        if stack:
            parent = stack[-1]
            if not skipped:
                parent.text += t.text
                parent.link += t.link
                parent.punct += t.punct
            if el is not root and el.tail:
                _add(parent, el.tail, in_link > 0)
    if not candidates:
        return None
    top = max(t.score() for _, t, _ in candidates)
    if top <= 0:
        return None
    near = [(el, t, d) for el, t, d in candidates if t.score() >= _NEAR * top]
    # the innermost near-best block: most depth, then the higher score
    el, _t, _d = max(near, key=lambda c: (c[2], c[1].score()))
    return el


def _is_link(tag: str, el: HtmlElement) -> bool:
    """A navigation link; an attachment's link (to a .pdf, .doc … file) reads as body text."""
    return tag == "a" and not _DOCUMENT_HREF.search(el.get("href") or "")


def _add(t: _Tally, text: str, in_link: bool) -> None:
    words = len(_WORD.findall(text))
    if in_link:
        t.link += words
    else:
        t.text += words
        t.punct += len(_PUNCT.findall(text))
