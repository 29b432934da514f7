"""extract: the article body of a decoded page, as paragraphs.

Gov CMSes (TRS WCM, Hanweb/UCAP, Founder, …) wrap the article body in a known
element; when one is present and plausible (enough CJK text, not a link list) we take
exactly that element, which beats any generic extractor: trafilatura alone leaks the
"最新公开" sidebars and footers of gov pages. Otherwise the block whose text reads as
an article (sentences outside links: `parsers/blocks`) is taken, and trafilatura runs
on the same lxml tree (parsed once and shared with metadata) only when no block does.

Paragraphs are one per block element; table rows become one line with cells joined
by a tab, so figures in tables survive as text rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import trafilatura
from lxml import etree
from lxml import html as lhtml
from lxml.html import HtmlElement

from govingest.parsers.blocks import best_block
from govingest.parsers.disclosure import is_disclosure_table
from govingest.parsers.model import Decoded, Extracted


@dataclass(frozen=True)
class Container:
    """A known body container: an id, a class token, a class substring or a tag name.

    Matched in Python on the elements `_WITH_ATTRS` finds, instead of one `//…` XPath
    scan per container: twenty scans of a 400 KB page cost more than the rest of the parse.
    """

    name: str
    ids: frozenset[str] = frozenset()
    class_token: str | None = None  # one of the whitespace-separated classes
    class_part: str | None = None  # a substring of the class attribute (TRS_Editor_xx variants)
    tag: str | None = None

    def matches(self, tag: str, classes: str, ident: str) -> bool:
        if self.tag is not None and tag == self.tag:
            return True
        if ident and ident in self.ids:
            return True
        if classes:
            if self.class_part is not None and self.class_part in classes:
                return True
            if self.class_token is not None and self.class_token in classes.split():
                return True
        return False


@dataclass(frozen=True)
class _Prefilter:
    """Everything any container of a set looks at, to reject most elements in one test."""

    ids: frozenset[str]
    class_parts: tuple[str, ...]
    class_tokens: frozenset[str]
    tags: frozenset[str]

    def may_match(self, tag: str, classes: str, ident: str) -> bool:
        return (ident in self.ids or tag in self.tags
                or any(part in classes for part in self.class_parts)
                or not self.class_tokens.isdisjoint(classes.split()))


@cache
def _prefilter(containers: tuple[Container, ...]) -> _Prefilter:
    return _Prefilter(
        ids=frozenset(i for c in containers for i in c.ids),
        class_parts=tuple(c.class_part for c in containers if c.class_part),
        class_tokens=frozenset(c.class_token for c in containers if c.class_token),
        tags=frozenset(c.tag for c in containers if c.tag),
    )


# Elements with an id or a class (plus the UCAP tag): a cheap scan in C; the container
# tests then run in Python. One XPath holding every container test is 10x slower.
_WITH_ATTRS = etree.XPath("//*[@id or @class] | //ucapcontent")


def _ids(*names: str) -> frozenset[str]:
    return frozenset(names)


# Known gov CMS body containers, learned from the real fixtures (fixtures/real/html) and
# common gov templates (TRS WCM, Hanweb, UCAP, Founder, …).
CONTAINERS: tuple[Container, ...] = (
    Container("TRS_Editor", class_part="TRS_Editor"),
    Container("TRS_UEDITOR", class_part="TRS_UEDITOR"),
    Container("#zoom", ids=_ids("zoom", "Zoom")),
    Container("#zoomcon", ids=_ids("zoomcon")),
    Container("ucapcontent", tag="ucapcontent"),
    Container("#UCAP-CONTENT", ids=_ids("UCAP-CONTENT")),
    Container("Custom_UnionStyle", class_part="Custom_UnionStyle"),
    Container("article-content", class_token="article-content"),
    Container("#js_content", ids=_ids("js_content")),
    Container("#ivs_content", ids=_ids("ivs_content")),
    Container("pages_content", class_token="pages_content"),
    Container("#info_content", ids=_ids("info_content")),
    Container("#printContent", ids=_ids("printContent")),
    Container("xl_content", class_token="xl_content"),
    Container("content-container-text", class_part="content-container-text"),
    Container("article_content", class_token="article_content"),
    Container("#detail-editor", ids=_ids("detail-editor")),
    Container("#downloadContent", ids=_ids("downloadContent")),
    Container("ccontent", class_token="ccontent"),
    Container("#fontzoom", ids=_ids("fontzoom")),
    Container("j-fontContent", class_token="j-fontContent"),
    Container("#BodyLabel", ids=_ids("BodyLabel")),
    Container("#articleContent", ids=_ids("articleContent", "ArticleContent")),
    Container("#easysiteText", ids=_ids("easysiteText")),  # Huilan EasySite (Beijing district portals)
)
# Ids so common that they may wrap a whole page: tried only when no CMS container fits.
GENERIC_CONTAINERS: tuple[Container, ...] = (
    Container("#Content", ids=_ids("Content", "content")),
)

# Below this many CJK characters (outside links) a container is a stub or an empty
# template slot, not an article.
MIN_CJK = 20
# A container whose CJK text is mostly link text is a list page or a sidebar.
MAX_LINK_SHARE = 0.5
# An element named like chrome (share, print, related…) holding more CJK text than this,
# mostly outside links, is article text under an unlucky name.
CHROME_MAX_CJK = 150

_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "button", "select", "option", "textarea", "input", "head", "title", "map", "audio", "video",
    "link", "meta", "base", "nav",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "table",
    "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "section", "article", "header", "footer",
    "blockquote", "pre", "center", "hr", "address", "figure", "figcaption", "main", "aside", "nav",
    "form", "fieldset", "legend", "body", "html",
})
# class/id pieces (split on - _ and spaces) of page chrome that sits inside or next to
# article containers: share bars, QR codes, print/close/font-size tools, 纠错, related links.
_CHROME_PIECES = frozenset({
    "share", "bdshare", "jiathis", "qrcode", "qr", "ewm", "erweima", "print", "printer", "jiucuo",
    "fontsize", "zihao", "breadcrumb", "crumb", "copyright", "toolbar", "comment", "comments",
    "related", "xgwz", "xgxx", "xglj", "prevnext", "pagenav", "weixin", "wechat", "qcode", "sharebox",
})
_CHROME_PREFIXES = ("bdshare", "share", "qrcode", "jiathis", "social")
# Whole class/id substrings of previous/next-article switches.
_CHROME_ATTR = re.compile(r"article[_-]?switch|prev[_-]?next|pre[_-]?next|up[_-]?down", re.I)
# A short block holding the info bar (发布时间：… 来源：… 浏览次数：…) that some CMSes put
# inside the body container; the metadata stage reads those labels from the page itself.
_INFO_BAR = re.compile(r"^(?:[【\[]?\s*(?:发布时间|发布日期|信息来源|来源|作者|浏览次数|点击数|阅读次数|访问量)\s*[:：])")
# QR-code captions (扫一扫在手机打开当前页) that templates put right after the article.
_QR_CAPTION = re.compile(r"^\s*(?:微信)?(?:扫一扫|掃一掃|扫码|掃碼|手机扫码|手機掃碼)")
_INFO_LABELS = re.compile(r"发布时间|发布日期|信息来源|来源|浏览次数|点击数|阅读次数|访问量|字号|字体")
_SPLIT_PIECES = re.compile(r"[\s_\-]+")
_WS = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class _Candidate:
    name: str
    node: HtmlElement
    paragraphs: list[str]
    cjk: int


# huge_tree: without it libxml2 silently drops everything nested deeper than 256 levels,
# which unclosed inline tags on old pages reach; the renderer is iterative for that.
_PARSER = lhtml.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)


def parse_html(text: str) -> HtmlElement | None:
    """The lxml tree of a page, or None when there is no markup to speak of.

    Parsed from UTF-8 bytes so an `<?xml encoding=…?>` prolog cannot make lxml refuse
    a str. libxml2 keeps content after a stray `</html>` (real gov pages have one
    before the article), which the fixture tests check.
    """
    try:
        return lhtml.document_fromstring(
            text.encode("utf-8", errors="replace"),
            parser=_PARSER,
        )
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        return None


def _is_chrome(el: HtmlElement) -> bool:
    classes = el.get("class") or ""
    attrs = f"{classes} {el.get('id') or ''}".lower()
    if not attrs.strip():
        return False
    if "hidden" in classes.split() or _CHROME_ATTR.search(attrs):  # Bootstrap's display:none
        return True
    return any(piece in _CHROME_PIECES or piece.startswith(_CHROME_PREFIXES) for piece in _SPLIT_PIECES.split(attrs))


def _small_or_links(el: HtmlElement) -> bool:
    """Chrome is small or mostly links; a big text block under a chrome-like name (a
    `print_content` wrapper around the whole article) is kept."""
    cjk = len(_CJK.findall(el.text_content()))
    if cjk < CHROME_MAX_CJK:
        return True
    link_cjk = sum(len(_CJK.findall(a.text_content())) for a in el.iter("a"))
    return link_cjk > MAX_LINK_SHARE * cjk


def _is_info_bar(el: HtmlElement) -> bool:
    """A short block of metadata labels (发布时间：… 来源：…) or a QR caption, not article text."""
    first = next((t for t in el.itertext() if t.strip()), "")
    if not (_INFO_BAR.match(first.lstrip()) or _QR_CAPTION.match(first)):
        return False  # cheap test first: text_content() of every block would be quadratic
    text = el.text_content()
    if len(text) > 200:
        return False
    text = text.strip()
    if len(text) < 40 and _QR_CAPTION.match(text):
        return True
    return bool(_INFO_BAR.match(text)) and len(_INFO_LABELS.findall(text)) >= 2


class _Renderer:
    """Walks an element and collects text blocks; tables become tab-joined rows."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.link_cjk = 0

    def flush(self) -> None:
        if self.buf:
            line = _WS.sub(" ", "".join(self.buf)).strip()
            if line:
                self.lines.append(line)
            self.buf = []

    def walk(self, root: HtmlElement) -> None:
        """Render `root` without recursion: libxml2 with huge_tree keeps arbitrarily deep
        markup (old pages never close their <font>s), deeper than Python's stack."""
        walker = etree.iterwalk(root, events=("start", "end"))
        # per open element: (flush at end, is a link)
        stack: list[tuple[bool, bool]] = []
        links = 0
        for event, el in walker:
            if event == "end":
                block, link = stack.pop()
                if block:
                    self.flush()
                links -= link
                if el is not root and el.tail:
                    self.add(el.tail, links > 0)
                continue
            tag = el.tag.lower() if isinstance(el.tag, str) else None
            if el is not root and (tag is None or tag in _SKIP_TAGS or (_is_chrome(el) and _small_or_links(el))):
                walker.skip_subtree()
                stack.append((False, False))
                continue
            if tag == "br":
                self.flush()
                walker.skip_subtree()
                stack.append((False, False))
                continue
            if tag == "table" and not el.xpath(".//table"):
                self.flush()
                self.table(el)
                walker.skip_subtree()
                stack.append((False, False))
                continue
            block = tag in _BLOCK_TAGS
            if block:
                self.flush()
                if el is not root and _is_info_bar(el):
                    walker.skip_subtree()
                    stack.append((False, False))
                    continue
            link = tag == "a"
            links += link
            stack.append((block, link))
            if el.text:
                self.add(el.text, links > 0)

    def add(self, text: str, in_link: bool) -> None:
        self.buf.append(text)
        if in_link:
            self.link_cjk += len(_CJK.findall(text))

    def table(self, table: HtmlElement) -> None:
        """Rows as tab-joined lines; a disclosure table (索取号/发布机构/文件编号 …) is
        metadata the disclosure stage reads from the tree, so it adds no lines."""
        rows: list[list[str]] = []
        link_cjk = 0
        for row in table.iter("tr"):
            cells = []
            for cell in row:
                if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                    continue
                sub = _Renderer()
                sub.walk(cell)
                sub.flush()
                link_cjk += sub.link_cjk
                text = " ".join(sub.lines).strip()
                if text:
                    cells.append(text)
            if cells:
                rows.append(cells)
        if is_disclosure_table(rows):
            return
        self.link_cjk += link_cjk
        self.lines.extend("\t".join(cells) for cells in rows)


def render(el: HtmlElement) -> tuple[list[str], int]:
    """Paragraphs of an element and the CJK count inside its links."""
    r = _Renderer()
    r.walk(el)
    r.flush()
    return r.lines, r.link_cjk


def _plausible(paragraphs: list[str], link_cjk: int) -> int:
    """CJK count of a container that looks like an article body, else 0."""
    cjk = sum(len(_CJK.findall(p)) for p in paragraphs)
    if cjk - link_cjk < MIN_CJK or link_cjk > MAX_LINK_SHARE * cjk:
        return 0
    return cjk


def _best_container(tree: HtmlElement, containers: tuple[Container, ...] = CONTAINERS) -> _Candidate | None:
    """The article container: the largest plausible match, tightened to a nested match
    holding nearly all of its text (outer wrappers often carry share bars and styles)."""
    found: list[_Candidate] = []
    prefilter = _prefilter(containers)
    for node in _WITH_ATTRS(tree):
        tag = node.tag if isinstance(node.tag, str) else ""
        classes = node.get("class") or ""
        ident = node.get("id") or ""
        if not prefilter.may_match(tag, classes, ident):
            continue
        for container in containers:
            if container.matches(tag, classes, ident):
                paragraphs, link_cjk = render(node)
                cjk = _plausible(paragraphs, link_cjk)
                if cjk:
                    found.append(_Candidate(container.name, node, paragraphs, cjk))
                break
    if not found:
        return None
    best = max(found, key=lambda c: c.cjk)
    for cand in found:
        if cand is not best and cand.cjk >= 0.9 * best.cjk and _contains(best.node, cand.node):
            best = cand
    return best


def _contains(outer: HtmlElement, inner: HtmlElement) -> bool:
    return any(a is outer for a in inner.iterancestors())


def _is_xpath(selector: str) -> bool:
    return selector.lstrip().startswith(("/", "("))


def selector_error(selector: str) -> str | None:
    """Why a body selector cannot be used (the sites file is checked with this at load), else None."""
    from lxml.cssselect import CSSSelector, SelectorError

    try:
        if _is_xpath(selector):
            etree.XPath(selector)
        else:
            CSSSelector(selector)
    except (SelectorError, etree.XPathError) as exc:
        kind = "XPath expression" if _is_xpath(selector) else "CSS selector"
        return f"not a valid {kind} ({exc})"
    return None


def _select(tree: HtmlElement, selector: str) -> list[HtmlElement]:
    """Nodes of a site's configured body selector: CSS, or XPath when it starts with / or (."""
    try:
        if _is_xpath(selector):
            return [n for n in tree.xpath(selector) if isinstance(n, HtmlElement)]
        return list(tree.cssselect(selector))
    except Exception:  # a bad selector in a site config must not fail every page: fall back
        return []


_MD_RULE = re.compile(r"^\|?(?:\s*:?-{3,}:?\s*\|)+\s*$")


def _table_row(line: str) -> str:
    """trafilatura's "| a | b |" table rows as our tab-joined rows; its |---| rules dropped."""
    if not (line.startswith("|") and line.endswith("|")):
        return line
    if _MD_RULE.match(line):
        return ""
    return "\t".join(cell.strip() for cell in line.strip("|").split(" | ") if cell.strip())


def _trafilatura(tree: HtmlElement, url: str | None) -> list[str]:
    try:
        out = trafilatura.extract(tree, url=url, include_tables=True, include_comments=False) or ""
    except Exception:  # trafilatura's heuristics on broken markup: no body rather than a crash
        return []
    rows = (_table_row(line.strip()) for line in out.splitlines())
    return [row for row in rows if row]


def extract(
    decoded: Decoded,
    body_selector: str | None = None,
    *,
    tree: HtmlElement | None = None,
    url: str | None = None,
    body_selectors: tuple[str, ...] = (),
) -> Extracted:
    """Body paragraphs of a page; `tree` is the already parsed page (parsed here if None).

    A site's configured selectors (`body_selector`, then `body_selectors`, from the sites
    file) are tried first, in order; the first holding a plausible body wins.
    """
    if not decoded.is_html:
        return Extracted(paragraphs=decoded.text.splitlines(), method="text")
    if tree is None:
        tree = parse_html(decoded.text)
    if tree is None:
        return Extracted(paragraphs=[], method="none")
    selectors = ((body_selector,) if body_selector else ()) + tuple(s for s in body_selectors if s != body_selector)
    for selector in selectors:
        nodes = _select(tree, selector)
        paragraphs = [p for n in nodes for p in render(n)[0]]
        if _plausible(paragraphs, 0):
            return Extracted(paragraphs=paragraphs, method=f"selector:{selector}")
    best = _best_container(tree) or _best_container(tree, GENERIC_CONTAINERS)
    if best is not None:
        return Extracted(paragraphs=best.paragraphs, method=f"container:{best.name}")
    block = best_block(tree)
    if block is not None:
        paragraphs, link_cjk = render(block)
        if _plausible(paragraphs, link_cjk):
            return Extracted(paragraphs=paragraphs, method="blocks")
    return Extracted(paragraphs=_trafilatura(tree, url), method="trafilatura")
