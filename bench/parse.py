#!/usr/bin/env python3
"""Speed of the whole parse against bare trafilatura, side by side on the same pages.

    .venv/bin/python bench/parse.py [--rounds N] [--pages DIR]

Prints pages/s of `parsers.pipeline.parse` and of `trafilatura.extract` (what a naive
pipeline would run) on every fixture page, their time-per-page ratio (target: parse
≤ 1.5× trafilatura), and the share of parse time spent in normalize on the pages whose
text is all Simplified (target ≤ 5%: detection must make normalization nearly free
when there is nothing to convert). Both run in one process, interleaved round by
round, so machine load hits both alike; figures, not assertions, because the machine
is shared.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from govingest.parsers.model import ParseError  # noqa: E402
from govingest.parsers.pipeline import parse  # noqa: E402
from govingest.stats import Stats  # noqa: E402

DEFAULT_PAGES = ROOT / "tests" / "fixtures" / "real" / "html"


def _time_parse(bodies: list[bytes], stats: Stats) -> float:
    start = time.perf_counter()
    for body in bodies:
        try:
            parse(body, stats=stats)
        except ParseError:
            pass
    return time.perf_counter() - start


def _time_trafilatura(bodies: list[bytes]) -> float:
    start = time.perf_counter()
    for body in bodies:
        trafilatura.extract(body, include_tables=True, include_comments=False)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=Path, default=DEFAULT_PAGES, help="folder of saved pages (*.html)")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the pages (interleaved)")
    a = ap.parse_args()
    files = sorted(a.pages.glob("*.html"))
    if not files:
        print(f"bench/parse.py: no *.html pages in {a.pages}; pass --pages DIR", file=sys.stderr)
        return 2
    bodies = [f.read_bytes() for f in files]

    # pages whose text has nothing to convert: normalization should cost ≈ nothing there
    simplified: list[bytes] = []
    for body in bodies:
        try:
            if parse(body).script == "hans":
                simplified.append(body)
        except ParseError:
            pass

    ours = theirs = 0.0
    stats = Stats()
    for _ in range(a.rounds):  # warm-up included in round 1 for both alike
        theirs += _time_trafilatura(bodies)
        ours += _time_parse(bodies, stats)
    simp_stats = Stats()
    for _ in range(a.rounds):
        _time_parse(simplified, simp_stats)

    n = len(bodies) * a.rounds
    print(f"pages: {len(bodies)} x {a.rounds} rounds")
    print(f"govingest parse:      {n / ours:8.1f} pages/s  ({1000 * ours / n:7.2f} ms/page)")
    print(f"trafilatura.extract:  {n / theirs:8.1f} pages/s  ({1000 * theirs / n:7.2f} ms/page)")
    print(f"ratio parse/trafilatura time per page: {ours / theirs:.2f}  (target <= 1.5)")
    total = sum(simp_stats.seconds.values())
    share = simp_stats.seconds["normalize"] / total if total else 0.0
    print(f"normalize share of parse time on {len(simplified)} all-Simplified pages: {100 * share:.1f}%  (target <= 5%)")
    stages = ", ".join(f"{k} {1000 * v / n:.2f}" for k, v in sorted(stats.seconds.items(), key=lambda kv: -kv[1]))
    print(f"ms/page by stage: {stages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
