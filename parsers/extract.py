"""extract: the article body of a decoded page, as paragraphs.

Gov CMSes (TRS WCM, Hanweb/UCAP, Founder, …) wrap the article body in a known
element; when one is present and plausible (enough CJK text, not a link list) we take
exactly that element, which beats any generic extractor: trafilatura alone leaks the
"最新公开" sidebars and footers of gov pages. Otherwise trafilatura does the work on
the same lxml tree (parsed once and shared with metadata).

Paragraphs are one per block element; table rows become one line with cells joined
by a tab, so figures in tables survive as text rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import trafilatura
from lxml import etree
from lxml import html as lhtml
from lxml.html import HtmlElement

from parsers.model import Decoded, Extracted

# Known gov CMS body containers, most specific first; learned from the real fixtures
# (fixtures/real/html) and common gov templates. Name → XPath.
CONTAINERS: tuple[tuple[str, str], ...] = (
    ("TRS_Editor", "//div[contains(@class,'TRS_Editor')]"),
    ("TRS_UEDITOR", "//div[contains(@class,'TRS_UEDITOR')]"),
    ("#zoom", "//*[@id='zoom' or @id='Zoom']"),
    ("#zoomcon", "//*[@id='zoomcon']"),
    ("ucapcontent", "//ucapcontent"),
    ("#UCAP-CONTENT", "//*[@id='UCAP-CONTENT']"),
    ("Custom_UnionStyle", "//*[contains(@class,'Custom_UnionStyle')]"),
    ("article-content", "//div[contains(concat(' ',normalize-space(@class),' '),' article-content ')]"),
    ("#js_content", "//*[@id='js_content']"),
    ("#ivs_content", "//*[@id='ivs_content']"),
    ("pages_content", "//*[contains(concat(' ',normalize-space(@class),' '),' pages_content ')]"),
    ("#info_content", "//*[@id='info_content']"),
    ("#printContent", "//*[@id='printContent']"),
    ("xl_content", "//*[contains(concat(' ',normalize-space(@class),' '),' xl_content ')]"),
    ("content-container-text", "//*[contains(@class,'content-container-text')]"),
    ("article_content", "//*[contains(concat(' ',normalize-space(@class),' '),' article_content ')]"),
    ("#detail-editor", "//*[@id='detail-editor']"),
    ("#downloadContent", "//*[@id='downloadContent']"),
    ("ccontent", "//*[contains(concat(' ',normalize-space(@class),' '),' ccontent ')]"),
    ("#fontzoom", "//*[@id='fontzoom']"),
    ("j-fontContent", "//*[contains(concat(' ',normalize-space(@class),' '),' j-fontContent ')]"),
    ("#BodyLabel", "//*[@id='BodyLabel']"),
    ("#articleContent", "//*[@id='articleContent' or @id='ArticleContent']"),
)
# Ids so common that they may wrap a whole page: tried only when no CMS container fits.
GENERIC_CONTAINERS: tuple[tuple[str, str], ...] = (
    ("#Content", "//*[@id='Content' or @id='content']"),
)

# Below this many CJK characters (outside links) a container is a stub or an empty
# template slot, not an article.
MIN_CJK = 20
# A container whose CJK text is mostly link text is a list page or a sidebar.
MAX_LINK_SHARE = 0.5

_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "button", "select", "option", "textarea", "input", "head", "title", "map", "audio", "video",
    "link", "meta", "base",
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


def parse_html(text: str) -> HtmlElement | None:
    """The lxml tree of a page, or None when there is no markup to speak of.

    Parsed from UTF-8 bytes so an `<?xml encoding=…?>` prolog cannot make lxml refuse
    a str. libxml2 keeps content after a stray `</html>` (real gov pages have one
    before the article), which the fixture tests check.
    """
    try:
        return lhtml.document_fromstring(
            text.encode("utf-8", errors="replace"),
            parser=lhtml.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True),
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
    for piece in _SPLIT_PIECES.split(attrs):
        if piece in _CHROME_PIECES or piece.startswith(_CHROME_PREFIXES):
            return True
    return False


def _is_info_bar(el: HtmlElement) -> bool:
    """A short block of metadata labels (发布时间：… 来源：…) or a QR caption, not article text."""
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

    def walk(self, el: HtmlElement, in_link: bool = False) -> None:
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is None or tag in _SKIP_TAGS or _is_chrome(el):
            return
        tag = tag.lower()
        if tag == "br":
            self.flush()
            return
        if tag == "table" and not el.xpath(".//table"):
            self.flush()
            self.table(el)
            return
        block = tag in _BLOCK_TAGS
        if block:
            self.flush()
            if _is_info_bar(el):
                return
        link = in_link or tag == "a"
        if el.text:
            self.add(el.text, link)
        for child in el:
            self.walk(child, link)
            if child.tail:
                self.add(child.tail, link)
        if block:
            self.flush()

    def add(self, text: str, in_link: bool) -> None:
        self.buf.append(text)
        if in_link:
            self.link_cjk += len(_CJK.findall(text))

    def table(self, table: HtmlElement) -> None:
        for row in table.iter("tr"):
            cells = []
            for cell in row:
                if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                    continue
                sub = _Renderer()
                sub.walk(cell)
                sub.flush()
                self.link_cjk += sub.link_cjk
                text = " ".join(sub.lines).strip()
                if text:
                    cells.append(text)
            if cells:
                self.lines.append("\t".join(cells))


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


def _best_container(tree: HtmlElement,
                    containers: tuple[tuple[str, str], ...] = CONTAINERS) -> _Candidate | None:
    """The article container: the largest plausible match, tightened to a nested match
    holding nearly all of its text (outer wrappers often carry share bars and styles)."""
    seen: set[int] = set()
    found: list[_Candidate] = []
    for name, xpath in containers:
        for node in tree.xpath(xpath):
            if id(node) in seen:
                continue
            seen.add(id(node))
            paragraphs, link_cjk = render(node)
            cjk = _plausible(paragraphs, link_cjk)
            if cjk:
                found.append(_Candidate(name, node, paragraphs, cjk))
    if not found:
        return None
    best = max(found, key=lambda c: c.cjk)
    for cand in found:
        if cand is not best and cand.cjk >= 0.9 * best.cjk and _contains(best.node, cand.node):
            best = cand
    return best


def _contains(outer: HtmlElement, inner: HtmlElement) -> bool:
    return any(a is outer for a in inner.iterancestors())


def _select(tree: HtmlElement, selector: str) -> list[HtmlElement]:
    """Nodes of a site's configured body selector: CSS, or XPath when it starts with / or (."""
    try:
        if selector.lstrip().startswith(("/", "(")):
            return [n for n in tree.xpath(selector) if isinstance(n, HtmlElement)]
        return tree.cssselect(selector)
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
) -> Extracted:
    """Body paragraphs of a page; `tree` is the already parsed page (parsed here if None)."""
    if not decoded.is_html:
        return Extracted(paragraphs=decoded.text.splitlines(), method="text")
    if tree is None:
        tree = parse_html(decoded.text)
    if tree is None:
        return Extracted(paragraphs=[], method="none")
    if body_selector:
        nodes = _select(tree, body_selector)
        paragraphs = [p for n in nodes for p in render(n)[0]]
        if _plausible(paragraphs, 0):
            return Extracted(paragraphs=paragraphs, method=f"selector:{body_selector}")
    best = _best_container(tree) or _best_container(tree, GENERIC_CONTAINERS)
    if best is not None:
        return Extracted(paragraphs=best.paragraphs, method=f"container:{best.name}")
    return Extracted(paragraphs=_trafilatura(tree, url), method="trafilatura")
