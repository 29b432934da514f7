"""`govingest try URL [--site NAME]`: fetch one page politely and show how govingest reads it.

The `scrapy shell` of this project: what a person needs to write a sites-file entry in
minutes. robots.txt is fetched first and honoured (a disallowed URL is not fetched), and
the page waits for the host's interval after it (the larger of 1/rate and Crawl-delay).
Then it shows the list dialect detected, the article / pager / attachment links found,
how the body was extracted (container or fallback, flags), the first lines of text and
the metadata, and which of the site's rules matched. No database.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from govingest.crawler.config import ConfigError, SiteConfig, load_sites, parse_site
from govingest.workers.cli import UserError
from govingest.workers.settings import Settings

SHOW_LINKS = 8
SHOW_LINES = 12


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("try", help="fetch one page politely and show its dialect, links, extraction and "
                                   "matched site rules (no database)")
    p.add_argument("url", metavar="URL")
    p.add_argument("--site", metavar="NAME", help="apply this site's rules from the sites file "
                   "(default: the site whose allowed hosts include the URL's host, if any)")
    p.add_argument("--sites", metavar="FILE", help="sites file (default GOVINGEST_SITES or ./sites.toml)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS", help="per request (default 20)")
    p.set_defaults(func=run)


def pick_site(url: str, path: str, name: str | None) -> SiteConfig:
    """The named site, else the site whose hosts include the URL's, else defaults for the URL."""
    from govingest.crawler.urls import host_key

    sites: list[SiteConfig] = []
    if name is not None or Path(path).exists():
        try:
            sites = load_sites(path)
        except ConfigError as exc:
            raise UserError(str(exc)) from exc
    if name is not None:
        for s in sites:
            if s.name == name:
                return s
        raise UserError(f"no site named {name!r} in {path}; sites there: {', '.join(s.name for s in sites)}")
    host = host_key(url)
    for s in sites:
        if host in s.allowed_hosts:
            return s
    try:
        return parse_site({"name": "try", "start_urls": [url]}, "govingest try")
    except ConfigError as exc:
        raise UserError(f"{url!r} is not an http(s) URL with a host") from exc


def examine(url: str, site: SiteConfig, *, timeout: float = 20.0) -> dict[str, Any]:
    """Fetch `url` as the crawler would (robots first, politely) and read it; a report dict."""
    from govingest.crawler.client import make_client
    from govingest.crawler.fetch import fetch, is_html_type
    from govingest.crawler.politeness import LocalSlots, budget
    from govingest.crawler.robots import ROBOTS_MAX_BYTES, rules_from_response
    from govingest.crawler.urls import canonicalize, in_scope

    canon = canonicalize(url)
    if canon is None:
        raise UserError(f"{url!r} is not a URL govingest can fetch (http or https, with a host)")
    report: dict[str, Any] = {"url": canon, "site": site.name, "rules_matched": {}}
    scope: Callable[[str], bool] = lambda u: in_scope(u, site)
    if not scope(canon):
        raise UserError(f"{canon} is outside site {site.name!r} (allowed hosts: {', '.join(site.allowed_hosts)}); "
                        "pass --site NAME of the site it belongs to")
    denied = site.denied_by(canon)
    if denied:
        raise UserError(f"{canon} matches the site's deny pattern {denied!r}; the crawler never requests it")
    slots = LocalSlots(budget(site.rate, site.concurrency, None).interval)
    common: dict[str, Any] = {"user_agent": site.user_agent, "allow_private": site.local, "in_scope": scope,
                              "extra_headers": site.request_headers, "before_send": slots.before_send,
                              "after_response": slots.after_response, "proxy": site.proxy,
                              "total_timeout": timeout}
    with make_client(read=timeout) as client:
        p = urlsplit(canon)
        robots = fetch(client, urlunsplit((p.scheme, p.netloc, "/robots.txt", "", "")),
                       max_bytes=ROBOTS_MAX_BYTES, truncate=True, **common)
        if robots.status is None or robots.status >= 500:
            raise UserError(f"robots.txt of {p.netloc} cannot be read ({robots.message}); "
                            "govingest fetches nothing from a host until it can")
        rules = rules_from_response(robots.status, robots.body if robots.ok else b"", truncated=robots.truncated)
        delay = rules.crawl_delay(site.user_agent)
        slots.interval = budget(site.rate, site.concurrency, delay).interval
        report["robots"] = {"status": robots.status, "crawl_delay": delay, "sitemaps": rules.sitemaps(),
                            "interval_seconds": slots.interval}
        if not rules.allowed(canon, site.user_agent):
            raise UserError(f"robots.txt of {p.netloc} disallows {canon} for {site.user_agent!r}; not fetched")
        r = fetch(client, canon, read_body=is_html_type, **common)
    report["fetch"] = {"status": r.status, "final_url": r.final_url, "content_type": r.content_type,
                       "bytes": len(r.body), "error_kind": r.error_kind, "message": r.message,
                       "redirects": r.redirects}
    if site.request_headers:
        report["rules_matched"].update({f"header:{k}": 1 for k in site.request_headers})
    if site.proxy:
        report["rules_matched"]["proxy"] = 1
    if r.ok and r.body:
        _read(report, r.body, r.final_url, r.content_type, site)
    return report


def _read(report: dict[str, Any], body: bytes, url: str, content_type: str | None, site: SiteConfig) -> None:
    from govingest.crawler.listing import Page
    from govingest.crawler.listing.read import page_text, read_page
    from govingest.crawler.urls import canonicalize, classify
    from govingest.parsers.decode import binary_type
    from govingest.parsers.model import ParseError, ScriptFilledError
    from govingest.parsers.pipeline import parse
    from govingest.parsers.site_rules import SiteRules

    binary = binary_type(body, content_type)
    if binary:
        report["binary"] = binary
        return
    listing = read_page(Page(url, page_text(body, content_type, site.encoding), content_type))
    links: dict[str, list[str]] = {"article": [], "pager": [], "attachment": [], "feed": [], "list": []}
    for link in listing.links:
        canon = canonicalize(link.url, keep_query=link.kind == "pager")
        if canon is None or canon == url:
            continue
        denied = site.denied_by(canon)
        if denied:
            report["rules_matched"][f"deny:{denied}"] = report["rules_matched"].get(f"deny:{denied}", 0) + 1
            continue
        kind = {"article": "article", "pager": "pager", "feed": "feed"}.get(link.kind) or classify(canon, site)
        if kind == "article" and classify(canon, site) == "attachment":
            kind = "attachment"
        if kind in links:
            links[kind].append(canon + (" (POST)" if link.method == "POST" else ""))
    report["dialect"] = listing.dialect
    report["dialect_notes"] = listing.notes
    report["next_page"] = listing.next_page.url if listing.next_page else None
    report["links"] = links
    try:
        doc = parse(body, url=url, content_type=content_type, rules=SiteRules.from_config(site.as_json()))
    except ScriptFilledError as exc:
        report["extraction"] = {"error": exc.reason, "kind": exc.kind, "api_url": exc.api_url}
        return
    except ParseError as exc:
        report["extraction"] = {"error": exc.reason, "kind": exc.kind}
        return
    lines = doc.text.splitlines()
    report["extraction"] = {"method": doc.extract_method, "encoding": doc.encoding,
                            "flags": {k: v for k, v in vars(doc.flags).items() if v},
                            "paragraphs": len(lines), "characters": len(doc.text),
                            "removed_lines": len(doc.removed), "facts": len(doc.facts)}
    report["metadata"] = {"title": doc.title, "published_at": doc.published_at, "source": doc.source,
                          "site_name": doc.site_name, "script": doc.script}
    report["text_head"] = lines[:SHOW_LINES]
    report["rules_matched"].update(doc.rules_hit)


def format_report(report: dict[str, Any]) -> str:
    out = [f"URL       {report['url']}   (site {report['site']})"]
    rb = report.get("robots", {})
    out.append(f"robots    HTTP {rb.get('status')}, Crawl-delay {rb.get('crawl_delay')}, "
               f"interval {rb.get('interval_seconds', 0):.2f}s, sitemaps {rb.get('sitemaps') or '-'}")
    f = report.get("fetch", {})
    out.append(f"fetch     HTTP {f.get('status')} {f.get('content_type') or '-'}, {f.get('bytes')} bytes"
               + (f", {f.get('redirects')} redirects" if f.get("redirects") else "")
               + (f" — {f.get('error_kind')}: {f.get('message')}" if f.get("error_kind") else ""))
    if report.get("binary"):
        out.append(f"body      binary ({report['binary']}): recorded as an attachment, not parsed")
    if "dialect" in report:
        out.append(f"dialect   {report['dialect']}" + "".join(f"\n          {n}" for n in report["dialect_notes"]))
        out.append(f"next page {report['next_page'] or '-'}")
        for kind, urls in report["links"].items():
            if urls:
                shown = "".join(f"\n          {u}" for u in urls[:SHOW_LINKS])
                more = f"\n          … and {len(urls) - SHOW_LINKS} more" if len(urls) > SHOW_LINKS else ""
                out.append(f"{kind} links: {len(urls)}{shown}{more}")
    ex = report.get("extraction")
    if ex and "error" in ex:
        out.append(f"extract   not a document ({ex['kind']}): {ex['error']}")
    elif ex:
        flags = ", ".join(f"{k}={v}" for k, v in ex["flags"].items()) or "none"
        out.append(f"extract   {ex['method']} ({ex['encoding']}), {ex['paragraphs']} paragraphs, "
                   f"{ex['characters']} characters, {ex['removed_lines']} chrome lines removed, "
                   f"{ex['facts']} facts; flags: {flags}")
        md = report["metadata"]
        out.append("metadata  " + ", ".join(f"{k}={v!r}" for k, v in md.items() if v))
        out.append("text      " + "\n          ".join(report["text_head"]))
    rules = report.get("rules_matched") or {}
    out.append("rules     " + (", ".join(f"{k} ({v})" for k, v in rules.items()) if rules else "no site rule matched"))
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    site = pick_site(args.url, args.sites or settings.sites_file, args.site)
    report = examine(args.url, site, timeout=args.timeout)
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(format_report(report))
    sys.stdout.flush()
    return 0 if report.get("fetch", {}).get("error_kind") is None else 1
