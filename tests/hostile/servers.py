"""Hostile fault endpoints for the issue-13 probes, served on 127.0.0.1 only; shipped nowhere.

Why a raw-socket server next to the stdlib HTTP one: a server that sends its status line
and headers one byte at a time cannot be written with `BaseHTTPRequestHandler` (it
buffers the header block), and that drip is exactly what kept a fetch alive far past its
total timeout. Each connection gets a thread running a handler `(socket, request
bytes) -> None`; every request line is recorded so a test can check what reached the
server (the rebinding probe asserts that nothing did).

`TrapSite` is a small government-shaped site whose navigation is a crawler trap —
session ids in every link (`;jsessionid=…`, `?sid=…`), an endless calendar
(`calendar.html?date=N`), ever-deeper relative paths (`deep/x/x/x/…`) — and whose
news list publishes an article only after the trap has been crawled a while. Its shape
follows the column pages of TRS/Hanweb portals (a list of `<li><a>` links under a
column header, an article with a `div.TRS_Editor` body), the same public pages the
bundled fixture sites follow (see `workers/fixture_site/sites.py`).
"""
from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[socket.socket, bytes], None]


class RawServer:
    """A TCP server on 127.0.0.1:0 handing each connection's request head to `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[str] = []  # request lines, in arrival order
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True, name="raw-server")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def start(self) -> RawServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass

    def stopping(self) -> bool:
        return self._stop.is_set()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
            self.handler(conn, head)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


@contextmanager
def raw_server(handler: Handler) -> Iterator[RawServer]:
    srv = RawServer(handler).start()
    try:
        yield srv
    finally:
        srv.stop()


def drip(conn: socket.socket, data: bytes, every: float, stop: Callable[[], bool]) -> None:
    """Send `data` one byte at a time, `every` seconds apart, until done or the client leaves."""
    for i in range(len(data)):
        if stop():
            return
        conn.sendall(data[i:i + 1])
        time.sleep(every)


def header_value(head: bytes, name: str) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode("latin-1")
    return None


# --- the crawler-trap site ------------------------------------------------------------------

_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_思明区人民政府</title></head>
<body><div class="header">思明区人民政府 政务公开</div><div class="column"><h2>{title}</h2><ul>
{links}
</ul></div><div class="footer">主办：思明区人民政府办公室 闽ICP备05000000号</div></body></html>"""
_ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_思明区人民政府</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="2025-03-04 09:00"></head>
<body><div class="header">思明区人民政府</div><h1>{title}</h1>
<div class="TRS_Editor"><p>一、总体情况</p><p>今年以来，全区共检查企业1290家，整改隐患356处，督促落实安全生产责任。</p>
<p>二、下一步工作</p><p>持续开展安全生产大检查，确保全区安全形势稳定。</p></div>
<div class="footer">主办：思明区人民政府办公室</div></body></html>"""
LATE_ARTICLE = "/news/t20250304_9001.html"
LATE_TITLE = "思明区开展安全生产大检查工作情况通报"


class _TrapHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TrapServer

    def log_message(self, *a: object) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _list(self, title: str, hrefs: list[str]) -> None:
        links = "\n".join(f'<li><a href="{h}">{title} {i}</a></li>' for i, h in enumerate(hrefs))
        self._send(200, _PAGE.format(title=title, links=links).encode())

    def do_GET(self) -> None:
        srv = self.server
        with srv.lock:
            srv.paths.append(self.path)
            srv.hits += 1
            hits = srv.hits
        path, _, query = self.path.partition("?")
        path = path.split(";", 1)[0]  # the session id rides in a path parameter
        sid = secrets.token_hex(16)  # a new session on every response, as Java portals do
        if path == "/robots.txt":
            return self._send(404, b"not found", "text/plain")
        if path == "/index.html":
            return self._list("首页", [f"/news/index.html;jsessionid={sid}", f"/calendar.html?date=0&sid={sid}",
                                      "deep/x/", f"/index.html?sid={sid}"])
        if path == "/calendar.html":
            day = int(query.split("date=")[1].split("&")[0]) if "date=" in query else 0
            return self._list("日历", [f"/calendar.html?date={day + k}&sid={sid}" for k in (-2, -1, 1, 2, 3)]
                              + [f"/index.html;jsessionid={sid}"])
        if path.startswith("/deep/"):
            return self._list("专题", ["x/", "../x/index.html", f"/index.html?PHPSESSID={sid}"])
        if path == "/news/index.html":
            hrefs = [f"/news/index.html;jsessionid={sid}?token={secrets.token_hex(8)}"]
            if hits > srv.publish_after:  # the article appears once the trap has had its chance
                hrefs.append(LATE_ARTICLE)
            return self._list("通知公告", hrefs)
        if path == LATE_ARTICLE:
            return self._send(200, _ARTICLE.format(title=LATE_TITLE).encode())
        return self._send(404, b"<html><body>404</body></html>")


class _TrapServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, publish_after: int) -> None:
        self.lock = threading.Lock()
        self.paths: list[str] = []
        self.hits = 0
        self.publish_after = publish_after
        super().__init__(("127.0.0.1", 0), _TrapHandler)


@contextmanager
def trap_site(publish_after: int = 60) -> Iterator[_TrapServer]:
    """The trap site; its news list links `LATE_ARTICLE` after `publish_after` requests."""
    srv = _TrapServer(publish_after)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
