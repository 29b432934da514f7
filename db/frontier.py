"""The frontier: every URL's state, schedule and lease, and each host's politeness budget.

The one owner of the URL lifecycle: no other module writes `urls.state` (or the error
columns that go with it). The states and error kinds are `govingest.states`; the
fetch and process stages decide which one a URL ends in, this module stores it.

Why politeness is enforced here, when URLs are handed out: a worker that sleeps to be
polite holds a slot doing nothing, and N workers sleeping independently still hit a
host N times as often. `claim_due` locks each host's row (`FOR UPDATE SKIP LOCKED`),
hands out at most one URL per host per `interval_seconds` and never more in flight
than the host's concurrency, then moves the host's `next_allowed_at` on. Every
dispatcher and in-process runner goes through it, so the budget holds fleet-wide.

States (`UrlState`): new → fetching (leased) → done | failed | gone. `done` and `failed` URLs come
back when their `next_fetch_at` arrives (list pages often, articles rarely, failures
with backoff); `gone` ones (404, robots Disallow, out of scope) never do.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from psycopg.types.json import Jsonb

from govingest.db.arrays import array_literal
from govingest.db.connect import one_row
from govingest.states import CLAIMABLE, CONTENT_ERRORS, ErrorKind, UrlState

log = logging.getLogger(__name__)

# NOTIFY channel of a lease ending (a fetch recorded its outcome): a host at its concurrency
# limit has room again. Dispatchers LISTEN and wake at once instead of polling for it.
LEASE_FREED_CHANNEL = "lease_freed"

# `state IN (...)` of the URLs a claim may hand out (they come back once due)
CLAIMABLE_SQL = ", ".join(f"'{s}'" for s in CLAIMABLE)
# `state IN (...)` of the URLs waiting to be fetched or in flight: what max_pages caps
# (urls_pending_by_site_idx, 0045, has the same predicate)
PENDING_SQL = f"'{UrlState.NEW}', '{UrlState.FETCHING}'"
# Issue 16, the list budget: a list page is handed out only while its site's bucket of
# `list_requests_per_hour` holds a token (list_tokens_now, migration 0090; +infinity
# when the site sets no budget), and each list page handed out spends one. `{u}` is the
# urls alias. When list pages are due is the scheduler's (next_fetch_at, set from
# crawler/schedule.py by the fetch stage); claim_due only honours it and this budget.
LIST_KINDS = ("list", "feed")  # URL kinds on the list schedule and budget (issue 16)
_LIST_KINDS_SQL = ", ".join(f"'{k}'" for k in LIST_KINDS)
LIST_BUDGET_OK = f"({{u}}kind NOT IN ({_LIST_KINDS_SQL}) OR list_tokens_now({{u}}site) >= 1)"


@dataclass(frozen=True)
class Claim:
    url_id: int
    url: str
    site: str
    host: str
    kind: str | None
    etag: str | None
    last_modified: str | None
    depth: int
    content_hash: str | None = None
    fail_count: int = 0
    fetched_before: bool = False
    method: str = "GET"  # POST: the URL's query goes as a form body (Hanweb dataproxy.jsp)


@dataclass
class Outcome:
    """How one fetch ended, as the frontier records it.

    `retry_in` / `refetch_in` are seconds from now for next_fetch_at; `fail_count`
    None keeps the stored count, an int sets it (0 after a success).
    """

    state: UrlState
    status: int | None = None
    error_kind: ErrorKind | None = None
    message: str | None = None
    next_fetch_in: float | None = None  # None = never again (gone) or keep
    fail_count: int | None = None
    fetched: bool = True  # a request was made: stamp last_fetched_at
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    content_length: int | None = None
    content_hash: str | None = None
    kind: str | None = None  # reclassify (an "article" that turned out to be a PDF)
    unchanged: bool = False  # same content as last time (304, same hash): a parse failure of it stands
    dialect: str | None = None  # the list dialect the page was read with (crawler.listing)


class NewUrl(NamedTuple):
    """A URL entering the frontier: canonical, in scope (the caller checked), its kind and
    its politeness key (`crawler.urls.host_key`, the one host-key function)."""

    url: str
    kind: str | None
    host: str
    method: str = "GET"  # POST: the URL's query goes as a form body (Hanweb dataproxy.jsp)


def ensure_site(conn: psycopg.Connection, name: str, config: dict[str, Any] | None = None) -> None:
    """Create the site row if missing (an existing site's config is left alone): ingest."""
    conn.execute("INSERT INTO sites (name, config) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                 (name, Jsonb(config or {})))


def upsert_site(conn: psycopg.Connection, name: str, config: dict[str, Any]) -> None:
    conn.execute(
        """INSERT INTO sites (name, config) VALUES (%s, %s::jsonb)
           ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, updated_at = now()""",
        (name, json.dumps(config, ensure_ascii=False)),
    )


def set_host_budget(conn: psycopg.Connection, host: str, *, interval: float, concurrency: int) -> None:
    """Create or update a host's budget from the site config (robots may slow it further)."""
    conn.execute(
        """INSERT INTO hosts (host, interval_seconds, concurrency) VALUES (%s, %s, %s)
           ON CONFLICT (host) DO UPDATE SET interval_seconds = EXCLUDED.interval_seconds,
                 concurrency = EXCLUDED.concurrency, updated_at = now()""",
        (host, interval, concurrency),
    )


def add_urls(
    conn: psycopg.Connection,
    site: str,
    urls: Iterable[NewUrl],
    depth: int,
    discovered_from: int | None,
    *,
    max_urls: int | None = None,
) -> int:
    """Insert canonical in-scope URLs (already checked by the caller) as `new`; return how
    many were new.

    The unique key on `urls.url` deduplicates: a URL already known keeps its state,
    schedule and depth. `max_urls` caps the site's *pending* URLs (its max_pages): what
    waits to be fetched, not what was ever seen, so a site's history never stops new
    articles. Links that find the frontier full are dropped (the list page that linked
    them finds them again on its next fetch) and logged; `govingest status` warns.
    """
    rows = list({u.url: u for u in urls}.values())  # unique, in discovery order
    if not rows:
        return 0
    room = None
    if max_urls is not None:
        room = max(0, max_urls - pending_urls(conn, site))
    # One statement for the whole page's links: most are already known on a refetched
    # list page, and the cap counts only new ones, first found first.
    added, fresh = (int(n) for n in one_row(conn, _ADD_URLS, {
        "urls": [u.url for u in rows], "kinds": [u.kind for u in rows], "hosts": [u.host for u in rows],
        "methods": [u.method for u in rows],
        "room": room, "site": site, "depth": depth, "from": discovered_from}))
    if fresh > added and room is not None and added >= room:
        log.warning("frontier full: new links dropped", extra={
            "site": site, "dropped": fresh - added, "max_pages": max_urls,
            "hint": "the site has max_pages URLs waiting; they are found again once some are fetched"})
    return added


def pending_urls(conn: psycopg.Connection, site: str) -> int:
    """URLs of `site` waiting to be fetched or in flight: what `max_pages` caps (read from
    the counters the writes keep, migration 0080: no scan of the site's URLs)."""
    return int(one_row(conn, f"""SELECT coalesce(sum(n), 0) FROM url_count_deltas
                                 WHERE site = %s AND state IN ({PENDING_SQL})""", (site,))[0])


def fold_counts(conn: psycopg.Connection) -> None:
    """Fold the URL and document count deltas (0080) to one row per key, so reading them
    stays cheap; housekeeping of the dispatcher and of the in-process runner. Commits."""
    conn.execute("SELECT fold_count_deltas()")
    conn.commit()


def record_traps(conn: psycopg.Connection, site: str, traps: dict[NewUrl, str], depth: int,
                 discovered_from: int | None) -> int:
    """Record links refused as crawler traps: `gone`, error kind `crawler_trap`, the reason.

    A URL already known keeps its row. Returns how many were recorded.
    """
    if not traps:
        return 0
    cur = conn.execute(
        """INSERT INTO urls (url, site, host, kind, state, depth, discovered_from, last_error_kind, last_error)
           SELECT url, %(site)s, host, kind, %(state)s, %(depth)s, %(from)s, %(kind)s, why
           FROM unnest(%(urls)s::text[], %(hosts)s::text[], %(kinds)s::text[], %(whys)s::text[])
                AS t(url, host, kind, why)
           ON CONFLICT (url) DO NOTHING""",
        {"site": site, "state": UrlState.GONE, "depth": depth, "from": discovered_from,
         "kind": ErrorKind.CRAWLER_TRAP, "urls": [u.url for u in traps], "hosts": [u.host for u in traps],
         "kinds": [u.kind for u in traps], "whys": list(traps.values())})
    return cur.rowcount


def self_spawned_variants(conn: psycopg.Connection, site: str, family: str, limit: int) -> int:
    """How many URLs of `family` (a URL without its query) were discovered from pages of the
    same family, counted up to `limit`: the crawler-trap signal of crawler/traps.py."""
    return int(one_row(conn,
        """SELECT count(*) FROM (
               SELECT 1 FROM urls c JOIN urls p ON p.id = c.discovered_from
               WHERE c.site = %(site)s AND c.url LIKE '%%?%%' AND split_part(c.url, '?', 1) = %(family)s
                 AND split_part(p.url, '?', 1) = %(family)s
               LIMIT %(limit)s) t""",
        {"site": site, "family": family, "limit": limit})[0])


def register_url(conn: psycopg.Connection, *, url: str, site: str, host: str, kind: str = "article") -> int:
    """Id of a URL that enters without the crawler (an ingested file), inserting it as
    already fetched (`done`) when new.

    An existing URL keeps its site and frontier state; ingesting a file over a URL
    the crawler also knows simply adds a page to it.
    """
    row = conn.execute(
        """INSERT INTO urls (url, site, host, kind, state, last_fetched_at)
           VALUES (%s, %s, %s, %s, %s, now())
           ON CONFLICT (url) DO UPDATE SET last_fetched_at = now()
           RETURNING id""",
        (url, site, host, kind, UrlState.DONE),
    ).fetchone()
    assert row is not None
    return int(row[0])


def record_parse_failure(conn: psycopg.Connection, url_id: int, *, kind: ErrorKind, message: str) -> None:
    """The page was stored but cannot become a document: the URL ends `failed` with why."""
    conn.execute(
        """UPDATE urls SET state = %s, last_error_kind = %s, last_error = %s,
                           lease_until = NULL, lease_owner = NULL
           WHERE id = %s""",
        (UrlState.FAILED, kind, message[:2000], url_id),
    )


# The URLs of `%(urls)s` that are stored, and those whose last parse failed for their content
# (`%(content_errors)s` from `url_states_params`): one row, read by the document write's
# opening statement, so `record_parsed` runs only for the failed ones. Why not always: an
# UPDATE fires the statement trigger that counts URL states even when it matches no row,
# which cost a one-document write a statement and ~0.1 ms of server time for a URL that
# is almost never failed. By primary key (`id = ANY`), so its plan never scans the table.
URL_STATES_SQL = (f"SELECT coalesce(array_agg(id), '{{}}') AS stored, "
                  f"coalesce(array_agg(id) FILTER (WHERE state = '{UrlState.FAILED}' "
                  f"AND last_error_kind = ANY(%(content_errors)s::text[])), '{{}}') AS content_failed "
                  f"FROM urls WHERE id = ANY(%(urls)s::bigint[])")


_CONTENT_ERRORS_LITERAL = array_literal(CONTENT_ERRORS)


def url_states_params() -> dict[str, str]:
    """The parameters of URL_STATES_SQL besides the URLs (an array literal, db/arrays.py)."""
    return {"content_errors": _CONTENT_ERRORS_LITERAL}


def record_parsed(conn: psycopg.Connection, url_ids: Sequence[int]) -> None:
    """Documents of these URLs are being written: those whose earlier parse failed (any
    content error: parse, script_filled, needs_ocr …) are healthy again (`done`, error
    cleared). Sent inside the document write's pipeline, for the URLs URL_STATES_SQL
    found failed."""
    conn.execute(
        """UPDATE urls SET state = %s, last_error_kind = NULL, last_error = NULL
           WHERE id = ANY(%s) AND state = %s AND last_error_kind = ANY(%s)""",
        (UrlState.DONE, list(url_ids), UrlState.FAILED, [str(k) for k in CONTENT_ERRORS]))


_ADD_URLS = """
WITH v AS (SELECT * FROM unnest(%(urls)s::text[], %(kinds)s::text[], %(hosts)s::text[], %(methods)s::text[])
                  WITH ORDINALITY AS v(url, kind, host, method, ord)),
     h AS (INSERT INTO hosts (host) SELECT DISTINCT host FROM v ON CONFLICT DO NOTHING),
     fresh AS (SELECT v.* FROM v WHERE NOT EXISTS (SELECT 1 FROM urls u WHERE u.url = v.url)),
     ins AS (INSERT INTO urls (url, site, host, kind, depth, discovered_from, method)
             SELECT url, %(site)s, host, kind, %(depth)s, %(from)s, method
             FROM (SELECT * FROM fresh ORDER BY ord LIMIT %(room)s) f ORDER BY ord
             ON CONFLICT (url) DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM fresh)"""


def wake_urls(conn: psycopg.Connection, urls: list[str]) -> int:
    """Make known, settled URLs due now (a list's next page, when the page before it
    yielded a new article); URLs in flight or gone are left alone. The caller commits."""
    if not urls:
        return 0
    cur = conn.execute(
        """UPDATE urls SET next_fetch_at = now()
           WHERE url = ANY(%s) AND state IN ('done', 'failed') AND next_fetch_at > now()""", (urls,))
    return cur.rowcount


def count_rule_hits(conn: psycopg.Connection, site: str, hits: dict[str, int]) -> None:
    """Add to how often each of a site's rules matched (`govingest status`). The caller commits."""
    if not hits:
        return
    conn.execute(
        """INSERT INTO site_rule_hits (site, rule, hits)
           SELECT %(site)s, r, n FROM unnest(%(rules)s::text[], %(counts)s::bigint[]) AS t(r, n)
           ON CONFLICT (site, rule) DO UPDATE SET hits = site_rule_hits.hits + EXCLUDED.hits, last_at = now()""",
        {"site": site, "rules": list(hits), "counts": list(hits.values())})


def claim_due(
    conn: psycopg.Connection, *, limit: int, lease_seconds: float, owner: str,
    sites: list[str] | None = None,
) -> list[Claim]:
    """Lease up to `limit` due URLs, at most one per host whose budget allows a request now.

    One per host per call is the point: the host's next slot is `interval_seconds`
    later, so a caller polling faster than the interval cannot exceed the rate. Commits.

    Two statements, whatever `limit`: the first locks at most `limit` hosts that have a
    slot, room under their concurrency and a due URL (`_LOCK_HOSTS`, so a claim of 4 URLs
    locks 4 hosts, not every eligible one); the second, with those locks held and a fresh
    snapshot, leases one URL per locked host and moves each host's `next_allowed_at` on
    (`_CLAIM`). The in-flight count is checked again there: while we hold a host's lock
    nobody else can lease from it, so the check is exact.
    """
    with conn.transaction():
        hosts = conn.execute(_LOCK_HOSTS, {"sites": sites, "limit": limit}).fetchall()
        rows = conn.execute(_CLAIM, {
            "hosts": [h[0] for h in hosts], "intervals": [h[1] for h in hosts],
            "concurrency": [h[2] for h in hosts], "lease": lease_seconds, "owner": owner,
            "sites": sites}).fetchall() if hosts else []
        for row in rows:  # issue 16: a list page spends one token of its site's budget
            if row[4] in LIST_KINDS:
                conn.execute("SELECT spend_list_token(%s)", (row[2],))
    conn.commit()  # when the caller had a transaction open, the block above was a savepoint
    return [Claim(*r) for r in rows]


# A host's effective budget: Crawl-delay (when set) is a floor on the interval and allows one
# request in flight; until robots.txt is known, one request (the one that fetches it).
_EFFECTIVE = """
    CASE WHEN h.crawl_delay > 0 THEN greatest(h.interval_seconds, h.crawl_delay) ELSE h.interval_seconds END,
    CASE WHEN h.crawl_delay > 0 OR h.robots_fetched_at IS NULL THEN 1 ELSE h.concurrency END"""

# Requests in flight per host, counted once per statement over the leased URLs (at most the
# outstanding leases, whatever the frontier's size), then looked up per host. Why not a
# per-host count subquery: the planner, whose statistics rarely see a leased URL, reads it
# off (state, next_fetch_at) and scans every lease once per host (278 ms for 900 hosts).
_BUSY = """busy AS MATERIALIZED (SELECT host, count(*) AS n FROM urls
                                WHERE state = 'fetching' AND lease_until > now() GROUP BY host)"""
_CAP = "CASE WHEN h.crawl_delay > 0 OR h.robots_fetched_at IS NULL THEN 1 ELSE h.concurrency END"

_LOCK_HOSTS = f"""
WITH {_BUSY}
SELECT h.host, {_EFFECTIVE}
FROM hosts h LEFT JOIN busy b ON b.host = h.host
WHERE h.next_allowed_at <= clock_timestamp()
  AND coalesce(b.n, 0) < {_CAP}
  -- a probe per host on urls_due_by_host_idx (not a semi-join reading every due URL)
  AND (SELECT 1 FROM urls u WHERE u.host = h.host
         AND u.state IN ({CLAIMABLE_SQL})
         AND u.next_fetch_at <= now()
         AND (%(sites)s::text[] IS NULL OR u.site = ANY(%(sites)s))
         AND {LIST_BUDGET_OK.format(u="u.")}  -- issue 16: list budget
       LIMIT 1) IS NOT NULL
ORDER BY h.next_allowed_at
LIMIT %(limit)s
FOR UPDATE OF h SKIP LOCKED"""

# The oldest due URL of each locked host (urls_due_by_host_idx, no sort); the host's next
# slot: one interval after the previous slot when this hand-out was at most half an
# interval late (a late poll does not drift the rate), else one interval from now (an idle
# host does not bank a burst).
_CLAIM = f"""
WITH {_BUSY},
     h AS (SELECT * FROM unnest(%(hosts)s::text[], %(intervals)s::float8[], %(concurrency)s::int[])
                    WITH ORDINALITY AS h(host, i, concurrency, ord)),
     pick AS (SELECT u.id, h.host, h.i, h.ord FROM h LEFT JOIN busy b ON b.host = h.host
              CROSS JOIN LATERAL (
                  SELECT id FROM urls
                  WHERE host = h.host AND state IN ({CLAIMABLE_SQL}) AND next_fetch_at <= now()
                    AND (%(sites)s::text[] IS NULL OR site = ANY(%(sites)s))
                    AND {LIST_BUDGET_OK.format(u="")}  -- issue 16: list budget
                  ORDER BY next_fetch_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) u
              WHERE coalesce(b.n, 0) < h.concurrency),
     leased AS (UPDATE urls SET state = 'fetching', lease_until = now() + make_interval(secs => %(lease)s),
                       lease_owner = %(owner)s
                FROM pick WHERE urls.id = pick.id
                RETURNING pick.ord, urls.id, urls.url, urls.site, urls.host, urls.kind, urls.etag,
                          urls.last_modified, urls.depth, urls.content_hash, urls.fail_count,
                          urls.last_fetched_at IS NOT NULL AS fetched_before, urls.method),
     moved AS (UPDATE hosts SET next_allowed_at = CASE
                   WHEN clock_timestamp() - next_allowed_at <= make_interval(secs => pick.i * 0.5)
                   THEN next_allowed_at + make_interval(secs => pick.i)
                   ELSE clock_timestamp() + make_interval(secs => pick.i) END
               FROM pick WHERE hosts.host = pick.host)
SELECT id, url, site, host, kind, etag, last_modified, depth, content_hash, fail_count, fetched_before, method
FROM leased ORDER BY ord"""


def take_slot(conn: psycopg.Connection, host: str, *, stale_seconds: float = 120.0,
              owner: str | None = None) -> float | None:
    """Reserve the host's next request start: seconds to wait before sending (0 = now), or
    None while another request to the host is still waiting for its answer. Commits.

    Called by the fetch worker immediately before it sends, so the rule holds fleet-wide
    whatever happened between claim and send. The rule, strict at the server: a request
    starts only after the previous request to the host was answered (`release_slot`),
    and at least one interval (the larger of 1/rate and Crawl-delay) after both that
    answer and the previous start. The server stamps a request before it answers it, so
    start(k+1) >= answer(k) + interval >= stamp(k) + interval in its access log, with no
    assumption about network or scheduling jitter. A start older than `stale_seconds`
    never answered (its worker died) no longer holds the host; `owner` is recorded so a
    caller that knows the owner died frees it sooner (`free_slots`). The UPDATE's row lock
    serializes reservations.
    """
    row = conn.execute(
        """UPDATE hosts SET last_request_at = greatest(
                   clock_timestamp(),
                   last_request_at + make_interval(secs => greatest(interval_seconds, coalesce(crawl_delay, 0))),
                   last_response_at + make_interval(secs => greatest(interval_seconds, coalesce(crawl_delay, 0)))),
               request_owner = %(owner)s
           WHERE host = %(host)s
             AND (last_request_at IS NULL OR last_response_at >= last_request_at
                  OR last_request_at < clock_timestamp() - make_interval(secs => %(stale)s))
           RETURNING extract(epoch FROM last_request_at - clock_timestamp())""",
        {"host": host, "stale": stale_seconds, "owner": owner},
    ).fetchone()
    if row is None:
        known = conn.execute("SELECT 1 FROM hosts WHERE host = %s", (host,)).fetchone()
        conn.commit()
        return None if known else 0.0
    conn.commit()
    return max(0.0, float(row[0]))


def release_slot(conn: psycopg.Connection, host: str) -> None:
    """Stamp the host's latest response (see `take_slot`); commits."""
    conn.execute("UPDATE hosts SET last_response_at = clock_timestamp() WHERE host = %s", (host,))
    conn.commit()


def free_slots(conn: psycopg.Connection, owners: list[str]) -> int:
    """Hosts whose unanswered request was sent by `owners` (known dead) answered now; commits.

    The request died with its process, so no answer will come: stamping the response at
    this moment (after the death, so after anything the server saw) keeps `take_slot`'s
    rule and frees the host without the stale window.
    """
    if not owners:
        return 0
    cur = conn.execute(
        """UPDATE hosts SET last_response_at = clock_timestamp()
           WHERE request_owner = ANY(%s) AND last_request_at IS NOT NULL
             AND (last_response_at IS NULL OR last_response_at < last_request_at)""", (owners,))
    conn.commit()
    return cur.rowcount


def redirect_chain(conn: psycopg.Connection, url_id: int, limit: int = 20) -> list[str]:
    """`url_id`'s URL, then the URLs that redirected to it, nearest first.

    A redirect target enters the frontier with `discovered_from` = the redirecting URL,
    so walking `discovered_from` while the parent's last answer was a redirect gives the
    chain: what the crawler needs to count hops and spot loops across frontier entries.
    """
    rows = conn.execute(
        """WITH RECURSIVE chain(id, url, parent, n) AS (
               SELECT id, url, discovered_from, 0 FROM urls WHERE id = %(id)s
               UNION ALL
               SELECT u.id, u.url, u.discovered_from, c.n + 1 FROM chain c JOIN urls u ON u.id = c.parent
               WHERE u.last_status IN (301, 302, 303, 307, 308) AND c.n < %(limit)s)
           SELECT url FROM chain ORDER BY n""",
        {"id": url_id, "limit": limit},
    ).fetchall()
    return [r[0] for r in rows]


def seconds_until_due(conn: psycopg.Connection, *, sites: list[str] | None = None) -> float | None:
    """Seconds until the next URL could be handed out (0 = now); None when nothing is pending.

    Lets a runner sleep exactly until the next host slot instead of polling blindly.
    A host with as many fetches in flight as it allows counts as due: it has room again
    when a fetch ends, which `record_outcome` announces on LEASE_FREED_CHANNEL.
    """
    row = conn.execute(
        f"""SELECT extract(epoch FROM min(greatest(d.due, h.next_allowed_at)) - clock_timestamp())
           FROM hosts h CROSS JOIN LATERAL (
               SELECT u.next_fetch_at AS due FROM urls u
               WHERE u.host = h.host AND u.state IN ({CLAIMABLE_SQL})
                 AND (%(sites)s::text[] IS NULL OR u.site = ANY(%(sites)s))
                 AND {LIST_BUDGET_OK.format(u="u.")}  -- issue 16: a list over budget is not due
               ORDER BY u.next_fetch_at LIMIT 1) d""",
        {"sites": sites},
    ).fetchone()
    conn.commit()
    return None if row is None or row[0] is None else max(0.0, float(row[0]))


def record_outcome(conn: psycopg.Connection, url_id: int, outcome: Outcome, *, owner: str | None = None) -> bool:
    """Write how a fetch ended and release the lease; False when the lease was lost.

    With `owner`, nothing is written unless this owner still holds the lease, so a
    worker whose lease expired (and was handed to another) cannot overwrite the newer
    result. The caller commits; the commit also sends a LEASE_FREED_CHANNEL notification
    (one per transaction however many outcomes), which wakes idle dispatchers.
    """
    # same content as before and its parse failed: the failure stands (a 304 is no fix)
    # (the URL is 'fetching' while leased, so the failure is known by its kind alone)
    keep = "(%(unchanged)s AND last_error_kind = ANY(%(parse_kinds)s))"
    cur = conn.execute(
        """UPDATE urls SET
              state = CASE WHEN {keep} THEN %(failed)s ELSE %(state)s END,
              last_status = coalesce(%(status)s, CASE WHEN %(fetched)s THEN NULL ELSE last_status END),
              last_error_kind = CASE WHEN {keep} THEN last_error_kind ELSE %(kind)s END,
              last_error = CASE WHEN {keep} THEN last_error ELSE %(message)s END,
              next_fetch_at = CASE WHEN %(next)s::float8 IS NULL THEN next_fetch_at
                                   ELSE now() + make_interval(secs => %(next)s::float8) END,
              fail_count = coalesce(%(fail_count)s, fail_count),
              last_fetched_at = CASE WHEN %(fetched)s THEN now() ELSE last_fetched_at END,
              etag = coalesce(%(etag)s, etag),
              last_modified = coalesce(%(last_modified)s, last_modified),
              content_type = coalesce(%(content_type)s, content_type),
              content_length = coalesce(%(content_length)s, content_length),
              content_hash = coalesce(%(content_hash)s, content_hash),
              kind = coalesce(%(new_kind)s, kind),
              dialect = coalesce(%(dialect)s, dialect),
              lease_until = NULL, lease_owner = NULL
           WHERE id = %(id)s AND (%(owner)s::text IS NULL OR lease_owner = %(owner)s)
           RETURNING pg_notify(%(channel)s, '')""".replace("{keep}", keep),
        {"state": outcome.state, "status": outcome.status, "kind": outcome.error_kind,
         "message": outcome.message, "next": outcome.next_fetch_in, "fail_count": outcome.fail_count,
         "fetched": outcome.fetched, "etag": outcome.etag, "last_modified": outcome.last_modified,
         "content_type": outcome.content_type, "content_length": outcome.content_length,
         "content_hash": outcome.content_hash, "new_kind": outcome.kind, "id": url_id, "owner": owner,
         "unchanged": outcome.unchanged, "parse_kinds": [str(k) for k in CONTENT_ERRORS], "failed": UrlState.FAILED,
         "dialect": outcome.dialect, "channel": LEASE_FREED_CHANNEL},
    )
    return cur.rowcount == 1


def _release_sql(where: str) -> str:
    # back to what it was before the claim: never fetched → new, fetched before → done,
    # due at once (a failed-before URL keeps its fail_count and is simply tried again)
    return f"""UPDATE urls SET state = CASE WHEN last_fetched_at IS NULL THEN 'new' ELSE 'done' END,
                      lease_until = NULL, lease_owner = NULL, next_fetch_at = now()
               WHERE state = 'fetching' AND {where}"""


def reap_expired(conn: psycopg.Connection) -> int:
    """Expired leases (their worker died or lost the message) back to due; commits."""
    cur = conn.execute(_release_sql("lease_until < clock_timestamp()"))
    conn.commit()
    return cur.rowcount


def release_owners(conn: psycopg.Connection, owners: list[str]) -> int:
    """Release every lease held by `owners` (known dead) without waiting for expiry; commits."""
    if not owners:
        return 0
    cur = conn.execute(_release_sql("lease_owner = ANY(%s)"), (owners,))
    conn.commit()
    return cur.rowcount


def lease_owners(conn: psycopg.Connection, prefix: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT lease_owner FROM urls WHERE state = 'fetching' AND lease_owner LIKE %s",
        (prefix + "%",),
    ).fetchall()
    conn.commit()
    return [r[0] for r in rows]


def reschedule_site(conn: psycopg.Connection, site: str, hosts: list[str] | None = None) -> int:
    """Make a site's done/failed URLs (on `hosts`, if given) due now: `crawl --recrawl`, the demo."""
    cur = conn.execute(
        """UPDATE urls SET next_fetch_at = now() WHERE site = %s AND state IN ('done', 'failed')
             AND (%s::text[] IS NULL OR host = ANY(%s))""",
        (site, hosts, hosts),
    )
    return cur.rowcount


@dataclass(frozen=True)
class HostRobots:
    text: str | None  # None = not fetched yet
    fetched_at: datetime | None


def host_robots(conn: psycopg.Connection, host: str) -> HostRobots:
    row = conn.execute("SELECT robots_txt, robots_fetched_at FROM hosts WHERE host = %s", (host,)).fetchone()
    return HostRobots(None, None) if row is None else HostRobots(row[0], row[1])


def store_robots(conn: psycopg.Connection, host: str, *, text: str, status: int | None,
                 crawl_delay: float | None) -> None:
    conn.execute(
        """INSERT INTO hosts (host, robots_txt, robots_status, robots_fetched_at, crawl_delay)
           VALUES (%(host)s, %(text)s, %(status)s, now(), %(delay)s)
           ON CONFLICT (host) DO UPDATE SET robots_txt = EXCLUDED.robots_txt,
                 robots_status = EXCLUDED.robots_status, robots_fetched_at = now(),
                 crawl_delay = EXCLUDED.crawl_delay, updated_at = now()""",
        {"host": host, "text": text, "status": status, "delay": crawl_delay},
    )


def unprocessed_pages(conn: psycopg.Connection, sites: list[str]) -> list[tuple[int, str]]:
    """(page id, site) of article pages stored but never processed: their crawl died
    between fetch and parse. The in-process runner processes them first on restart."""
    rows = conn.execute(
        """SELECT p.id, u.site FROM urls u
           JOIN LATERAL (SELECT id, processed_at FROM pages WHERE url_id = u.id ORDER BY id DESC LIMIT 1) p ON true
           WHERE u.site = ANY(%s) AND u.kind = 'article' AND p.processed_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.page_id = p.id)
           ORDER BY p.id""",
        (sites,),
    ).fetchall()
    conn.commit()
    return [(r[0], r[1]) for r in rows]


def pending_count(conn: psycopg.Connection, sites: list[str]) -> int:
    """URLs of `sites` not yet fetched or in flight (the progress bar's remaining work)."""
    row = one_row(conn, f"""SELECT coalesce(sum(n), 0) FROM url_count_deltas
                            WHERE site = ANY(%s) AND state IN ({PENDING_SQL})""", (sites,))
    conn.commit()
    return int(row[0])


def document_totals(conn: psycopg.Connection, sites: list[str]) -> dict[str, tuple[int, int]]:
    """site -> (documents, facts) stored, for the per-site summary."""
    rows = conn.execute(
        """SELECT d.site, count(*), coalesce(sum((SELECT count(*) FROM facts f WHERE f.document_id = d.id)), 0)
           FROM documents d WHERE d.site = ANY(%s) GROUP BY d.site""",
        (sites,),
    ).fetchall()
    conn.commit()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


# --- issue 16: withdrawal signs and list schedules ------------------------------------------


def add_gone_sign(conn: psycopg.Connection, url_id: int) -> tuple[int, bool]:
    """One more sign in a row that the article was taken down (404/410, error redirect):
    (signs in a row now, whether the URL has a document). The caller commits."""
    row = one_row(conn,
        """UPDATE urls SET gone_signals = gone_signals + 1 WHERE id = %s
           RETURNING gone_signals, EXISTS (SELECT 1 FROM documents d WHERE d.url_id = urls.id)""", (url_id,))
    return int(row[0]), bool(row[1])


def clear_gone_signs(conn: psycopg.Connection, url_id: int) -> bool:
    """The article answered normally: its signs are reset; True when it had any (so a
    withdrawn document may be restored). The caller commits."""
    return conn.execute("UPDATE urls SET gone_signals = 0 WHERE id = %s AND gone_signals > 0 RETURNING 1",
                        (url_id,)).fetchone() is not None


def list_articles(conn: psycopg.Connection, url_id: int) -> list[str] | None:
    """The article URLs a list page listed at its previous fetch, in page order (None: never recorded)."""
    row = conn.execute("SELECT list_articles FROM urls WHERE id = %s", (url_id,)).fetchone()
    return None if row is None or row[0] is None else list(row[0])


def set_list_articles(conn: psycopg.Connection, url_id: int, articles: list[str]) -> None:
    """Store what the list page's next fetch is compared with. The caller commits."""
    conn.execute("UPDATE urls SET list_articles = %s WHERE id = %s", (articles, url_id))


def add_delisted_signs(conn: psycopg.Connection, urls: list[str]) -> list[tuple[int, str, int]]:
    """These articles dropped off an otherwise intact list: (url id, url, signs in a row)
    of those with a document. The caller commits."""
    if not urls:
        return []
    rows = conn.execute(
        """UPDATE urls u SET delisted_signals = delisted_signals + 1
           WHERE u.url = ANY(%s) AND EXISTS (SELECT 1 FROM documents d WHERE d.url_id = u.id)
           RETURNING u.id, u.url, u.delisted_signals""", (urls,)).fetchall()
    return [(int(r[0]), r[1], int(r[2])) for r in rows]


def clear_delisted_signs(conn: psycopg.Connection, urls: list[str]) -> list[int]:
    """These articles are on their list: ids of those that had dropped off (a delisted
    document may be restored). The caller commits."""
    if not urls:
        return []
    rows = conn.execute("UPDATE urls SET delisted_signals = 0 WHERE url = ANY(%s) AND delisted_signals > 0 "
                        "RETURNING id", (urls,)).fetchall()
    return [int(r[0]) for r in rows]


@dataclass(frozen=True)
class ListPage:
    """One list page's schedule state: crawler/schedule.py's estimator sums, its last interval."""

    url_id: int
    events: float
    window: float
    fast_events: float
    fast_window: float
    interval: float | None


_LIST_PAGE_COLUMNS = "id, change_events, change_window, change_events_fast, change_window_fast, list_interval"


def _list_page(row: Sequence[Any]) -> ListPage:
    events, window, fast_events, fast_window = (float(v) for v in row[1:5])
    return ListPage(int(row[0]), events, window, fast_events, fast_window,
                    None if row[5] is None else float(row[5]))


def observe_list(conn: psycopg.Connection, url_id: int, *, new: int, half_life: float,
                 fast_half_life: float) -> ListPage:
    """Add one fetch of a list page to its estimator: `new` articles since its previous
    fetch (called before this fetch's outcome is recorded: `last_fetched_at` is still the
    previous one). The sums fade as crawler.schedule.Observation.add. The caller commits."""
    row = one_row(conn,
        f"""WITH o AS (SELECT greatest(0, coalesce(extract(epoch FROM now() - last_fetched_at), 0))::float8 AS dt
                       FROM urls WHERE id = %(id)s)
            UPDATE urls SET change_events = change_events * power(0.5, o.dt / %(h)s) + %(new)s,
                            change_window = change_window * power(0.5, o.dt / %(h)s) + o.dt,
                            change_events_fast = change_events_fast * power(0.5, o.dt / %(f)s) + %(new)s,
                            change_window_fast = change_window_fast * power(0.5, o.dt / %(f)s) + o.dt,
                            last_change_at = CASE WHEN %(new)s > 0 THEN now() ELSE last_change_at END
            FROM o WHERE id = %(id)s
            RETURNING {_LIST_PAGE_COLUMNS}""",
        {"id": url_id, "new": new, "h": half_life, "f": fast_half_life})
    return _list_page(row)


def site_list_pages(conn: psycopg.Connection, site: str) -> list[ListPage]:
    """Every scheduled list page of `site` (not gone): what the site's list budget is shared among."""
    rows = conn.execute(
        f"""SELECT {_LIST_PAGE_COLUMNS} FROM urls
            WHERE site = %s AND kind IN ({_LIST_KINDS_SQL}) AND state <> 'gone'""", (site,)).fetchall()
    return [_list_page(r) for r in rows]


def set_list_interval(conn: psycopg.Connection, url_id: int, seconds: float) -> None:
    """Remember the interval the scheduler chose (v_list_pages, the next catch-up). The caller commits."""
    conn.execute("UPDATE urls SET list_interval = %s WHERE id = %s", (seconds, url_id))

