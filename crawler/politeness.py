"""Per-host politeness budget: how often and how many at once a host may be asked.

Why this is computed, not configured once: the site's `rate` is our own ceiling, but a
host's robots.txt Crawl-delay can only make it slower. The frontier applies the
result when it hands out URLs (db.frontier.claim_due), so no worker ever sleeps.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    interval: float  # minimum seconds between two requests to the host
    concurrency: int  # requests in flight at once

    @property
    def rate(self) -> float:
        return 1.0 / self.interval if self.interval > 0 else float("inf")


def budget(rate: float, concurrency: int, crawl_delay: float | None) -> Budget:
    interval = 1.0 / rate
    if crawl_delay:
        # Crawl-delay: at least this far apart, and one request in flight at a time (a
        # site that asks us to wait between requests does not want them overlapping)
        return Budget(interval=max(interval, crawl_delay), concurrency=1)
    return Budget(interval=interval, concurrency=max(1, concurrency))


# A worker waiting for a host's previous request to be answered asks again after this,
# then twice as long each time, up to half the host's interval (at most MAX_SLOT_POLL).
SLOT_POLL_SECONDS = 0.02
MAX_SLOT_POLL_SECONDS = 0.5
# A reserved slot further away than this (or a host busy for longer) is not waited for:
# the URL goes back to due and is claimed again later.
MAX_SLOT_WAIT = 10.0


def slot_polls(interval: float) -> Iterator[float]:
    """Pauses between a waiting worker's asks while the host's previous request is out.

    Why doubling: a fixed 20 ms poll asked the database 50 times for each second a
    government server takes to answer, per waiting worker (a host allows 2 requests in
    flight by default, and the strict rule lets one out at a time: the other waits), so
    1,000 such hosts made 50,000 statements a second. Why capped at half the interval:
    the next request may start only one interval after the answer anyway, so an answer
    noticed up to half an interval late still leaves the start on time (take_slot
    returns the rest of the interval to wait).
    """
    cap = max(SLOT_POLL_SECONDS, min(MAX_SLOT_POLL_SECONDS, interval / 2))
    pause = SLOT_POLL_SECONDS
    while True:
        yield min(pause, cap)
        pause *= 2


class SlotDeferred(Exception):
    """The host's next request slot is too far away to wait for; `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the host's next request slot is {wait:.1f}s away")
        self.wait = wait


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 3600.0,
                    rng: random.Random | None = None) -> float:
    """Delay before retry number `attempt` (1-based): exponential with full jitter.

    Why jitter: many URLs of one host fail together (the host is down); without
    jitter they all come back at the same instant and knock it over again.
    """
    r = rng or random
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return float(ceiling / 2 + r.uniform(0, ceiling / 2))


class LocalSlots:
    """The frontier's send rule (db.frontier.take_slot) for one process talking to one host
    without a database (`govingest try`): a request starts one interval after the previous
    request's start and after its answer."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last_start: float | None = None
        self._last_answer: float | None = None

    def before_send(self, url: str) -> None:
        import time

        marks = [m + self.interval for m in (self._last_start, self._last_answer) if m is not None]
        wait = max(marks, default=0.0) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_start = time.monotonic()

    def after_response(self, url: str) -> None:
        import time

        self._last_answer = time.monotonic()
