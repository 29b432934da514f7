"""No cookies unless a site rule asks for them; then per site and bounded (issue 13).

Before: one cookie jar served every request of a worker's lifetime, so after a cookie
flood (40 cookies of 1.2 kB) each request carried a 47 kB `Cookie:` header to every
site, and sites could follow the crawler across pages.
"""
from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from govingest.crawler.client import make_client
from govingest.crawler.cookies import MAX_COOKIE_HEADER, SiteCookies
from govingest.crawler.fetch import fetch
from tests.local_http import serving

COOKIE_HEADERS: list[str | None] = []


class Flood(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:
        COOKIE_HEADERS.append(self.headers.get("Cookie"))
        body = b"<html><body><p>ok</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        for i in range(40):
            self.send_header("Set-Cookie", f"flood{i}={'v' * 1200}; Path=/")
        self.send_header("Set-Cookie", "JSESSIONID=abc123; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(Flood) as url:
        yield url


def test_no_cookies_kept_without_a_site_rule(base: str) -> None:
    COOKIE_HEADERS.clear()
    client = make_client(read=2)
    for _ in range(3):
        assert fetch(client, base + "/a.html", user_agent="t", allow_private=True).ok
    client.close()
    assert COOKIE_HEADERS == [None, None, None]


def test_site_cookies_are_bounded_and_not_shared(base: str) -> None:
    COOKIE_HEADERS.clear()
    client = make_client(read=2)
    jars = SiteCookies()
    for _ in range(3):
        assert fetch(client, base + "/a.html", user_agent="t", allow_private=True, cookies=jars.jar("a")).ok
    assert fetch(client, base + "/b.html", user_agent="t", allow_private=True, cookies=jars.jar("b")).ok
    client.close()
    first, second, third, other_site = COOKIE_HEADERS
    assert first is None and other_site is None  # site b never sees site a's cookies
    assert second is not None and "JSESSIONID=abc123" in second
    assert len(second) <= MAX_COOKIE_HEADER and len(third or "") <= MAX_COOKIE_HEADER
