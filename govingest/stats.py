"""Counters and timers each stage keeps, after datatrove's `stat_update`/`track_time`.

A `Stats` travels with one unit of work (a document, a crawl, a batch); stages call
`stats.update("name")` for what they did and wrap their work in `stats.track("stage")`.
The runner merges them into a summary and the workers export them as metrics.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Stats:
    counts: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def update(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    @contextmanager
    def track(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start

    def merge(self, other: Stats) -> Stats:
        self.counts.update(other.counts)
        for stage, seconds in other.seconds.items():
            self.seconds[stage] += seconds
        return self

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {"counts": dict(self.counts), "seconds": {k: round(v, 6) for k, v in self.seconds.items()}}
