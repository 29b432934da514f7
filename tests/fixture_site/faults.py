"""The fault endpoints: test-only sites served by the fixture server, never shipped.

Why here and not in `workers/fixture_site/`: a 4 GiB gzip bomb, a poison page that
keeps a parser busy for minutes and a 50 MB body are test equipment (Scrapy keeps its
`tests/mockserver.py` out of the package the same way). Tests and benchmarks build these
sites and hand them to the fixture server:

    with FixtureSite(extra_sites=[build_faults(FaultSettings(slow_seconds=3))]) as fx:
        fx.site("faults").fault_urls["gzip_bomb"]

    FixtureSite(sites=[], extra_sites=[poisoned_bulk(300)])   # the fleet drills' bulk site

Why the bodies are built once and cached at module level: a gzip bomb expanding to
gigabytes costs ~0.2 s to build and several megabytes to hold, and the benchmarks start
fixture sites many times in one process. Nothing here builds a huge body in memory: the
50 MB body is a generator of one reused 64 KiB chunk.
"""
from __future__ import annotations

import random
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from govingest.workers.fixture_site.content import tiny_pdf
from govingest.workers.fixture_site.sites import (
    GBK_LOOK,
    SIMING_LOOK,
    Handler,
    Request,
    Resource,
    Response,
    Site,
    build_bulk,
)
from govingest.workers.fixture_site.templates import article_page, hanweb_article_page, simple_index

_ZERO_CHUNK = 16 * 1024 * 1024
_lock = threading.Lock()
_bombs: dict[int, bytes] = {}

BOMB_EXPANDED_BYTES = 4 * 1024 ** 3  # 4 GiB of zeros behind ~4 MB of gzip


def _gf2_times(mat: list[int], vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _gf2_square(mat: list[int]) -> list[int]:
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B): zlib's crc32_combine, which Python lacks.

    Lets the bomb's trailer be computed in microseconds instead of CRC-ing 4 GiB.
    """
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # first pass: one zero byte
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def gzip_bomb(expanded: int = BOMB_EXPANDED_BYTES) -> bytes:
    """A valid gzip stream inflating to `expanded` zero bytes (a multiple of 16 MiB), ~1/1000 the size.

    Deflate after a Z_FULL_FLUSH forgets its history, so every further 16 MiB of zeros
    compresses to the same bytes: compress two chunks, repeat the second, close the
    stream with an empty final block and the real CRC32/ISIZE trailer. Built once per
    size in ~0.1 s instead of compressing gigabytes.
    """
    chunks = max(2, expanded // _ZERO_CHUNK)
    with _lock:
        if chunks not in _bombs:
            zeros = bytes(_ZERO_CHUNK)
            comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip wrapper
            first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            repeat = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            crc, done = 0, 0  # CRC of `done` zero bytes; square-and-multiply over chunk count
            part_crc, part_len, n = zlib.crc32(zeros), _ZERO_CHUNK, chunks
            while n:
                if n & 1:
                    crc, done = crc32_combine(crc, part_crc, part_len), done + part_len
                part_crc, part_len = crc32_combine(part_crc, part_crc, part_len), part_len * 2
                n >>= 1
            final_empty_block = b"\x03\x00"  # BFINAL=1, fixed Huffman, end-of-block
            trailer = struct.pack("<II", crc, (chunks * _ZERO_CHUNK) & 0xFFFFFFFF)
            _bombs[chunks] = first + repeat * (chunks - 1) + final_empty_block + trailer
        return _bombs[chunks]


HUGE_BYTES = 50 * 1024 * 1024


def huge_body(total: int = HUGE_BYTES) -> Iterator[bytes]:
    """`total` bytes of a plausible HTML page, streamed in 64 KiB chunks."""
    head = b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\xe5\xa4\xa7\xe6\x96\x87\xe4\xbb\xb6</title></head><body>"
    para = "<p>本段为超长页面的填充内容，用于检验抓取端的响应体大小上限。</p>\n".encode()
    chunk = para * (65536 // len(para))
    yield head
    left = total - len(head)
    while left > 0:
        piece = chunk if left >= len(chunk) else chunk[:left]
        left -= len(piece)
        yield piece


def binary_blob(size: int = 32 * 1024) -> bytes:
    """Deterministic binary junk (a PNG signature, then noise) to serve as text/html."""
    rng = random.Random(20241125)
    return b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(size - 8))




POISON_ROWS = 40_000
POISON_PARAGRAPHS = 20_000
POISON_DEPTH = 5_000


def poison_page(rows: int = POISON_ROWS, paragraphs: int = POISON_PARAGRAPHS, depth: int = POISON_DEPTH) -> bytes:
    """The fleet drill's poison page (~8 MB of HTML): a worker must survive it, not parse it.

    Inside a `div.TRS_Editor` (so the extractor takes it as the body): a `rows` x 8 table
    of short cells, almost every one a numeric fact (检查企业N家, 隐患N处, 约N万元), then
    `paragraphs` numbered 一、 paragraphs full of facts, then `depth` unclosed nested <div>s.
    Every parser stage is at least linear in facts and paragraphs and several are worse,
    so the parse runs for minutes (measured: a 5,000-row table alone takes ~5 s) and the
    per-document timeout must end it as a recorded failure while the worker goes on.
    """
    cells = "".join(
        f"<tr><td>{r}</td><td>检查企业{r % 997}家</td><td>{r * 7 % 1000}</td><td>隐患{r % 89}处</td>"
        f"<td>{r % 13}.{r % 10}%</td><td>{r * 3}</td><td>整改{r % 61}处</td><td>约{r % 50}万元</td></tr>"
        for r in range(rows))
    paras = "".join(f"<p>{'一二三四五六七八九十'[i % 10]}、第{i}项:共检查企业{i}家,整改隐患{i * 3}处,罚款{i % 97}万元。</p>"
                    for i in range(paragraphs))
    html = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>统计数据汇总表</title>"
            "<meta name=\"ArticleTitle\" content=\"统计数据汇总表\"></head><body>"
            "<div class=\"TRS_Editor\"><table>" + cells + "</table>" + paras + "</div>"
            + "<div>" * depth + "</body></html>")
    return html.encode("utf-8")


# --- the faults site ----------------------------------------------------------------------

@dataclass
class FaultSettings:
    slow_seconds: float = 20.0  # longer than a typical 10 s read timeout
    flaky_failures: int = 1  # 500s before the 200
    retry_after: int = 1  # seconds in the 429's Retry-After
    rate_limited_times: int = 1  # 429s before the 200
    huge_bytes: int = HUGE_BYTES


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
        return Response(200, html_ct, huge_body(settings.huge_bytes), length=settings.huge_bytes)

    def bomb(req: Request) -> Response:
        return Response(200, [*html_ct, ("Content-Encoding", "gzip")], gzip_bomb())

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
                          Resource(wrong_charset_page.encode("gbk", errors="xmlcharrefreplace"), "text/html; charset=utf-8"),
                          "GBK 正文声明为 UTF-8"),
        "binary": ("/faults/binary.html", Resource(binary_blob(), "text/html; charset=utf-8"),
                   "二进制内容声明为 HTML"),
        "empty": ("/faults/empty.html", Resource(b"", "text/html; charset=utf-8"), "空响应体"),
        "attachment": ("/faults/notice.pdf", Resource.article(tiny_pdf(), "application/pdf",
                                                              datetime(2024, 11, 1)), "PDF 附件"),
    }
    return routes


def build_faults(settings: FaultSettings | None = None, crawl_delay: float = 0.1, *, poison: bool = False) -> Site:
    """One list page linking every fault endpoint; `poison` adds /poison.html to it."""
    settings = settings or FaultSettings()
    site = Site("faults", "故障端点", "utf-8", crawl_delay, ["/index.html"],
                article_patterns=[r"/faults/"], list_patterns=[r"^https?://[^/]+/index\.html$"])
    site.add_robots()
    # build the bomb now, off the request path: a crawler with a 1 s read timeout must
    # see the bomb, not a slow first answer
    threading.Thread(target=gzip_bomb, name="gzip-bomb", daemon=True).start()
    routes = _fault_routes(settings)
    for kind, (path, route, _label) in routes.items():
        site.fault_paths[kind] = path
        if route is not None:
            site.routes[path] = route
    site.routes["/faults/loop-b.html"] = _redirect("/faults/loop-a.html")
    site.attachment_paths.append(site.fault_paths["attachment"])
    links = [(path, label) for path, _r, label in routes.values()]
    if poison:
        _serve_poison(site)
        links.append((POISON_PATH, "毒页面(解析器压力)"))
    links.append((site.disallowed_paths[0], "内部预览"))
    site.routes["/index.html"] = Resource(simple_index("故障端点", links).encode(), "text/html; charset=utf-8")
    site.routes["/"] = site.routes["/index.html"]
    site.list_paths = ["/index.html"]
    return site


# --- the poison page on the bulk site (fleet drills) ----------------------------------------

POISON_PATH = "/poison.html"


def _serve_poison(site: Site) -> None:
    site.routes[POISON_PATH] = Resource.article(poison_page(), "text/html; charset=utf-8", datetime(2024, 12, 31, 9, 0))
    site.fault_paths["poison"] = POISON_PATH
    site.article_patterns.append(r"/poison\.html$")


def poisoned_bulk(articles: int, crawl_delay: float = 0.0) -> Site:
    """The demo's bulk site with `articles` articles and /poison.html linked from its first list page."""
    site = build_bulk(articles, crawl_delay)
    _serve_poison(site)
    site.extra_links.append((POISON_PATH, "统计数据汇总表"))
    assert site.grow is not None
    site.grow(0)  # re-render the list pages with the new link
    return site
