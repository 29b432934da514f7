"""The fixture sites as route tables: what each path answers, before any socket exists.

Why route tables built up front: serving is then a dict lookup plus a write, which keeps
the server fast enough for benchmarks (hundreds of pages/s on one core), and tests can
inspect exactly which URLs exist (`Site.article_paths`, `Site.fault_paths`, ...).
Dynamic answers (the 500-then-200 counter, 429, slow, streamed bodies) are small
callables in the same table.

Sites:
  siming  TRS-style district 应急管理局 site; the five seeds as articles (seed 003 on a
          繁體 page), paginated list with a `createPageHTML` pager, a PDF attachment.
  real    the bundled real pages byte for byte, some GBK, one GBK page with a wrong
          `charset=utf-8` header.
  gbk     a Hanweb-style site served as `charset=gbk`, generated articles, plain pager.
  bulk    (articles=N) N generated TRS-style articles, 20 per list page.

One site per CMS list dialect (trs-var, hanweb, govcn, gkmlpt, jsonapi, feeds) is built in
`dialects.py`; docs/dialects.md names the public pages each follows.

Hostile endpoints (gzip bomb, poison page, 50 MB body, 429s, redirect loops) are not
here: they belong to the tests (`tests/fixture_site/faults.py`), which hand their sites
to `FixtureSite(extra_sites=...)`; the installed package serves only these demo sites.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from govingest.workers.fixture_site.content import (
    ATTACHMENTS_DIR,
    GeneratedArticle,
    generate_article,
    load_real_pages,
    load_seeds,
    tiny_pdf,
)
from govingest.workers.fixture_site.templates import (
    SiteLook,
    article_page,
    hanweb_article_page,
    hanweb_list_page,
    simple_index,
    trs_list_page,
)

DISALLOWED_PREFIX = "/admin/"


@dataclass
class Request:
    method: str
    path: str  # path and query as requested
    headers: Message
    body: bytes = b""  # a POST's form

    @property
    def params(self) -> dict[str, str]:
        """Query and (for a form POST) body parameters, as a servlet's getParameter sees them."""
        from urllib.parse import parse_qsl

        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        out = dict(parse_qsl(query, keep_blank_values=True))
        if self.method == "POST" and self.body:
            out.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return out

    @property
    def origin(self) -> str:
        """http://host:port as the client addressed us (absolute URLs in API answers)."""
        return f"http://{self.headers.get('Host', '127.0.0.1')}"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | Iterable[bytes] = b""
    length: int | None = None  # Content-Length of an iterable body
    delay: float = 0.0  # seconds to wait before answering (slow endpoint)


@dataclass
class Resource:
    """A fixed page. Articles carry validators so a conditional GET can answer 304."""

    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: datetime | None = None

    @classmethod
    def article(cls, body: bytes, content_type: str, modified: datetime) -> Resource:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        return cls(body, content_type, etag, modified.replace(tzinfo=UTC, microsecond=0))

    def answer(self, req: Request) -> Response:
        headers = [("Content-Type", self.content_type)]
        if self.etag:
            headers.append(("ETag", self.etag))
        if self.last_modified:
            headers.append(("Last-Modified", format_datetime(self.last_modified, usegmt=True)))
        if self._not_modified(req.headers):
            return Response(304, [h for h in headers if h[0] != "Content-Type"])
        return Response(200, headers, self.body)

    def _not_modified(self, h: Message) -> bool:
        inm = h.get("If-None-Match")
        if inm and self.etag:  # RFC 9110: If-None-Match wins over If-Modified-Since
            return self.etag in [t.strip().removeprefix("W/") for t in inm.split(",")] or inm.strip() == "*"
        ims = h.get("If-Modified-Since")
        if ims and self.last_modified:
            try:
                return parsedate_to_datetime(ims) >= self.last_modified
            except (TypeError, ValueError):
                return False
        return False


Handler = Callable[[Request], Response]


@dataclass
class Site:
    name: str
    title: str
    encoding: str
    crawl_delay: float
    start_paths: list[str]
    article_patterns: list[str]
    list_patterns: list[str]
    body_selector: str | None = None
    routes: dict[str, Resource | Handler] = field(default_factory=dict)
    article_paths: list[str] = field(default_factory=list)
    list_paths: list[str] = field(default_factory=list)
    seed_paths: dict[str, str] = field(default_factory=dict)  # seed file name -> path
    fault_paths: dict[str, str] = field(default_factory=dict)  # fault kind -> path (test sites)
    attachment_paths: list[str] = field(default_factory=list)
    disallowed_paths: list[str] = field(default_factory=list)  # linked, but robots.txt forbids
    extra_links: list[tuple[str, str]] = field(default_factory=list)  # (path, label) on the first list page
    grow: Callable[[int], list[str]] | None = None  # publish N more articles (generated sites)
    fallback: Handler | None = None  # answers paths missing from `routes` (else 404)
    dialect: str | None = None  # the list dialect the site's lists are written in (dialect sites)
    truth: dict[str, str] = field(default_factory=dict)  # article path -> its body text, for F1 checks
    missing_paths: list[str] = field(default_factory=list)  # linked from a list, answered 404
    stale_paths: list[str] = field(default_factory=list)  # deep list pages that repeat older ones
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def respond(self, req: Request) -> Response:
        path = req.path.split("?", 1)[0].split("#", 1)[0]
        with self.lock:
            route = self.routes.get(path)
        if route is None:
            return self.fallback(req) if self.fallback else _not_found()
        if isinstance(route, Resource):
            return route.answer(req)
        return route(req)

    def add_robots(self, sitemap: str | None = None) -> None:
        lines = ["User-agent: *", f"Disallow: {DISALLOWED_PREFIX}", "Disallow: /search/"]
        if self.crawl_delay > 0:
            lines.append(f"Crawl-delay: {self.crawl_delay:g}")
        text = "\n".join(lines) + "\n"
        if sitemap is None:
            self.routes["/robots.txt"] = Resource(text.encode(), "text/plain; charset=utf-8")
        else:  # Sitemap: lines are absolute URLs: written from the Host the client used
            self.routes["/robots.txt"] = lambda req: Response(
                200, [("Content-Type", "text/plain; charset=utf-8")],
                f"{text}Sitemap: {req.origin}{sitemap}\n".encode())
        secret = f"{DISALLOWED_PREFIX}draft.html"
        self.routes[secret] = Resource(simple_index("内部预览(robots.txt 禁止抓取)", []).encode(), "text/html; charset=utf-8")
        self.disallowed_paths = [secret]


def _not_found() -> Response:
    body = simple_index("404 页面不存在", [("/", "返回首页")]).encode()
    return Response(404, [("Content-Type", "text/html; charset=utf-8")], body)


def _html(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="xmlcharrefreplace")


def _pages(items: list, per_page: int) -> list[list]:
    return [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]


# --- siming: the seeds ------------------------------------------------------------------

SIMING_LOOK = SiteLook(
    site_name="厦门市思明区人民政府", agency="厦门市思明区应急管理局", site_code="3502030001",
    icp="闽ICP备05021453号-1", police="闽公网安备 35020302001234号", column="工作动态", column_path="/zwgk/gzdt/")


def build_siming(crawl_delay: float) -> Site:
    site = Site("siming", "思明区应急管理局", "utf-8", crawl_delay, ["/zwgk/gzdt/index.html"],
                article_patterns=[r"/zwgk/gzdt/\d{6}/t\d{8}_\d+\.htm$"],
                list_patterns=[r"/zwgk/gzdt/index(_\d+)?\.html$"])
    seeds = load_seeds()
    entries = []
    for i, seed in enumerate(seeds):
        d = seed.published
        path = f"/zwgk/gzdt/{d:%Y%m}/t{d:%Y%m%d}_{1826400 + i * 37}.htm"
        entries.append((path, seed))
        site.seed_paths[seed.file] = path
    latest = [(p, s.title) for p, s in entries]
    pdf_path = "/zwgk/gzdt/202501/P020250110523608195347.pdf"
    # the first article links a notice as PDF and DOCX and its statistics as XLSX; the
    # second a scanned PDF (no text layer): what real gov articles attach
    files = {
        pdf_path: ("notice.pdf", "application/pdf", "附件1：关于开展2024年安全生产月活动的通知.pdf"),
        "/zwgk/gzdt/202501/P020250110523608195348.docx": (
            "notice.docx", _ATTACHMENT_TYPES["docx"], "附件2：关于开展2024年安全生产月活动的通知.docx"),
        "/zwgk/gzdt/202501/P020250110523608195349.xlsx": (
            "table.xlsx", _ATTACHMENT_TYPES["xlsx"], "附件3：2024年第一季度安全生产执法检查情况统计表.xlsx"),
        "/zwgk/gzdt/202501/P020250110523608195350.pdf": ("scanned.pdf", "application/pdf", "附件：扫描件.pdf"),
    }
    linked = {0: list(files)[:3], 1: list(files)[3:]}
    for i, (path, seed) in enumerate(entries):
        look = SIMING_LOOK
        if seed.traditional:
            look = replace(SIMING_LOOK, column="工作總結", site_name="廈門市思明區人民政府",
                           agency="廈門市思明區應急管理局", traditional=True)
        attachments = [(href, files[href][2]) for href in linked.get(i, [])]
        page = article_page(look, title=seed.title, published=seed.published, source=seed.source,
                            paragraphs=[ln.strip() for ln in seed.text.splitlines() if ln.strip()],
                            latest=[x for x in latest if x[0] != path], attachments=attachments)
        site.routes[path] = Resource.article(page.encode("utf-8"), "text/html; charset=utf-8", seed.published)
        site.article_paths.append(path)
    for href, (name, ctype, _title) in files.items():
        site.routes[href] = Resource.article((ATTACHMENTS_DIR / name).read_bytes(), ctype, datetime(2025, 1, 10, 9, 30))
        site.attachment_paths.append(href)
    site.add_robots()
    items = sorted(((p, s.title, s.published) for p, s in entries), key=lambda x: x[2], reverse=True)
    _trs_lists(site, SIMING_LOOK, items, per_page=2, extra=[(site.disallowed_paths[0], "内部预览")])
    site.routes["/"] = Resource(simple_index(SIMING_LOOK.site_name, [("/zwgk/gzdt/index.html", "工作动态")]).encode(),
                                "text/html; charset=utf-8")
    return site


def _trs_lists(site: Site, look: SiteLook, items: list[tuple[str, str, datetime]], *, per_page: int,
               extra: Sequence[tuple[str, str]] = (), charset: str = "utf-8") -> None:
    """index.html, index_1.html, ...: the pager exists only as a createPageHTML call."""
    for old in site.list_paths:
        site.routes.pop(old, None)
    site.list_paths = []
    chunks = _pages(items, per_page)
    for n, chunk in enumerate(chunks):
        path = f"{look.column_path}index.html" if n == 0 else f"{look.column_path}index_{n}.html"
        page = trs_list_page(look, items=chunk, page=n, pages=len(chunks), extra_links=extra if n == 0 else [],
                             charset=charset)
        site.routes[path] = Resource(_html(page, charset), f"text/html; charset={charset}")
        site.list_paths.append(path)


# --- real: bundled real pages -------------------------------------------------------------

_ATTACHMENT_TYPES = {
    "pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "wps": "application/vnd.ms-works", "zip": "application/zip", "rar": "application/x-rar-compressed",
}


def _real_attachment(req: Request) -> Response:
    """The saved real pages link attachments (W0202….docx) that were never saved: serve a stand-in.

    A gov site serves them, so a crawl of these pages should record attachments, not 404s.
    """
    path = req.path.split("?", 1)[0]
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if not path.startswith("/pages/") or ext not in _ATTACHMENT_TYPES:
        return _not_found()
    body = tiny_pdf() if ext == "pdf" else b"PK\x03\x04" + hashlib.sha1(path.encode()).digest() * 64
    return Response(200, [("Content-Type", _ATTACHMENT_TYPES[ext])], body)


def build_real(crawl_delay: float) -> Site:
    # list pattern anchored at the host: the real pages link their own sites' /xxx/index.html columns
    site = Site("real", "真实页面", "mixed", crawl_delay, ["/index.html"],
                article_patterns=[r"/pages/[^/]+__[^/]+\.html$"], list_patterns=[r"^https?://[^/]+/index\.html$"],
                fallback=_real_attachment)
    links = []
    for page in load_real_pages():
        path = f"/pages/{page.file}"
        site.routes[path] = Resource.article(page.body, page.content_type, datetime(2024, 10, 1, 8, 0))
        site.article_paths.append(path)
        links.append((path, page.title))
    site.add_robots()
    links.append((site.disallowed_paths[0], "内部预览"))
    site.routes["/index.html"] = Resource(simple_index("政府网站页面集", links).encode(), "text/html; charset=utf-8")
    site.routes["/"] = site.routes["/index.html"]
    site.list_paths = ["/index.html"]
    return site


# --- generated sites (gbk, bulk) -------------------------------------------------------------

GBK_LOOK = SiteLook(
    site_name="龙海区人民政府", agency="漳州市龙海区应急管理局", site_code="3506810002",
    icp="闽ICP备10003241号", police="闽公网安备 35068102000456号", column="应急管理", column_path="/xwzx/yjgl/",
    apps=("闽政通APP", "龙海发布"))

BULK_LOOK = SiteLook(
    site_name="厦门市集美区人民政府", agency="厦门市集美区应急管理局", site_code="3502110003",
    icp="闽ICP备05021498号", police="闽公网安备 35021102000789号", column="安全生产", column_path="/aqsc/")


def _article_path(prefix: str, a: GeneratedArticle, ext: str) -> str:
    return f"{prefix}{a.published:%Y%m}/t{a.published:%Y%m%d}_{3100000 + a.index}.{ext}"


def build_gbk(count: int, crawl_delay: float) -> Site:
    """Hanweb-style site in GBK: `charset=gbk` header and meta, body in div#zoom."""
    site = Site("gbk", "龙海区应急管理局(GBK)", "gbk", crawl_delay, [f"{GBK_LOOK.column_path}index.htm"],
                article_patterns=[r"/xwzx/yjgl/\d{6}/t\d{8}_\d+\.htm$"],
                list_patterns=[r"/xwzx/yjgl/index(_\d+)?\.htm$"], body_selector="div#zoom")
    site.add_robots()
    state: dict[str, Any] = {"count": 0, "items": []}

    def grow(n: int) -> list[str]:
        new = []
        for i in range(state["count"], state["count"] + n):
            a = generate_article(i, agency=GBK_LOOK.agency, salt="gbk")
            path = _article_path(GBK_LOOK.column_path, a, "htm")
            page = hanweb_article_page(GBK_LOOK, title=a.title, published=a.published, source=GBK_LOOK.agency,
                                       paragraphs=list(a.paragraphs), charset="gbk")
            site.routes[path] = Resource.article(_html(page, "gbk"), "text/html; charset=gbk", a.published)
            site.article_paths.append(path)
            state["items"].append((path, a.title, a.published))
            new.append(path)
        state["count"] += n
        items = sorted(state["items"], key=lambda x: x[2], reverse=True)
        for old in site.list_paths:
            site.routes.pop(old, None)
        chunks = _pages(items, 5)
        site.list_paths = []
        for k, chunk in enumerate(chunks):
            path = f"{GBK_LOOK.column_path}index.htm" if k == 0 else f"{GBK_LOOK.column_path}index_{k}.htm"
            page = hanweb_list_page(GBK_LOOK, items=chunk, page=k, pages=len(chunks), charset="gbk",
                                    extra_links=[(site.disallowed_paths[0], "内部预览")] if k == 0 else [])
            site.routes[path] = Resource(_html(page, "gbk"), "text/html; charset=gbk")
            site.list_paths.append(path)
        return new

    site.grow = grow
    grow(count)
    site.routes["/"] = Resource(_html(simple_index(GBK_LOOK.site_name, [(site.start_paths[0], "应急管理")], "gbk"), "gbk"),
                                "text/html; charset=gbk")
    return site


def build_bulk(count: int, crawl_delay: float) -> Site:
    """`count` distinct generated TRS articles for the fleet drills and benchmarks.

    `grow(0)` re-renders the list pages, so a test that adds a route and an entry to
    `extra_links` (the poison page) gets it linked from the first list page.
    """
    site = Site("bulk", "集美区应急管理局(批量)", "utf-8", crawl_delay, [f"{BULK_LOOK.column_path}index.html"],
                article_patterns=[r"/aqsc/\d{6}/t\d{8}_\d+\.htm$"],
                list_patterns=[r"/aqsc/index(_\d+)?\.html$"])
    site.add_robots()
    state: dict = {"count": 0, "items": []}
    site.extra_links = [(site.disallowed_paths[0], "内部预览")]

    def grow(n: int) -> list[str]:
        new = []
        recent = [(p, t) for p, t, _ in state["items"][-6:]]
        for i in range(state["count"], state["count"] + n):
            a = generate_article(i, agency=BULK_LOOK.agency, salt="bulk")
            path = _article_path(BULK_LOOK.column_path, a, "htm")
            page = article_page(BULK_LOOK, title=a.title, published=a.published, source=BULK_LOOK.agency,
                                paragraphs=list(a.paragraphs), latest=recent)
            site.routes[path] = Resource.article(page.encode("utf-8"), "text/html; charset=utf-8", a.published)
            site.article_paths.append(path)
            state["items"].append((path, a.title, a.published))
            new.append(path)
        state["count"] += n
        items = sorted(state["items"], key=lambda x: (x[2], x[0]), reverse=True)
        _trs_lists(site, BULK_LOOK, items, per_page=20, extra=site.extra_links)
        return new

    site.grow = grow
    grow(count)
    site.routes["/"] = Resource(simple_index(BULK_LOOK.site_name, [(site.start_paths[0], "安全生产")]).encode(),
                                "text/html; charset=utf-8")
    return site
