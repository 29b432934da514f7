"""Freshness: how long until a published article is in the feed, fixed vs adaptive list schedule.

    .venv/bin/python bench/freshness.py [--seeds 5] [--warmup-days 7] [--tod]

A fixture site of columns with different publishing rates — a few busy ones, many
quiet ones, and one that wakes up (nearly silent for a week, then busy from 10:00 on
the measured day) — publishes on a simulated clock, mostly in Beijing office hours. The
crawler's list schedule runs against it twice at the same list budget:

* fixed: every list page every `recrawl_list_seconds` (3600), pages staggered;
* adaptive: the production scheduler, `crawler.schedule` (change-rate estimate per
  page, square-root allocation of the site's budget, bounds, catch-up on change), with
  the site's bounds read by `crawler.config` from a sites-file table, and the hard
  `list_requests_per_hour` cap claim_due applies (a token bucket, as migration 0090's
  list_tokens_now / spend_list_token).

For each article published on the measured day it records the delay from publication
until its `created` event: the list fetch that reveals it, then the article's own
request in the host's next politeness slot (1/rate apart, shared by lists and
articles), then processing (PROCESS_SECONDS). Requests are every list and article
request of the measured day. A week of warm-up before it gives the estimator the
history a running service has (nothing of the warm-up is counted).

What this does not exercise: HTTP, PostgreSQL and the workers (a day would not run in
minutes through them); the fetch stage calls the same `crawler.schedule` functions with
the sums db.frontier keeps, and tests/crawler cover that path. `--tod` also runs the
adaptive schedule with an office-hours budget profile (more of the day's budget in
Beijing office hours) to measure whether time of day helps.

Ends with `fixed_p95_s=… adaptive_p95_s=… requests_fixed=… requests_adaptive=…`.
"""
from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govingest.crawler import schedule  # noqa: E402
from govingest.crawler.config import SiteConfig, parse_site  # noqa: E402

DAY = 86400.0
HOUR = 3600.0
PROCESS_SECONDS = 1.0  # parse and store one article (bench/store.py measures far less)
LIST_SIZE = 20  # articles a list page shows, newest first
TAIL = 3 * HOUR  # the crawl runs on past the measured day until its last articles are found
SITE = {"name": "fresh", "start_urls": ["https://www.example.gov.cn/"], "rate": 1.0,
        "recrawl_list_seconds": 3600, "min_list_interval": 300, "max_list_interval": 5400}
# (group, columns, articles a day each while awake)
BUSY = [("busy", 1, r) for r in (40.0, 30.0, 20.0, 12.0)]
QUIET = [("quiet", 40, 0.05)]
WAKES_AT = 10 * HOUR  # the waking column: one article in 50 days, then 30 a day from 10:00 of the measured day


def office_weight(t: float) -> float:
    """Relative publishing intensity at simulated time t (Beijing time, seconds since 00:00 of day 0):
    government notices appear mostly 08:30–12:00 and 14:00–18:00 on weekdays."""
    h = (t % DAY) / HOUR
    if 8.5 <= h < 12 or 14 <= h < 18:
        return 5.0
    if 7 <= h < 8.5 or 12 <= h < 14 or 18 <= h < 21:
        return 1.0
    return 0.2


_MEAN_WEIGHT = sum(office_weight(m * 60.0) for m in range(1440)) / 1440


@dataclass
class Column:
    name: str
    group: str
    rate_per_day: Callable[[float], float]  # articles a day at time t (before the office profile)
    published: list[float] = field(default_factory=list)


def build_columns(warmup: float, rng: random.Random) -> list[Column]:
    cols: list[Column] = []
    for group, n, rate in BUSY + QUIET:
        for _ in range(n):
            cols.append(Column(f"{group}{len(cols)}", group, lambda t, r=rate: r))
    cols.append(Column("wakes", "wakes", lambda t: 30.0 if t >= warmup + WAKES_AT else 0.02))
    return cols


def publish(cols: list[Column], end: float, rng: random.Random) -> None:
    """Poisson arrivals thinned by the office-hours profile (Lewis–Shedler)."""
    peak = 5.0 / _MEAN_WEIGHT
    for c in cols:
        t = 0.0
        top = max(c.rate_per_day(0.0), c.rate_per_day(end)) * peak / DAY
        while top > 0:
            t += rng.expovariate(top)
            if t >= end:
                break
            if rng.random() < c.rate_per_day(t) * office_weight(t) / _MEAN_WEIGHT / DAY / top:
                c.published.append(t)


@dataclass
class Run:
    delays: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # the column group of each delay
    list_requests: dict[str, int] = field(default_factory=dict)  # column -> list requests on the measured day
    article_requests: int = 0


class Host:
    """The host's politeness: one request start per 1/rate seconds, lists and articles alike."""

    def __init__(self, rate: float) -> None:
        self.gap, self.free = 1.0 / rate, 0.0

    def slot(self, t: float) -> float:
        start = max(t, self.free)
        self.free = start + self.gap
        return start


class Bucket:
    """`list_requests_per_hour` as claim_due applies it (list_tokens_now / spend_list_token, 0090)."""

    def __init__(self, per_hour: float) -> None:
        self.per_hour, self.tokens, self.at = per_hour, per_hour, 0.0

    def ready_at(self, t: float) -> float:
        tokens = min(self.per_hour, self.tokens + (t - self.at) * self.per_hour / HOUR)
        return t if tokens >= 1 else t + (1 - tokens) * HOUR / self.per_hour

    def spend(self, t: float) -> None:
        self.tokens = min(self.per_hour, self.tokens + (t - self.at) * self.per_hour / HOUR) - 1
        self.at = t


def simulate(cols: list[Column], site: SiteConfig, start: float, end: float, *, adaptive: bool,
             tod: bool = False) -> Run:
    run = Run()
    host = Host(site.rate)
    n = len(cols)
    fixed = float(site.recrawl_list_seconds)
    per_hour = schedule.list_budget(site.list_requests_per_hour, n, fixed, site.rate)
    bucket = Bucket(site.list_requests_per_hour or per_hour)  # (fixed: not applied)
    low, high = site.list_bounds
    obs = {i: schedule.Observation() for i in range(n)}
    seen_upto = dict.fromkeys(range(n), 0.0)  # articles published before this were seen
    last_fetch = dict.fromkeys(range(n), 0.0)
    due = [(fixed * i / n, i) for i in range(n)]  # staggered first visits
    heapq.heapify(due)
    while due:
        t, i = heapq.heappop(due)
        if t >= end + TAIL:
            break
        if adaptive and not tod:  # (with --tod the cap would have to follow the profile too)
            ready = bucket.ready_at(t)
            if ready > t:
                heapq.heappush(due, (ready, i))
                continue
            bucket.spend(t)
        t = host.slot(t)
        col = cols[i]
        new = [p for p in col.published if seen_upto[i] <= p < t][-LIST_SIZE:]
        if start <= t < end:
            run.list_requests[col.name] = run.list_requests.get(col.name, 0) + 1
        for p in new:
            fetched = host.slot(t + 0.01)
            if p >= start:
                run.delays.append(fetched + PROCESS_SECONDS - p)
                run.groups.append(col.group)
            if p >= start:  # each article of the measured day is requested once, in either schedule
                run.article_requests += 1
        seen_upto[i] = t
        if adaptive:
            obs[i] = obs[i].add(len(new), t - last_fetch[i]) if last_fetch[i] else obs[i]
            rates = {k: o.rate for k, o in obs.items()}
            budget = per_hour * (office_weight(t) / _MEAN_WEIGHT if tod else 1.0)
            nxt = schedule.next_interval(i, rates, per_hour=budget, low=low, high=high)
        else:
            nxt = fixed
        last_fetch[i] = t
        heapq.heappush(due, (t + nxt, i))
    return run


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))] if s else float("nan")


def report(label: str, run: Run, cols: list[Column]) -> dict[str, float]:
    groups: dict[str, list[int]] = {}
    for c in cols:
        groups.setdefault(c.group, []).append(run.list_requests.get(c.name, 0))
    per_col = {g: sum(v) / len(v) for g, v in groups.items()}
    by_group = {g: [d for d, gg in zip(run.delays, run.groups, strict=True) if gg == g] for g in groups}
    lists = sum(run.list_requests.values())
    print(f"{label:9s} articles={len(run.delays)} delay p50={pct(run.delays, 0.5):.0f}s "
          f"p95={pct(run.delays, 0.95):.0f}s max={max(run.delays):.0f}s  requests={lists + run.article_requests} "
          f"(lists {lists}, articles {run.article_requests})  list requests per column: "
          + ", ".join(f"{g} {v:.1f}" for g, v in per_col.items())
          + "  delay p95 by group: " + ", ".join(f"{g} {pct(v, 0.95):.0f}s ({len(v)})" for g, v in by_group.items()))
    return {"p95": pct(run.delays, 0.95), "requests": lists + run.article_requests,
            "busy": per_col["busy"], "quiet": per_col["quiet"]}


def merge(runs: list[Run]) -> Run:
    """Several simulated days as one: delays pooled, requests summed."""
    out = Run()
    for r in runs:
        out.delays += r.delays
        out.groups += r.groups
        out.article_requests += r.article_requests
        for k, v in r.list_requests.items():
            out.list_requests[k] = out.list_requests.get(k, 0) + v
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5, help="independent measured days, pooled (default 5)")
    ap.add_argument("--warmup-days", type=float, default=7.0)
    ap.add_argument("--tod", action="store_true", help="also measure an office-hours budget profile")
    args = ap.parse_args()
    start = args.warmup_days * DAY
    end = start + DAY
    # the adaptive schedule's hard cap: one request an hour under what the fixed schedule spends
    fixed_per_hour = (len(BUSY) + QUIET[0][1] + 1) * HOUR / SITE["recrawl_list_seconds"]
    site = parse_site({**SITE, "list_requests_per_hour": fixed_per_hour - 1}, "bench")
    low, high = site.list_bounds
    runs: dict[str, list[Run]] = {"fixed": [], "adaptive": [], "adapt+tod": []}
    published = 0
    for seed in range(1, args.seeds + 1):
        rng = random.Random(seed)
        cols = build_columns(start, rng)
        publish(cols, end, rng)
        published += sum(1 for c in cols for p in c.published if p >= start)
        runs["fixed"].append(simulate(cols, site, start, end, adaptive=False))
        runs["adaptive"].append(simulate(cols, site, start, end, adaptive=True))
        if args.tod:
            runs["adapt+tod"].append(simulate(cols, site, start, end, adaptive=True, tod=True))
    print(f"site: {len(cols)} list pages ({len(BUSY)} busy, {QUIET[0][1]} quiet, 1 waking at "
          f"{WAKES_AT / HOUR:.0f}:00), adaptive list budget {site.list_requests_per_hour:.0f}/h "
          f"(fixed spends {fixed_per_hour:.0f}/h), "
          f"bounds {low:.0f}-{high:.0f}s, host rate {site.rate}/s; {args.seeds} measured days (seeds 1-{args.seeds}) "
          f"after {args.warmup_days:g} days of warm-up each, {published} articles")
    fixed = report("fixed", merge(runs["fixed"]), cols)
    adaptive = report("adaptive", merge(runs["adaptive"]), cols)
    if args.tod:
        report("adapt+tod", merge(runs["adapt+tod"]), cols)
    print(f"goal: adaptive p95 <= fixed/2: {adaptive['p95'] <= fixed['p95'] / 2}; "
          f"no more requests: {adaptive['requests'] <= fixed['requests']}; "
          f"quiet columns {adaptive['busy'] / max(adaptive['quiet'], 1e-9):.1f}x cheaper than busy (goal >= 5)")
    print(f"fixed_p95_s={fixed['p95']:.0f} adaptive_p95_s={adaptive['p95']:.0f} "
          f"requests_fixed={fixed['requests']} requests_adaptive={adaptive['requests']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
