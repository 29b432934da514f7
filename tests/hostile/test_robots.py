"""robots.txt from a hostile or broken server (issue 13).

Before: a robots.txt with a NUL byte crashed the write (the fetch ended `internal` and
the host was never crawled); a 5 MB robots.txt was refused as too large, which left the
host fully disallowed. RFC 9309: parse at least the first 500 KiB; 4xx = no rules;
5xx = assume complete disallow.
"""
from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import psycopg
import pytest

from govingest.crawler.client import make_client
from govingest.crawler.config import parse_site
from govingest.db import frontier
from govingest.db.migrate import migrate
from govingest.workers.stages.fetch import fetch_url
from govingest.workers.stages.seed import seed_sites
from tests.local_http import serving

PAGE = "<html><body><p>通知公告</p></body></html>".encode()
BIG_FILLER = b"# " + b"x" * 98 + b"\n"  # 100-byte comment lines
ROBOTS: dict[str, tuple[int, bytes]] = {}
SEEN: list[str] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:
        SEEN.append(self.path)
        status, body = ROBOTS["now"] if self.path == "/robots.txt" else (200, PAGE)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


def claim(conn: psycopg.Connection, url: str) -> frontier.Claim:
    conn.execute("UPDATE urls SET next_fetch_at = now() + interval '1 hour' WHERE url <> %s AND state <> 'fetching'",
                 (url,))
    conn.execute("UPDATE urls SET next_fetch_at = now() WHERE url = %s", (url,))
    conn.execute("UPDATE hosts SET next_allowed_at = now()")
    conn.commit()
    claims = frontier.claim_due(conn, limit=1, lease_seconds=60, owner="me")
    assert [c.url for c in claims] == [url]
    return claims[0]


def crawl_two(db: str, base: str, robots: tuple[int, bytes]) -> dict[str, tuple]:
    """robots.txt, then /ok.html and /private/p.html; returns url -> (state, error kind, error)."""
    ROBOTS["now"] = robots
    SEEN.clear()
    ok, private = base + "/ok.html", base + "/private/p.html"
    site = parse_site({"name": "r", "start_urls": [ok, private], "local": True, "rate": 1000.0,
                       "article_patterns": [r"\.html$"]}, "robots test")
    client = make_client(read=2)
    with psycopg.connect(db) as conn:
        migrate(conn)
        seed_sites(conn, [site])
        first = fetch_url(conn, claim(conn, ok), site, client, owner="me")
        assert first.error_kind in (None, "robots_unavailable"), first
        if first.error_kind is None:
            fetch_url(conn, claim(conn, ok), site, client, owner="me")
            fetch_url(conn, claim(conn, private), site, client, owner="me")
        rows = conn.execute("SELECT url, state, last_error_kind, last_error FROM urls").fetchall()
    client.close()
    return {u: (s, k, e) for u, s, k, e in rows}


def test_nul_byte_in_robots_is_stored_and_obeyed(migrated_database_url: str, base: str) -> None:
    got = crawl_two(migrated_database_url, base, (200, b"User-agent: *\x00\nDisallow: /private/\nAllow: /\x00x\n"))
    assert got[base + "/ok.html"][:2] == ("done", None), got
    assert got[base + "/private/p.html"][1] == "robots_disallowed", got
    assert "/private/p.html" not in SEEN


def test_five_megabyte_robots_is_read_up_to_500_kib(migrated_database_url: str, base: str) -> None:
    big = b"User-agent: *\nDisallow: /private/\n" + BIG_FILLER * (5 * 1024 * 1024 // len(BIG_FILLER))
    got = crawl_two(migrated_database_url, base, (200, big))
    assert got[base + "/ok.html"][:2] == ("done", None), got
    assert got[base + "/private/p.html"][1] == "robots_disallowed", got
    assert "/private/p.html" not in SEEN
    with psycopg.connect(migrated_database_url) as conn:
        stored = conn.execute("SELECT length(robots_txt) FROM hosts WHERE robots_txt IS NOT NULL").fetchone()[0]
    assert 500 * 1024 <= stored <= 512 * 1024


def test_rules_after_the_first_500_kib_are_not_needed_to_crawl(migrated_database_url: str, base: str) -> None:
    # a file whose only group comes after 600 KiB of comments: what was read has no rules, all allowed
    late = BIG_FILLER * (600 * 1024 // len(BIG_FILLER)) + b"User-agent: *\nDisallow: /\n"
    got = crawl_two(migrated_database_url, base, (200, late))
    assert got[base + "/ok.html"][:2] == ("done", None), got


def test_4xx_allows(migrated_database_url: str, base: str) -> None:
    got = crawl_two(migrated_database_url, base, (404, b"not here"))
    assert got[base + "/ok.html"][:2] == ("done", None) and got[base + "/private/p.html"][:2] == ("done", None)


def test_5xx_disallows(migrated_database_url: str, base: str) -> None:
    got = crawl_two(migrated_database_url, base, (503, b"busy"))
    assert got[base + "/ok.html"][:2] == ("failed", "robots_unavailable"), got
    assert SEEN == ["/robots.txt"]  # nothing but robots.txt was asked of a host whose robots.txt fails
