"""Withdrawn and restored documents: a real HTTP server whose articles go and come back,
the fetch and process stages, real PostgreSQL, and the feed as a consumer reads it."""
from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import psycopg
import pytest

from govingest.crawler.client import make_client
from govingest.crawler.config import parse_site
from govingest.crawler.withdrawal import delisted, is_error_redirect, remembered
from govingest.db import frontier
from govingest.db.migrate import migrate
from govingest.workers.stages.fetch import fetch_url
from govingest.workers.stages.process import process_page
from govingest.workers.stages.seed import seed_sites
from tests.local_http import serving

ARTICLES = ["/a/t20240101_1.htm", "/a/t20240102_2.htm", "/a/t20240103_3.htm", "/a/t20240104_4.htm"]
# what the server does now: path -> 'ok' | 'gone' | 'home'; and which articles the list shows
STATE: dict[str, object] = {"answer": {}, "listed": list(ARTICLES)}


def article(path: str) -> bytes:
    n = path.rsplit("_", 1)[1].split(".")[0]
    return (f"<html><body><h1>关于第{n}批安全检查的通知</h1><p>全区共检查企业{n}20家，发现隐患{n}处。"
            "</p></body></html>").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            return self.send(404)
        if self.path == "/index.html":
            links = "".join(f'<li><a href="{p}">通知{i}</a></li>' for i, p in enumerate(STATE["listed"]))  # type: ignore[arg-type]
            return self.send(200, f"<html><body><ul>{links}</ul></body></html>".encode())
        answer = STATE["answer"].get(self.path, "ok")  # type: ignore[attr-defined]
        if self.path in ARTICLES and answer == "ok":
            return self.send(200, article(self.path))
        if answer == "home":
            return self.send(302, Location="/index.html")
        return self.send(404, b"<html><body>404</body></html>")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


@pytest.fixture
def env(fresh_database_url: str, base: str):
    STATE["answer"], STATE["listed"] = {}, list(ARTICLES)
    site = parse_site({"name": "w", "start_urls": [base + "/index.html"], "local": True, "rate": 1000.0,
                       "article_patterns": [r"/t\d{8}_\d+\.htm$"], "list_patterns": [r"/index\.html$"]}, "test")
    client = make_client(read=2)
    with psycopg.connect(fresh_database_url) as conn:
        migrate(conn)
        seed_sites(conn, [site])
        frontier.store_robots(conn, site.allowed_hosts[0], text="", status=404, crawl_delay=None)
        conn.commit()
        yield conn, site, client, base
    client.close()


def fetch(conn: psycopg.Connection, site, client, url: str):
    """Lease exactly `url` and fetch it; process the page it stored, if any."""
    conn.execute("UPDATE urls SET next_fetch_at = now() + interval '1 hour' WHERE url <> %s", (url,))
    conn.execute("UPDATE urls SET next_fetch_at = now() WHERE url = %s", (url,))
    conn.execute("UPDATE hosts SET next_allowed_at = now()")
    conn.commit()
    claims = frontier.claim_due(conn, limit=1, lease_seconds=60, owner="me")
    assert [c.url for c in claims] == [url]
    out = fetch_url(conn, claims[0], site, client, owner="me")
    if out.page_id is not None:
        process_page(conn, out.page_id)
    return out


def feed(conn: psycopg.Connection, url: str) -> list[str]:
    """The document's events in feed order, (xid, seq). Read from doc_events itself: the
    feed's reader also waits for every older transaction on the server to end (db/feed.py),
    and on a shared test server another database's long transaction may hold it back for
    minutes. The (xid, seq) order is the order the reader returns (tests/db/test_feed.py)."""
    kinds = [r[0] for r in conn.execute(
        "SELECT e.kind FROM doc_events e JOIN documents d ON d.id = e.document_id WHERE d.url = %s "
        "ORDER BY e.xid, e.seq", (url,))]
    conn.commit()
    return kinds


def withdrawn(conn: psycopg.Connection, url: str) -> tuple:
    row = conn.execute("SELECT withdrawn_at IS NOT NULL, withdrawn_reason, length(text) > 0 FROM v_documents "
                       "WHERE url = %s", (url,)).fetchone()
    conn.commit()
    return tuple(row)


def crawl_all(env) -> None:
    conn, site, client, base = env
    fetch(conn, site, client, base + "/index.html")
    for path in ARTICLES:
        fetch(conn, site, client, base + path)


def test_article_withdrawn_after_a_recheck_then_restored(env) -> None:
    conn, site, client, base = env
    crawl_all(env)
    url = base + ARTICLES[1]
    assert feed(conn, url) == ["created"]
    STATE["answer"] = {ARTICLES[1]: "gone"}
    first = fetch(conn, site, client, url)
    assert first.error_kind == "not_found" and "re-checked" in (first.message or "")
    assert feed(conn, url) == ["created"], "one 404 is not a withdrawal"
    assert withdrawn(conn, url)[0] is False
    second = fetch(conn, site, client, url)
    assert second.error_kind == "withdrawn"
    assert withdrawn(conn, url) == (True, "not_found", True), "the document keeps its text"
    fetch(conn, site, client, url)  # still gone: no second event
    assert feed(conn, url) == ["created", "withdrawn"]
    state = conn.execute("SELECT state, last_error_kind FROM urls WHERE url = %s", (url,)).fetchone()
    conn.commit()
    assert state == ("failed", "withdrawn"), "a withdrawn article is still looked at, in case it comes back"

    STATE["answer"] = {}
    back = fetch(conn, site, client, url)
    assert back.error_kind is None
    assert feed(conn, url) == ["created", "withdrawn", "restored"]
    assert withdrawn(conn, url) == (False, None, True)
    others = [k for p in ARTICLES if p != ARTICLES[1] for k in feed(conn, base + p)]
    assert others == ["created"] * 3


def test_a_404_then_a_healthy_answer_is_no_withdrawal(env) -> None:
    conn, site, client, base = env
    crawl_all(env)
    url = base + ARTICLES[0]
    STATE["answer"] = {ARTICLES[0]: "gone"}
    fetch(conn, site, client, url)
    STATE["answer"] = {}
    fetch(conn, site, client, url)
    STATE["answer"] = {ARTICLES[0]: "gone"}
    fetch(conn, site, client, url)  # a sign again, but the first of a new run
    assert feed(conn, url) == ["created"]


def test_redirect_to_the_home_page_withdraws(env) -> None:
    conn, site, client, base = env
    crawl_all(env)
    url = base + ARTICLES[2]
    STATE["answer"] = {ARTICLES[2]: "home"}
    assert fetch(conn, site, client, url).error_kind == "error_redirect"
    assert fetch(conn, site, client, url).error_kind == "withdrawn"
    assert withdrawn(conn, url)[:2] == (True, "error_redirect")
    assert feed(conn, url) == ["created", "withdrawn"]


def test_dropped_from_an_intact_list_twice_withdraws_and_back_on_it_restores(env) -> None:
    conn, site, client, base = env
    crawl_all(env)
    url, start = base + ARTICLES[1], base + "/index.html"
    STATE["listed"] = [p for p in ARTICLES if p != ARTICLES[1]]
    fetch(conn, site, client, start)
    due = conn.execute("SELECT next_fetch_at <= now() FROM urls WHERE url = %s", (url,)).fetchone()[0]
    conn.commit()
    assert due, "the article is re-checked at once"
    assert feed(conn, url) == ["created"]
    STATE["listed"] = [*STATE["listed"], "/a/t20240105_5.htm"]  # the list changes again, still without it
    fetch(conn, site, client, start)
    assert withdrawn(conn, url)[:2] == (True, "delisted")
    fetch(conn, site, client, url)  # its page still answers: that does not undo a delisting
    assert feed(conn, url) == ["created", "withdrawn"]
    STATE["listed"] = list(ARTICLES)
    fetch(conn, site, client, start)
    assert feed(conn, url) == ["created", "withdrawn", "restored"]


def test_signs_read_from_urls_and_lists() -> None:
    assert is_error_redirect("http://x/a/t1.htm", "http://x/")
    assert is_error_redirect("http://x/a/t1.htm", "http://x/404.html")
    assert is_error_redirect("http://x/a/t1.htm", "http://x/error/index.html")
    assert not is_error_redirect("http://x/a/t1.htm", "http://x/a/t1_new.htm")
    # pushed off the bottom by newer articles: not withdrawn; gone from the middle: withdrawn
    assert delisted(["a", "b", "c", "d"], ["new", "a", "b", "c"]) == []
    assert delisted(["a", "b", "c", "d"], ["a", "c", "d"]) == ["b"]
    assert delisted(["a", "b", "c"], []) == []  # an empty page says nothing
    # a delisted article is looked for again at the next fetch, where it was
    assert remembered(["a", "b", "c", "d"], ["a", "c", "d", "e"], ["b"]) == ["a", "b", "c", "d", "e"]
