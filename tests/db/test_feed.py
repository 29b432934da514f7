"""The change feed cursor never skips an event whose transaction committed late."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from govingest.db.feed import Event, UnknownCursor, latest_seq, read_events
from tests.db.helpers import add_url, make_doc, write_one

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("xid_order", ["late_tx_older_xid", "late_tx_newer_xid"])
def test_out_of_order_commits_are_not_skipped(migrated_database_url: str, xid_order: str) -> None:
    """T1 takes the smaller seq but commits after T2; a resumed reader sees both, once.

    Both xid orders matter: the transaction ids (what the cursor orders by) need not
    follow the seq order, e.g. when T2 wrote something before T1 started.
    """
    with psycopg.connect(migrated_database_url, autocommit=True) as setup:
        u1 = add_url(setup, "https://www.gov.cn/late.html")
        u2 = add_url(setup, "https://www.gov.cn/early.html")
    with (psycopg.connect(migrated_database_url) as t1, psycopg.connect(migrated_database_url) as t2,
          psycopg.connect(migrated_database_url, autocommit=True) as reader):
        first_xid, second_xid = (t1, t2) if xid_order == "late_tx_older_xid" else (t2, t1)
        xid_a = first_xid.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        xid_b = second_xid.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert xid_a is not None and xid_b is not None and xid_a[0] < xid_b[0]
        # T1 writes first and takes the smaller seq, but stays open ...
        late = write_one(t1, u1, make_doc("迟到的文档。"))
        # ... T2 takes the next seq and commits first.
        early = write_one(t2, u2, make_doc("先到的文档。"))
        t2.commit()
        visible = dict(reader.execute("SELECT document_id, seq FROM doc_events").fetchall())
        assert list(visible) == [early.document_id]  # T1 not committed yet
        t1_seq = t1.execute("SELECT seq FROM doc_events WHERE document_id = %s", (late.document_id,)).fetchone()
        assert t1_seq is not None and t1_seq[0] < visible[early.document_id], "scenario must commit out of order"
        # A naive `seq > cursor` reader returns T2's event now and then skips T1's forever.
        naive_cursor = max(visible.values())

        first = read_events(reader, after=0)
        # T1's xid older: T2's event waits for T1 to end. T1's xid newer: T2's event is
        # final now (unless some other transaction on this shared server holds it back).
        if xid_order == "late_tx_older_xid":
            assert first == []
        else:
            assert [e.document_id for e in first] in ([], [early.document_id])
        t1.commit()
        rest = read_until(reader, first, count=2)
        seen = [e.document_id for e in first + rest]
        assert sorted(seen) == sorted([late.document_id, early.document_id])  # both, each once
        assert reader.execute("SELECT count(*) FROM doc_events WHERE seq > %s", (naive_cursor,)).fetchone() == (0,)
        # resuming from the end returns nothing more, and latest_seq is that end
        assert read_events(reader, after=(first + rest)[-1].seq) == []
        assert latest_seq(reader) == (first + rest)[-1].seq


def read_until(reader: psycopg.Connection, already: list[Event], *, count: int) -> list[Event]:
    """Resume after `already` until `count` events in all: any open transaction on the
    server (other tests) may hold the stable prefix back for a moment, never lose it."""
    got: list[Event] = []
    deadline = time.monotonic() + 20
    while len(already) + len(got) < count and time.monotonic() < deadline:
        cursor = (already + got)[-1].seq if already + got else 0
        got += read_events(reader, after=cursor)
        time.sleep(0.05)
    return got


def test_view_applies_the_same_stable_prefix(migrated_database_url: str) -> None:
    # xids are server-wide: other sessions on a shared server may hold the prefix back a
    # moment, so visibility is awaited; what must never happen is event 2 showing while
    # the older transaction is still open.
    def visible(conn: psycopg.Connection) -> set[int]:
        return {r[0] for r in conn.execute("SELECT document_id FROM v_doc_events")}

    def await_visible(conn: psycopg.Connection, want: set[int]) -> None:
        deadline = time.monotonic() + 20
        while visible(conn) != want:
            assert time.monotonic() < deadline, f"events {want} never became visible"
            time.sleep(0.05)

    with psycopg.connect(migrated_database_url, autocommit=True) as setup:
        u1 = add_url(setup, "https://www.gov.cn/1.html")
        d1 = write_one(setup, u1, make_doc("一")).document_id
        await_visible(setup, {d1})
    with psycopg.connect(migrated_database_url) as open_tx, \
            psycopg.connect(migrated_database_url, autocommit=True) as reader:
        open_tx.execute("SELECT pg_current_xact_id()")  # an older transaction still running
        u2 = add_url(reader, "https://www.gov.cn/2.html")
        d2 = write_one(reader, u2, make_doc("二")).document_id
        assert d2 not in visible(reader), "an event newer than a running transaction was shown"
        open_tx.rollback()
        await_visible(reader, {d1, d2})


def test_unknown_cursor_is_a_clear_error(migrated_database_url: str) -> None:
    with psycopg.connect(migrated_database_url, autocommit=True) as conn, pytest.raises(UnknownCursor, match="--after 0"):
        read_events(conn, after=42)


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """stdout lines of `proc` on a queue, so a test can wait with a timeout."""
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q


def test_tail_follow_prints_new_events_as_json_lines(migrated_database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": migrated_database_url, "GOVINGEST_FEED_POLL_SECONDS": "120"}
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        u1 = add_url(conn, "https://www.gov.cn/f/1.html")
        first = write_one(conn, u1, make_doc("第一篇"))
        proc = subprocess.Popen([sys.executable, "-m", "govingest", "tail", "--follow", "--limit", "2"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            lines = _lines(proc)
            line1 = json.loads(lines.get(timeout=30))
            assert (line1["document_id"], line1["kind"]) == (first.document_id, "created")
            write_one(conn, u1, make_doc("第一篇（修订）"))
            # the poll interval is 120 s and the process must exit within 30 s: only the
            # NOTIFY can have woken it
            line2 = json.loads(lines.get(timeout=30))
            assert (line2["document_id"], line2["kind"]) == (first.document_id, "updated")
            assert line2["seq"] > line1["seq"]
            assert proc.wait(timeout=30) == 0
        finally:
            proc.kill()
            proc.wait()
    # resuming after the first event prints only the second
    out = subprocess.run([sys.executable, "-m", "govingest", "tail", "--after", str(line1["seq"])],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert [json.loads(x)["kind"] for x in out.stdout.splitlines()] == ["updated"]


def test_consumer_cursor_query_on_the_view_uses_an_index(migrated_database_url: str) -> None:
    """docs/consumers.md pages through v_doc_events by (xid, seq): on a long feed that must
    be an index range scan, not a scan of every event ever written."""
    with psycopg.connect(migrated_database_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT seq, xid FROM v_doc_events WHERE (xid, seq) > (%s, %s) ORDER BY xid, seq LIMIT 100",
            (12345, 6)).fetchall())
    assert "doc_events_xid_bigint_seq_idx" in plan, plan
