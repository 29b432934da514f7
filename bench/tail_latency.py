"""How soon `govingest tail --follow` prints an event after the transaction that wrote it commits.

    .venv/bin/python bench/tail_latency.py [--events 100] [--database-url URL]

The feed's writers send `pg_notify('doc_events', …)` in the transaction that inserts the
events; `tail --follow` LISTENs and re-reads the feed when notified (db/feed.py,
workers/cli/commands/tail.py). This starts `govingest tail --follow` as its own process,
then commits events one at a time (a document withdrawn, then restored, … through
db.documents, the same statements the fetch stage uses) and times each from the
moment COMMIT returned to the moment tail's JSON line arrives on its stdout.

Without --database-url it runs on a private embedded PostgreSQL (pgserver): the feed
returns an event only once every older transaction on the server has ended (db/feed.py),
so on a shared server another database's long transaction adds its own wait, which is
not tail's latency. Pass --database-url to measure on a real deployment.

Ends with `tail_p50_ms=… tail_p95_ms=… tail_max_ms=…`.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from govingest.db import documents, frontier  # noqa: E402
from govingest.db.migrate import migrate  # noqa: E402

URL = "https://www.example.gov.cn/zwgk/tzgg/t20261201_1.html"


def seed(conn: psycopg.Connection) -> int:
    """One site, URL and document to withdraw and restore; returns the URL id."""
    frontier.ensure_site(conn, "bench")
    url_id = frontier.register_url(conn, url=URL, site="bench", host="www.example.gov.cn")
    conn.execute(
        """INSERT INTO documents (url_id, url, site, script, text, content_hash, output_hash, parser_version)
           VALUES (%s, %s, 'bench', 'hans', '关于开展安全检查的通知', 'h', 'h', 'bench') ON CONFLICT DO NOTHING""",
        (url_id, URL))
    conn.commit()
    return url_id


def lines(proc: subprocess.Popen[str]) -> queue.Queue[tuple[float, str]]:
    """tail's stdout lines with the moment each arrived."""
    q: queue.Queue[tuple[float, str]] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put((time.monotonic(), line))
    threading.Thread(target=pump, daemon=True).start()
    return q


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]


def measure(database_url: str, events: int) -> list[float]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        url_id = seed(conn)
        after = conn.execute("SELECT coalesce(max(seq), 0) FROM doc_events").fetchone()[0]
        conn.commit()
        env = {**os.environ, "DATABASE_URL": database_url}
        proc = subprocess.Popen([sys.executable, "-m", "govingest", "tail", "--follow", "--after", str(after)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        try:
            got = lines(proc)
            delays: list[float] = []
            withdrawn = False
            for i in range(events + 1):  # the first one only waits for tail to be listening
                if withdrawn:
                    documents.mark_restored(conn, [url_id], ["not_found"])
                else:
                    documents.mark_withdrawn(conn, [url_id], "not_found")
                withdrawn = not withdrawn
                conn.commit()
                committed = time.monotonic()
                arrived, line = got.get(timeout=60)
                assert json.loads(line)["kind"] == ("withdrawn" if withdrawn else "restored")
                if i:
                    delays.append(arrived - committed)
                time.sleep(random.uniform(0.05, 0.25))  # events apart, as a crawl writes them
        finally:
            proc.terminate()
            proc.wait(10)
    return delays


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--database-url", help="measure on this server (default: a private embedded one)")
    args = ap.parse_args()
    if args.database_url:
        delays = measure(args.database_url, args.events)
        where = "the given server"
    else:
        import pgserver

        with tempfile.TemporaryDirectory() as tmp:
            srv = pgserver.get_server(tmp, cleanup_mode="stop")
            try:
                delays = measure(srv.get_uri(), args.events)
            finally:
                srv.cleanup()
        where = "a private embedded PostgreSQL"
    ms = [d * 1000 for d in delays]
    print(f"{len(ms)} events on {where}, commit → tail's line: p50 {pct(ms, 0.5):.1f} ms, "
          f"p95 {pct(ms, 0.95):.1f} ms, max {max(ms):.1f} ms (goal: within 1 s)")
    print(f"tail_p50_ms={pct(ms, 0.5):.1f} tail_p95_ms={pct(ms, 0.95):.1f} tail_max_ms={max(ms):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
