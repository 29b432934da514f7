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
  faults  one list page linking every fault endpoint.
  bulk    (articles=N) N generated TRS-style articles, 20 per list page; the poison page.

One site per CMS list dialect (trs-var, hanweb, govcn, gkmlpt, jsonapi, feeds) is built in
`dialects.py`; docs/dialects.md names the public pages each follows.
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

from govingest.workers.fixture_site import faults
from govingest.workers.fixture_site.content import GeneratedArticle, generate_article, load_real_pages, load_seeds
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
    fault_paths: dict[str, str] = field(default_factory=dict)  # fault kind -> path
    attachment_paths: list[str] = field(default_factory=list)
    disallowed_paths: list[str] = field(default_factory=list)  # linked, but robots.txt forbids
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
    for i, (path, seed) in enumerate(entries):
        look = SIMING_LOOK
        if seed.traditional:
            look = replace(SIMING_LOOK, column="工作總結", site_name="廈門市思明區人民政府",
                           agency="廈門市思明區應急管理局", traditional=True)
        attachments = [(pdf_path, "附件:2024年工作总结统计表.pdf")] if i == 0 else []
        page = article_page(look, title=seed.title, published=seed.published, source=seed.source,
                            paragraphs=[ln.strip() for ln in seed.text.splitlines() if ln.strip()],
                            latest=[x for x in latest if x[0] != path], attachments=attachments)
        site.routes[path] = Resource.article(page.encode("utf-8"), "text/html; charset=utf-8", seed.published)
        site.article_paths.append(path)
    site.routes[pdf_path] = Resource.article(faults.tiny_pdf(), "application/pdf", datetime(2025, 1, 10, 9, 30))
    site.attachment_paths.append(pdf_path)
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
    body = faults.tiny_pdf() if ext == "pdf" else b"PK\x03\x04" + hashlib.sha1(path.encode()).digest() * 64
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


POISON_PATH = "/poison.html"


def build_bulk(count: int, crawl_delay: float, *, poison: bool) -> Site:
    """`count` distinct generated TRS articles for the fleet drills and benchmarks."""
    site = Site("bulk", "集美区应急管理局(批量)", "utf-8", crawl_delay, [f"{BULK_LOOK.column_path}index.html"],
                article_patterns=[r"/aqsc/\d{6}/t\d{8}_\d+\.htm$", r"/poison\.html$"],
                list_patterns=[r"/aqsc/index(_\d+)?\.html$"])
    site.add_robots()
    state: dict = {"count": 0, "items": []}
    extra = [(site.disallowed_paths[0], "内部预览")]
    if poison:
        site.routes[POISON_PATH] = Resource.article(faults.poison_page(), "text/html; charset=utf-8",
                                                    datetime(2024, 12, 31, 9, 0))
        site.fault_paths["poison"] = POISON_PATH
        extra.append((POISON_PATH, "统计数据汇总表"))

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
        _trs_lists(site, BULK_LOOK, items, per_page=20, extra=extra)
        return new

    site.grow = grow
    grow(count)
    site.routes["/"] = Resource(simple_index(BULK_LOOK.site_name, [(site.start_paths[0], "安全生产")]).encode(),
                                "text/html; charset=utf-8")
    return site


# --- faults -----------------------------------------------------------------------------

@dataclass
class FaultSettings:
    slow_seconds: float = 20.0  # longer than a typical 10 s read timeout
    flaky_failures: int = 1  # 500s before the 200
    retry_after: int = 1  # seconds in the 429's Retry-After
    rate_limited_times: int = 1  # 429s before the 200
    huge_bytes: int = faults.HUGE_BYTES


def _ok_page(title: str) -> bytes:
    look = SIMING_LOOK
    return article_page(look, title=title, published=datetime(2024, 9, 1, 10, 0), source=look.agency,
                        paragraphs=[f"{title}。本页在故障恢复后正常返回,用于检验抓取端的重试与退避。",
                                    "一、基本情况", "全区共检查企业120家,整改隐患36处。"], latest=[]).encode()


def _redirect(target: str) -> Handler:
    return lambda req: Response(302, [("Location", target), ("Content-Type", "text/html; charset=utf-8")],
                                b"<html><body>Moved</body></html>")


def _counted_handlers(settings: FaultSettings) -> dict[str, Handler]:
    """The endpoints whose answer depends on how often they were hit, or that are slow or huge."""
    counters: dict[str, int] = {}
    counters_lock = threading.Lock()

    def hit(path: str) -> int:
        with counters_lock:
            counters[path] = counters.get(path, 0) + 1
            return counters[path]

    html_ct = [("Content-Type", "text/html; charset=utf-8")]

    def flaky(req: Request) -> Response:
        if hit("/faults/flaky.html") <= settings.flaky_failures:
            return Response(500, html_ct, b"<html><body><h1>500 Internal Server Error</h1></body></html>")
        return Response(200, html_ct, _ok_page("服务恢复后的页面"))

    def rate_limited(req: Request) -> Response:
        if hit("/faults/rate-limited.html") <= settings.rate_limited_times:
            return Response(429, [*html_ct, ("Retry-After", str(settings.retry_after))],
                            b"<html><body><h1>429 Too Many Requests</h1></body></html>")
        return Response(200, html_ct, _ok_page("限流解除后的页面"))

    def slow(req: Request) -> Response:
        return Response(200, html_ct, _ok_page("慢速响应页面"), delay=settings.slow_seconds)

    def huge(req: Request) -> Response:
        return Response(200, html_ct, faults.huge_body(settings.huge_bytes), length=settings.huge_bytes)

    def bomb(req: Request) -> Response:
        return Response(200, [*html_ct, ("Content-Encoding", "gzip")], faults.gzip_bomb())

    return {"flaky": flaky, "rate_limited": rate_limited, "slow": slow, "huge": huge, "bomb": bomb}


def _fault_routes(settings: FaultSettings) -> dict[str, tuple[str, Resource | Handler | None, str]]:
    """fault kind -> (path, what serves it, label on the index page)."""
    handlers = _counted_handlers(settings)
    flaky, rate_limited, slow, huge, bomb = (handlers[k] for k in ("flaky", "rate_limited", "slow", "huge", "bomb"))
    redirect = _redirect
    wrong_charset_page = hanweb_article_page(
        GBK_LOOK, title="关于做好冬春火灾防控工作的通知", published=datetime(2024, 11, 20, 9, 0),
        source=GBK_LOOK.agency, charset="gbk",
        paragraphs=["各镇(街道)、各有关单位:", "一、全面排查火灾隐患", "全区共排查单位532家,发现隐患218处,已整改197处。"])
    routes: dict[str, tuple[str, Resource | Handler | None, str]] = {
        "not_found": ("/faults/missing.html", None, "404 页面不存在"),
        "flaky": ("/faults/flaky.html", flaky, "500 后恢复 200"),
        "rate_limited": ("/faults/rate-limited.html", rate_limited, "429 Retry-After"),
        "slow": ("/faults/slow.html", slow, "慢速响应"),
        "huge": ("/faults/huge.html", huge, "50 MB 响应体"),
        "gzip_bomb": ("/faults/bomb.html", bomb, "gzip 炸弹"),
        "redirect_loop": ("/faults/loop-a.html", redirect("/faults/loop-b.html"), "重定向循环"),
        "redirect_private": ("/faults/redirect-private.html", redirect("http://10.0.0.1/internal/index.html"),
                             "重定向到内网地址"),
        "redirect_metadata": ("/faults/redirect-metadata.html",
                              redirect("http://169.254.169.254/latest/meta-data/"), "重定向到云元数据地址"),
        "wrong_charset": ("/faults/wrong-charset.html",
                          Resource(_html(wrong_charset_page, "gbk"), "text/html; charset=utf-8"),
                          "GBK 正文声明为 UTF-8"),
        "binary": ("/faults/binary.html", Resource(faults.binary_blob(), "text/html; charset=utf-8"),
                   "二进制内容声明为 HTML"),
        "empty": ("/faults/empty.html", Resource(b"", "text/html; charset=utf-8"), "空响应体"),
        "attachment": ("/faults/notice.pdf", Resource.article(faults.tiny_pdf(), "application/pdf",
                                                              datetime(2024, 11, 1)), "PDF 附件"),
    }
    return routes


def build_faults(settings: FaultSettings, crawl_delay: float, *, poison: bool) -> Site:
    site = Site("faults", "故障端点", "utf-8", crawl_delay, ["/index.html"],
                article_patterns=[r"/faults/"], list_patterns=[r"^https?://[^/]+/index\.html$"])
    site.add_robots()
    # build the bomb now, off the request path: a crawler with a 1 s read timeout must
    # see the bomb, not a slow first answer
    threading.Thread(target=faults.gzip_bomb, name="gzip-bomb", daemon=True).start()
    routes = _fault_routes(settings)
    for kind, (path, route, _label) in routes.items():
        site.fault_paths[kind] = path
        if route is not None:
            site.routes[path] = route
    site.routes["/faults/loop-b.html"] = _redirect("/faults/loop-a.html")
    site.attachment_paths.append(site.fault_paths["attachment"])
    links = [(path, label) for path, _r, label in routes.values()]
    if poison:
        site.routes[POISON_PATH] = Resource.article(faults.poison_page(), "text/html; charset=utf-8",
                                                    datetime(2024, 12, 31, 9, 0))
        site.fault_paths["poison"] = POISON_PATH
        site.article_patterns.append(r"/poison\.html$")
        links.append((POISON_PATH, "毒页面(解析器压力)"))
    links.append((site.disallowed_paths[0], "内部预览"))
    site.routes["/index.html"] = Resource(simple_index("故障端点", links).encode(), "text/html; charset=utf-8")
    site.routes["/"] = site.routes["/index.html"]
    site.list_paths = ["/index.html"]
    return site
