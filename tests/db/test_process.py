"""process_page: stored page → document, and bad input ends as a recorded failure."""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest

from govingest.db.connect import make_pool
from govingest.db.pages import load_page, store_page
from govingest.parsers import pipeline
from govingest.stats import Stats
from govingest.workers.stages.process import process_page, process_pages
from tests.db.helpers import add_url, count

HTML = """<html><head><meta charset="gbk"><title>关于开展安全检查的通知_某市人民政府</title></head>
<body><div class="nav">首页 | 政务公开</div><div id="zoom"><p>各区县：</p>
<p>为做好安全生产工作，全市共检查企业29136家，整改隐患1.2万处。</p><p>特此通知。</p></div></body></html>"""


@pytest.fixture
def conn(migrated_database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(migrated_database_url, autocommit=True) as c:
        yield c


def _page(conn: psycopg.Connection, url: str, body: bytes, status: int = 200) -> int:
    url_id = add_url(conn, url)
    return store_page(conn, url_id=url_id, status=status, headers={"Content-Type": "text/html"}, body=body)


def test_stored_page_round_trips_compressed_and_dedups(conn: psycopg.Connection) -> None:
    body = HTML.encode("gbk")
    page_id = _page(conn, "https://www.gov.cn/p.html", body)
    page = load_page(conn, page_id)
    assert (page.body, page.content_type, page.url) == (body, "text/html", "https://www.gov.cn/p.html")
    stored = conn.execute("SELECT length(body), size FROM pages").fetchone()
    assert stored is not None and stored[1] == len(body)
    assert store_page(conn, url_id=page.url_id, status=200, headers={}, body=body) == page_id
    assert count(conn, "SELECT count(*) FROM pages") == 1
    assert store_page(conn, url_id=page.url_id, status=200, headers={}, body=body + b" ") != page_id


def test_process_page_writes_a_document_once(conn: psycopg.Connection) -> None:
    page_id = _page(conn, "https://www.gov.cn/p.html", HTML.encode("gbk"))
    stats = Stats()
    first = process_page(conn, page_id, stats=stats)
    assert first.kind == "created" and first.document_id is not None
    assert process_page(conn, page_id).kind == "unchanged"
    assert stats.counts["documents_created"] == 1 and stats.seconds["store"] > 0
    assert count(conn, "SELECT count(*) FROM doc_events") == 1
    text = conn.execute("SELECT text FROM documents").fetchone()
    assert text is not None and "29136" in text[0]
    encoding = conn.execute("SELECT encoding FROM pages").fetchone()
    assert encoding is not None and encoding[0] is not None and encoding[0].lower().startswith("gb")


def test_bad_pages_fail_with_a_reason_and_never_raise(conn: psycopg.Connection,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    empty = _page(conn, "https://www.gov.cn/empty.html", b"   ")
    missing = _page(conn, "https://www.gov.cn/404.html", b"<html>not found</html>", status=404)
    out = process_pages(conn, [empty, missing, 999_999])
    assert [o.kind for o in out] == ["failed", "skipped", "skipped"]
    assert out[0].error is not None and "empty input" in out[0].error
    assert conn.execute("SELECT state, last_error_kind FROM urls WHERE url LIKE %s",
                        ("%empty.html",)).fetchone() == ("failed", "parse")

    def crash(body: bytes, **kw: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pipeline, "parse", crash)
    crashed = _page(conn, "https://www.gov.cn/deep.html", HTML.encode("gbk"))
    res = process_page(conn, crashed)
    assert res.kind == "failed" and res.error is not None and "RecursionError" in res.error
    assert count(conn, "SELECT count(*) FROM documents") == 0


def test_pool_serves_workers(migrated_database_url: str) -> None:
    pool = make_pool(migrated_database_url, min_size=1, max_size=2)
    try:
        with pool.connection() as c:
            page_id = _page(c, "https://www.gov.cn/pool.html", HTML.encode("gbk"))
            c.commit()
        with pool.connection() as c:
            assert process_page(c, page_id).kind == "created"
        with pool.connection() as c:
            assert c.execute("SELECT count(*) FROM documents").fetchone() == (1,)
    finally:
        pool.close()


def test_url_recovers_when_a_later_page_parses(conn: psycopg.Connection) -> None:
    url_id = add_url(conn, "https://www.gov.cn/flaky.html")
    bad = store_page(conn, url_id=url_id, status=200, headers={"Content-Type": "text/html"}, body=b" \n ")
    assert process_page(conn, bad).kind == "failed"
    assert conn.execute("SELECT state FROM urls WHERE id = %s", (url_id,)).fetchone() == ("failed",)
    good = store_page(conn, url_id=url_id, status=200, headers={"Content-Type": "text/html"},
                      body=HTML.encode("gbk"))
    assert process_page(conn, good).kind == "created"
    assert conn.execute("SELECT state, last_error FROM urls WHERE id = %s", (url_id,)).fetchone() == ("done", None)


def test_a_document_the_server_refuses_fails_alone_and_the_batch_lands(conn: psycopg.Connection,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A server limit is bad input, not an outage: an indexed value past the btree's row
    limit (ProgramLimitExceeded, an OperationalError by class) must end as that page's
    recorded failure, and its batch neighbour as a document, not as a "database down"
    retry of the whole batch forever. First seen as a page whose <title> held its body
    (the parser now refuses such titles); here a parser fault is injected the same way:
    a 文号 thousands of characters long, uncompressible."""
    rng = random.Random(7)
    garbage = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(4000))
    real_parse = pipeline.parse

    def parse_with_a_runaway_doc_number(body: bytes, **kw: object) -> object:
        doc = real_parse(body, **kw)  # type: ignore[arg-type]
        return replace(doc, doc_number=garbage) if b"huge" in body else doc

    monkeypatch.setattr(pipeline, "parse", parse_with_a_runaway_doc_number)
    bad = _page(conn, "https://www.gov.cn/huge.html", HTML.replace("<body>", "<body><!-- huge -->").encode("gbk"))
    good = _page(conn, "https://www.gov.cn/p.html", HTML.encode("gbk"))
    out = process_pages(conn, [bad, good], batch_size=2)
    assert [o.kind for o in out] == ["failed", "created"], out
    assert out[0].error is not None and "storing the document failed" in out[0].error
    assert conn.execute("SELECT state FROM urls WHERE url LIKE %s", ("%huge.html",)).fetchone() == ("failed",)
    assert count(conn, "SELECT count(*) FROM documents") == 1
