"""govingest.db.frontier on a real PostgreSQL: dedup, depth, per-host budgets, leases, outcomes."""
from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from govingest.crawler.urls import host_key
from govingest.db import frontier
from govingest.db.frontier import NewUrl, Outcome
from govingest.db.migrate import migrate


@pytest.fixture
def conn(fresh_database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(fresh_database_url) as c:
        migrate(c)
        frontier.upsert_site(c, "s", {"name": "s"})
        c.commit()
        yield c


def add(conn: psycopg.Connection, urls: list[str], **kw) -> int:
    n = frontier.add_urls(conn, "s", [NewUrl(u, "article", host_key(u)) for u in urls], kw.pop("depth", 0), kw.pop("src", None), **kw)
    conn.commit()
    return n


def robots_known(conn: psycopg.Connection, host: str, delay: float | None = None) -> None:
    frontier.store_robots(conn, host, text="", status=404, crawl_delay=delay)
    conn.commit()


def test_add_dedups_and_caps(conn: psycopg.Connection) -> None:
    assert add(conn, ["http://a/1", "http://a/2", "http://a/1"]) == 2
    assert add(conn, ["http://a/2", "http://a/3"], depth=3) == 1
    depths = dict(conn.execute("SELECT url, depth FROM urls").fetchall())
    assert depths == {"http://a/1": 0, "http://a/2": 0, "http://a/3": 3}  # known URL keeps its depth
    assert add(conn, [f"http://a/x{i}" for i in range(10)], max_urls=5) == 2
    assert conn.execute("SELECT count(*) FROM urls").fetchone()[0] == 5
    assert conn.execute("SELECT host FROM urls WHERE url = 'http://a/1'").fetchone()[0] == "a"


def test_one_per_host_per_interval(conn: psycopg.Connection) -> None:
    add(conn, [f"http://a:81/{i}" for i in range(5)] + [f"http://b:82/{i}" for i in range(5)])
    for h in ("a:81", "b:82"):
        frontier.set_host_budget(conn, h, interval=0.5, concurrency=5)
        robots_known(conn, h)
    first = frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")
    assert sorted(c.host for c in first) == ["a:81", "b:82"]
    assert frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o") == []  # slots used
    wait = frontier.seconds_until_due(conn)
    assert wait is not None and 0.3 < wait <= 0.5
    time.sleep(wait + 0.02)
    assert len(frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")) == 2


def test_concurrency_cap_and_unknown_robots(conn: psycopg.Connection) -> None:
    add(conn, [f"http://c/{i}" for i in range(6)])
    frontier.set_host_budget(conn, "c", interval=0.001, concurrency=2)
    conn.commit()
    got = frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")
    time.sleep(0.01)
    got += frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")
    assert len(got) == 1  # robots.txt not known yet: one at a time
    robots_known(conn, "c")
    for _ in range(5):
        time.sleep(0.01)
        got += frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")
    assert len(got) == 2  # concurrency 2: two in flight, no more
    assert frontier.record_outcome(conn, got[0].url_id, Outcome("done", status=200, next_fetch_in=3600), owner="o")
    conn.commit()
    time.sleep(0.01)
    assert len(frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")) == 1


def test_crawl_delay_slows_host(conn: psycopg.Connection) -> None:
    add(conn, ["http://d/1", "http://d/2"])
    frontier.set_host_budget(conn, "d", interval=0.01, concurrency=4)
    robots_known(conn, "d", delay=5.0)
    assert len(frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")) == 1
    wait = frontier.seconds_until_due(conn)
    assert wait is not None and wait > 4.0


def test_outcomes_leases_and_reaping(conn: psycopg.Connection) -> None:
    add(conn, ["http://e/1", "http://e/2", "http://e/3"])
    frontier.set_host_budget(conn, "e", interval=0.001, concurrency=3)
    robots_known(conn, "e")
    claims = []
    for _ in range(3):
        claims += frontier.claim_due(conn, limit=1, lease_seconds=0.2, owner="dead-owner")
        time.sleep(0.005)
    assert len(claims) == 3
    one, two, three = claims
    # a stranger cannot record an outcome on someone else's lease
    assert not frontier.record_outcome(conn, one.url_id, Outcome("done", status=200), owner="someone-else")
    assert frontier.record_outcome(conn, one.url_id, Outcome("failed", status=503, error_kind="server_error",
                                                             message="HTTP 503", next_fetch_in=30, fail_count=1),
                                   owner="dead-owner")
    conn.commit()
    row = conn.execute("SELECT state, last_status, last_error_kind, fail_count, lease_owner, "
                       "next_fetch_at > now() + interval '20 seconds' FROM urls WHERE id = %s",
                       (one.url_id,)).fetchone()
    assert row == ("failed", 503, "server_error", 1, None, True)
    assert frontier.release_owners(conn, ["dead-owner"]) == 2
    states = dict(conn.execute("SELECT id, state FROM urls").fetchall())
    assert states[two.url_id] == "new" and states[three.url_id] == "new"
    again = frontier.claim_due(conn, limit=1, lease_seconds=0.05, owner="x")
    assert len(again) == 1
    time.sleep(0.1)
    assert frontier.reap_expired(conn) == 1
    assert conn.execute("SELECT count(*) FROM urls WHERE state = 'fetching'").fetchone()[0] == 0
