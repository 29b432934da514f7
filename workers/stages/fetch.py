"""The fetch stage: one leased URL → request → stored page, new links, recorded outcome.

Why one function for every caller: the in-process runner (workers/runner.py) and the
Celery `fetch` task both call `fetch_url`, so a URL ends the same way whichever runs
it. Everything a fetch writes (page, discovered links, the URL's outcome) commits in
one transaction guarded by the lease: a worker whose lease was reaped and handed to
another writes nothing, and a crash mid-way leaves the URL due again, never half-done.

Nothing here sleeps: retries, Retry-After and politeness are all `next_fetch_at` /
host slots in the frontier.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from govingest.crawler.config import SiteConfig
from govingest.crawler.fetch import DEFAULT_MAX_BYTES, MAX_REDIRECTS, FetchResult, fetch, is_html_type
from govingest.crawler.links import discover_links
from govingest.crawler.politeness import backoff_seconds
from govingest.crawler.robots import ROBOTS_TTL_SECONDS, RobotsRules, rules_from_response
from govingest.crawler.urls import canonicalize, classify, in_scope
from govingest.db import frontier
from govingest.db.frontier import Claim, Outcome
from govingest.db.pages import body_hash, store_page
from govingest.parsers.stats import Stats

log = logging.getLogger(__name__)

MAX_RETRIES = 4  # transient failures (5xx, timeouts, 429) before a URL is 'failed'
MAX_RETRY_AFTER = 6 * 3600.0  # a Retry-After beyond this is capped, not obeyed blindly
RETRYABLE = frozenset({"server_error", "timeout", "connect_error", "dns_error", "rate_limited"})
# error kind -> final state when not retryable; 'gone' URLs are never fetched again
FINAL_STATE = {"not_found": "gone", "out_of_scope": "gone", "blocked_address": "gone",
               "robots_disallowed": "gone"}
# magic numbers of binary files that servers mislabel as text/html
_BINARY_MAGIC = ((b"%PDF", "application/pdf"), (b"PK\x03\x04", "application/zip"),
                 (b"\xd0\xcf\x11\xe0", "application/msword"), (b"\x89PNG", "image/png"),
                 (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"), (b"Rar!", "application/x-rar"))


class LeaseLost(Exception):
    """The URL's lease expired and went to another worker: this fetch writes nothing."""


@dataclass
class FetchOutcome:
    url_id: int
    url: str
    site: str
    state: str
    status: int | None
    error_kind: str | None
    message: str | None
    page_id: int | None = None  # a stored page to process (articles only)
    links_added: int = 0
    requests: int = 0  # HTTP requests made (robots.txt included)
    lease_lost: bool = False


def _sniff_binary(body: bytes) -> str | None:
    head = body[:1024]
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic):
            return kind
    if head.count(b"\x00") > 8:
        return "application/octet-stream"
    return None


def _refetch_in(kind: str | None, site: SiteConfig) -> float:
    return float(site.recrawl_list_seconds if kind == "list" else site.recrawl_article_seconds)


def _robots_url(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/robots.txt", "", ""))


def _robots_stale(fetched_at: datetime | None) -> bool:
    if fetched_at is None:
        return True
    return datetime.now(UTC) - fetched_at > timedelta(seconds=ROBOTS_TTL_SECONDS)


def _record(conn: psycopg.Connection, claim: Claim, outcome: Outcome, owner: str | None) -> None:
    if not frontier.record_outcome(conn, claim.url_id, outcome, owner=owner):
        raise LeaseLost(f"lease on URL {claim.url_id} was lost before its outcome was recorded")


def _result(claim: Claim, outcome: Outcome, **kw: object) -> FetchOutcome:
    return FetchOutcome(url_id=claim.url_id, url=claim.url, site=claim.site, state=outcome.state,
                        status=outcome.status, error_kind=outcome.error_kind, message=outcome.message,
                        **kw)  # type: ignore[arg-type]


def _prior_state(claim: Claim) -> str:
    return "done" if claim.fetched_before else "new"


def fetch_url(
    conn: psycopg.Connection,
    claim: Claim,
    site: SiteConfig,
    client: httpx.Client,
    *,
    owner: str | None = None,
    stats: Stats | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    total_timeout: float = 60.0,
) -> FetchOutcome:
    """Fetch one leased URL and record how it ended; returns the page to process, if any.

    With `owner`, writes happen only while that owner still holds the lease. Commits.
    """
    stats = stats if stats is not None else Stats()
    try:
        with stats.track("fetch"):
            result = _fetch_url(conn, claim, site, client, owner=owner, stats=stats,
                                max_bytes=max_bytes, total_timeout=total_timeout)
        conn.commit()
    except LeaseLost as exc:
        conn.rollback()
        stats.update("fetch_lease_lost")
        log.warning("fetch discarded: lease lost", extra={"url_id": claim.url_id, "error": str(exc)})
        return FetchOutcome(claim.url_id, claim.url, claim.site, "fetching", None, "lease_lost", str(exc),
                            lease_lost=True)
    stats.update(f"fetch_{result.error_kind or 'ok'}")
    return result


def _fetch_url(conn: psycopg.Connection, claim: Claim, site: SiteConfig, client: httpx.Client, *,
               owner: str | None, stats: Stats, max_bytes: int, total_timeout: float) -> FetchOutcome:
    scope = lambda u: in_scope(u, site)
    if not scope(claim.url):
        out = Outcome("gone", error_kind="out_of_scope", fetched=False,
                      message=f"not on the allowed hosts of site {site.name!r} ({', '.join(site.allowed_hosts)}); "
                              "never requested")
        with conn.transaction():
            _record(conn, claim, out, owner)
        return _result(claim, out)

    # robots.txt first; fetching it uses this claim's politeness slot, so the URL itself
    # goes back to due and waits for the host's next slot (one request per slot, always)
    robots = frontier.host_robots(conn, claim.host)
    if robots.text is None or _robots_stale(robots.fetched_at):
        r = fetch(client, _robots_url(claim.url), user_agent=site.user_agent, allow_private=site.local,
                  in_scope=scope, max_bytes=512 * 1024, total_timeout=min(total_timeout, 30.0))
        stats.update("robots_fetched")
        answered = r.status is not None and r.status < 500 and r.error_kind in (
            None, "not_found", "forbidden", "http_error")
        if answered:  # 2xx: its rules; 4xx: no robots.txt, all allowed (RFC 9309)
            rules = rules_from_response(r.status, r.body if r.ok else b"")
        elif robots.text is not None:  # unreachable now, known before: keep the old rules a while
            rules = RobotsRules(robots.text)
        else:
            # unreachable and never seen: RFC 9309 says assume full disallow, so nothing is
            # fetched from the host; the URL retries with backoff and asks again
            attempt = claim.fail_count + 1
            wait = backoff_seconds(attempt, base=30.0)
            out = Outcome("failed", status=r.status, error_kind="robots_unavailable", fetched=False,
                          fail_count=attempt, next_fetch_in=wait,
                          message=f"robots.txt of {claim.host} cannot be read ({r.message or r.status}); "
                                  f"nothing is fetched from this host until it can; next try in {wait:.0f}s")
            with conn.transaction():
                _record(conn, claim, out, owner)
            return _result(claim, out, requests=1)
        delay = rules.crawl_delay(site.user_agent)
        out = Outcome(_prior_state(claim), fetched=False, next_fetch_in=0.0,  # type: ignore[arg-type]
                      status=None, error_kind=None, message=None)
        with conn.transaction():
            frontier.store_robots(conn, claim.host, text=rules.text, status=r.status, crawl_delay=delay)
            _record(conn, claim, out, owner)
        return _result(claim, out, requests=1)
    rules = RobotsRules(robots.text)
    if not rules.allowed(claim.url, site.user_agent):
        out = Outcome("gone", error_kind="robots_disallowed", fetched=False,
                      message="robots.txt disallows this path for our user agent; never requested")
        with conn.transaction():
            _record(conn, claim, out, owner)
        return _result(claim, out)

    # the body is read whenever it claims to be HTML, even for an attachment URL, so a
    # binary body mislabelled as text/html is recognised on every fetch
    want_body = is_html_type
    r = fetch(client, claim.url, user_agent=site.user_agent, allow_private=site.local, in_scope=scope,
              etag=claim.etag if claim.fetched_before else None,
              last_modified=claim.last_modified if claim.fetched_before else None,
              max_bytes=max_bytes, total_timeout=total_timeout, read_body=want_body, follow_redirects=False)
    stats.update("requests")
    with conn.transaction():
        return _settle(conn, claim, site, r, owner=owner, stats=stats)


def _settle(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
            owner: str | None, stats: Stats) -> FetchOutcome:
    """Turn a FetchResult into frontier writes (inside the caller's transaction)."""
    refetch = _refetch_in(claim.kind, site)
    validators = {"etag": r.headers.get("etag"), "last_modified": r.headers.get("last-modified")}
    if r.error_kind is not None:
        return _settle_error(conn, claim, site, r, owner=owner)
    if r.status == 304:
        out = Outcome("done", status=304, next_fetch_in=refetch, fail_count=0, **validators)
        _record(conn, claim, out, owner)
        stats.update("not_modified")
        return _result(claim, out, requests=1)
    binary = _sniff_binary(r.body) if r.body else None
    if not is_html_type(r.content_type) or binary:
        ctype = (r.content_type or "").split(";", 1)[0].strip() or None
        if binary and is_html_type(r.content_type):
            out = Outcome("failed", status=r.status, error_kind="binary_body", kind="attachment",
                          message=f"served as {ctype or 'no type'} but the body is binary ({binary}); "
                                  "recorded as an attachment, not parsed",
                          next_fetch_in=site.recrawl_article_seconds, fail_count=0,
                          content_type=binary, content_length=r.content_length)
        else:
            out = Outcome("done", status=r.status, kind="attachment", next_fetch_in=site.recrawl_article_seconds,
                          fail_count=0, content_type=ctype, content_length=r.content_length, **validators)
        _record(conn, claim, out, owner)
        stats.update("attachments")
        return _result(claim, out, requests=1)
    if not r.body.strip():
        out = Outcome("failed", status=r.status, error_kind="empty_body", next_fetch_in=refetch, fail_count=0,
                      message=f"HTTP {r.status} with an empty body: nothing to parse; will look again later",
                      content_type=r.content_type, content_length=0)
        _record(conn, claim, out, owner)
        return _result(claim, out, requests=1)
    digest = body_hash(r.body)
    base = dict(status=r.status, next_fetch_in=refetch, fail_count=0, content_type=r.content_type,
                content_length=len(r.body), content_hash=digest, **validators)
    if digest == claim.content_hash:
        out = Outcome("done", **base)  # type: ignore[arg-type]
        _record(conn, claim, out, owner)
        stats.update("unchanged")
        return _result(claim, out, requests=1)
    process = claim.kind == "article"
    page_id = store_page(conn, url_id=claim.url_id, status=r.status or 200,
                         headers={**r.headers, "x-final-url": r.final_url}, body=r.body, encoding=None,
                         to_process=process, content_hash=digest)
    stats.update("pages_stored")
    added = 0
    if claim.depth < site.max_depth:
        found: dict[str, str] = {}
        for link in discover_links(r.body, r.final_url, r.content_type):
            canon = canonicalize(link)
            if canon is None or canon == claim.url or not in_scope(canon, site):
                continue
            kind = classify(canon, site)
            if kind is not None:
                found[canon] = kind
        added = frontier.add_urls(conn, site.name, list(found.items()), claim.depth + 1, claim.url_id,
                                  max_urls=site.max_pages)
        stats.update("links_added", added)
    out = Outcome("done", **base)  # type: ignore[arg-type]
    _record(conn, claim, out, owner)
    return _result(claim, out, page_id=page_id if process else None, links_added=added, requests=1)


def _settle_error(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
                  owner: str | None) -> FetchOutcome:
    kind = r.error_kind or "error"
    message = r.message or kind
    if kind == "redirect" and r.redirect_to:
        return _settle_redirect(conn, claim, site, r, owner=owner)
    if kind in RETRYABLE:
        attempt = claim.fail_count + 1
        if attempt <= MAX_RETRIES:
            wait = backoff_seconds(attempt)
            if r.retry_after is not None:
                wait = min(max(r.retry_after, 0.0), MAX_RETRY_AFTER)
            out = Outcome("failed", status=r.status, error_kind=kind, next_fetch_in=wait, fail_count=attempt,
                          message=f"{_strip_retry(message)}; attempt {attempt} of {MAX_RETRIES + 1}, "
                                  f"next try in {wait:.0f}s")
        else:
            out = Outcome("failed", status=r.status, error_kind=kind, fail_count=attempt,
                          next_fetch_in=_refetch_in(claim.kind, site),
                          message=f"{_strip_retry(message)}; gave up after {attempt} attempts, "
                                  "will try again at the next scheduled recrawl")
    else:
        state = FINAL_STATE.get(kind, "failed")
        out = Outcome(state, status=r.status, error_kind=kind, message=message,  # type: ignore[arg-type]
                      fail_count=claim.fail_count + 1, content_type=r.content_type,
                      content_length=r.content_length,
                      next_fetch_in=None if state == "gone" else site.recrawl_article_seconds)
    _record(conn, claim, out, owner)
    return _result(claim, out, requests=1)


def _settle_redirect(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
                     owner: str | None) -> FetchOutcome:
    """A redirect: its target becomes a frontier URL and waits for its own politeness slot.

    Hops are counted and loops found along the frontier's redirect chain, so the
    5-redirect limit holds across entries; scope and private addresses were checked by
    fetch() before we got here.
    """
    target = r.redirect_to or ""
    chain = frontier.redirect_chain(conn, claim.url_id)  # this URL, then who redirected to it
    common = {"status": r.status, "fail_count": 0, "next_fetch_in": _refetch_in(claim.kind, site)}
    if target in chain:
        out = Outcome("failed", error_kind="redirect_loop",  # type: ignore[arg-type]
                      message=f"redirect loop: {claim.url} redirects back to {target} "
                              f"({' <- '.join(chain[: chain.index(target) + 1])})", **common)
    elif len(chain) > MAX_REDIRECTS:
        out = Outcome("failed", error_kind="too_many_redirects",  # type: ignore[arg-type]
                      message=f"more than {MAX_REDIRECTS} redirects in a row; last to {target}", **common)
    else:
        kind = classify(target, site) or claim.kind
        frontier.add_urls(conn, site.name, [(target, kind)], claim.depth, claim.url_id)
        out = Outcome("done", message=f"HTTP {r.status}: redirects to {target}",  # type: ignore[arg-type]
                      **common)
    _record(conn, claim, out, owner)
    return _result(claim, out, requests=1)


def _strip_retry(message: str) -> str:
    for tail in ("; will retry later", "; will retry with backoff"):
        if message.endswith(tail):
            return message[: -len(tail)]
    return message
