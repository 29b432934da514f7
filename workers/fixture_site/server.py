"""`FixtureSite`: the fixture sites served on 127.0.0.1, one server (and port) per site.

Why one port per site: the crawler's politeness budget is per host[:port], so separate
ports make each fixture site a separate host, as real sites are. Each server is a
stdlib `ThreadingHTTPServer` in a daemon thread, HTTP/1.1 keep-alive, answering from
prebuilt route tables (see `sites.py`), so it serves hundreds of pages/s. A client that
hangs up mid-body (the crawler cutting a 50 MB body or a gzip bomb) ends that one
connection quietly; nothing a client does can stop the server.

Every request is one JSON line in the access log, which tests read to check politeness
(rate per site, robots Disallow never fetched, conditional GET headers sent).
"""
from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from govingest.workers.fixture_site.dialects import DIALECT_BUILDERS
from govingest.workers.fixture_site.sites import (
    Request,
    Resource,
    Response,
    Site,
    build_bulk,
    build_gbk,
    build_real,
    build_siming,
)

DIALECT_SITES = tuple(DIALECT_BUILDERS)
ALL_SITES = ("siming", "real", "gbk", *DIALECT_SITES)
LOGGED_HEADERS = ("If-None-Match", "If-Modified-Since", "User-Agent", "Referer")


@dataclass(frozen=True)
class SiteInfo:
    """A running fixture site, as tests and the sites-file writer see it."""

    name: str
    title: str
    base_url: str  # http://127.0.0.1:PORT
    host: str  # 127.0.0.1:PORT, the politeness key
    encoding: str
    crawl_delay: float
    start_urls: tuple[str, ...]
    article_patterns: tuple[str, ...]
    list_patterns: tuple[str, ...]
    body_selector: str | None
    article_urls: tuple[str, ...]
    list_urls: tuple[str, ...]
    attachment_urls: tuple[str, ...]
    disallowed_urls: tuple[str, ...]  # linked from a list page; robots.txt forbids them
    seed_urls: dict[str, str] = field(default_factory=dict)  # seed file name -> URL
    fault_urls: dict[str, str] = field(default_factory=dict)  # fault kind -> URL
    dialect: str | None = None  # dialect sites: the list dialect they are written in
    truth: dict[str, str] = field(default_factory=dict)  # article URL -> body text
    missing_urls: tuple[str, ...] = ()  # linked, answered 404
    stale_urls: tuple[str, ...] = ()  # deep list pages repeating older ones (never worth asking)

    def url(self, path: str) -> str:
        return self.base_url + path


class AccessLog:
    """Append-only JSON lines, one per request; flushed per line so tests see it at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fh = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if not self._fh.closed:
                self._fh.write(line)
                self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()


def read_access_log(path: str | Path) -> list[dict[str, Any]]:
    """The access log's records in order; a half-written last line is skipped."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, site: Site, owner: FixtureSite) -> None:
        self.site = site
        self.owner = owner
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on open keep-alive connections so their threads end with the server."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client vanishing is normal here (size caps, timeouts): no traceback on stderr."""


class _Handler(BaseHTTPRequestHandler):
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's own, undeclared in its stubs
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection frees its thread after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in one write; without NODELAY a keep-alive client's
        # delayed ACK would still cost ~40 ms per small response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:  # Hanweb's dataproxy.jsp is asked by POST
        self._serve(head=False)

    def log_message(self, format: str, *args: Any) -> None:  # the JSON access log replaces it
        pass

    def _serve(self, *, head: bool) -> None:
        owner, site = self.server.owner, self.server.site
        ts = time.time()
        status, sent = 0, 0
        try:
            try:
                form = b""
                if self.command == "POST":
                    declared = int(self.headers.get("Content-Length") or 0)
                    form = self.rfile.read(min(declared, 1 << 20))
                resp = site.respond(Request(self.command, self.path, self.headers, form))
            except Exception as exc:  # a bug in a route must not kill the connection thread
                resp = Response(500, [("Content-Type", "text/plain; charset=utf-8")],
                                f"fixture site error: {type(exc).__name__}: {exc}".encode())
            delay = owner.latency + resp.delay
            if delay > 0 and owner._stopping.wait(delay):
                self.close_connection = True
                return
            status = resp.status
            body = resp.body
            length = len(body) if isinstance(body, (bytes, bytearray)) else resp.length
            self.send_response(status)
            for k, v in resp.headers:
                self.send_header(k, v)
            if status != 304:
                if length is None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(length))
            self._headers_buffer.append(b"\r\n")  # end_headers() without its separate flush
            head_bytes = b"".join(self._headers_buffer)
            self._headers_buffer = []
            if head or status == 304:
                self.wfile.write(head_bytes)
                return
            if isinstance(body, (bytes, bytearray)):
                self.wfile.write(head_bytes + body)
                sent = len(body)
                return
            self.wfile.write(head_bytes)
            chunks: Iterable[bytes] = body
            for chunk in chunks:
                if owner._stopping.is_set():
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
        except (OSError, ValueError):  # client hung up (reset, broken pipe, timeout) or socket closed
            self.close_connection = True
        finally:
            record: dict[str, Any] = {"ts": round(ts, 6), "site": site.name, "method": self.command,
                                      "path": self.path, "status": status, "bytes": sent,
                                      "seconds": round(time.time() - ts, 6)}
            headers = {h: self.headers[h] for h in LOGGED_HEADERS if self.headers.get(h) is not None}
            if headers:
                record["headers"] = headers
            owner._log.write(record)


class FixtureSite:
    """Start with `FixtureSite().start()`; `.sites`, `.site(name)`, `.access_log`, `.stop()`.

    Also a context manager. `articles=N` adds the `bulk` site with N generated articles
    (fleet drills need >= 300). `latency` delays every response (benchmarks).
    `extra_sites` are served after the named ones: the tests' fault sites
    (`tests/fixture_site/faults.py`) come in this way, so the package ships none.
    """

    def __init__(self, *, sites: Iterable[str] = ALL_SITES, articles: int = 0, gbk_articles: int = 6,
                 latency: float = 0.0, crawl_delay: float = 0.1, extra_sites: Iterable[Site] = (),
                 access_log: str | Path | None = None) -> None:
        self.latency = latency
        self._stopping = threading.Event()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._infos: list[SiteInfo] = []
        names = list(dict.fromkeys(sites))
        unknown = set(names) - set(ALL_SITES) - {"bulk"}
        if unknown:
            raise ValueError(f"unknown fixture site(s) {sorted(unknown)}; known: {', '.join(ALL_SITES)}, bulk")
        if articles > 0 and "bulk" not in names:
            names.append("bulk")

        def dialect_builder(build: Callable[[float], Site]) -> Callable[[], Site]:
            return lambda: build(crawl_delay)

        builders: dict[str, Callable[[], Site]] = {
            **{name: dialect_builder(b) for name, b in DIALECT_BUILDERS.items()},
            "siming": lambda: build_siming(crawl_delay),
            "real": lambda: build_real(crawl_delay),
            "gbk": lambda: build_gbk(gbk_articles, crawl_delay),
            "bulk": lambda: build_bulk(articles, crawl_delay),
        }
        self._sites: list[Site] = [builders[n]() for n in names] + list(extra_sites)
        clash = {s.name for s in self._sites if [t.name for t in self._sites].count(s.name) > 1}
        if clash:
            raise ValueError(f"fixture site name(s) {sorted(clash)} given twice; each site needs its own name")
        if access_log is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="govingest-fixture-")
            access_log = Path(self._tmpdir.name) / "access.jsonl"
        self.access_log = Path(access_log)
        self._log = AccessLog(self.access_log)

    # --- lifecycle ------------------------------------------------------------------

    def start(self, port: int = 0) -> FixtureSite:
        """Bind every site (port 0: free ports; else `port`, `port+1`, ...) and serve in threads."""
        try:
            for i, site in enumerate(self._sites):
                srv = _Server(port + i if port else 0, site, self)
                self._servers.append(srv)
        except OSError as exc:
            self.stop()
            raise OSError(exc.errno, f"cannot listen on 127.0.0.1:{port + len(self._servers)} for fixture site "
                                     f"{self._sites[len(self._servers)].name!r} ({exc.strerror}); "
                                     "pick another --port or use 0 for free ports") from exc
        for srv in self._servers:
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                                 name=f"fixture-{srv.site.name}", daemon=True)
            t.start()
            self._threads.append(t)
        self._infos = [self._info(srv) for srv in self._servers]
        return self

    def stop(self) -> None:
        """Stop serving and close sockets; in-flight slow responses are cut short."""
        self._stopping.set()
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
            srv.close_connections()
        for t in self._threads:
            t.join(timeout=5)
        self._servers, self._threads = [], []
        self._log.close()

    def __enter__(self) -> FixtureSite:
        return self if self._servers else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what is served ---------------------------------------------------------------

    @property
    def sites(self) -> list[SiteInfo]:
        return list(self._infos)

    def site(self, name: str) -> SiteInfo:
        for info in self._infos:
            if info.name == name:
                return info
        raise KeyError(f"no fixture site {name!r}; running: {', '.join(i.name for i in self._infos)}")

    def publish(self, name: str, count: int = 1) -> list[str]:
        """Add `count` new articles to a generated site (gbk, bulk) and its list pages.

        Lets a test check that re-fetched list pages discover new articles. Returns the
        new article URLs.
        """
        srv = self._server(name)
        if srv.site.grow is None:
            raise ValueError(f"fixture site {name!r} has a fixed set of pages; publish works on gbk and bulk")
        with srv.site.lock:
            paths = srv.site.grow(count)
        self._infos = [self._info(s) for s in self._servers]
        return [self.site(name).base_url + p for p in paths]

    def revise(self, url: str, note: str = "(本文已更新)") -> None:
        """Change one article's body (new ETag and Last-Modified), as an edited notice would."""
        for srv in self._servers:
            base = f"http://127.0.0.1:{srv.server_address[1]}"
            if url.startswith(base + "/"):
                path = url[len(base):]
                with srv.site.lock:
                    old = srv.site.routes.get(path)
                    if not isinstance(old, Resource) or old.etag is None:
                        raise ValueError(f"{url} is not an article of the fixture site")
                    charset = old.content_type.split("charset=")[-1] if "charset=" in old.content_type else "utf-8"
                    extra = f"<p>{note}</p>".encode(charset, errors="xmlcharrefreplace")
                    body = old.body.replace(b"</p>", b"</p>" + extra, 1) if b"</p>" in old.body else old.body + extra
                    srv.site.routes[path] = Resource.article(body, old.content_type,
                                                             datetime.now(UTC).replace(tzinfo=None))
                return
        raise ValueError(f"{url} is not served by this fixture site")

    def _server(self, name: str) -> _Server:
        for srv in self._servers:
            if srv.site.name == name:
                return srv
        raise KeyError(f"no fixture site {name!r}")

    @staticmethod
    def _info(srv: _Server) -> SiteInfo:
        site = srv.site
        port = srv.server_address[1]
        base = f"http://127.0.0.1:{port}"
        full = lambda paths: tuple(base + p for p in paths)
        return SiteInfo(
            name=site.name, title=site.title, base_url=base, host=f"127.0.0.1:{port}", encoding=site.encoding,
            crawl_delay=site.crawl_delay, start_urls=full(site.start_paths),
            article_patterns=tuple(site.article_patterns), list_patterns=tuple(site.list_patterns),
            body_selector=site.body_selector, article_urls=full(site.article_paths), list_urls=full(site.list_paths),
            attachment_urls=full(site.attachment_paths), disallowed_urls=full(site.disallowed_paths),
            seed_urls={k: base + v for k, v in site.seed_paths.items()},
            fault_urls={k: base + v for k, v in site.fault_paths.items()},
            dialect=site.dialect, truth={base + k: v for k, v in site.truth.items()},
            missing_urls=full(site.missing_paths), stale_urls=full(site.stale_paths),
        )

