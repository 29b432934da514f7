"""govingest.workers.stages.fetch.fetch_url end to end on one URL: real HTTP server, real PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import psycopg
import pytest

from govingest.crawler.client import make_client
from govingest.crawler.config import parse_site
from govingest.crawler.urls import host_key
from govingest.db import frontier
from govingest.db.frontier import NewUrl
from govingest.db.migrate import migrate
from govingest.workers.stages.fetch import MAX_RETRIES, fetch_url
from govingest.workers.stages.seed import seed_sites
from tests.local_http import serving

LIST = b"""<html><body><a href="/a/t20240101_1.htm">one</a><a href="/admin/t20240101_2.htm">secret</a>
<a href="/files/x.pdf">pdf</a><a href="http://elsewhere.example/t20240101_3.htm">off-site</a>
<script>createPageHTML(2, 0, "index", "html");</script></body></html>"""
ARTICLE = "<html><body><h1>关于开展安全检查的通知</h1><p>全区共检查企业120家。</p></body></html>".encode()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REQUESTS: list[str] = []
STATE = {"flaky": 0, "version": 1, "robots_down": False}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def send(self, status: int, body: bytes = b"", ct: str = "text/html; charset=utf-8", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        REQUESTS.append(self.path)
        if self.path == "/robots.txt" and STATE["robots_down"]:
            return self.send(503, b"down")
        if self.path == "/robots.txt":
            return self.send(200, b"User-agent: *\nDisallow: /admin/\n", "text/plain")
        if self.path in ("/index.html", "/index_1.html"):
            return self.send(200, LIST)
        if self.path == "/a/t20240101_1.htm":
            etag = f'"v{STATE["version"]}"'
            if self.headers.get("If-None-Match") == etag:
                return self.send(304, ETag=etag)
            return self.send(200, ARTICLE + b" " * STATE["version"], ETag=etag)
        if self.path.startswith("/r/t20240101_"):  # a chain of redirects, one more hop each
            n = int(self.path.rsplit("_", 1)[1].split(".")[0])
            return self.send(302, b"", Location=f"/r/t20240101_{n + 1}.htm")
        if self.path == "/files/y.docx":
            return self.send(200, b"PK\x03\x04" + b"1" * 300, DOCX)
        if self.path == "/files/x.pdf":
            return self.send(200, b"%PDF-1.4" + b"0" * 992, "application/pdf")
        if self.path == "/flaky.htm":
            STATE["flaky"] += 1
            return self.send(503, b"busy", Retry_After="3") if STATE["flaky"] == 1 else self.send(500, b"err")
        return self.send(404, b"missing")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


@pytest.fixture
def env(fresh_database_url: str, base: str):
    site = parse_site({"name": "t", "start_urls": [base + "/index.html"], "local": True, "rate": 1000.0,
                       "concurrency": 8, "article_patterns": [r"/t\d{8}_\d+\.htm$", r"/flaky\.htm$"],
                       "list_patterns": [r"/index(_\d+)?\.html$"]}, "test")
    client = make_client(read=2)
    with psycopg.connect(fresh_database_url) as conn:
        migrate(conn)
        seed_sites(conn, [site])
        yield conn, site, client
    client.close()


def claim_one(conn: psycopg.Connection, url: str):
    """Lease exactly `url` (other due URLs are pushed into the future for the moment)."""
    conn.execute("UPDATE urls SET next_fetch_at = now() + interval '1 hour' WHERE url <> %s AND state <> 'fetching'", (url,))
    conn.execute("UPDATE urls SET next_fetch_at = now() WHERE url = %s", (url,))
    conn.execute("UPDATE hosts SET next_allowed_at = now()")
    conn.commit()
    claims = frontier.claim_due(conn, limit=1, lease_seconds=60, owner="me")
    assert [c.url for c in claims] == [url]
    return claims[0]


def row(conn: psycopg.Connection, url: str) -> tuple:
    r = conn.execute("SELECT state, last_status, last_error_kind, last_error, kind, depth, fail_count, "
                     "content_type, content_length FROM urls WHERE url = %s", (url,)).fetchone()
    conn.commit()
    return r


def test_list_article_attachment_and_robots(env, base: str) -> None:
    conn, site, client = env
    REQUESTS.clear()
    start = base + "/index.html"
    first = fetch_url(conn, claim_one(conn, start), site, client, owner="me")
    assert REQUESTS == ["/robots.txt"] and first.page_id is None  # the slot went to robots.txt
    assert row(conn, start)[0] == "new"
    listed = fetch_url(conn, claim_one(conn, start), site, client, owner="me")
    assert REQUESTS == ["/robots.txt", "/index.html"] and listed.links_added == 4
    known = dict(conn.execute("SELECT url, kind FROM urls").fetchall())
    conn.commit()
    assert known[base + "/a/t20240101_1.htm"] == "article" and known[base + "/files/x.pdf"] == "attachment"
    assert known[base + "/index_1.html"] == "pager"  # from the createPageHTML pager: the list's next page
    assert known[base + "/sitemap.xml"] == "feed"  # robots.txt names no sitemap: the conventional one
    assert conn.execute("SELECT dialect FROM urls WHERE url = %s", (start,)).fetchone()[0] == "trs"
    conn.commit()
    assert not any("elsewhere" in u for u in known)  # out of scope: never enters the frontier
    assert row(conn, start)[:3] == ("done", 200, None) and listed.page_id is None  # lists are not documents

    secret = base + "/admin/t20240101_2.htm"
    out = fetch_url(conn, claim_one(conn, secret), site, client, owner="me")
    assert out.error_kind == "robots_disallowed" and "/admin/t20240101_2.htm" not in REQUESTS
    assert row(conn, secret)[:3] == ("gone", None, "robots_disallowed")

    art = base + "/a/t20240101_1.htm"
    got = fetch_url(conn, claim_one(conn, art), site, client, owner="me")
    assert got.page_id is not None and row(conn, art)[:2] == ("done", 200) and row(conn, art)[5] == 1
    again = fetch_url(conn, claim_one(conn, art), site, client, owner="me")
    assert again.status == 304 and again.page_id is None  # conditional GET, nothing written
    assert conn.execute("SELECT count(*) FROM pages p JOIN urls u ON u.id = p.url_id WHERE u.url = %s",
                        (art,)).fetchone()[0] == 1
    conn.commit()
    STATE["version"] = 2
    changed = fetch_url(conn, claim_one(conn, art), site, client, owner="me")
    assert changed.page_id is not None and changed.page_id != got.page_id

    pdf = base + "/files/x.pdf"
    fetched = fetch_url(conn, claim_one(conn, pdf), site, client, owner="me")
    state, status, _, _, kind, _, _, ctype, size = row(conn, pdf)
    assert (state, status, kind, ctype, size) == ("done", 200, "attachment", "application/pdf", 1000)
    # a PDF is stored and handed to processing (its text is a document); processing
    # finds this one broken and records that on the URL
    assert fetched.page_id is not None
    assert conn.execute("SELECT count(*) FROM pages p JOIN urls u ON u.id = p.url_id WHERE u.url = %s",
                        (pdf,)).fetchone()[0] == 1


def test_retries_with_retry_after_then_backoff_then_give_up(env, base: str) -> None:
    conn, site, client = env
    flaky = base + "/flaky.htm"
    frontier.add_urls(conn, "t", [NewUrl(flaky, "article", host_key(flaky))], 1, None)
    frontier.store_robots(conn, site.allowed_hosts[0], text="", status=404, crawl_delay=None)
    conn.commit()
    STATE["flaky"] = 0
    out = fetch_url(conn, claim_one(conn, flaky), site, client, owner="me")
    assert out.error_kind == "server_error" and "3s" in out.message
    wait = conn.execute("SELECT extract(epoch FROM next_fetch_at - now()) FROM urls WHERE url = %s",
                        (flaky,)).fetchone()[0]
    conn.commit()
    assert 2.0 < float(wait) <= 3.5  # Retry-After honoured as next_fetch_at, nobody slept
    for _attempt in range(2, MAX_RETRIES + 2):
        out = fetch_url(conn, claim_one(conn, flaky), site, client, owner="me")
    state, status, kind, message, *_ , fails, _, _ = row(conn, flaky)
    assert (state, status, kind, fails) == ("failed", 500, "server_error", MAX_RETRIES + 1)
    assert "gave up" in message


def test_lost_lease_writes_nothing(env, base: str) -> None:
    conn, site, client = env
    start = base + "/index.html"
    frontier.store_robots(conn, site.allowed_hosts[0], text="", status=404, crawl_delay=None)
    conn.commit()
    claim = claim_one(conn, start)
    conn.execute("UPDATE urls SET lease_owner = 'another-worker' WHERE id = %s", (claim.url_id,))
    conn.commit()
    out = fetch_url(conn, claim, site, client, owner="me")
    assert out.lease_lost
    assert conn.execute("SELECT count(*) FROM pages").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM urls").fetchone()[0] == 1  # no links added either


def test_redirects_go_through_the_frontier(env, base: str) -> None:
    conn, site, client = env
    frontier.store_robots(conn, site.allowed_hosts[0], text="", status=404, crawl_delay=None)
    start = base + "/r/t20240101_0.htm"
    frontier.add_urls(conn, "t", [NewUrl(start, "article", host_key(start))], 1, None)
    conn.commit()
    REQUESTS.clear()
    url = base + "/r/t20240101_0.htm"
    for hop in range(7):
        out = fetch_url(conn, claim_one(conn, url), site, client, owner="me")
        if out.error_kind:
            break
        assert out.state == "done" and out.status == 302 and "redirects to" in out.message
        target = base + f"/r/t20240101_{hop + 1}.htm"
        depth = conn.execute("SELECT depth, discovered_from FROM urls WHERE url = %s", (target,)).fetchone()
        conn.commit()
        assert depth == (1, out.url_id)  # the target keeps the depth and points back
        url = target
    # one request per hop, each its own claim (politeness slot); the 6th redirect in a row is refused
    assert len(REQUESTS) == 6 and out.error_kind == "too_many_redirects" and "more than 5" in out.message


def test_unreadable_robots_means_nothing_fetched(env, base: str) -> None:
    conn, site, client = env
    start = base + "/index.html"
    REQUESTS.clear()
    STATE["robots_down"] = True
    try:
        fetch_url(conn, claim_one(conn, start), site, client, owner="me")
    finally:
        STATE["robots_down"] = False
    assert REQUESTS == ["/robots.txt"]  # the page itself is not asked for (RFC 9309: assume disallow)
    state, status, kind, message, *_ = row(conn, start)
    assert (state, status, kind) == ("failed", 503, "robots_unavailable") and "next try in" in message
    assert frontier.host_robots(conn, site.allowed_hosts[0]).text is None  # asked again next time
    again = fetch_url(conn, claim_one(conn, start), site, client, owner="me")
    assert again.error_kind is None and REQUESTS == ["/robots.txt", "/robots.txt"]


def test_office_attachment_recorded_with_type_and_size(env, base: str) -> None:
    conn, site, client = env
    frontier.store_robots(conn, site.allowed_hosts[0], text="", status=404, crawl_delay=None)
    docx = base + "/files/y.docx"
    frontier.add_urls(conn, "t", [NewUrl(docx, "attachment", host_key(docx))], 1, None)
    conn.commit()
    out = fetch_url(conn, claim_one(conn, docx), site, client, owner="me")
    assert out.error_kind is None and out.page_id is None
    state, status, _, _, kind, _, _, ctype, size = row(conn, docx)
    assert (state, status, kind, ctype, size) == ("done", 200, "attachment", DOCX, 304)
