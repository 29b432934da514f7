"""`govingest tail [--after SEQ] [--follow]`: print the change feed, one JSON line per event.

Resume with `--after` the `seq` of the last line you processed: the feed's cursor
never skips an event, even one whose transaction committed late (see db/feed.py).
Read-only: acts as govingest_reader on `v_doc_events` and never migrates.
"""
from __future__ import annotations

import argparse
import json

from govingest.db.connect import resolve_database_url
from govingest.db.feed import CHANNEL, UnknownCursor, read_events
from govingest.db.reader import connect_reader
from govingest.workers.cli import UserError
from govingest.workers.settings import Settings

QUICK_REREADS = 40
QUICK_REREAD_SECONDS = 0.25


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tail", help="print document events (created, updated, withdrawn, restored) as JSON lines")
    p.add_argument("--after", type=int, default=0, metavar="SEQ",
                   help="print events after the one with this seq (default 0: from the start)")
    p.add_argument("--follow", "-f", action="store_true", help="keep waiting for new events")
    p.add_argument("--limit", type=int, default=None, help="stop after this many events")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    conn = connect_reader(resolve_database_url(settings))  # read-only: never migrates
    printed = 0
    cursor = args.after
    # After a NOTIFY the new event may still be held back for a moment (an older
    # transaction somewhere on the server is still open): re-read at a short interval
    # for a while instead of sleeping a whole poll period.
    quick_rereads = 0
    with conn:
        if args.follow:
            conn.execute(f"LISTEN {CHANNEL}")
        while True:
            try:
                events = read_events(conn, after=cursor, limit=500)
            except UnknownCursor as exc:
                raise UserError(str(exc)) from exc
            for ev in events:
                print(json.dumps(ev.to_json(), ensure_ascii=False), flush=True)
                cursor = ev.seq
                printed += 1
                if args.limit is not None and printed >= args.limit:
                    return 0
            if events:
                quick_rereads = 0
                continue
            if not args.follow:
                return 0
            # Wake on NOTIFY, or after the poll interval anyway: an event can become
            # readable without a notification (an older transaction ending), and a
            # NOTIFY can be lost if the connection drops.
            timeout = QUICK_REREAD_SECONDS if quick_rereads > 0 else settings.feed_poll_seconds
            quick_rereads = max(0, quick_rereads - 1)
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                quick_rereads = QUICK_REREADS
