"""`govingest status`: frontier counts by site and state, and the most recent errors.

A read-only command: it acts as govingest_reader and reads views only (db/reader.py),
never migrates, and says which migration is missing when the schema is older.
"""
from __future__ import annotations

import argparse
from collections import defaultdict

from govingest.db.connect import resolve_database_url
from govingest.db.fleet import FleetStatus
from govingest.db.reader import connect_reader
from govingest.workers.settings import Settings

STATES = ("new", "queued", "fetching", "done", "failed", "gone")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="frontier counts by site and state, and recent errors")
    p.add_argument("--errors", type=int, default=10, metavar="N", help="recent errors to show (default 10)")
    p.add_argument("--site", metavar="NAME", help="only this site's errors")
    p.add_argument("--lists", type=int, default=10, metavar="N",
                   help="list pages to show per site, busiest first (default 10)")
    p.set_defaults(func=run)


def frontier_table(counts: list[tuple[str, str, int]]) -> list[str]:
    by_site: dict[str, dict[str, int]] = defaultdict(dict)
    for site, state, n in counts:
        by_site[site][state] = n
    header = ["site", *STATES, "total"]
    rows = [header]
    for site in sorted(by_site):
        c = by_site[site]
        rows.append([site, *(str(c.get(s, 0)) for s in STATES), str(sum(c.values()))])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows]


def cap_warnings(full: list[tuple[str, int, int]]) -> list[str]:
    """One warning per site whose pending URLs fill its max_pages: links found now are dropped."""
    return [f"  warning: site {site!r} has {pending} URLs waiting, at its cap (max_pages = {cap}); links found "
            "now are dropped until some are fetched. Raise max_pages in the sites file, or look for a crawler "
            "trap: `SELECT url FROM v_urls WHERE site = '" + site + "' AND state = 'new' LIMIT 20`"
            for site, pending, cap in full]


# Parse outcomes a person acts on, shown by name: scans to OCR, script-filled pages to
# fetch from their API, attachments that could not be read.
_PARSE_KINDS = ("needs_ocr", "script_filled", "attachment_corrupt", "attachment_too_large",
                "attachment_encrypted", "attachment_unsupported", "parse")


def document_lines(kinds: dict[str, int], failures: list[tuple[str, str, int]],
                   backlog: tuple[int, float | None] = (0, None)) -> list[str]:
    """Documents by kind, then URLs whose content could not become a document, by why,
    then how far search indexing is behind."""
    lines = [f"documents: {kinds.get('article', 0)} articles, {kinds.get('attachment', 0)} attachments"]
    by_kind: dict[str, int] = defaultdict(int)
    for _site, kind, n in failures:
        by_kind[kind] += n
    shown = [f"{k} {by_kind[k]}" for k in _PARSE_KINDS if by_kind.get(k)]
    lines.append("not stored as documents: " + (", ".join(shown) if shown else "none"))
    queued, oldest = backlog
    lines.append(f"search index: {queued} documents waiting, oldest {_duration(oldest)}" if queued
                 else "search index: up to date")
    return lines


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def list_page_lines(pages: list[tuple], per_site: int) -> list[str]:
    """Each site's list pages (from v_list_pages): the interval the scheduler chose, the
    estimated new articles a day, the last change seen, when it is fetched next."""
    from govingest.crawler.schedule import Observation

    by_site: dict[str, list[tuple]] = defaultdict(list)
    for page in pages:
        by_site[page[0]].append(page)
    lines: list[str] = []
    for site, rows in sorted(by_site.items()):
        budget, total = rows[0][7], rows[0][8]
        lines.append(f"  {site}: {total} list pages, budget "
                     + (f"{budget:g} list requests/hour" if budget is not None else "not set (no hard cap)"))
        for _site, url, interval, events, window, changed, nxt, _budget, _total in rows[:per_site]:
            rate = Observation(events, window).rate * 86400
            when = changed.strftime("%Y-%m-%d %H:%M") if changed else "never"
            lines.append(f"    every {_duration(interval):>6}  ~{rate:.2f} new/day  last change {when}  "
                         f"next {nxt:%Y-%m-%d %H:%M}  {url}")
        if total > per_site:
            lines.append(f"    … and {total - per_site} more (SELECT * FROM v_list_pages WHERE site = '{site}')")
    return lines


def run(args: argparse.Namespace) -> int:
    from govingest.db import reader

    settings = Settings.from_env()
    with connect_reader(resolve_database_url(settings)) as conn:
        counts = reader.site_url_counts(conn)
        full = reader.sites_at_cap(conn)
        errors = reader.recent_errors(conn, args.errors, site=args.site)
        kinds = reader.document_kinds(conn)
        failures = reader.error_kinds(conn)
        backlog = reader.search_backlog(conn)
        hits = reader.rule_hits(conn, [args.site] if args.site else None)
        dialects = reader.articles_by_dialect(conn, sorted({c[0] for c in counts}))
        lists = reader.list_pages(conn, [args.site] if args.site else None, per_site=args.lists)
        from govingest.workers.fleet.supervisor import status_lines

        fleet = status_lines(conn, settings.redis_url, FleetStatus(*reader.fleet_row(conn)))
    if not counts:
        print("frontier is empty: run `govingest crawl --sites FILE` or `govingest demo`")
        return 0
    print("frontier (URLs by state)")
    for line in frontier_table(counts):
        print("  " + line)
    for line in cap_warnings(full):
        print(line)
    if dialects:
        print("\narticles found, by the list dialect of the page that linked them")
        for site in sorted(dialects):
            print(f"  {site}: " + ", ".join(f"{d}={n}" for d, n in sorted(dialects[site].items())))
    if lists:
        print("\nlist pages (schedule: docs/operations.md, \"List schedules\")")
        for line in list_page_lines(lists, args.lists):
            print(line)
    print("\nsite rules matched (sites file)" if hits else "\nno site rule has matched yet")
    for site, rule, n in hits:
        print(f"  {site}  {rule}  {n}")
    print()
    for line in document_lines(kinds, failures, backlog):
        print(line)
    print()
    print("\n".join(fleet))
    print(f"\nrecent errors ({len(errors)})" if errors else "\nno errors recorded")
    for site, url, status, kind, message, at in errors:
        when = at.strftime("%Y-%m-%d %H:%M:%S") if at else "-"
        print(f"  {when}  {site}  {kind}  HTTP {status if status is not None else '-'}  {url}\n      {message}")
    return 0
