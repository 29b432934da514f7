"""metadata: title, published_at, source, site_name of an HTML page.

Nearly every Chinese gov site emits the same meta tags (ArticleTitle, PubDate,
ContentSource, SiteName, ColumnName — the national gov-site specification), and they
are the site's own statement, so they come first. Pages without them fall back to the
labels printed above the article (发布时间：, 来源：, 发布机构) and then to
trafilatura's metadata (og:/schema.org/htmldate). Labels go before htmldate because a
label is the site saying when it published, while htmldate guesses from whatever dates
the page shows (list items, copyright years) and never knows the time of day;
trafilatura has no notion of an issuing body at all. A PubDate equal to the page's
generation time (页面生成时间, HtmlGenerateTime) is a render stamp: a printed date on
another day is then the publication (the page was rebuilt later). The disclosure table (索引号, 文号,
成文日期 …) is read by `parsers/disclosure`; its 标题 row stands in for a missing
ArticleTitle tag, as it is the document's own title rather than the browser tab's.
"""
from __future__ import annotations

import re

from lxml.html import HtmlElement

from govingest.parsers.dates import normalize_date, printed_dates
from govingest.parsers.disclosure import disclosure_from_tree
from govingest.parsers.extract import parse_html
from govingest.parsers.model import Decoded, Extracted, Metadata

_TAGS = re.compile(r"<[^>]*>")
_SCRIPT_STRING = re.compile(r"""(["'])((?:(?!\1)[^\\<>\n]){1,40})\1""")
_CJK_TEXT = re.compile(r"[\u4e00-\u9fff]")
_WS = re.compile(r"\s+")
# In-page labels. A source is one token (the info bar separates fields by spaces) that
# is not itself the next label ("信息来源: 发布日期：…" has an empty source; so has
# "来源： 访问量：199": a whole token followed by a colon is a label of any wording,
# the group is atomic so it cannot shrink to "访问" to dodge that), and a label inside
# quotes is a copyright notice (凡本网注明“来源：…”), not the info bar. Templates pad the
# label to the width of others (来 源：, 来　源：); 资料来源/数据来源/图片来源 credit a table,
# a figure or a photo inside the article, not the page.
_LABEL_WORDS = r"(?:发布时间|发布日期|发布机构|时间|日期|来源|作者|编辑|浏览|点击|字号|字体|阅读|分享)"
_SOURCE_LABEL = re.compile(
    r"(?<![“\"'])(?<!资料)(?<!数据)(?<!图片)(?:信息来源|文章来源|来\s?源|发布机构|发文机关)\s*[:：]\s*(?!"
    + _LABEL_WORDS + r")"
    r"((?>[^\s，,。；;、“”\"'<>|【】\[\]()（）:：]{2,30}))(?!\s*[:：])"
)
# Publication labels first, then 成文日期; bare 日期/时间 only when none parses (活动时间：6月至12月 is not one).
_DATE_VALUE = r"\s*[:：]\s*([0-9年月日\-/.:：∶\s]{8,24})"
_PUBLICATION_LABEL = re.compile(r"(?:发布时间|发布日期|公开日期|更新时间)" + _DATE_VALUE)
_DATE_LABELS = (
    _PUBLICATION_LABEL,
    # the date a document was written or issued, when the page states no publication date
    re.compile(r"(?:发文日期|成文日期)" + _DATE_VALUE),
    re.compile(r"(?:日期|时间)" + _DATE_VALUE),
)
# What says when the page was published, and nothing else: a bare 日期 that is not the
# tail of 成文日期/发文日期/生成日期 (document dates).
_PUBLISHED_LABELS = (_PUBLICATION_LABEL, re.compile(r"(?<![文成])(?:日期|时间)" + _DATE_VALUE))
# The time a page was rendered, which some CMSes print beside PubDate: the 集约化 platforms'
# <meta name="others" content="页面生成时间 2025-03-27 09:36:38">, Kaipu's HtmlGenerateTime.
_GENERATED = re.compile(r"(?:页面)?生成时间\s*[:：]?\s*(\d{4}.{4,20})")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|::|\s-\s|\s–\s)\s*")
_DOMAIN = re.compile(r"(?:https?://)?[\w-]+(?:\.[\w-]+)+/?", re.ASCII)
# What a <title> naming only the site ends with; short, unlike a headline.
_SITE_TITLE = re.compile(r"(?:门户网站|政府网站|门户网|政府网|网站)$")
_SITE_TITLE_MAX = 20
_HEADLINE_MIN = 6
_LEADING_SEPARATOR = re.compile(r"^[\s_\-|｜–—:：]+")
_TRAILING_SEPARATOR = re.compile(r"[\s_\-|｜–—:：]+$")
# Suffix segments of <title> that name a site, not the article.
# Older sites greet the reader there too (辽阳网站欢迎您!).
_SITE_WORDS = re.compile(r"(?:政府|网站|门户网|门户|政务网|网|委员会|厅|局|办公室|中心|频道)(?:欢迎您|欢迎你)?[!！]?$")


def meta_tags(tree: HtmlElement) -> dict[str, str]:
    """<meta name|property=… content=…> by lower-cased name, first non-empty value wins."""
    tags: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("name") or el.get("property") or "").strip().lower()
        if key and key not in tags:
            value = _clean(el.get("content"))
            if value:
                tags[key] = value
    return tags


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = _WS.sub(" ", _TAGS.sub("", value)).strip()
    return value or None


# Longer than this is not a headline: a page whose <title> (or ArticleTitle tag) holds its
# whole body. Kept, it would be stored as the document's title and its index key, past
# the server's index row limit. The longest title among the fixture pages has 52 characters.
MAX_TITLE_CHARS = 300


def _headline(value: str | None) -> str | None:
    return value if value and len(value) <= MAX_TITLE_CHARS else None


def clean_title(title: str | None, site_name: str | None = None, column: str | None = None) -> str | None:
    """A <title> without its "_栏目_站名" / " - 站名" suffixes; None when it cannot be a headline."""
    title = _headline(_clean(title))
    if not title:
        return None
    for known in (site_name, column):
        # "标题_栏目_站名" and "站名 栏目 标题" (Hanweb 济南, 江苏, 万载's older template): the
        # names are cut only where a separator parts them from the headline, so a headline
        # that ends or starts with them (…统计公报 in the 统计公报 column) keeps them
        if known and title.endswith(known):
            head = title[: -len(known)]
            trimmed = _TRAILING_SEPARATOR.sub("", head)
            if len(trimmed) > 2 and len(trimmed) < len(head):
                title = trimmed
        if known and title.startswith(known):
            tail = title[len(known):]
            trimmed = _LEADING_SEPARATOR.sub("", tail)
            if len(trimmed) > 2 and len(trimmed) < len(tail):
                title = trimmed
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p]
    if len(parts) > 1 and len(parts[0]) >= 8:
        # "标题_栏目_站名": a headline is long; a short first part is a fragment of a
        # title that itself contains "_" (blog titles), so the whole title is kept
        return parts[0]
    if len(parts) > 1:
        kept = list(parts)
        while len(kept) > 1 and _SITE_WORDS.search(kept[-1]):
            kept.pop()
        return kept[0] if len(kept) == 1 else title
    # "标题-西安市人民政府": a bare hyphen only when what follows names a site
    m = re.match(r"^(.{4,}?)\s*-\s*([^-]{2,30})$", title)
    if m and _SITE_WORDS.search(m.group(2)):
        return m.group(1)
    return title


def _names_no_article(title: str, site_name: str | None, column: str | None) -> bool:
    """A <title> that names the site or the column, not an article: the site name or the
    column itself, the site's domain (www.gxzf.gov.cn), or a short name ending like one
    (佛山市人民政府门户网站)."""
    return (title in (site_name, column) or bool(_DOMAIN.fullmatch(title))
            or (len(title) <= _SITE_TITLE_MAX and bool(_SITE_TITLE.search(title))))


def site_from_title(title: str | None) -> str | None:
    """The site named by a <title>'s last "_"/" - " segment ("标题_栏目_中国青年网" → 中国青年网)."""
    title = _clean(title)
    if not title:
        return None
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p]
    if len(parts) > 1 and 2 <= len(parts[-1]) <= 30 and _SITE_WORDS.search(parts[-1]):
        return parts[-1]
    return None


def _first_heading(tree: HtmlElement, site_name: str | None = None, column: str | None = None) -> str | None:
    """The headline among the page's first h1–h3: templates put the site's logo in an h1
    (广西's 广西壮族自治区人民政府门户网站) and the headline in an h2 or h3 (佛山), and label
    other blocks with short headings (相关稿件：), which name no article."""
    for el in tree.iter("h1", "h2", "h3"):
        text = _clean(el.text_content())
        if (text and _HEADLINE_MIN <= len(text) <= 120 and not text.endswith((":", "："))
                and not _names_no_article(text, site_name, column)):
            return text
    return None


def _page_text_head(tree: HtmlElement) -> str:
    """Visible text of the page's body, enough to find the info bar above the article.

    An inline script that writes text into the page stands for its first string of
    Chinese: 广东's NFCMS templates print 来源：<script>var csource = "深圳特区报"; …
    document.write(csource)</script>, so the source is what the reader sees there."""
    body = tree.find("body")
    root = body if body is not None else tree
    chunks: list[str] = []
    size = 0
    for el in root.iter():
        if el.tag == "script" and el.text and "document.write" in el.text:
            written = _written_text(el.text)
            if written:
                chunks.append(written)
        elif isinstance(el.tag, str) and el.tag not in ("script", "style") and el.text:
            chunks.append(el.text)
            size += len(el.text)
        if el is not root and el.tail:
            chunks.append(el.tail)
            size += len(el.tail)
        if size > 60_000:
            break
    return _WS.sub(" ", " ".join(chunks))


def _written_text(script: str) -> str | None:
    """The first string literal of Chinese text (no markup) an inline script holds."""
    return next((m.group(2) for m in _SCRIPT_STRING.finditer(script) if _CJK_TEXT.search(m.group(2))), None)


def _from_labels(tree: HtmlElement, meta: Metadata) -> None:
    text = _page_text_head(tree)
    if meta.published_at is None:
        meta.published_at = next((date for pattern in _DATE_LABELS for m in pattern.finditer(text)
                                  if (date := normalize_date(m.group(1)))), None)
    if meta.published_at is None and meta.title:
        # no label: news templates print the bare date right under the headline
        at = text.find(meta.title)
        if at >= 0:
            meta.published_at = normalize_date(text[at + len(meta.title): at + len(meta.title) + 200])
    if meta.source is None:
        m = _SOURCE_LABEL.search(text)
        if m:
            meta.source = _clean(m.group(1))


def _printed_publication(text: str) -> str | None:
    """The publication date the page prints (发布日期, 日期：…), not a document date: a
    发文日期/成文日期/生成日期 that differs from PubDate says when the document was written,
    which a page published later legitimately differs from."""
    return next((date for pattern in _PUBLISHED_LABELS for m in pattern.finditer(text)
                 if (date := normalize_date(m.group(1)))), None)


def _generation_time(tags: dict[str, str]) -> str | None:
    """When the page was rendered, from the generation-time tags, normalized like PubDate."""
    others = _GENERATED.search(tags.get("others") or "")
    candidates = (others.group(1) if others else None, tags.get("htmlgeneratetime"))
    return next((stamp for raw in candidates if raw and (stamp := normalize_date(raw))), None)


def _year_only_guess(date: str, page: str) -> bool:
    """htmldate fills a bare year with January 1st ("1997年…" in the text → 1997-01-01).

    A January 1st that the page never prints is such a guess: the year of some event in
    the article, not the day it was published, so it is dropped rather than reported.
    """
    return date[5:10] == "01-01" and date[:10] not in printed_dates(page)


def _from_trafilatura(tree: HtmlElement, url: str | None, meta: Metadata, page: str = "") -> None:
    """og:/schema.org/htmldate metadata; only called when the gov tags are missing."""
    from trafilatura.metadata import extract_metadata as trafilatura_metadata

    try:
        doc = trafilatura_metadata(tree, default_url=url)
    except Exception:  # trafilatura's heuristics on broken markup must not fail the page
        return
    if doc is None:
        return
    if meta.title is None and doc.title:
        meta.title = clean_title(doc.title, meta.site_name or doc.sitename, meta.column)
    if meta.published_at is None and doc.date:
        date = normalize_date(doc.date)
        meta.published_at = None if date and _year_only_guess(date, page) else date
    if meta.site_name is None and doc.sitename:
        meta.site_name = _clean(doc.sitename)


def extract_metadata(
    decoded: Decoded,
    extracted: Extracted,
    url: str | None = None,
    *,
    tree: HtmlElement | None = None,
) -> Metadata:
    """Metadata of an HTML page; `tree` is the page already parsed by the pipeline."""
    if tree is None:
        tree = parse_html(decoded.text)
    if tree is None:
        return Metadata()
    tags = meta_tags(tree)
    disclosure = disclosure_from_tree(tree, tags, decoded.text)
    meta = Metadata(
        title=_headline(tags.get("articletitle")) or _headline(disclosure.title),
        published_at=normalize_date(tags.get("pubdate") or tags.get("firstpublishedtime")),
        source=tags.get("contentsource"),
        site_name=tags.get("sitename"),
        column=tags.get("columnname"),
        disclosure=disclosure,
    )
    if meta.source and meta.title and _WS.sub("", meta.source) == _WS.sub("", meta.title):
        # a template that fills ContentSource with the title: no source at all
        meta.source = None
    if meta.title is None:
        title_el = tree.find(".//title")
        raw_title = title_el.text_content() if title_el is not None else None
        meta.title = clean_title(raw_title, meta.site_name, meta.column)
        if meta.site_name is None:
            meta.site_name = site_from_title(raw_title)
        if meta.title is None or _names_no_article(meta.title, meta.site_name, meta.column):
            # a <title> that only names the site: the headline is the page's first <h1>
            meta.title = _first_heading(tree, meta.site_name, meta.column) or meta.title
    # PubDate stamped with the render time (it equals the page's generation time) tells when
    # the page was last rebuilt; a date the page prints on another day is the publication.
    if meta.published_at and meta.published_at == _generation_time(tags):
        printed = _printed_publication(_page_text_head(tree))
        if printed and printed[:10] != meta.published_at[:10]:
            meta.published_at = printed
    if meta.published_at is None or meta.source is None:
        _from_labels(tree, meta)
    if meta.source is None and disclosure.issuer:
        # the 发布机构 cell of the disclosure table, the label above without its colon
        meta.source = disclosure.issuer
    if meta.published_at is None or meta.title is None:
        # costly (≈ a third of a trafilatura run): never for site_name alone
        _from_trafilatura(tree, url, meta, decoded.text)
    return meta
