"""docs/consumers.md and examples/consumer.py against a real, seeded PostgreSQL.

The seeds are stored with `govingest ingest` (the real write path), then everything a
consumer is told is checked as a login role that is only a member of govingest_reader:
the views and columns the page lists are exactly the database's, every SQL block on the
page runs, the tables stay closed, and the example consumer follows the feed, resumes
from its cursor and does not skip an event whose transaction commits late.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT
from tests.deploy.conftest import ingest as _ingest

DOC = ROOT / "docs" / "consumers.md"
CONSUMER = ROOT / "examples" / "consumer.py"
VENV_BIN = Path(sys.executable).parent


def _documented_views() -> dict[str, list[str]]:
    views: dict[str, list[str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### `(\w+)`", line)
        if heading:
            current = heading.group(1)
            views[current] = []
        elif line.startswith("## "):
            current = None
        elif current:
            col = re.match(r"^\| `(\w+)` \|", line)
            if col:
                views[current].append(col.group(1))
    return views


def _sql_blocks() -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if "CREATE ROLE" not in b]


def test_documented_views_and_columns_are_the_databases(seeded: tuple[str, str]) -> None:
    admin, _ = seeded
    documented = _documented_views()
    assert len(documented) >= 4
    with psycopg.connect(admin) as conn:
        for view, columns in documented.items():
            actual = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position", (view,))]
            assert actual, f"docs/consumers.md documents {view}, which does not exist after migrate"
            assert columns == actual, f"{view}: documented {columns}, database has {actual}"
        granted = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.role_table_grants "
            "WHERE grantee = 'govingest_reader' AND privilege_type = 'SELECT'")}
    assert granted == set(documented), "the reader role's views and the documented views differ"
    # every view the prose mentions is documented
    mentioned = set(re.findall(r"\bv_[a-z_]+\b", DOC.read_text(encoding="utf-8")))
    assert mentioned <= set(documented), mentioned - set(documented)


def test_every_documented_query_runs_as_a_reader(seeded: tuple[str, str]) -> None:
    _, reader = seeded
    blocks = _sql_blocks()
    assert len(blocks) >= 5
    with psycopg.connect(reader, autocommit=True) as conn:
        results = [conn.execute(sql).fetchall() for sql in blocks]
        docs_per_site = dict(conn.execute("SELECT site, count(*) FROM v_documents GROUP BY site").fetchall())
        direct = conn.execute("SELECT count(*), sum(value) FROM v_facts WHERE indicator LIKE '%检查企业%'").fetchone()
    newest = results[0]
    assert len(newest) == sum(min(n, 5) for n in docs_per_site.values()) > 0
    by_indicator = results[1]
    assert sum(r[3] for r in by_indicator) == direct[0]
    assert sum(r[4] for r in by_indicator) == pytest.approx(direct[1] or 0)
    assert results[3], "the cluster of document 1 contains at least document 1"
    page_attachments, cites, cited_by, most_cited = results[5:9]
    assert len(page_attachments) == 3 and len({r[0] for r in page_attachments}) == 1  # one article, its 3 files
    assert {r[3].rsplit(".", 1)[1] for r in page_attachments} == {"pdf", "docx", "xlsx"}
    assert ("条例", "福建省安全生产条例", None) in [r[1:4] for r in cites]
    assert [r[1:4] for r in cites if r[3]] == [("通知", "国务院安委会办公室关于开展2024年全国“安全生产月”活动的通知",
                                               "安委办〔2024〕3号")]
    assert all(r[4] is None for r in cites)  # none of them is in this corpus
    assert [r[1].rsplit("/", 1)[1] for r in cited_by] == ["hainan-notice.txt"]
    assert len(most_cited) == 20 and most_cited[0][1] >= most_cited[-1][1]
    with psycopg.connect(reader, autocommit=True) as conn:
        resolved = conn.execute("SELECT c.cited_url FROM v_citations c WHERE c.doc_number = '国发〔2018〕43号'").fetchall()
    assert [r[0].rsplit("/", 1)[1] for r in resolved] == ["gov-cn-zhengce__content_5353307.html"]


def test_reader_role_reads_views_only(seeded: tuple[str, str]) -> None:
    _, reader = seeded
    with psycopg.connect(reader, autocommit=True) as conn:
        for statement in ("SELECT count(*) FROM documents", "SELECT count(*) FROM doc_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        for statement in ("UPDATE v_documents SET title = 'x'", "DELETE FROM v_sections"):
            # no privilege, and the guarded views (migration 0040) are not updatable at all
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectNotInPrerequisiteState)):
                conn.execute(statement)


def _consume(reader: str, state: Path, *args: str) -> tuple[list[dict], str]:
    done = subprocess.run([sys.executable, str(CONSUMER), "--dsn", reader, "--state", str(state), "--once", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def _consume_until(reader: str, state: Path, count: int, *args: str, timeout: float = 90) -> list[dict]:
    """Run the consumer with --once until it has printed `count` events in all.

    The feed holds events back while any older transaction on the server is open, in any
    database (xids are server-wide), and other tests share this server; so "caught up"
    is awaited, not assumed.
    """
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        got, _ = _consume(reader, state, *args)
        events += got
        if len(events) < count:
            time.sleep(0.5)
    assert len(events) == count, f"expected {count} events, got {events}"
    return events


def test_consumer_reads_everything_then_resumes_from_its_cursor(seeded: tuple[str, str], tmp_path: Path) -> None:
    admin, reader = seeded
    state = tmp_path / "cursor.json"
    with psycopg.connect(admin) as conn:
        expected = [r[0] for r in conn.execute("SELECT seq FROM doc_events ORDER BY xid, seq")]
    first = _consume_until(reader, state, len(expected))
    assert [e["seq"] for e in first] == expected and expected
    assert json.loads(state.read_text()) == {"xid": first[-1]["xid"], "seq": first[-1]["seq"]}
    again, note = _consume(reader, state)
    assert again == [] and "handled 0" in note

    page = tmp_path / "notice.txt"
    page.write_text("关于开展安全检查的通知\n本月共检查企业120家，整改隐患35处。\n", encoding="utf-8")
    _ingest(admin, page)
    created = _consume_until(reader, state, 1)
    assert [(e["kind"], e["url"].endswith("notice.txt")) for e in created] == [("created", True)]
    page.write_text("关于开展安全检查的通知\n本月共检查企业130家，整改隐患35处。\n", encoding="utf-8")
    _ingest(admin, page)
    updated = _consume_until(reader, state, 1)
    assert [(e["kind"], e["document_id"]) for e in updated] == [("updated", created[0]["document_id"])]
    # --after-seq restarts from a seq printed by `govingest tail`, ignoring the file
    replay = _consume_until(reader, tmp_path / "other.json", 2, "--after-seq", str(first[-1]["seq"]))
    assert [e["seq"] for e in replay] == [created[0]["seq"], updated[0]["seq"]]


def test_consumer_does_not_skip_an_event_committed_late(seeded: tuple[str, str], tmp_path: Path) -> None:
    admin, reader = seeded
    state = tmp_path / "cursor.json"
    with psycopg.connect(admin) as conn:
        _consume_until(reader, state, conn.execute("SELECT count(*) FROM doc_events").fetchone()[0])
    with psycopg.connect(admin) as slow, psycopg.connect(admin) as fast:
        late_seq = slow.execute("INSERT INTO doc_events (document_id, kind) VALUES (1, 'updated') RETURNING seq").fetchone()[0]
        early_seq = fast.execute("INSERT INTO doc_events (document_id, kind) VALUES (2, 'updated') RETURNING seq").fetchone()[0]
        fast.commit()
        assert late_seq < early_seq
        held, _ = _consume(reader, state)
        assert held == [], "an event must wait while an older transaction is open"
        slow.commit()
    both = _consume_until(reader, state, 2)
    assert [e["seq"] for e in both] == [late_seq, early_seq]


def test_consumer_follows_live_and_stops_cleanly_on_sigterm(seeded: tuple[str, str], tmp_path: Path) -> None:
    admin, reader = seeded
    state = tmp_path / "cursor.json"
    with psycopg.connect(admin) as conn:
        _consume_until(reader, state, conn.execute("SELECT count(*) FROM doc_events").fetchone()[0])
    proc = subprocess.Popen([sys.executable, str(CONSUMER), "--dsn", reader, "--state", str(state), "--poll", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        got_one = threading.Event()

        def read() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                lines.append(line)
                got_one.set()

        reader_thread = threading.Thread(target=read, daemon=True)
        reader_thread.start()
        page = tmp_path / "live.txt"
        page.write_text("关于做好防汛工作的通知\n全市转移群众约1.2万人。\n", encoding="utf-8")
        _ingest(admin, page)
        assert got_one.wait(60), "the following consumer printed nothing after an ingest"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        reader_thread.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    event = json.loads(lines[0])
    assert event["kind"] == "created" and event["url"].endswith("live.txt")
    assert json.loads(state.read_text())["seq"] == json.loads(lines[-1])["seq"]


def test_consumer_errors_are_one_line(seeded: tuple[str, str], tmp_path: Path) -> None:
    _, reader = seeded
    for args, words in ((["--dsn", reader, "--after-seq", "999999999"], "no visible event has seq"),
                        (["--dsn", "postgresql://nobody@127.0.0.1:1/none"], "cannot reach PostgreSQL")):
        done = subprocess.run([sys.executable, str(CONSUMER), "--state", str(tmp_path / "c.json"), "--once", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and words in done.stderr and "Traceback" not in done.stderr
