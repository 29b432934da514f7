"""Canonical URLs and site scope: the frontier's unique key is the canonical URL.

Why canonicalize before anything else: the same article is linked as `./t1.html`,
`HTTP://Host:80/a/t1.html#top` and `.../t1.html?utm_source=x`; fetched three times it
would be three documents. courlan does the heavy lifting (tracking parameters, query
order, case); we add what it leaves: dot segments, default ports, fragments, and
session and secret parameters.

Why drop session ids and tokens (`;jsessionid=…`, `?sid=…`, `PHPSESSID`, `…token=…`):
a Java or PHP portal hands out a new session id with every response, so every link on
every page is a URL never seen before — the commonest crawler trap there is — and a
URL carrying a session or an access token is a secret that would be stored and shown
in `v_urls`. The page behind it is the same without them.
"""
from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Literal
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

import courlan

if TYPE_CHECKING:  # crawler.config imports host_key from here
    from govingest.crawler.config import SiteConfig

UrlKind = Literal["list", "article", "attachment"]

# Extensions of files government sites attach to notices; fetched for type and size only.
ATTACHMENT_EXTENSIONS = frozenset({
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".wps", ".et", ".ofd",
    ".zip", ".rar", ".7z", ".txt", ".csv",
})
# Never worth a request: media and page assets.
SKIP_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".svg", ".webp", ".ico", ".css", ".js",
    ".mp3", ".mp4", ".avi", ".flv", ".wmv", ".swf", ".woff", ".woff2", ".ttf", ".exe", ".apk",
})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameter names that carry a session or a secret, never content (matched whole, any case).
# The same list redacts URLs already stored, in db/migrations/0045_hostile.sql (v_urls).
SECRET_PARAMETER = re.compile(
    r"jsessionid|phpsessid|sid|sessid|sessionid|session_id|aspsessionid\w*|cfid|cftoken|ticket"
    r"|password|passwd|pwd|secret|api_?key|signature|sig|\w*token", re.IGNORECASE)
# ;jsessionid=… path parameters, also percent-encoded (%3B) as some CMSes write them
_SESSION_PATH_PARAMETER = re.compile(
    r"(?:;|%3b)(?:jsessionid|phpsessid|sid|sessionid|aspsessionid\w*)=[^/;?#]*", re.IGNORECASE)


def drop_secrets(path: str, query: str) -> tuple[str, str]:
    """`path` and `query` without session and secret parameters."""
    path = _SESSION_PATH_PARAMETER.sub("", path)
    kept = [p for p in query.split("&") if p and not SECRET_PARAMETER.fullmatch(unquote(p.split("=", 1)[0]))]
    return path, "&".join(kept)


def _clean_path(path: str) -> str:
    if not path:
        return "/"
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if path.endswith("/") and not norm.endswith("/"):
        norm += "/"
    return norm


def canonicalize(url: str, base: str | None = None, *, keep_query: bool = False) -> str | None:
    """Absolute canonical form of `url` (resolved against `base`), or None if not crawlable.

    `keep_query` keeps the query exactly as built (no courlan, which drops parameters it
    takes for tracking, such as Hanweb's `sourceContentType`, and no secret stripping,
    which takes gkmlpt's site id `sid` for a session): for the paging requests the list
    dialects build from a page's own parameters.
    """
    url = url.strip()
    if not url or url.startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
        return None
    try:
        absolute = urljoin(base, url) if base else url
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        host = parts.hostname.lower().rstrip(".")
        port = parts.port
    except ValueError:  # bad port, bad IPv6 literal
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[parts.scheme]) else f"{host}:{port}"
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f"[{host}]:{port}"
    if keep_query:  # built by a list dialect from the page's own parameters (gkmlpt's sid is a site id)
        return urlunsplit(SplitResult(parts.scheme, netloc, _clean_path(parts.path), parts.query, ""))
    path, query = drop_secrets(parts.path, parts.query)
    rebuilt = urlunsplit(SplitResult(parts.scheme, netloc, _clean_path(path), query, ""))
    try:
        normalized = courlan.normalize_url(rebuilt)
    except Exception:  # courlan raises on odd inputs; such URLs are not worth crawling
        return None
    return normalized.split("#", 1)[0]


def host_key(url: str) -> str:
    """`host[:port]`, the one host key: politeness budgets, `urls.host`, site scope.

    The default port of the scheme is dropped (`https://h:443/` and `https://h/` are one
    host), any other port kept (loopback fixture sites differ only by port); an IPv6
    literal keeps its brackets, as in a URL. File URLs (ingested files) are 'localfile'.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return "localfile" if parts.scheme == "file" else "unknown"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{host}:{port}" if port and port != _DEFAULT_PORTS.get(parts.scheme) else host


def extension(url: str) -> str:
    return posixpath.splitext(urlsplit(url).path)[1].lower()


def in_scope(url: str, site: SiteConfig) -> bool:
    """Whether the site may fetch `url`: http(s) on one of its allowed hosts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    key = host_key(url)
    host = (parts.hostname or "").lower().rstrip(".")
    return key in site.allowed_hosts or host in site.allowed_hosts


# Article URL shapes of the gov CMS families (TRS t20240105_123.htm, Hanweb art_1229_123.html,
# gov.cn content_123.htm, gkmlpt post_123.html, dated folders, detail/show/view ids).
_ARTICLE_SHAPES = re.compile(
    r"/t\d{8}_\d+\.s?html?$|/art_\d+_\d+\.s?html?$|[/_]content_\d+\.s?html?$|/post_\d+\.s?html?$"
    r"|/(?:19|20)\d{2}-?[01]\d(?:-?[0-3]\d)?/[^/]+\.s?html?$|/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/[^/]+\.s?html?$"
    r"|/(?:info|detail|details|show|view|article|art|news|content)[/_-]?\d+(?:/\d+)*\.s?html?$"
    r"|/(?:detail|show|view|article|content)\w*\.(?:s?html?|jsp|aspx?|php)\?(?:\w+=\w*&)*(?:id|\w+Id|\w+_id)=\d+",
    re.I)


def looks_like_article(url: str) -> bool:
    """Whether a URL has the shape of an article on gov CMSes (for sites with no patterns)."""
    return bool(_ARTICLE_SHAPES.search(url))


def classify(url: str, site: SiteConfig) -> UrlKind | None:
    """Kind of a discovered in-scope URL, or None when it is not worth fetching.

    Attachments are recognised by extension; articles and lists by the site's patterns.
    When a site gives no article patterns, a link is an article when its URL has the
    shape of one on gov CMSes (`looks_like_article`); list records, feed items and
    sitemap entries are articles whatever their shape (crawler.listing).
    """
    ext = extension(url)
    if ext in SKIP_EXTENSIONS:
        return None
    if ext in ATTACHMENT_EXTENSIONS:
        return "attachment"
    if site.is_article(url):
        return "article"
    if site.is_list(url):
        return "list"
    if not site.article_patterns and looks_like_article(url):
        return "article"
    return None
