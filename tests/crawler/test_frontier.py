"""govingest.db.frontier on a real PostgreSQL: dedup, depth, per-host budgets, leases, outcomes."""
from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from govingest.crawler.urls import host_key
from govingest.db import frontier, reader
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


def test_claim_locks_only_the_hosts_it_claims_from(conn: psycopg.Connection, fresh_database_url: str) -> None:
    hosts = [f"h{i}" for i in range(6)]
    add(conn, [f"http://{h}/{i}" for h in hosts for i in range(2)])
    for h in hosts:
        frontier.set_host_budget(conn, h, interval=60, concurrency=1)
        robots_known(conn, h)
    with psycopg.connect(fresh_database_url) as other:
        # the first step of a claim of 2 URLs, left holding its locks
        locked = other.execute(frontier._LOCK_HOSTS, {"sites": None, "limit": 2}).fetchall()
        assert len(locked) == 2
        free = conn.execute("SELECT host FROM hosts FOR UPDATE SKIP LOCKED").fetchall()
        conn.rollback()
        assert len(free) == 4  # the other four hosts stay claimable by anyone else
        got = frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")
        assert sorted(c.host for c in got) == sorted(set(hosts) - {r[0] for r in locked})
        other.rollback()
    got = frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")
    assert sorted(c.host for c in got) == sorted(r[0] for r in locked)
    assert frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o") == []  # one per host per interval


def _direct_counts(conn: psycopg.Connection) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]],
                                                       dict[str, dict[str, int]]]:
    states = [(r[0], r[1], int(r[2])) for r in conn.execute(
        "SELECT site, state, count(*) FROM urls GROUP BY 1, 2 ORDER BY 1, 2").fetchall()]
    errors = [(r[0], r[1], int(r[2])) for r in conn.execute(
        """SELECT site, last_error_kind, count(*) FROM urls WHERE last_error_kind IS NOT NULL
           GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()]
    via: dict[str, dict[str, int]] = {}
    for site, label, n in conn.execute(
            """SELECT a.site, CASE WHEN p.id IS NULL THEN 'start' ELSE coalesce(p.dialect, p.kind) END, count(*)
               FROM urls a LEFT JOIN urls p ON p.id = a.discovered_from WHERE a.kind = 'article'
               GROUP BY 1, 2""").fetchall():
        via.setdefault(site, {})[label] = int(n)
    conn.commit()
    return states, errors, via


def _counted(conn: psycopg.Connection) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]],
                                                dict[str, dict[str, int]]]:
    sites = sorted({s for s, _, _ in reader.site_url_counts(conn)})
    return reader.site_url_counts(conn), reader.error_kinds(conn), reader.articles_by_dialect(conn, sites)


def test_status_counters_follow_every_write(conn: psycopg.Connection) -> None:
    """The counters of migration 0080 equal the aggregates they replace, through inserts,
    claims, outcomes, reclassification, a parent's dialect, deletes, and folds."""
    frontier.upsert_site(conn, "t", {"name": "t"})
    frontier.add_urls(conn, "s", [NewUrl("http://f/list", "list", "f")], 0, None)
    lst = conn.execute("SELECT id FROM urls WHERE url = 'http://f/list'").fetchone()[0]
    frontier.add_urls(conn, "s", [NewUrl(f"http://f/{i}", "article", "f") for i in range(5)], 1, lst)
    frontier.add_urls(conn, "t", [NewUrl(f"http://g/{i}", "article", "g") for i in range(3)], 0, None)
    conn.commit()
    assert _counted(conn) == _direct_counts(conn)
    for h in ("f", "g"):
        frontier.set_host_budget(conn, h, interval=0.001, concurrency=10)
        robots_known(conn, h)
    claims = []
    for _ in range(4):
        claims += frontier.claim_due(conn, limit=10, lease_seconds=60, owner="o")
        time.sleep(0.005)
    assert claims and _counted(conn) == _direct_counts(conn)
    for k, c in enumerate(claims):
        out = (Outcome("done", status=200, next_fetch_in=3600, dialect="gkmlpt") if c.url_id == lst else
               Outcome("failed", status=500, error_kind="http_5xx", message="HTTP 500", next_fetch_in=60)
               if k % 2 else Outcome("done", status=200, next_fetch_in=3600, kind="attachment" if k % 3 == 0 else None))
        frontier.record_outcome(conn, c.url_id, out, owner="o")
    conn.commit()
    assert _counted(conn) == _direct_counts(conn)
    frontier.fold_counts(conn)
    assert _counted(conn) == _direct_counts(conn)
    assert conn.execute("SELECT count(*) FROM url_count_deltas").fetchone()[0] == conn.execute(
        "SELECT count(DISTINCT (site, state, error_kind, via)) FROM url_count_deltas").fetchone()[0]
    # the list page read with another dialect: its articles move with it
    conn.execute("UPDATE urls SET dialect = 'hanweb' WHERE id = %s", (lst,))
    frontier.reschedule_site(conn, "s")
    frontier.reap_expired(conn)
    conn.execute("DELETE FROM urls WHERE url = 'http://g/0'")
    conn.commit()
    assert _counted(conn) == _direct_counts(conn)
    assert frontier.pending_urls(conn, "t") == conn.execute(
        "SELECT count(*) FROM urls WHERE site = 't' AND state IN ('new', 'fetching')").fetchone()[0]
    conn.execute("TRUNCATE urls CASCADE")
    conn.commit()
    assert _counted(conn) == ([], [], {})


def test_free_slots_frees_only_the_dead_owners_unanswered_request(conn: psycopg.Connection) -> None:
    """A SIGKILLed crawl leaves its request unanswered: the host stays held until the stale
    window passes, unless the restart, knowing the owner dead, frees it. Another owner's
    request in flight must keep holding its host (one request in flight at the server)."""
    frontier.set_host_budget(conn, "dead.example", interval=0.5, concurrency=1)
    frontier.set_host_budget(conn, "live.example", interval=0.5, concurrency=1)
    conn.commit()
    assert frontier.take_slot(conn, "dead.example", owner="h:1:runner") == 0.0
    assert frontier.take_slot(conn, "live.example", owner="h:2:runner") == 0.0
    assert frontier.take_slot(conn, "dead.example", owner="h:3:runner") is None  # held, unanswered
    assert frontier.free_slots(conn, ["h:1:runner"]) == 1
    assert frontier.free_slots(conn, ["h:1:runner"]) == 0  # already answered
    wait = frontier.take_slot(conn, "dead.example", owner="h:3:runner")
    assert wait is not None and 0.4 < wait <= 0.5  # one interval after the stamped answer
    assert frontier.take_slot(conn, "live.example", owner="h:3:runner") is None
