"""Every fetch has a hard total deadline, whatever phase it is in (issue 13).

Before: a server sending its headers one byte at a time kept a fetch going far past its
total timeout (80 s with 20 s in the probe), bounded only by the header-size limit; a
name that took long to resolve was not bounded either.
"""
from __future__ import annotations

import socket
import time

import pytest

from govingest.crawler.client import make_client
from govingest.crawler.fetch import fetch
from tests.hostile.servers import drip, raw_server

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 20) for i in range(20)) + b"Content-Length: 5\r\n\r\nhello")


def test_slow_headers_end_within_the_total_deadline() -> None:
    def slow_headers(conn: socket.socket, head: bytes) -> None:
        drip(conn, HEAD, 0.05, srv.stopping)  # ~640 bytes: 32 s, each byte well inside the read timeout

    with raw_server(slow_headers) as srv:
        client = make_client(read=1.0)
        started = time.monotonic()
        r = fetch(client, srv.base + "/slow-headers.html", user_agent="t", allow_private=True, total_timeout=2.0)
        took = time.monotonic() - started
        client.close()
    assert r.error_kind == "timeout", (r.error_kind, r.message)
    assert took < 3.0, f"fetch took {took:.1f}s with a 2s total deadline"


def test_slow_body_ends_within_the_total_deadline() -> None:
    def slow_body(conn: socket.socket, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        drip(conn, b"z" * 100000, 0.9, srv.stopping)  # one byte just inside the 1 s read timeout

    with raw_server(slow_body) as srv:
        client = make_client(read=1.0)
        started = time.monotonic()
        r = fetch(client, srv.base + "/slow-body.html", user_agent="t", allow_private=True, total_timeout=2.0)
        took = time.monotonic() - started
        client.close()
    assert r.error_kind == "timeout", (r.error_kind, r.message)
    assert took < 2.6, f"fetch took {took:.1f}s with a 2s total deadline"


def test_slow_name_resolution_ends_within_the_total_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def slow_dns(host, *a, **kw):  # a resolver that hangs, simulated in-process
        if host == "slow-dns.example.cn":  # answers after 6 s, with an address no packet goes to
            time.sleep(6)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.9", 80))]
        return real(host, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    client = make_client(read=1.0)
    started = time.monotonic()
    r = fetch(client, "http://slow-dns.example.cn/index.html", user_agent="t", total_timeout=1.5)
    took = time.monotonic() - started
    client.close()
    assert r.error_kind in ("dns_error", "timeout"), (r.error_kind, r.message)
    assert took < 2.5, f"fetch took {took:.1f}s with a 1.5s total deadline"
