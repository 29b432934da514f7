#!/usr/bin/env python3
"""Follow govingest's change feed from a program: resumable, never skips an event.

A downstream program (search indexer, alerting, a data warehouse loader) wants every
document that was created, changed, withdrawn by its site or restored, exactly in the order it can rely on, and wants to
pick up where it stopped after a crash or a deploy. This example does that with nothing
but psycopg 3 and the documented view `v_doc_events`, as a login role that is a member
of `govingest_reader` (see docs/consumers.md):

    python examples/consumer.py --dsn postgresql://alice@db/govingest --state feed.json

Why the cursor is the pair (xid, seq) and not seq alone: sequence numbers are taken when
an event is inserted but become visible when its transaction commits, so a reader
filtering `seq > last` can miss an event that committed late. `v_doc_events` shows only
events whose transaction ended before every transaction still running, and in
(xid, seq) order every event that appears later sorts after every event already shown.
So "everything after my last (xid, seq)" is exact.

Delivery is at-least-once: the cursor is saved after each event is handled, so a crash
between handling and saving hands that one event over again. Make `handle` idempotent
(upsert by document_id), which a consumer of an *updated* feed needs anyway.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from psycopg.rows import dict_row

CHANNEL = "doc_events"  # govingest NOTIFYs this channel when it writes documents


@dataclass(frozen=True)
class Cursor:
    """Position in the feed: the last handled event's (xid, seq); (0, 0) is the start."""

    xid: int = 0
    seq: int = 0

    @classmethod
    def load(cls, path: Path) -> Cursor:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise SystemExit(f"consumer: cannot read the cursor file {path} ({exc}); "
                             "fix or delete it (deleting replays the feed from the start)") from exc
        return cls(int(data["xid"]), int(data["seq"]))

    def save(self, path: Path) -> None:
        """Atomically: a crash mid-write must leave the previous cursor, not half a file."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"xid": self.xid, "seq": self.seq}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


NEXT_EVENTS = """
    SELECT e.seq, e.xid, e.document_id, e.kind, e.at, e.url, e.site, e.title,
           d.published_at, d.source, d.cluster_id, d.last_changed, d.withdrawn_at, d.withdrawn_reason,
           (SELECT count(*) FROM v_facts f WHERE f.document_id = e.document_id) AS facts
    FROM v_doc_events e JOIN v_documents d USING (document_id)
    WHERE (e.xid, e.seq) > (%(xid)s, %(seq)s)
    ORDER BY e.xid, e.seq
    LIMIT %(limit)s
"""


def cursor_at_seq(conn: psycopg.Connection, seq: int) -> Cursor:
    """The cursor just after the event numbered `seq` (as printed by `govingest tail`)."""
    row = conn.execute("SELECT xid FROM v_doc_events WHERE seq = %s", (seq,)).fetchone()
    if row is None:
        raise SystemExit(f"consumer: no visible event has seq {seq}; use a seq printed by "
                         "`govingest tail` or this program, or omit --after-seq to start from the beginning")
    return Cursor(int(row["xid"]), seq)


def print_event(event: dict[str, Any]) -> None:
    """The default handler: one JSON line per event, with what a consumer should do. Replace
    it with your own work.

    `created` / `updated`: upsert the document by document_id. `withdrawn`: the site took
    it down; keep the row but hide it (or mark it 已撤回) — never delete, because
    `restored` follows if the site puts it back, and then it is shown again. Upserting the
    current `withdrawn_at` from v_documents is idempotent for all four kinds: a replayed
    event (at-least-once delivery) or an old event read late leaves the same result.
    """
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in event.items()}
    out["action"] = {"created": "upsert", "updated": "upsert", "withdrawn": "hide",
                     "restored": "show"}.get(event["kind"], "upsert")
    print(json.dumps(out, ensure_ascii=False), flush=True)


class Stop:
    """Set by SIGTERM/SIGINT: finish the current event, save the cursor, exit 0."""

    requested = False

    @classmethod
    def install(cls) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            cls.requested = True
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def follow(dsn: str, state: Path, *, handle: Callable[[dict[str, Any]], None] = print_event,
           once: bool = False, batch: int = 100, poll_seconds: float = 5.0,
           after_seq: int | None = None) -> int:
    """Handle every event after the saved cursor; with `once`, stop when caught up.

    Returns the number of events handled.
    """
    handled = 0
    # autocommit: every query runs in its own snapshot, so the feed moves forward. Inside
    # one long transaction (REPEATABLE READ) the visible feed would never advance.
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        cursor = cursor_at_seq(conn, after_seq) if after_seq is not None else Cursor.load(state)
        if not once:
            conn.execute(f"LISTEN {CHANNEL}")
        while not Stop.requested:
            events = conn.execute(NEXT_EVENTS, {"xid": cursor.xid, "seq": cursor.seq, "limit": batch}).fetchall()
            for event in events:
                handle(event)
                cursor = Cursor(int(event["xid"]), int(event["seq"]))
                cursor.save(state)
                handled += 1
                if Stop.requested:
                    break
            if events:
                continue
            if once:
                break
            # Sleep until govingest NOTIFYs, or the poll interval anyway: an event can
            # become visible without a notification (an older transaction ending), and a
            # notification sent while we were reconnecting is lost.
            for _ in conn.notifies(timeout=poll_seconds, stop_after=1):
                pass
        cursor.save(state)
    return handled


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dsn", default="",
                   help="libpq connection string or URL (default: libpq's PGHOST, PGUSER, ... variables)")
    p.add_argument("--state", type=Path, default=Path("consumer-cursor.json"),
                   help="file holding the cursor; created on first run (default: %(default)s)")
    p.add_argument("--after-seq", type=int, metavar="SEQ",
                   help="start after the event with this seq, ignoring the saved cursor")
    p.add_argument("--once", action="store_true", help="exit when caught up instead of waiting")
    p.add_argument("--batch", type=int, default=100, help="events read per query (default: %(default)s)")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between polls when idle (default: %(default)s)")
    args = p.parse_args(argv)
    Stop.install()
    try:
        n = follow(args.dsn, args.state, once=args.once, batch=args.batch, poll_seconds=args.poll,
                   after_seq=args.after_seq)
    except psycopg.OperationalError as exc:
        print(f"consumer: cannot reach PostgreSQL ({str(exc).strip()}); check --dsn; "
              "the saved cursor is intact, rerun to resume", file=sys.stderr)
        return 1
    except psycopg.errors.InsufficientPrivilege as exc:
        print(f"consumer: permission denied ({str(exc).strip()}); "
              "GRANT govingest_reader TO your login role", file=sys.stderr)
        return 1
    print(f"consumer: handled {n} event(s); cursor in {args.state}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
