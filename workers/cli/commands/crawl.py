"""`govingest crawl [--sites FILE] [--site NAME]`: crawl configured sites in this process.

Exit status: 0 when every site stored what it should; 3 (EXIT_INCOMPLETE) when a site
failed entirely or has no document at all, after printing the summary and one line per
such site on stderr. Why not 0 with a table: cron, CI and Kubernetes Jobs read the exit
status, not the table, and a site that moved or blocks us must not look like a success.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from govingest.crawler.config import ConfigError, SiteConfig, load_sites
from govingest.db.connect import resolve_database_url
from govingest.workers.cli import EXIT_CODES_HELP, EXIT_INCOMPLETE, UserError
from govingest.workers.settings import Settings

if TYPE_CHECKING:
    from govingest.workers.stages.summary import CrawlResult


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("crawl", help="crawl the configured sites in this process, then print a per-site summary",
                       epilog=EXIT_CODES_HELP
                       + "\n\n3 means: every request of a site failed this run (no page stored, none unchanged),\n"
                         "or a site has no document at all (check its start_urls and article_patterns).",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sites", metavar="FILE", help="sites file (TOML); default GOVINGEST_SITES or ./sites.toml")
    p.add_argument("--site", action="append", metavar="NAME", help="crawl only this site (repeatable)")
    p.add_argument("--threads", type=int, help="fetch threads, one database connection each "
                   "(default: sum of per-host concurrency + 4, at most 32)")
    p.add_argument("--recrawl", action="store_true",
                   help="make every known URL of the sites due now (conditional GETs for unchanged pages)")
    p.add_argument("--linger", type=float, default=15.0, metavar="SECONDS",
                   help="finish when nothing is due within this many seconds (default 15)")
    p.add_argument("--forever", action="store_true",
                   help="keep running: re-fetch list pages on their schedule (recrawl_list_seconds) until stopped")
    p.add_argument("--max-seconds", type=float, metavar="SECONDS", help="stop after this long")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="crawl on a local Celery fleet of N process workers plus a fetch worker "
                        "(embedded Redis when REDIS_URL is unset); default 0: in this process")
    p.set_defaults(func=run)


def select_sites(path: str, names: list[str] | None) -> list[SiteConfig]:
    """Sites of the file, narrowed to `names`; UserError naming what is wrong."""
    try:
        sites = load_sites(path)
    except ConfigError as exc:
        raise UserError(str(exc)) from exc
    if names:
        known = {s.name for s in sites}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UserError(f"no site named {', '.join(map(repr, unknown))} in {path}; "
                            f"sites there: {', '.join(sorted(known))}")
        sites = [s for s in sites if s.name in names]
    return sites


def site_problems(result: CrawlResult) -> list[str]:
    """One sentence per site that failed entirely or stored nothing it should have.

    Failed entirely: this run stored no page, got no 304, and had at least as many errors
    as responses (a site that is down, blocks us, or moved). Stored nothing: the site has
    no document in the database after the crawl, even if every request succeeded (a start
    URL that lists nothing, article_patterns that match no link).
    """
    out = []
    for s in result.sites.values():
        errors = sum(s.errors.values())
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(s.errors.items()))
        if errors and not s.stored and not s.not_modified and errors >= s.fetched:
            out.append(f"site {s.site!r} failed entirely: {errors} request(s) ended in errors ({kinds}) and none "
                       "succeeded; check that the site is up and reachable from here (`govingest status` lists "
                       "each URL's last error)")
        elif not s.documents:
            what = f"{s.fetched} page(s) fetched" + (f", errors: {kinds}" if errors else "")
            out.append(f"site {s.site!r} has no document ({what}); check its start_urls and that its "
                       "article_patterns match the article links of its list pages")
    return out


def run(args: argparse.Namespace) -> int:
    from govingest.workers.local.runner import Progress, crawl
    from govingest.workers.stages.summary import format_summary

    settings = Settings.from_env()
    sites = select_sites(args.sites or settings.sites_file, args.site)
    if args.workers and not settings.redis_url and not settings.embedded:
        raise UserError("REDIS_URL is not set and embedded servers are off (GOVINGEST_EMBEDDED=false): set "
                        "REDIS_URL for --workers, or crawl in this process without --workers")
    url = resolve_database_url(settings)
    if args.workers:
        from govingest.workers.fleet.supervisor import crawl_with_fleet

        if args.forever:
            raise UserError("--forever runs the in-process crawler; a standing fleet is "
                            "`govingest dispatch` plus `celery -A govingest.workers.fleet.app worker` processes")

        result = crawl_with_fleet(url, sites, workers=args.workers, redis_url=settings.redis_url,
                                  linger_seconds=args.linger, max_seconds=args.max_seconds,
                                  recrawl=args.recrawl)
    else:
        linger = float("inf") if args.forever else args.linger
        result = crawl(url, sites, threads=args.threads, linger_seconds=linger,
                       max_seconds=args.max_seconds, recrawl=args.recrawl, progress=Progress())
    print(format_summary(result))
    sys.stdout.flush()
    problems = site_problems(result)
    for line in problems:
        print(f"govingest crawl: {line}", file=sys.stderr)
    return EXIT_INCOMPLETE if problems else 0
