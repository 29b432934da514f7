"""When to fetch each list page again: its change rate, the site's list budget, the bounds.

Why not a fixed interval: a column that publishes ten notices a day and one that
publishes one a year cost the same and are as stale as each other. Here each list page
carries an estimate of how many new articles appear on it per second, and the site's
list budget (requests per hour) is shared out so that the expected delay until a new
article is seen, summed over articles, is smallest.

The estimator (docs/operations.md, "List schedules"): each fetch of a list page is an
observation: `new` article links it had not seen, over the `elapsed` seconds since the
fetch before. Both are added to two running sums that fade with a half-life, and the
rate is (events + a) / (window + b): a gamma posterior mean for a Poisson rate, the
prior (a, b) standing for "half an article a day" until evidence arrives. Two such
pairs are kept, a long view (three days) and a short one (an hour), and the larger
rate wins, so a column that wakes up is believed within a fetch or two. ETag /
Last-Modified answers (304) and unchanged bodies are observations of zero.

The allocation: a page fetched every I seconds whose articles arrive at rate λ waits
I/2 on average per article, so the total delay per second is Σ λ_i I_i / 2; spending
at most B requests per second (Σ 1/I_i = B) it is smallest when I_i ∝ 1/√λ_i (a
Lagrange multiplier). Busy columns are visited often, quiet ones rarely, but never
never: a column 100× quieter is fetched 10× less often, not 100×. Intervals are
clamped to the site's [min_list_interval, max_list_interval] and the multiplier is
found so the clamped intervals still spend the budget.

Catching up: the short view makes a column that wakes up busy at its first fetch
with new articles. (Halving the interval on every change, as Nutch's adaptive schedule
does, was measured worse: a busy column finds something new nearly every time, so its
interval collapses to the minimum, overspends the budget, and the budget's cap then
delays every other list; bench/freshness.py.)

Pure: numbers in, numbers out; db/frontier.py stores the sums, workers/stages/fetch.py
asks for the interval.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

HALF_LIFE = 3 * 86400.0  # the long view: an observation's weight halves in three days
PRIOR_EVENTS = 0.5  # before any evidence: half an article …
PRIOR_WINDOW = 86400.0  # … per day
FAST_HALF_LIFE = 3600.0  # the short view: what the last hours say (a column waking up)
FAST_PRIOR_WINDOW = 1800.0  # one article in a few minutes is not taken for a torrent
HOST_SHARE = 0.5  # list pages may take at most this share of the host's requests

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Observation:
    """A list page's decayed evidence, new articles seen over seconds watched, in a long
    view (half-life HALF_LIFE) and a short one (FAST_HALF_LIFE)."""

    events: float = 0.0
    window: float = 0.0
    fast_events: float = 0.0
    fast_window: float = 0.0

    def add(self, new: int, elapsed: float) -> Observation:
        """This observation after a fetch that found `new` articles `elapsed` seconds after
        the fetch before."""
        elapsed, new = max(0.0, elapsed), max(0, new)
        keep, fast_keep = 0.5 ** (elapsed / HALF_LIFE), 0.5 ** (elapsed / FAST_HALF_LIFE)
        return Observation(self.events * keep + new, self.window * keep + elapsed,
                           self.fast_events * fast_keep + new, self.fast_window * fast_keep + elapsed)

    @property
    def rate(self) -> float:
        """Estimated new articles per second: the long view, or the short one when the
        last hours say more (a quiet column that starts publishing is believed at once;
        a busy one that falls silent is believed only as the long view fades)."""
        slow = (self.events + PRIOR_EVENTS) / (self.window + PRIOR_WINDOW)
        return max(slow, self.fast_events / (self.fast_window + FAST_PRIOR_WINDOW))


def allocate(rates: Mapping[K, float], per_hour: float, low: float, high: float) -> dict[K, float]:
    """Interval (seconds) per page: ∝ 1/√rate, clamped to [low, high], spending `per_hour`
    requests an hour between them (as close as the bounds allow)."""
    if not rates:
        return {}
    budget = per_hour / 3600.0
    roots = {k: math.sqrt(max(r, 1e-12)) for k, r in rates.items()}

    def spend(c: float) -> float:
        return sum(1.0 / min(high, max(low, c / s)) for s in roots.values())

    lo_c, hi_c = 1e-9, 1e15  # spend(c) falls as c grows: find spend(c) = budget by bisection on log c
    for _ in range(80):
        mid = math.sqrt(lo_c * hi_c)
        if spend(mid) > budget:
            lo_c = mid
        else:
            hi_c = mid
    return {k: min(high, max(low, hi_c / s)) for k, s in roots.items()}


def list_budget(per_hour: float | None, pages: int, fixed_interval: float, host_rate: float) -> float:
    """List requests an hour the schedule may spend: the site's `list_requests_per_hour`,
    else what the fixed schedule would spend on these pages, never more than HOST_SHARE of
    the host's rate (articles need the rest)."""
    implicit = pages * 3600.0 / fixed_interval
    return min(per_hour if per_hour is not None else implicit, HOST_SHARE * host_rate * 3600.0)


def next_interval(page: K, rates: Mapping[K, float], *, per_hour: float, low: float, high: float) -> float:
    """The interval until `page` is fetched again, given every list page's rate on the site."""
    return allocate(rates, per_hour, low, high)[page]
