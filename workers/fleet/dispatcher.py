"""The dispatcher and reaper: PostgreSQL decides what runs, Redis only carries it.

Why a loop over the frontier rather than Celery beat chains or per-worker rate limits:
politeness is a fleet-wide budget per host, and only a `FOR UPDATE SKIP LOCKED` claim
in PostgreSQL (`db.frontier.claim_due`) can enforce it across any number of
dispatchers and workers. Each round:

1. reap: expired leases (a worker died, Redis lost the message) go back to due;
2. claim due URLs within each host's budget under a lease token unique to this round,
   and enqueue `fetch(url_id, token)` — the token is what makes late or duplicate
   messages harmless (the task checks the lease is still its own);
3. re-enqueue pages whose `process` message was lost (stamped long ago, never done);
4. now and then, fold the URL/document count deltas the writes append (migration 0080),
   so `govingest status` keeps reading a few hundred rows however large the frontier.

Two dispatchers running at once never hand out the same URL or page: both claims lock
rows with SKIP LOCKED and commit the lease before any message is sent. When sending
fails (Redis down) the round's leases are released at once so nothing waits for expiry.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from govingest.db import fleet as fleet_db
from govingest.db import frontier
from govingest.db.connect import DatabaseUnavailable

log = logging.getLogger(__name__)

# What a lost or unreachable server raises here: a statement on an open connection fails
# with a psycopg error, a reconnect (`_connection`) with DatabaseUnavailable.
_UNREACHABLE = (psycopg.Error, DatabaseUnavailable)

EnqueueFetch = Callable[[int, str], None]
EnqueueProcess = Callable[[int], None]


@dataclass
class DispatchRound:
    reaped: int = 0
    claimed: int = 0
    pages_requeued: int = 0
    send_failed: bool = False
    drained: bool = False  # the round stopped because nothing more was due, not for lack of room


@dataclass
class DispatchTotals:
    rounds: int = 0
    reaped: int = 0
    claimed: int = 0
    pages_requeued: int = 0
    errors: int = 0

    def add(self, r: DispatchRound) -> None:
        self.rounds += 1
        self.reaped += r.reaped
        self.claimed += r.claimed
        self.pages_requeued += r.pages_requeued


# Senders through the Celery app alone: importing workers.fleet.tasks would load the whole
# parser (trafilatura, datasketch) into a process that only hands out ids.
def _default_fetch(url_id: int, lease: str) -> None:
    from govingest.workers.fleet.app import app, send_fetch

    send_fetch(app, url_id, lease)


def _default_process(page_id: int) -> None:
    from govingest.workers.fleet.app import app, send_process

    send_process(app, page_id)


@dataclass
class Dispatcher:
    """One dispatcher; run as many as you like (each names its leases uniquely)."""

    database_url: str
    lease_seconds: float = 120.0
    batch: int = 200
    max_outstanding: int = 500
    idle_sleep: float = 1.0
    sites: list[str] | None = None
    enqueue_fetch: EnqueueFetch = _default_fetch
    enqueue_process: EnqueueProcess = _default_process
    name: str = field(default_factory=lambda: f"dispatch:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    totals: DispatchTotals = field(default_factory=DispatchTotals)
    housekeeping_seconds: float = 1.0
    fold_seconds: float = 10.0
    _conn: psycopg.Connection | None = field(default=None, repr=False)
    _round: int = 0
    _outstanding: int = 0
    _folded_at: float = 0.0

    # -- one round -------------------------------------------------------------------
    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            from govingest.db.connect import connect

            self._conn = connect(self.database_url)
            # woken when a fetch ends (a host at its concurrency limit has room again)
            self._conn.execute(f"LISTEN {frontier.LEASE_FREED_CHANNEL}")
            self._conn.commit()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def run_once(self, *, housekeeping: bool = True) -> DispatchRound:
        """One round; `housekeeping` adds the reaper, the back-pressure count and the lost-page
        scan, which the loop runs about once a second rather than on every fast round."""
        conn = self._connection()
        out = DispatchRound(reaped=frontier.reap_expired(conn) if housekeeping else 0)
        self._round += 1
        owner = f"{self.name}:{self._round}"
        if housekeeping:
            self._outstanding = fleet_db.outstanding_leases(conn)
            if time.monotonic() - self._folded_at >= self.fold_seconds:
                frontier.fold_counts(conn)
                self._folded_at = time.monotonic()
        room = min(self.batch, self.max_outstanding - self._outstanding)
        sent: list[int] = []
        try:
            while room > 0:
                # claim_due hands out at most one URL per host per call (the host's next
                # slot moves on), so loop until no host has budget left this instant.
                claims = frontier.claim_due(conn, limit=room, lease_seconds=self.lease_seconds,
                                            owner=owner, sites=self.sites)
                if not claims:
                    out.drained = True
                    break
                for claim in claims:
                    self.enqueue_fetch(claim.url_id, owner)
                    sent.append(claim.url_id)
                room -= len(claims)
            out.claimed = len(sent)
            self._outstanding += len(sent)
            stale = fleet_db.claim_stale_pages(conn, older_than_seconds=self.lease_seconds,
                                               limit=self.batch) if housekeeping else []
            for page_id in stale:
                self.enqueue_process(page_id)
                out.pages_requeued += 1
        except psycopg.Error:
            raise
        except Exception as exc:  # the broker refused: give the leases back now
            released = frontier.release_owners(conn, [owner])
            out.claimed, out.send_failed = len(sent), True
            log.warning("could not enqueue (broker unavailable?); leases released",
                        extra={"error": f"{type(exc).__name__}: {exc}"[:300], "released": released,
                               "owner": owner})
        if out.reaped or out.pages_requeued:
            log.info("recovered lost work", extra={"claimed": out.claimed, "reaped": out.reaped,
                                          "pages_requeued": out.pages_requeued, "owner": owner})
        return out

    def _idle_seconds(self) -> float:
        try:
            until = frontier.seconds_until_due(self._connection(), sites=self.sites)
        except _UNREACHABLE:
            self.close()
            return self.idle_sleep
        if until is None or until < 0.005:
            # "due now" right after a round that claimed nothing: the due hosts are at their
            # concurrency limit; a fetch ending wakes the wait (`_wait`, LEASE_FREED_CHANNEL)
            return self.idle_sleep
        return min(self.idle_sleep, until)

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        """Sleep up to `seconds`, waking early when a lease ends (LEASE_FREED_CHANNEL): the
        dispatcher neither spins while hosts are at their concurrency limit nor leaves a
        freed slot idle until its next poll."""
        try:
            conn = self._connection()
            for _ in conn.notifies(timeout=min(seconds, 1.0), stop_after=1):
                pass
            while conn.pgconn.notifies() is not None:  # several ended at once: one round serves all
                pass
        except _UNREACHABLE:  # the next round counts and logs the outage
            self.close()
            stop.wait(min(seconds, 1.0))

    # -- the loop --------------------------------------------------------------------
    def run(self, stop: threading.Event, *, until_settled: bool = False, linger_seconds: float = 15.0,
            on_round: Callable[[DispatchRound], None] | None = None) -> DispatchTotals:
        """Dispatch until `stop` is set (or, with `until_settled`, the crawl is over: nothing
        leased, no page waiting, nothing due within `linger_seconds` — the in-process
        runner's rule, so both paths stop at the same point).

        Never raises for an unavailable database or broker: it logs, backs off and
        tries again, because the fleet resumes from PostgreSQL whatever happened.
        """
        failures = 0
        last_housekeeping = 0.0
        while not stop.is_set():
            try:
                now = time.monotonic()
                chores = now - last_housekeeping >= self.housekeeping_seconds
                r = self.run_once(housekeeping=chores)
                if chores:
                    last_housekeeping = now
                failures = 0
            except psycopg.Error as exc:
                failures += 1
                self.totals.errors += 1
                self.close()
                log.warning("PostgreSQL unavailable; dispatcher retrying",
                            extra={"error": str(exc).strip().splitlines()[0][:200] if str(exc).strip() else
                                   type(exc).__name__})
                stop.wait(min(5.0, 0.2 * 2 ** min(failures, 5)))
                continue
            except Exception as exc:  # DatabaseUnavailable from connect, and anything unforeseen
                failures += 1
                self.totals.errors += 1
                self.close()
                log.warning("dispatcher round failed; retrying", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
                stop.wait(min(5.0, 0.2 * 2 ** min(failures, 5)))
                continue
            self.totals.add(r)
            if on_round is not None:
                on_round(r)
            if r.send_failed:
                stop.wait(1.0)
                continue
            idle = r.claimed == 0 and r.pages_requeued == 0
            if idle and until_settled and chores and self.settled(linger_seconds):
                break
            # a round that sent everything due waits like an empty one: another round now
            # would only claim nothing (at a polite rate, two extra claim queries per document)
            if idle or r.drained:
                self._wait(stop, self._idle_seconds())
        self.close()
        return self.totals

    def settled(self, linger_seconds: float = 0.0) -> bool:
        try:
            conn = self._connection()
            status = fleet_db.fleet_status(conn, sites=self.sites)
            if status.leased or status.awaiting_process:
                return False
            until = frontier.seconds_until_due(conn, sites=self.sites)
            return until is None or until > linger_seconds
        except _UNREACHABLE:
            self.close()
            return False
