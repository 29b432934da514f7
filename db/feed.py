"""The change feed (`doc_events`) and a cursor over it that never skips a late commit.

Why not `WHERE seq > cursor`: `seq` comes from a sequence when the event row is
inserted, but rows become visible when their transaction commits. If T1 takes seq 10,
T2 takes seq 11 and commits first, a reader sees 11, moves its cursor to 11 and never
returns 10 once T1 commits.

The design: every event stores the id of the transaction that wrote it
(`xid xid8 DEFAULT pg_current_xact_id()`). A reader only returns events whose xid is
below `pg_snapshot_xmin(pg_current_snapshot())` — the oldest transaction still
running — so every transaction that could still add events has an xid at or above
that bound. Below it the set of events is final (committed ones visible, aborted ones
gone). Events are ordered by (xid, seq) and the cursor is a position in that order:
every future event sorts after everything already returned, so resuming from the
last seen event can never skip one.

Transaction ids and xmin are cluster-wide: any transaction open anywhere on the server
(another database included) holds the feed back until it ends. Keep transactions
short (`workers.stages.process` parses outside any transaction for this reason); a stuck
`idle in transaction` session shows up as a feed that stops advancing, never as a
lost event. The alternative we rejected, a commit-ordered counter (a row lock or
advisory lock taken just before commit), serialises every document write.

The public cursor stays the `seq` of the last event a consumer saw (`--after SEQ`);
we look up its xid to find the position. The price: an event is delayed while an
older transaction is still open (a long transaction holds the feed back; it never
loses an event), and events are not in ascending seq order. SQL consumers use
`v_doc_events`, which applies the same xmin filter and exposes `xid` as a bigint.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

CHANNEL = "doc_events"


class UnknownCursor(LookupError):
    """`--after SEQ` names no event: the consumer's cursor is wrong or its event was deleted."""


@dataclass(frozen=True)
class Event:
    seq: int
    document_id: int
    kind: str
    at: datetime
    url: str
    site: str
    title: str | None

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "document_id": self.document_id, "kind": self.kind,
                "at": self.at.isoformat(), "url": self.url, "site": self.site, "title": self.title}


def read_events(conn: psycopg.Connection, *, after: int = 0, limit: int = 500) -> list[Event]:
    """Events after the one numbered `after` (0: from the beginning), at most `limit`.

    Reads `v_doc_events` (the same xmin filter, xid as bigint, indexed by 0006), so
    `govingest tail` works for a member of govingest_reader. One statement, so the
    xmin bound and the rows come from the same snapshot.
    """
    if after > 0:
        found = conn.execute("SELECT 1 FROM v_doc_events WHERE seq = %s", (after,)).fetchone()
        if found is None:
            raise UnknownCursor(f"no event has seq {after}; resume from a seq printed by "
                                "`govingest tail`, or use --after 0 to read the feed from the start")
    rows = conn.execute(
        """WITH pos AS (
               SELECT coalesce((SELECT xid FROM v_doc_events WHERE seq = %(after)s), 0) AS xid,
                      %(after)s::bigint AS seq)
           SELECT e.seq, e.document_id, e.kind, e.at, e.url, e.site, e.title
           FROM v_doc_events e, pos
           WHERE (e.xid, e.seq) > (pos.xid, pos.seq)
           ORDER BY e.xid, e.seq
           LIMIT %(limit)s""",
        {"after": after, "limit": limit},
    ).fetchall()
    return [Event(*r) for r in rows]


def latest_seq(conn: psycopg.Connection) -> int:
    """The cursor of the newest stable event (0 when the feed is empty): 'from now on'."""
    row = conn.execute("SELECT seq FROM v_doc_events ORDER BY xid DESC, seq DESC LIMIT 1").fetchone()
    return int(row[0]) if row else 0
