"""Per-host politeness budget: how often and how many at once a host may be asked.

Why this is computed, not configured once: the site's `rate` is our own ceiling, but a
host's robots.txt Crawl-delay can only make it slower. The frontier applies the
result when it hands out URLs (db.frontier.claim_due), so no worker ever sleeps.
"""
from __future__ import annotations

import random
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
        # Crawl-delay: at least this far apart; requests may still overlap when the
        # server is slower than the delay (the rate, not the overlap, is what it asks)
        interval = max(interval, crawl_delay)
    return Budget(interval=interval, concurrency=max(1, concurrency))


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 3600.0,
                    rng: random.Random | None = None) -> float:
    """Delay before retry number `attempt` (1-based): exponential with full jitter.

    Why jitter: many URLs of one host fail together (the host is down); without
    jitter they all come back at the same instant and knock it over again.
    """
    r = rng or random
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return float(ceiling / 2 + r.uniform(0, ceiling / 2))
