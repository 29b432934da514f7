"""What a crawl did, per site: the table `crawl` and `demo` print, whichever executor ran.

The in-process runner counts its own work as it goes; the fleet's workers are other
processes, so `workers.fleet.supervisor.crawl_with_fleet` reads the same figures back
from PostgreSQL (`db.fleet.run_counts`). Both end in a `CrawlResult`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import psycopg

from govingest.db import frontier, reader
from govingest.stats import Stats


@dataclass
class SiteSummary:
    site: str
    fetched: int = 0  # HTTP responses for pages (robots.txt not counted)
    not_modified: int = 0
    stored: int = 0
    documents: int = 0  # documents of the site in the database
    facts: int = 0
    created: int = 0  # documents created or updated by this run
    errors: Counter[str] = field(default_factory=Counter)  # by error kind, this run
    dialects: dict[str, int] = field(default_factory=dict)  # articles found, by list dialect (all runs)


@dataclass
class CrawlResult:
    sites: dict[str, SiteSummary]
    stats: Stats
    seconds: float
    requests: int

    @property
    def pages_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def fill_totals(conn: psycopg.Connection, summaries: dict[str, SiteSummary]) -> None:
    """The sites' stored documents and facts (all runs), read at the end of a crawl."""
    for site, (docs, facts) in frontier.document_totals(conn, list(summaries)).items():
        summaries[site].documents = docs
        summaries[site].facts = facts
    for site, counts in reader.articles_by_dialect(conn, list(summaries)).items():
        summaries[site].dialects = counts
    conn.commit()


def format_summary(result: CrawlResult) -> str:
    """The per-site table `crawl` and `demo` print."""
    header = ("site", "fetched", "304", "stored", "new/changed docs", "documents", "facts", "errors by kind")
    rows = [header]
    for s in result.sites.values():
        errors = ", ".join(f"{k}={v}" for k, v in sorted(s.errors.items())) or "-"
        rows.append((s.site, str(s.fetched), str(s.not_modified), str(s.stored), str(s.created),
                     str(s.documents), str(s.facts), errors))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1] for r in rows]
    lines.append(f"{result.requests} requests in {result.seconds:.1f}s ({result.pages_per_second:.1f}/s)")
    found = [(s.site, s.dialects) for s in result.sites.values() if s.dialects]
    if found:
        lines.append("articles found, by the list dialect of the page that linked them:")
        width = max(len(site) for site, _ in found)
        for site, counts in found:
            lines.append(f"  {site.ljust(width)}  " + ", ".join(f"{d}={n}" for d, n in sorted(counts.items())))
    return "\n".join(lines)
