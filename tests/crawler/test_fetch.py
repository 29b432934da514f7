"""govingest.crawler.fetch against a tiny real HTTP server: caps, bombs, redirects, timeouts, 304."""
from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from govingest.crawler.client import make_client
from govingest.crawler.fetch import _blocked_literal, fetch, parse_retry_after
from tests.local_http import serving

PAGE = "<html><body><p>通知公告</p></body></html>".encode()
ETAG = '"v1"'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
             length: int | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self) -> None:
        p = self.path
        html = {"Content-Type": "text/html; charset=utf-8"}
        if p == "/ok":
            if self.headers.get("If-None-Match") == ETAG:
                return self.send(304, headers={"ETag": ETAG})
            return self.send(200, PAGE, {**html, "ETag": ETAG, "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})
        if p == "/gz":
            return self.send(200, gzip.compress(PAGE), {**html, "Content-Encoding": "gzip"})
        if p == "/bomb":
            return self.send(200, gzip.compress(b"\0" * (20 * 1024 * 1024)), {**html, "Content-Encoding": "gzip"})
        if p == "/declared-huge":
            return self.send(200, b"x" * 100, html, length=50 * 1024 * 1024)
        if p == "/chunked-huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(200):
                    chunk = b"y" * 65536
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return None
        if p.startswith("/chain/"):
            n = int(p.rsplit("/", 1)[1])
            return self.send(302, headers={"Location": f"/chain/{n + 1}"})
        if p == "/loop-a":
            return self.send(302, headers={"Location": "/loop-b"})
        if p == "/loop-b":
            return self.send(301, headers={"Location": "/loop-a"})
        if p == "/to-private":
            return self.send(302, headers={"Location": "http://10.0.0.1/admin"})
        if p == "/to-other":
            return self.send(302, headers={"Location": "http://other.example.org/x"})
        if p == "/slow":
            time.sleep(2)
            return self.send(200, PAGE, html)
        if p == "/429":
            return self.send(429, b"slow down", {"Retry-After": "7"})
        if p == "/503":
            return self.send(503, b"busy")
        if p == "/404":
            return self.send(404, b"no")
        if p == "/pdf":
            return self.send(200, b"%PDF-1.4 " + b"z" * 5000, {"Content-Type": "application/pdf"})
        return self.send(404)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


@pytest.fixture(scope="module")
def client():
    c = make_client(connect=2, read=0.5)
    yield c
    c.close()


def get(client, url: str, **kw):
    kw.setdefault("allow_private", True)
    return fetch(client, url, user_agent="govingest-test", **kw)


def test_ok_then_conditional_304(client, base: str) -> None:
    r = get(client, base + "/ok")
    assert r.ok and r.status == 200 and r.body == PAGE and r.headers["etag"] == ETAG
    again = get(client, base + "/ok", etag=ETAG, last_modified=r.headers["last-modified"])
    assert again.ok and again.status == 304 and again.body == b""


def test_gzip_decoded_and_bomb_capped(client, base: str) -> None:
    assert get(client, base + "/gz").body == PAGE
    r = get(client, base + "/bomb", max_bytes=1024 * 1024)
    assert r.error_kind == "too_large" and "after decompression" in r.message and r.body == b""


def test_size_cap_declared_and_streamed(client, base: str) -> None:
    r = get(client, base + "/declared-huge", max_bytes=1024 * 1024)
    assert r.error_kind == "too_large" and "52428800" in r.message
    r = get(client, base + "/chunked-huge", max_bytes=1024 * 1024)
    assert r.error_kind == "too_large" and r.status == 200


def test_redirects_limited_looped_and_scoped(client, base: str) -> None:
    r = get(client, base + "/chain/0")
    assert r.error_kind == "too_many_redirects" and r.redirects == 5
    ok = get(client, base + "/chain/0", max_redirects=5)
    assert ok.error_kind == "too_many_redirects"
    loop = get(client, base + "/loop-a")
    assert loop.error_kind == "redirect_loop" and "loop-a" in loop.message
    scoped = get(client, base + "/to-other", in_scope=lambda u: u.startswith(base))
    assert scoped.error_kind == "out_of_scope" and "other.example.org" in scoped.message


def test_ssrf_on_first_hop_and_redirect(client, base: str) -> None:
    r = fetch(client, base + "/ok", user_agent="t", allow_private=False)
    assert r.error_kind == "blocked_address" and r.status is None  # never requested
    # redirect targets written as private IP literals are refused by address, not only by scope
    assert "10.0.0.1" in (_blocked_literal("http://10.0.0.1/admin", False) or "")
    assert "169.254.169.254" in (_blocked_literal("http://169.254.169.254/latest/meta-data/", False) or "")
    assert _blocked_literal("http://10.0.0.1/admin", True) is None  # local fixture sites may
    assert _blocked_literal("http://www.gov.cn/", False) is None  # names are checked when fetched


def test_timeouts_and_http_errors(client, base: str) -> None:
    slow = get(client, base + "/slow")
    assert slow.error_kind == "timeout" and "retry" in slow.message
    r = get(client, base + "/429")
    assert r.error_kind == "rate_limited" and r.retry_after == 7.0 and "7s" in r.message
    assert get(client, base + "/503").error_kind == "server_error"
    nf = get(client, base + "/404")
    assert nf.error_kind == "not_found" and nf.status == 404
    dead = get(client, "http://127.0.0.1:9/")
    assert dead.error_kind == "connect_error" and "127.0.0.1:9" in dead.message


def test_attachment_body_not_read(client, base: str) -> None:
    r = get(client, base + "/pdf", read_body=lambda ct: "html" in (ct or ""))
    assert r.ok and r.body == b"" and r.content_length == 5009 and r.content_type == "application/pdf"


def test_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == pytest.approx(60.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
