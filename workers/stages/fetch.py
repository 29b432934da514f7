"""The fetch stage: one leased URL → request → stored page, new links, recorded outcome.

Why one function for every caller: the in-process runner (workers/local/runner.py) and the
Celery `fetch` task both call `fetch_url`, so a URL ends the same way whichever runs
it. Everything a fetch writes (page, discovered links, the URL's outcome) commits in
one transaction guarded by the lease: a worker whose lease was reaped and handed to
another writes nothing, and a crash mid-way leaves the URL due again, never half-done.

Nothing here sleeps: retries, Retry-After and politeness are all `next_fetch_at` /
host slots in the frontier.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from govingest.crawler.client import CrawlClient
from govingest.crawler.config import SiteConfig
from govingest.crawler.fetch import DEFAULT_MAX_BYTES, MAX_REDIRECTS, FetchResult, fetch, is_html_type
from govingest.crawler.links import discover_links
from govingest.crawler.politeness import backoff_seconds
from govingest.crawler.robots import ROBOTS_MAX_BYTES, ROBOTS_TTL_SECONDS, RobotsRules, rules_from_response
from govingest.crawler.traps import query_family, self_variants, structural_trap, variant_traps
from govingest.crawler.urls import canonicalize, classify, host_key, in_scope
from govingest.db import frontier
from govingest.db.frontier import Claim, NewUrl, Outcome
from govingest.db.pages import body_hash, store_page
from govingest.parsers.attachments import attachment_format
from govingest.states import ErrorKind, UrlState
from govingest.stats import Stats

log = logging.getLogger(__name__)

# An attachment's own size cap: PDFs of full documents run to megabytes, far past a page's.
DEFAULT_ATTACHMENT_MAX_BYTES = 30 * 1024 * 1024
MAX_RETRIES = 4  # transient failures (5xx, timeouts, 429) before a URL is 'failed'
MAX_RETRY_AFTER = 6 * 3600.0  # a Retry-After beyond this is capped, not obeyed blindly
INTERNAL_RETRY_SECONDS = 300.0  # a URL that met a bug in govingest is tried again after this
RETRYABLE = frozenset({ErrorKind.SERVER_ERROR, ErrorKind.TIMEOUT, ErrorKind.CONNECT_ERROR, ErrorKind.DNS_ERROR,
                       ErrorKind.RATE_LIMITED})
# error kind -> final state when not retryable; 'gone' URLs are never fetched again
FINAL_STATE = {ErrorKind.NOT_FOUND: UrlState.GONE, ErrorKind.OUT_OF_SCOPE: UrlState.GONE,
               ErrorKind.BLOCKED_ADDRESS: UrlState.GONE, ErrorKind.ROBOTS_DISALLOWED: UrlState.GONE}
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
    state: UrlState
    status: int | None
    error_kind: ErrorKind | None
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
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/robots.txt", "", ""))


def _robots_stale(fetched_at: datetime | None) -> bool:
    if fetched_at is None:
        return True
    return datetime.now(UTC) - fetched_at > timedelta(seconds=ROBOTS_TTL_SECONDS)


def _record(conn: psycopg.Connection, claim: Claim, outcome: Outcome, owner: str | None) -> None:
    if not frontier.record_outcome(conn, claim.url_id, outcome, owner=owner):
        raise LeaseLost(f"lease on URL {claim.url_id} was lost before its outcome was recorded")


def _result(claim: Claim, outcome: Outcome, *, page_id: int | None = None, links_added: int = 0,
            requests: int = 0) -> FetchOutcome:
    return FetchOutcome(url_id=claim.url_id, url=claim.url, site=claim.site, state=outcome.state,
                        status=outcome.status, error_kind=outcome.error_kind, message=outcome.message,
                        page_id=page_id, links_added=links_added, requests=requests)


def _end(conn: psycopg.Connection, claim: Claim, outcome: Outcome, owner: str | None, *,
         requests: int = 1) -> FetchOutcome:
    """Record `outcome` in its own transaction: the fetch ends with no page."""
    with conn.transaction():
        _record(conn, claim, outcome, owner)
    return _result(claim, outcome, requests=requests)


def _prior_state(claim: Claim) -> UrlState:
    return UrlState.DONE if claim.fetched_before else UrlState.NEW


def record_internal_error(pool: ConnectionPool, url_id: int, exc: Exception, *, owner: str | None,
                          url: str | None = None) -> None:
    """A bug in govingest met while working on a URL (in-process runner or Celery task):
    logged with its traceback, and the URL ends `failed` (kind `internal`), tried again
    in 5 minutes rather than in a loop. If even that cannot be written, the lease
    expires and the reaper hands the URL out again."""
    log.error("fetch failed with an internal error",
              extra={"url_id": url_id, "url": url, "error": f"{type(exc).__name__}: {exc}"[:300]}, exc_info=exc)
    outcome = Outcome(UrlState.FAILED, error_kind=ErrorKind.INTERNAL, fetched=False,
                      next_fetch_in=INTERNAL_RETRY_SECONDS,
                      message=f"internal error {type(exc).__name__}: {exc}; retried in 5 minutes")
    try:
        with pool.connection() as conn:
            frontier.record_outcome(conn, url_id, outcome, owner=owner)
            conn.commit()
    except Exception:
        log.exception("could not record the internal error", extra={"url_id": url_id, "url": url})


def fetch_url(
    conn: psycopg.Connection,
    claim: Claim,
    site: SiteConfig,
    client: CrawlClient,
    *,
    owner: str | None = None,
    stats: Stats | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    total_timeout: float = 60.0,
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES,
) -> FetchOutcome:
    """Fetch one leased URL and record how it ended; returns the page to process, if any.

    Articles and attachments (PDF, Office, OFD files linked from pages) are stored and
    handed to processing; an attachment is read up to its own cap `attachment_max_bytes`.

    With `owner`, writes happen only while that owner still holds the lease. Commits.
    """
    stats = stats if stats is not None else Stats()
    try:
        with stats.track("fetch"):
            cap = attachment_max_bytes if claim.kind == "attachment" else max_bytes
            result = _fetch_url(conn, claim, site, client, owner=owner, stats=stats,
                                max_bytes=cap, total_timeout=total_timeout)
        conn.commit()
    except LeaseLost as exc:
        conn.rollback()
        stats.update("fetch_lease_lost")
        log.warning("fetch discarded: lease lost", extra={"url_id": claim.url_id, "error": str(exc)})
        return FetchOutcome(claim.url_id, claim.url, claim.site, UrlState.FETCHING, None, ErrorKind.LEASE_LOST,
                            str(exc), lease_lost=True)
    stats.update(f"fetch_{result.error_kind or 'ok'}")
    return result


def _fetch_url(conn: psycopg.Connection, claim: Claim, site: SiteConfig, client: CrawlClient, *,
               owner: str | None, stats: Stats, max_bytes: int, total_timeout: float) -> FetchOutcome:
    """Scope, then robots.txt, then the request itself; each step may end the fetch."""
    if not in_scope(claim.url, site):
        return _end(conn, claim, Outcome(
            UrlState.GONE, error_kind=ErrorKind.OUT_OF_SCOPE, fetched=False,
            message=f"not on the allowed hosts of site {site.name!r} ({', '.join(site.allowed_hosts)}); "
                    "never requested"), owner, requests=0)
    # robots.txt first; fetching it uses this claim's politeness slot, so the URL itself
    # goes back to due and waits for the host's next slot (one request per slot, always)
    robots = frontier.host_robots(conn, claim.host)
    if robots.text is None or _robots_stale(robots.fetched_at):
        return _refresh_robots(conn, claim, site, client, robots, owner=owner, stats=stats,
                               total_timeout=total_timeout)
    if not RobotsRules(robots.text).allowed(claim.url, site.user_agent):
        return _end(conn, claim, Outcome(
            UrlState.GONE, error_kind=ErrorKind.ROBOTS_DISALLOWED, fetched=False,
            message="robots.txt disallows this path for our user agent; never requested"), owner, requests=0)
    # the body is read whenever it claims to be HTML, even for an attachment URL, so a
    # binary body mislabelled as text/html is recognised on every fetch; an attachment
    # URL's body is always read (within its own cap): its text is a document too
    def want_body(content_type: str | None) -> bool:
        return claim.kind == "attachment" or is_html_type(content_type)
    r = fetch(client, claim.url, user_agent=site.user_agent, allow_private=site.local,
              in_scope=lambda u: in_scope(u, site),
              etag=claim.etag if claim.fetched_before else None,
              last_modified=claim.last_modified if claim.fetched_before else None,
              max_bytes=max_bytes, total_timeout=total_timeout, read_body=want_body, follow_redirects=False,
              cookies=client.cookies.jar(site.name) if site.cookies else None)
    stats.update("requests")
    with conn.transaction():
        return _settle(conn, claim, site, r, owner=owner, stats=stats)


def _refresh_robots(conn: psycopg.Connection, claim: Claim, site: SiteConfig, client: CrawlClient,
                    robots: frontier.HostRobots, *, owner: str | None, stats: Stats,
                    total_timeout: float) -> FetchOutcome:
    """Fetch the host's robots.txt in this claim's slot and store it; the URL goes back to due.

    RFC 9309: 2xx is the file's rules (its first ROBOTS_MAX_BYTES, so a huge file still
    yields its rules instead of refusing the host), 4xx means no rules, and a 5xx or an
    unreachable server means full disallow until it can be read — unless rules are
    known from before, which are kept a while.
    """
    r = fetch(client, _robots_url(claim.url), user_agent=site.user_agent, allow_private=site.local,
              in_scope=lambda u: in_scope(u, site), max_bytes=ROBOTS_MAX_BYTES, truncate=True,
              total_timeout=min(total_timeout, 30.0), cookies=client.cookies.jar(site.name) if site.cookies else None)
    stats.update("robots_fetched")
    answered = r.status is not None and r.status < 500 and r.error_kind in (
        None, ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN, ErrorKind.HTTP_ERROR)
    if answered:  # 2xx: its rules; 4xx: no robots.txt, all allowed (RFC 9309)
        rules = rules_from_response(r.status, r.body if r.ok else b"", truncated=r.truncated)
    elif robots.text is not None:  # unreachable now, known before: keep the old rules a while
        rules = RobotsRules(robots.text)
    else:
        # unreachable and never seen: RFC 9309 says assume full disallow, so nothing is
        # fetched from the host; the URL retries with backoff and asks again
        attempt = claim.fail_count + 1
        wait = backoff_seconds(attempt, base=30.0)
        return _end(conn, claim, Outcome(
            UrlState.FAILED, status=r.status, error_kind=ErrorKind.ROBOTS_UNAVAILABLE, fetched=False,
            fail_count=attempt, next_fetch_in=wait,
            message=f"robots.txt of {claim.host} cannot be read ({r.message or r.status}); "
                    f"nothing is fetched from this host until it can; next try in {wait:.0f}s"), owner)
    out = Outcome(_prior_state(claim), fetched=False, next_fetch_in=0.0)
    with conn.transaction():
        frontier.store_robots(conn, claim.host, text=rules.text, status=r.status,
                              crawl_delay=rules.crawl_delay(site.user_agent))
        _record(conn, claim, out, owner)
    return _result(claim, out, requests=1)


def _settle(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
            owner: str | None, stats: Stats) -> FetchOutcome:
    """Turn a FetchResult into frontier writes (inside the caller's transaction)."""
    if r.error_kind is not None:
        return _settle_error(conn, claim, site, r, owner=owner)
    if r.status == 304:
        result = _end(conn, claim, Outcome(
            UrlState.DONE, status=304, next_fetch_in=_refetch_in(claim.kind, site), fail_count=0, unchanged=True,
            etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified")), owner)
        stats.update("not_modified")
        return result
    binary = _sniff_binary(r.body) if r.body else None
    if r.body and attachment_format(r.body) is not None:
        return _settle_attachment(conn, claim, site, r, owner=owner, stats=stats)
    if not is_html_type(r.content_type) or binary:
        result = _end(conn, claim, _attachment_outcome(r, site, binary), owner)
        stats.update("attachments")
        return result
    if not r.body.strip():
        return _end(conn, claim, Outcome(
            UrlState.FAILED, status=r.status, error_kind=ErrorKind.EMPTY_BODY, next_fetch_in=_refetch_in(claim.kind, site),
            fail_count=0, content_type=r.content_type, content_length=0,
            message=f"HTTP {r.status} with an empty body: nothing to parse; will look again later"), owner)
    return _settle_page(conn, claim, site, r, owner=owner, stats=stats)


def _attachment_outcome(r: FetchResult, site: SiteConfig, binary: str | None) -> Outcome:
    """A file, not a page: recorded with its type and size, never parsed."""
    ctype = (r.content_type or "").split(";", 1)[0].strip() or None
    if binary and is_html_type(r.content_type):
        return Outcome(UrlState.FAILED, status=r.status, error_kind=ErrorKind.BINARY_BODY, kind="attachment",
                       message=f"served as {ctype or 'no type'} but the body is binary ({binary}); "
                               "recorded as an attachment, not parsed",
                       next_fetch_in=site.recrawl_article_seconds, fail_count=0,
                       content_type=binary, content_length=r.content_length)
    return Outcome(UrlState.DONE, status=r.status, kind="attachment", next_fetch_in=site.recrawl_article_seconds,
                   fail_count=0, content_type=ctype, content_length=r.content_length,
                   etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"))


def _settle_page(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
                 owner: str | None, stats: Stats) -> FetchOutcome:
    """An HTML page: unchanged since the last fetch, or stored (articles go on to process)
    with its in-scope links added to the frontier."""
    digest = body_hash(r.body)
    out = Outcome(UrlState.DONE, status=r.status, next_fetch_in=_refetch_in(claim.kind, site), fail_count=0,
                  content_type=r.content_type, content_length=len(r.body), content_hash=digest,
                  etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"))
    if digest == claim.content_hash:
        result = _end(conn, claim, replace(out, unchanged=True), owner)
        stats.update("unchanged")
        return result
    process = claim.kind == "article"
    page_id = store_page(conn, url_id=claim.url_id, status=r.status or 200,
                         headers={**r.headers, "x-final-url": r.final_url}, body=r.body, encoding=None,
                         to_process=process, content_hash=digest)
    stats.update("pages_stored")
    added = _add_links(conn, claim, site, r, stats) if claim.depth < site.max_depth else 0
    _record(conn, claim, out, owner)
    return _result(claim, out, page_id=page_id if process else None, links_added=added, requests=1)


def _add_links(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, stats: Stats) -> int:
    """The page's links into the frontier, articles first; crawler traps recorded, not added.

    Articles go first because the frontier's cap (max_pages pending URLs) may not hold
    every link of a page, and an article is what a crawl is for: a list page is found
    again from its neighbours. Returns how many URLs were new.
    """
    found = _links(claim, site, r)
    traps = {u: why for u in found if (why := structural_trap(u.url))}
    own_variants = [u for u in self_variants(claim.url, [u.url for u in found]) if u not in {t.url for t in traps}]
    if own_variants:
        known = frontier.self_spawned_variants(conn, site.name, query_family(claim.url), site.max_query_variants)
        refused = variant_traps(claim.url, own_variants, known, site.max_query_variants)
        traps.update({u: refused[u.url] for u in found if u.url in refused})
    links = sorted((u for u in found if u not in traps), key=lambda u: u.kind != "article")
    added = frontier.add_urls(conn, site.name, links, claim.depth + 1, claim.url_id, max_urls=site.max_pages)
    stats.update("links_added", added)
    stats.update("traps_recorded", frontier.record_traps(conn, site.name, traps, claim.depth + 1, claim.url_id))
    return added


def _links(claim: Claim, site: SiteConfig, r: FetchResult) -> list[NewUrl]:
    """The page's links worth fetching: canonical, in scope, of a known kind, not itself."""
    found: dict[str, NewUrl] = {}
    for link in discover_links(r.body, r.final_url, r.content_type):
        canon = canonicalize(link)
        if canon is None or canon == claim.url or not in_scope(canon, site):
            continue
        kind = classify(canon, site)
        if kind is not None:
            found[canon] = NewUrl(canon, kind, host_key(canon))
    return list(found.values())


def _settle_attachment(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
                       owner: str | None, stats: Stats) -> FetchOutcome:
    """A PDF/Office/OFD body: stored like a page and handed to processing, which reads its text.

    Recognised by its bytes, whatever the URL or Content-Type says (servers send PDFs as
    application/octet-stream or text/html). An unchanged body is not stored again.
    """
    ctype = (r.content_type or "").split(";", 1)[0].strip() or None
    digest = body_hash(r.body)
    out = Outcome(UrlState.DONE, status=r.status, kind="attachment", next_fetch_in=site.recrawl_article_seconds,
                  fail_count=0, content_type=ctype, content_length=len(r.body), content_hash=digest,
                  etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"))
    stats.update("attachments")
    if digest == claim.content_hash:
        stats.update("unchanged")
        return _end(conn, claim, replace(out, unchanged=True), owner)
    page_id = store_page(conn, url_id=claim.url_id, status=r.status or 200,
                         headers={**r.headers, "x-final-url": r.final_url}, body=r.body, encoding=None,
                         to_process=True, content_hash=digest)
    stats.update("pages_stored")
    stats.update("attachments_stored")
    _record(conn, claim, out, owner)
    return _result(claim, out, page_id=page_id, requests=1)


def _settle_error(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
                  owner: str | None) -> FetchOutcome:
    kind = ErrorKind(r.error_kind or ErrorKind.INTERNAL)
    message = r.message or kind
    if kind == ErrorKind.REDIRECT and r.redirect_to:
        return _settle_redirect(conn, claim, site, r, owner=owner)
    if kind in RETRYABLE:
        out = _retry_outcome(claim, site, r, kind, message)
    else:
        state = FINAL_STATE.get(kind, UrlState.FAILED)
        out = Outcome(state, status=r.status, error_kind=kind, message=message,
                      fail_count=claim.fail_count + 1, content_type=r.content_type,
                      content_length=r.content_length,
                      next_fetch_in=None if state == UrlState.GONE else site.recrawl_article_seconds)
    return _end(conn, claim, out, owner)


def _retry_outcome(claim: Claim, site: SiteConfig, r: FetchResult, kind: ErrorKind, message: str) -> Outcome:
    """A transient failure: tried again with backoff (or after Retry-After), until
    MAX_RETRIES, then at the next scheduled recrawl."""
    attempt = claim.fail_count + 1
    if attempt > MAX_RETRIES:
        return Outcome(UrlState.FAILED, status=r.status, error_kind=kind, fail_count=attempt,
                       next_fetch_in=_refetch_in(claim.kind, site),
                       message=f"{_strip_retry(message)}; gave up after {attempt} attempts, "
                               "will try again at the next scheduled recrawl")
    wait = backoff_seconds(attempt)
    if r.retry_after is not None:
        wait = min(max(r.retry_after, 0.0), MAX_RETRY_AFTER)
    return Outcome(UrlState.FAILED, status=r.status, error_kind=kind, next_fetch_in=wait, fail_count=attempt,
                   message=f"{_strip_retry(message)}; attempt {attempt} of {MAX_RETRIES + 1}, "
                           f"next try in {wait:.0f}s")


def _settle_redirect(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
                     owner: str | None) -> FetchOutcome:
    """A redirect: its target becomes a frontier URL and waits for its own politeness slot.

    Hops are counted and loops found along the frontier's redirect chain, so the
    5-redirect limit holds across entries; scope and private addresses were checked by
    fetch() before we got here.
    """
    target = r.redirect_to or ""
    chain = frontier.redirect_chain(conn, claim.url_id)  # this URL, then who redirected to it
    refetch = _refetch_in(claim.kind, site)
    if target in chain:
        out = Outcome(UrlState.FAILED, status=r.status, fail_count=0, next_fetch_in=refetch,
                      error_kind=ErrorKind.REDIRECT_LOOP,
                      message=f"redirect loop: {claim.url} redirects back to {target} "
                              f"({' <- '.join(chain[: chain.index(target) + 1])})")
    elif len(chain) > MAX_REDIRECTS:
        out = Outcome(UrlState.FAILED, status=r.status, fail_count=0, next_fetch_in=refetch,
                      error_kind=ErrorKind.TOO_MANY_REDIRECTS,
                      message=f"more than {MAX_REDIRECTS} redirects in a row; last to {target}")
    else:
        kind = classify(target, site) or claim.kind
        frontier.add_urls(conn, site.name, [NewUrl(target, kind, host_key(target))], claim.depth, claim.url_id)
        out = Outcome(UrlState.DONE, status=r.status, fail_count=0, next_fetch_in=refetch,
                      message=f"HTTP {r.status}: redirects to {target}")
    return _end(conn, claim, out, owner)


def _strip_retry(message: str) -> str:
    for tail in ("; will retry later", "; will retry with backoff"):
        if message.endswith(tail):
            return message[: -len(tail)]
    return message
