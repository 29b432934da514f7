"""The fetch stage: one leased URL → request → stored page, new links, recorded outcome.

Why one function for every caller: the in-process runner (workers/local/runner.py) and the
Celery `fetch` task both call `fetch_url`, so a URL ends the same way whichever runs
it. Everything a fetch writes (page, discovered links, the URL's outcome) commits in
one transaction guarded by the lease: a worker whose lease was reaped and handed to
another writes nothing, and a crash mid-way leaves the URL due again, never half-done.

Retries, Retry-After and the claim budget are `next_fetch_at` / host slots in the
frontier; the one wait here is the host's send slot (`_Slots`), taken immediately before
each request goes out, so request starts stay spaced at the server whatever happened
between claim and send (docs/sites.md, "Politeness, as the server sees it").
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, get_args
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from govingest.crawler import schedule
from govingest.crawler.client import CrawlClient
from govingest.crawler.config import SiteConfig
from govingest.crawler.fetch import DEFAULT_MAX_BYTES, MAX_REDIRECTS, FetchResult, fetch, is_html_type
from govingest.crawler.listing import Listing, Page
from govingest.crawler.listing.read import page_text, read_page
from govingest.crawler.politeness import MAX_SLOT_WAIT, SlotDeferred, backoff_seconds, slot_polls
from govingest.crawler.robots import ROBOTS_MAX_BYTES, ROBOTS_TTL_SECONDS, RobotsRules, rules_from_response
from govingest.crawler.traps import query_family, self_variants, structural_trap, variant_traps
from govingest.crawler.urls import SKIP_EXTENSIONS, canonicalize, classify, extension, host_key, in_scope
from govingest.crawler.withdrawal import (
    RECHECK_SECONDS,
    SIGNALS_TO_WITHDRAW,
    WITHDRAWN_RECHECK_SECONDS,
    WithdrawReason,
    delisted,
    is_error_redirect,
    remembered,
)
from govingest.db import documents, frontier
from govingest.db.frontier import LIST_KINDS, Claim, NewUrl, Outcome
from govingest.db.pages import body_hash, store_page
from govingest.parsers.attachments import attachment_format
from govingest.parsers.decode import binary_type
from govingest.parsers.model import DocumentKind
from govingest.parsers.scripted import detect_script_filled
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
# a guessed link source (/sitemap.xml) that is not there is not an error
_GUESSED_SITEMAP = "/sitemap.xml"
# kinds of URL that become documents (and so can be withdrawn)
DOCUMENT_KINDS = get_args(DocumentKind)


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


def _refetch_in(kind: str | None, site: SiteConfig) -> float:
    """Lists and feeds on the list schedule; articles, attachments and later list pages
    (pagers, woken by the page before them when it yields a new article) rarely."""
    return float(site.recrawl_list_seconds if kind in LIST_KINDS else site.recrawl_article_seconds)


def _list_refetch(conn: psycopg.Connection, claim: Claim, site: SiteConfig, new: int) -> float:
    """A list page's next interval: its change-rate estimate updated with this fetch
    (`new` articles found), the site's list budget shared among its list pages by
    crawler/schedule.py, within [min_list_interval, max_list_interval]. Equal bounds (the
    default: both recrawl_list_seconds) are a fixed schedule; the estimate is kept anyway."""
    page = frontier.observe_list(conn, claim.url_id, new=new if claim.fetched_before else 0,
                                 half_life=schedule.HALF_LIFE, fast_half_life=schedule.FAST_HALF_LIFE)
    low, high = site.list_bounds
    interval = low
    if low < high:
        def rate(p: frontier.ListPage) -> float:
            return schedule.Observation(p.events, p.window, p.fast_events, p.fast_window).rate
        rates = {p.url_id: rate(p) for p in frontier.site_list_pages(conn, site.name)}
        rates[page.url_id] = rate(page)
        per_hour = schedule.list_budget(site.list_requests_per_hour, len(rates), site.recrawl_list_seconds,
                                        site.rate)
        interval = schedule.next_interval(page.url_id, rates, per_hour=per_hour, low=low, high=high)
    frontier.set_list_interval(conn, claim.url_id, interval)
    return interval


def _gone_sign(conn: psycopg.Connection, claim: Claim, r: FetchResult, reason: WithdrawReason, kind: ErrorKind,
               message: str) -> Outcome | None:
    """An article with a document answered as if taken down: re-checked soon after the
    first sign, marked withdrawn on the second in a row (crawler/withdrawal.py). None when
    the URL has no document (it simply ends the usual way)."""
    signs, has_document = frontier.add_gone_sign(conn, claim.url_id)
    if not has_document:
        return None
    if signs < SIGNALS_TO_WITHDRAW:
        return Outcome(UrlState.FAILED, status=r.status, error_kind=kind, fail_count=claim.fail_count + 1,
                       next_fetch_in=RECHECK_SECONDS,
                       message=f"{message}; re-checked in {RECHECK_SECONDS:.0f}s before its document is "
                               "marked withdrawn")
    if documents.mark_withdrawn(conn, [claim.url_id], reason):
        log.info("document withdrawn", extra={"url_id": claim.url_id, "url": claim.url, "reason": str(reason)})
    return Outcome(UrlState.FAILED, status=r.status, error_kind=ErrorKind.WITHDRAWN, fail_count=claim.fail_count + 1,
                   next_fetch_in=WITHDRAWN_RECHECK_SECONDS,
                   message=f"{message} ({signs} times in a row): the document is marked withdrawn; "
                           "looked at daily in case it comes back")


def _healthy(conn: psycopg.Connection, claim: Claim) -> None:
    """A document's URL answered normally: signs of withdrawal reset, and a document
    withdrawn for its own answers (404, error redirect) is restored."""
    if claim.kind in DOCUMENT_KINDS and claim.fetched_before and frontier.clear_gone_signs(conn, claim.url_id) \
            and documents.mark_restored(conn, [claim.url_id], [WithdrawReason.NOT_FOUND, WithdrawReason.ERROR_REDIRECT]):
        log.info("document restored", extra={"url_id": claim.url_id, "url": claim.url})


def _list_withdrawals(conn: psycopg.Connection, claim: Claim, listed: list[str]) -> None:
    """Compare what the list page lists now with its previous fetch: articles that dropped
    off while their neighbours stayed are re-checked at once (their own answer may confirm),
    and withdrawn on the second such fetch in a row; articles back on it are restored."""
    before = frontier.list_articles(conn, claim.url_id)
    missing = delisted(before, listed) if before is not None else []
    frontier.set_list_articles(conn, claim.url_id, remembered(before or [], listed, missing))
    back = frontier.clear_delisted_signs(conn, listed)
    restored = documents.mark_restored(conn, back, [WithdrawReason.DELISTED])
    signs = frontier.add_delisted_signs(conn, missing)
    frontier.wake_urls(conn, [url for _id, url, n in signs if n < SIGNALS_TO_WITHDRAW])
    withdrawn = documents.mark_withdrawn(conn, [i for i, _url, n in signs if n >= SIGNALS_TO_WITHDRAW],
                                         WithdrawReason.DELISTED)
    if restored or withdrawn or signs:
        log.info("list page changed membership", extra={
            "url_id": claim.url_id, "url": claim.url, "dropped_off": len(signs), "withdrawn": withdrawn,
            "restored": restored})


class _Slots:
    """The politeness hooks of one fetch: take the host's slot immediately before each
    request is sent (robots.txt and redirect hops included), stamp each answer.

    Why here and not only at claim time: a claim is spaced from the previous claim, but
    the time between claim and send varies (queue, thread start, DNS); only a slot
    taken just before sending keeps request starts spaced at the server.
    """

    def __init__(self, conn: psycopg.Connection, stats: Stats, stale_seconds: float, owner: str | None,
                 interval: float) -> None:
        self.conn, self.stats, self.stale, self.owner = conn, stats, stale_seconds, owner
        self.interval = interval  # the site's 1/rate: robots' Crawl-delay only makes it longer

    def before_send(self, url: str) -> None:
        """Wait for the host's slot (its previous request answered, the interval passed)."""
        host = host_key(url)
        started = time.monotonic()
        pauses = slot_polls(self.interval)
        while True:
            wait = frontier.take_slot(self.conn, host, stale_seconds=self.stale, owner=self.owner)
            if wait is not None:
                break
            if time.monotonic() - started > MAX_SLOT_WAIT:  # another request holds the host
                raise SlotDeferred(MAX_SLOT_WAIT)
            self.stats.update("slot_busy_polls")
            time.sleep(next(pauses))
        if wait > MAX_SLOT_WAIT:
            raise SlotDeferred(wait)
        if wait > 0:
            self.stats.update("slot_waits")
            time.sleep(wait)

    def after_response(self, url: str) -> None:
        frontier.release_slot(self.conn, host_key(url))


def _request_options(conn: psycopg.Connection, site: SiteConfig, client: CrawlClient, stats: Stats,
                     total_timeout: float, owner: str | None) -> dict[str, Any]:
    """What every request of the site is sent with: its slot hooks, headers, proxy, cookies, scope."""
    slots = _Slots(conn, stats, stale_seconds=total_timeout + 5.0, owner=owner, interval=1.0 / site.rate)
    return {"user_agent": site.user_agent, "allow_private": site.local, "in_scope": lambda u: in_scope(u, site),
            "extra_headers": site.request_headers, "before_send": slots.before_send,
            "after_response": slots.after_response, "proxy": site.proxy,
            "cookies": client.cookies.jar(site.name) if site.cookies else None}


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
    options = _request_options(conn, site, client, stats, total_timeout, owner)
    if robots.text is None or _robots_stale(robots.fetched_at):
        return _refresh_robots(conn, claim, site, client, robots, owner=owner, stats=stats,
                               total_timeout=total_timeout, options=options)
    if not RobotsRules(robots.text).allowed(claim.url, site.user_agent):
        return _end(conn, claim, Outcome(
            UrlState.GONE, error_kind=ErrorKind.ROBOTS_DISALLOWED, fetched=False,
            message="robots.txt disallows this path for our user agent; never requested"), owner, requests=0)
    # the body is read whenever it claims to be HTML, even for an attachment URL, so a
    # binary body mislabelled as text/html is recognised on every fetch; an attachment
    # URL's body is always read (within its own cap): its text is a document too
    def want_body(content_type: str | None) -> bool:
        return claim.kind == "attachment" or is_html_type(content_type)
    conditional = claim.fetched_before and claim.method != "POST"  # a POST is never conditional
    r = fetch(client, claim.url, etag=claim.etag if conditional else None,
              last_modified=claim.last_modified if conditional else None,
              max_bytes=max_bytes, total_timeout=total_timeout, read_body=want_body, follow_redirects=False,
              method=claim.method, **options)
    if r.error_kind == ErrorKind.DEFERRED:
        return _defer(conn, claim, r, owner)
    stats.update("requests")
    hits = {f"header:{name}": 1 for name in site.request_headers} | ({"proxy": 1} if site.proxy else {})
    with conn.transaction():
        outcome = _settle(conn, claim, site, r, owner=owner, stats=stats, hits=hits)
        frontier.count_rule_hits(conn, site.name, hits)
    return outcome


def _defer(conn: psycopg.Connection, claim: Claim, r: FetchResult, owner: str | None) -> FetchOutcome:
    """No request was sent (the host's slot is too far away): back to due, nothing counted."""
    return _end(conn, claim, Outcome(_prior_state(claim), fetched=False, next_fetch_in=r.retry_after or 1.0,
                                     message=f"politeness: {r.message}"), owner, requests=0)


def _add_sitemaps(conn: psycopg.Connection, claim: Claim, site: SiteConfig, rules: RobotsRules) -> None:
    """Sitemaps are link sources: those robots.txt names, else the conventional /sitemap.xml."""
    urls = rules.sitemaps() or [_robots_url(claim.url).replace("/robots.txt", _GUESSED_SITEMAP)]
    found = {c: NewUrl(c, "feed", host_key(c)) for u in urls
             if (c := canonicalize(u)) and in_scope(c, site) and not site.denied_by(c)}
    frontier.add_urls(conn, site.name, list(found.values()), claim.depth, None, max_urls=site.max_pages)


def _refresh_robots(conn: psycopg.Connection, claim: Claim, site: SiteConfig, client: CrawlClient,
                    robots: frontier.HostRobots, *, owner: str | None, stats: Stats,
                    total_timeout: float, options: dict[str, Any]) -> FetchOutcome:
    """Fetch the host's robots.txt in this claim's slot and store it; the URL goes back to due.

    RFC 9309: 2xx is the file's rules (its first ROBOTS_MAX_BYTES, so a huge file still
    yields its rules instead of refusing the host), 4xx means no rules, and a 5xx or an
    unreachable server means full disallow until it can be read — unless rules are
    known from before, which are kept a while. On the host's first visit, the sitemaps
    it names (else /sitemap.xml) enter the frontier.
    """
    r = fetch(client, _robots_url(claim.url), max_bytes=ROBOTS_MAX_BYTES, truncate=True,
              total_timeout=min(total_timeout, 30.0), **options)
    if r.error_kind == ErrorKind.DEFERRED:
        return _defer(conn, claim, r, owner)
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
        if robots.text is None:
            _add_sitemaps(conn, claim, site, rules)
        _record(conn, claim, out, owner)
    return _result(claim, out, requests=1)


def _settle(conn: psycopg.Connection, claim: Claim, site: SiteConfig, r: FetchResult, *,
            owner: str | None, stats: Stats, hits: dict[str, int]) -> FetchOutcome:
    """Turn a FetchResult into frontier writes (inside the caller's transaction)."""
    if r.error_kind is not None:
        return _settle_error(conn, claim, site, r, owner=owner)
    _healthy(conn, claim)
    if r.status == 304:
        refetch = _list_refetch(conn, claim, site, 0) if claim.kind in LIST_KINDS else _refetch_in(claim.kind, site)
        result = _end(conn, claim, Outcome(
            UrlState.DONE, status=304, next_fetch_in=refetch, fail_count=0, unchanged=True,
            etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified")), owner)
        stats.update("not_modified")
        return result
    if r.body and attachment_format(r.body) is not None:
        return _settle_attachment(conn, claim, site, r, owner=owner, stats=stats)
    # one decision for text versus binary, the decoder's own (parsers.decode.binary_type)
    binary = binary_type(r.body, r.content_type) if r.body else None
    if not is_html_type(r.content_type) or binary:
        result = _end(conn, claim, _attachment_outcome(r, site, binary), owner)
        stats.update("attachments")
        return result
    if not r.body.strip():
        return _end(conn, claim, Outcome(
            UrlState.FAILED, status=r.status, error_kind=ErrorKind.EMPTY_BODY, next_fetch_in=_refetch_in(claim.kind, site),
            fail_count=0, content_type=r.content_type, content_length=0,
            message=f"HTTP {r.status} with an empty body: nothing to parse; will look again later"), owner)
    return _settle_page(conn, claim, site, r, owner=owner, stats=stats, hits=hits)


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
                 owner: str | None, stats: Stats, hits: dict[str, int]) -> FetchOutcome:
    """A page: unchanged since the last fetch, or stored (articles go on to process) with
    its links, read in its list dialect (crawler.listing), added to the frontier."""
    digest = body_hash(r.body)
    out = Outcome(UrlState.DONE, status=r.status, next_fetch_in=_refetch_in(claim.kind, site), fail_count=0,
                  content_type=r.content_type, content_length=len(r.body), content_hash=digest,
                  etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"))
    if digest == claim.content_hash:
        if claim.kind in LIST_KINDS:
            out.next_fetch_in = _list_refetch(conn, claim, site, 0)
        result = _end(conn, claim, replace(out, unchanged=True), owner)
        stats.update("unchanged")
        return result
    process = claim.kind == "article"
    page_id = store_page(conn, url_id=claim.url_id, status=r.status or 200,
                         headers={**r.headers, "x-final-url": r.final_url}, body=r.body, encoding=None,
                         to_process=process, content_hash=digest)
    stats.update("pages_stored")
    page = Page(r.final_url, page_text(r.body, r.content_type, site.encoding), r.content_type)
    listing = read_page(page)
    followed = _follow(conn, claim, site, listing, stats, hits)
    added = followed.added
    if process:
        added += _script_api(conn, claim, site, page, stats)
    else:
        out.dialect = listing.dialect
    if claim.kind in LIST_KINDS:
        out.next_fetch_in = _list_refetch(conn, claim, site, followed.new_articles)
        _list_withdrawals(conn, claim, followed.articles)
    _record(conn, claim, out, owner)
    return _result(claim, out, page_id=page_id if process else None, links_added=added, requests=1)


class _Followed(NamedTuple):
    added: int  # URLs new to the frontier
    new_articles: int  # of which articles: the list schedule's evidence of change
    articles: list[str]  # the article URLs the page lists, in page order


def _follow(conn: psycopg.Connection, claim: Claim, site: SiteConfig, listing: Listing, stats: Stats,
            hits: dict[str, int]) -> _Followed:
    """Put a page's links in the frontier; returns how many URLs (and articles) were new.

    Records of a list (datastore records, API results, feed items, sitemap entries) are
    articles whatever the site's patterns say; other anchors are classified by the
    patterns. The list's next page is followed (same depth: it is the same list) only
    when this page yielded a new article: deep pagination is often a stale stub, and a
    list page re-fetched on schedule stops paging at the first page with nothing new.
    """
    articles: dict[str, NewUrl] = {}
    others: dict[str, NewUrl] = {}
    pager_urls = {lk.url for lk in listing.of_kind("pager")}
    for link in listing.links:
        if link.kind == "pager" or link.url in pager_urls:
            continue
        canon = _admit(link.url, claim, site, hits)
        if canon is None:
            continue
        kind: str | None
        if link.kind in ("article", "feed"):
            if extension(canon) in SKIP_EXTENSIONS:
                continue
            kind = "attachment" if classify(canon, site) == "attachment" else link.kind
        else:
            kind = classify(canon, site)
        if kind is not None:
            (articles if kind == "article" else others)[canon] = NewUrl(canon, kind, host_key(canon))
    added = new_articles = 0
    if claim.depth < site.max_depth:
        traps = _traps(conn, claim, site, [*articles.values(), *others.values()])
        # articles first: the frontier's cap (max_pages pending URLs) may not hold every link
        new_articles = frontier.add_urls(conn, site.name, [u for u in articles.values() if u not in traps],
                                         claim.depth + 1, claim.url_id, max_urls=site.max_pages)
        added = new_articles + frontier.add_urls(conn, site.name, [u for u in others.values() if u not in traps],
                                                 claim.depth + 1, claim.url_id, max_urls=site.max_pages)
        stats.update("traps_recorded", frontier.record_traps(conn, site.name, traps, claim.depth + 1, claim.url_id))
    nxt = listing.next_page
    if claim.kind != "article" and nxt is not None and (new_articles > 0 or listing.records_elsewhere):
        canon = _admit(nxt.url, claim, site, hits, keep_query=True)
        if canon is not None:
            added += frontier.add_urls(conn, site.name, [NewUrl(canon, "pager", host_key(canon), nxt.method)],
                                       claim.depth, claim.url_id, max_urls=site.max_pages)
            frontier.wake_urls(conn, [canon])
            stats.update("pagers_followed")
    elif claim.kind != "article" and nxt is not None:
        stats.update("pagers_stopped")  # nothing new on this page: the pages after it are not asked
    stats.update("links_added", added)
    stats.update(f"dialect_{listing.dialect}")
    return _Followed(added, new_articles, list(articles))


def _traps(conn: psycopg.Connection, claim: Claim, site: SiteConfig, found: list[NewUrl]) -> dict[NewUrl, str]:
    """Links refused as crawler traps (crawler/traps.py), with the reason: recorded, not added."""
    traps = {u: why for u in found if (why := structural_trap(u.url))}
    own_variants = [u for u in self_variants(claim.url, [u.url for u in found]) if u not in {t.url for t in traps}]
    if own_variants:
        known = frontier.self_spawned_variants(conn, site.name, query_family(claim.url), site.max_query_variants)
        refused = variant_traps(claim.url, own_variants, known, site.max_query_variants)
        traps.update({u: refused[u.url] for u in found if u.url in refused})
    return traps


def _admit(url: str, claim: Claim, site: SiteConfig, hits: dict[str, int], *,
           keep_query: bool = False) -> str | None:
    """The canonical URL when the site may fetch it (in scope, not denied), else None."""
    canon = canonicalize(url, keep_query=keep_query)
    if canon is None or canon == claim.url or not in_scope(canon, site):
        return None
    denied = site.denied_by(canon)
    if denied is not None:
        hits[f"deny:{denied}"] = hits.get(f"deny:{denied}", 0) + 1
        return None
    return canon


def _script_api(conn: psycopg.Connection, claim: Claim, site: SiteConfig, page: Page, stats: Stats) -> int:
    """An article page whose body a script fills from a URL it names: that URL is fetched
    as the article (the page itself ends `script_filled` when processed)."""
    if page.tree is None:
        return 0
    verdict = detect_script_filled(page.tree, page.url)
    if verdict is None or verdict.api_url is None:
        return 0
    canon = _admit(verdict.api_url, claim, site, {})
    if canon is None:
        return 0
    stats.update("script_filled_api")
    return frontier.add_urls(conn, site.name, [NewUrl(canon, "article", host_key(canon))], claim.depth,
                             claim.url_id, max_urls=site.max_pages)


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
    gone = None
    if kind == ErrorKind.NOT_FOUND and claim.kind in DOCUMENT_KINDS and claim.fetched_before:
        gone = _gone_sign(conn, claim, r, WithdrawReason.NOT_FOUND, kind, message)
    if gone is not None:
        out = gone
    elif kind in RETRYABLE:
        out = _retry_outcome(claim, site, r, kind, message)
    elif kind == ErrorKind.NOT_FOUND and claim.kind == "feed" and claim.url.endswith(_GUESSED_SITEMAP):
        out = Outcome(UrlState.GONE, status=r.status, fail_count=0,
                      message="no /sitemap.xml on this host (a guess, not an error)")
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
    if claim.kind in DOCUMENT_KINDS and claim.fetched_before and is_error_redirect(claim.url, target):
        gone = _gone_sign(conn, claim, r, WithdrawReason.ERROR_REDIRECT, ErrorKind.ERROR_REDIRECT,
                          f"HTTP {r.status}: redirects to an error or home page, {target}")
        if gone is not None:
            return _end(conn, claim, gone, owner)
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
