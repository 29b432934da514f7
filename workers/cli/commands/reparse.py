"""`govingest reparse`: rebuild documents from stored raw pages with this parser."""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, datetime

from govingest.db.connect import connect_migrated
from govingest.db.pages import latest_page_ids
from govingest.stats import Stats
from govingest.workers.cli import iso_date
from govingest.workers.settings import Settings
from govingest.workers.stages.process import process_pages

BATCH = 100


def _since(value: str) -> datetime:
    return datetime.combine(iso_date(value), datetime.min.time(), tzinfo=UTC)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reparse", help="re-run parse on stored pages; write only documents whose output changed")
    p.add_argument("--site", help="only this site's pages")
    p.add_argument("--since", type=_since, metavar="DATE", help="only pages fetched on or after DATE (YYYY-MM-DD)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    conn = connect_migrated(Settings.from_env())
    counts: Counter[str] = Counter()
    stats = Stats()
    with conn:
        page_ids = latest_page_ids(conn, site=args.site, since=args.since)
        with tqdm(total=len(page_ids), unit="page", file=sys.stderr, disable=None, desc="reparse") as bar:
            for start in range(0, len(page_ids), BATCH):
                chunk = page_ids[start:start + BATCH]
                for out in process_pages(conn, chunk, stats=stats, batch_size=BATCH):
                    counts[out.kind] += 1
                bar.update(len(chunk))
    print(f"reparsed {len(page_ids)} page(s): " + ", ".join(
        f"{k} {counts[k]}" for k in ("created", "updated", "unchanged", "failed", "skipped")))
    return 0
