"""The read-only side: what `tail`, `status`, `search`, `export` and `serve` read, as the reader.

Why a module of its own: read-only commands must work for a consumer's login role, a
member of `govingest_reader` that may read the documented views and nothing else. So
they never migrate, never read a table, and act as `govingest_reader` whatever they
connect as (`connect_reader`: an owner's URL reads exactly what a consumer would). A
schema older than the code is reported with the migrations it lacks, not half-read.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from govingest.db.connect import connect
from govingest.db.migrate import MigrationError, available_migrations

READER_ROLE = "govingest_reader"
# the reader guard (migration 0040) refuses a statement_timeout of 0 or above 5 minutes
DEFAULT_TIMEOUT = "30s"
_MAX_TIMEOUT_MS = 300_000


class SchemaTooOld(MigrationError):
    """The database lacks migrations this code reads through; `govingest migrate` adds them."""


def connect_reader(url: str, *, statement_timeout: str = DEFAULT_TIMEOUT) -> psycopg.Connection:
    """An autocommit connection acting as govingest_reader, its schema checked (never migrated).

    The statement timeout is set before the role changes: the reader must keep one
    (0040), and a session may lower it but the guard refuses a lifted one.
    """
    conn = connect(url, autocommit=True)
    try:
        act_as_reader(conn, statement_timeout=statement_timeout)
        require_schema(conn)
    except Exception:
        conn.close()
        raise
    return conn


def act_as_reader(conn: psycopg.Connection, *, statement_timeout: str = DEFAULT_TIMEOUT) -> bool:
    """Give the session a statement timeout the guard accepts and `SET ROLE govingest_reader`
    when the login may (a member, or a superuser); True when the role was taken."""
    row = conn.execute("SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'").fetchone()
    if row is None or row[0] == 0 or row[0] > _MAX_TIMEOUT_MS:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (statement_timeout,))
    may = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(r)s)
                  AND current_user <> %(r)s AND pg_has_role(current_user, %(r)s, 'MEMBER')""",
        {"r": READER_ROLE}).fetchone()
    if may and may[0]:
        conn.execute(f"SET ROLE {READER_ROLE}")
        return True
    return False


def applied_versions(conn: psycopg.Connection) -> set[int] | None:
    """Versions applied, read as the reader may (0072's function) or from the table;
    None when the database has no govingest schema at all."""
    has_fn = conn.execute("SELECT to_regprocedure('govingest_schema_versions()') IS NOT NULL").fetchone()
    if has_fn and has_fn[0]:
        return {int(r[0]) for r in conn.execute("SELECT * FROM govingest_schema_versions()")}
    has_table = conn.execute(
        """SELECT to_regclass('schema_migrations') IS NOT NULL
                  AND has_table_privilege('schema_migrations', 'SELECT')""").fetchone()
    if has_table and has_table[0]:
        return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}
    exists = conn.execute("SELECT to_regclass('v_documents') IS NOT NULL").fetchone()
    return set() if exists and exists[0] else None


def require_schema(conn: psycopg.Connection) -> None:
    """Raise SchemaTooOld naming the missing migrations (or MigrationError when newer)."""
    known = available_migrations()
    done = applied_versions(conn)
    if done is None:
        raise SchemaTooOld("this database has no govingest schema yet: run `govingest migrate` "
                           "(as the database owner) or point DATABASE_URL at govingest's database")
    latest = known[-1].version if known else 0
    if any(v > latest for v in done):
        raise MigrationError(f"database schema is at version {max(done):04d}, newer than this govingest "
                             f"({latest:04d}): upgrade govingest before reading this database")
    missing = [m.label for m in known if m.version not in done]
    if missing:
        which = missing[0] if len(missing) == 1 else f"{missing[0]} … {missing[-1]} ({len(missing)} migrations)"
        raise SchemaTooOld(f"the database schema is older than this govingest: it needs migration {which}; "
                           "run `govingest migrate` as the database owner, then retry")


# --- status -----------------------------------------------------------------------------

def site_url_counts(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    """(site, state, URLs), from the counters the writes keep (v_url_counts, 0080)."""
    rows = conn.execute("SELECT site, state, sum(n) FROM v_url_counts GROUP BY 1, 2 HAVING sum(n) <> 0 "
                        "ORDER BY 1, 2").fetchall()
    return [(r[0], r[1], int(r[2])) for r in rows]


def sites_at_cap(conn: psycopg.Connection) -> list[tuple[str, int, int]]:
    """(site, pending URLs, max_pages) of sites whose pending URLs fill their cap."""
    rows = conn.execute("SELECT site, pending, max_pages FROM v_site_caps WHERE pending >= max_pages "
                        "ORDER BY site").fetchall()
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


def recent_errors(conn: psycopg.Connection, limit: int = 10, *, site: str | None = None) -> list[tuple[Any, ...]]:
    """(site, url, last_status, last_error_kind, last_error, last_fetched_at), newest first."""
    return [tuple(r) for r in conn.execute(
        """SELECT site, url, last_status, last_error_kind, last_error, last_fetched_at FROM v_urls
           WHERE last_error_kind IS NOT NULL AND (%(s)s::text IS NULL OR site = %(s)s)
           ORDER BY last_fetched_at DESC NULLS LAST, url_id DESC LIMIT %(n)s""", {"s": site, "n": limit})]


def error_kinds(conn: psycopg.Connection, sites: list[str] | None = None) -> list[tuple[str, str, int]]:
    """(site, error kind, URLs) of URLs whose last outcome was an error."""
    rows = conn.execute(
        """SELECT site, error_kind, sum(n) FROM v_url_counts
           WHERE error_kind IS NOT NULL AND (%(s)s::text[] IS NULL OR site = ANY(%(s)s))
           GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2""", {"s": sites}).fetchall()
    return [(r[0], r[1], int(r[2])) for r in rows]


def document_kinds(conn: psycopg.Connection) -> dict[str, int]:
    """Documents by kind ('article', 'attachment'), from v_document_counts (0080)."""
    return {str(k): int(n) for k, n in conn.execute(
        "SELECT kind, sum(n) FROM v_document_counts GROUP BY kind HAVING sum(n) <> 0")}


def search_backlog(conn: psycopg.Connection) -> tuple[int, float | None]:
    """(documents stored but not yet searchable, age in seconds of the oldest), from
    v_search_backlog (0110): the index stage's lag behind the writes."""
    row = conn.execute("SELECT queued, oldest_seconds FROM v_search_backlog").fetchone()
    assert row is not None
    return int(row[0]), row[1]


def rule_hits(conn: psycopg.Connection, sites: list[str] | None = None) -> list[tuple[str, str, int]]:
    """(site, rule, hits) of the sites file's rules."""
    rows = conn.execute(
        """SELECT site, rule, hits FROM v_site_rule_hits WHERE %(s)s::text[] IS NULL OR site = ANY(%(s)s)
           ORDER BY site, hits DESC, rule""", {"s": sites}).fetchall()
    return [(r[0], r[1], int(r[2])) for r in rows]


def articles_by_dialect(conn: psycopg.Connection, sites: list[str]) -> dict[str, dict[str, int]]:
    """site -> {dialect: article URLs found on pages read with that dialect}."""
    out: dict[str, dict[str, int]] = {}
    for site, dialect, n in conn.execute(
            "SELECT site, dialect, articles FROM v_article_dialects WHERE site = ANY(%s) ORDER BY 1, 2", (sites,)):
        out.setdefault(site, {})[dialect] = int(n)
    return out


def list_pages(conn: psycopg.Connection, sites: list[str] | None = None, *,
               per_site: int | None = None) -> list[tuple[Any, ...]]:
    """(site, url, interval seconds, change events, change window, last change, next fetch,
    list budget, the site's list pages in all) of each list page still crawled, from
    v_list_pages (0090), busiest (shortest interval) first; with `per_site`, only that
    many per site. Why per site in SQL: a frontier of 1M URLs has some 20k list pages,
    and reading (and redacting) them all to print ten per site was most of `status`."""
    top = "" if per_site is None else "LIMIT %(n)s"
    return [tuple(r) for r in conn.execute(
        f"""SELECT v.site, v.url, v.interval_seconds, v.change_events, v.change_window, v.last_change_at,
                   v.next_fetch_at, v.list_requests_per_hour, c.total
            FROM (SELECT site, count(*) AS total FROM v_list_pages
                  WHERE state <> 'gone' AND (%(s)s::text[] IS NULL OR site = ANY(%(s)s)) GROUP BY site) c
            CROSS JOIN LATERAL (SELECT * FROM v_list_pages p WHERE p.site = c.site AND p.state <> 'gone'
                                ORDER BY p.interval_seconds NULLS LAST, p.url_id {top}) v
            ORDER BY v.site, v.interval_seconds NULLS LAST, v.url""", {"s": sites, "n": per_site})]


def fleet_row(conn: psycopg.Connection) -> tuple[Any, ...]:
    """leased, expired, oldest_lease, due, awaiting_process, fetched/processed last minute."""
    row = conn.execute("SELECT * FROM v_fleet_status").fetchone()
    return tuple(row) if row else (0, 0, None, 0, 0, 0, 0)


# --- search -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    """One search result: the document, its rank and a snippet (HTML: escaped, terms in <mark>)."""

    document_id: int
    url: str
    site: str
    title: str | None
    published_at: str | None
    published_date: date | None
    kind: str
    issuer: str | None
    doc_number: str | None
    rank: float
    snippet: str

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["published_date"] = self.published_date.isoformat() if self.published_date else None
        return d


@dataclass(frozen=True)
class SearchFilters:
    site: str | None = None
    since: date | None = None
    until: date | None = None
    issuer: str | None = None
    doc_number: str | None = None
    kind: str | None = None


def search(conn: psycopg.Connection, q: str, *, words: Sequence[str] = (), filters: SearchFilters = SearchFilters(),
           limit: int = 20, offset: int = 0) -> list[Hit]:
    """Ranked hits of `govingest_search` (migration 0073); `words` are the query's segmenter words."""
    rows = conn.execute(
        """SELECT * FROM govingest_search(%(q)s, site => %(site)s, since => %(since)s, until => %(until)s,
                                          issuer => %(issuer)s, doc_number => %(doc_number)s, kind => %(kind)s,
                                          lim => %(lim)s, words => %(words)s, skip => %(skip)s)""",
        {"q": q, **filters.__dict__, "lim": limit, "words": list(words) or None, "skip": offset}).fetchall()
    return [Hit(document_id=r[0], url=r[1], site=r[2], title=r[3], published_at=r[4], published_date=r[5], kind=r[6],
                issuer=r[7], doc_number=r[8], rank=float(r[9]), snippet=r[10]) for r in rows]


# --- documents and sites (the web app) ------------------------------------------------------

def document(conn: psycopg.Connection, *, url: str | None = None, document_id: int | None = None
             ) -> dict[str, Any] | None:
    """A document of v_documents with its sections, facts, attachments, citations both ways
    and near-duplicates; None when there is none."""
    with conn.cursor(row_factory=dict_row) as cur:
        doc = cur.execute("SELECT * FROM v_documents WHERE url = %s OR document_id = %s LIMIT 1",
                          (url, document_id)).fetchone()
        if doc is None:
            return None
        i = doc["document_id"]
        doc["sections"] = cur.execute("SELECT number, depth, marker, heading, items FROM v_sections "
                                      "WHERE document_id = %s ORDER BY ord", (i,)).fetchall()
        doc["facts"] = cur.execute("SELECT indicator, value, unit, qualifier, section FROM v_facts "
                                   "WHERE document_id = %s ORDER BY ord", (i,)).fetchall()
        doc["attachments"] = cur.execute("SELECT document_id, url, title FROM v_documents "
                                         "WHERE parent_document_id = %s ORDER BY url", (i,)).fetchall()
        doc["cites"] = cur.execute("SELECT ord, title, doc_number, kind, cited_document_id, cited_url "
                                   "FROM v_citations WHERE document_id = %s ORDER BY ord", (i,)).fetchall()
        doc["cited_by"] = cur.execute(
            """SELECT DISTINCT c.document_id, c.url, d.title FROM v_citations c
               JOIN v_documents d ON d.document_id = c.document_id
               WHERE c.cited_document_id = %s ORDER BY c.document_id""", (i,)).fetchall()
        doc["near_duplicates"] = cur.execute(
            """SELECT document_id, url, site, title FROM v_documents
               WHERE cluster_id = %s AND document_id <> %s ORDER BY first_seen LIMIT 50""",
            (doc["cluster_id"], i)).fetchall()
    return doc


def site_overview(conn: psycopg.Connection, site: str, *, days: int = 30) -> dict[str, Any]:
    """A site's documents per day (by first_seen), failures by kind, last crawl and newest documents."""
    with conn.cursor(row_factory=dict_row) as cur:
        per_day = cur.execute(
            """SELECT first_seen::date AS day, count(*) AS documents FROM v_documents
               WHERE site = %s AND first_seen > now() - make_interval(days => %s)
               GROUP BY 1 ORDER BY 1 DESC""", (site, days)).fetchall()
        failures = cur.execute(
            """SELECT last_error_kind AS kind, count(*) AS urls FROM v_urls
               WHERE site = %s AND last_error_kind IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1""", (site,)).fetchall()
        crawl = cur.execute(
            """SELECT max(last_fetched_at) AS last_fetch, count(*) AS urls,
                      count(*) FILTER (WHERE state = 'done') AS done FROM v_urls WHERE site = %s""",
            (site,)).fetchone()
        newest = recent_documents(conn, site=site, limit=20)
    return {"site": site, "per_day": per_day, "failures": failures, "crawl": crawl, "newest": newest}


def sites(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every site with documents: name, documents, newest first_seen."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT site, count(*) AS documents, max(last_changed) AS last_changed "
                           "FROM v_documents GROUP BY site ORDER BY site").fetchall()


def recent_documents(conn: psycopg.Connection, *, site: str | None = None, limit: int = 50
                     ) -> list[dict[str, Any]]:
    """Newest created or changed documents (the Atom feeds): by last_changed."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT document_id, url, site, title, published_at, kind, first_seen, last_changed,
                      left(text, 200) AS summary
               FROM v_documents WHERE %(s)s::text IS NULL OR site = %(s)s
               ORDER BY last_changed DESC, document_id DESC LIMIT %(n)s""", {"s": site, "n": limit}).fetchall()


# --- export -----------------------------------------------------------------------------------

# The export's columns, in order (docs/consumers.md "Exports"): only ever appended to.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("document_id", "int64"), ("url", "string"), ("site", "string"), ("kind", "string"),
    ("title", "string"), ("published_at", "string"), ("published_date", "date"),
    ("issuer", "string"), ("doc_number", "string"), ("index_number", "string"),
    ("written_at", "date"), ("subject", "string"), ("validity", "string"), ("source", "string"),
    ("site_name", "string"), ("parent_url", "string"), ("cluster_id", "int64"),
    ("content_hash", "string"), ("parser_version", "string"), ("first_seen", "timestamp"),
    ("last_changed", "timestamp"), ("text", "string"),
)


def export_count(conn: psycopg.Connection, *, site: str | None, since: date | None, kind: str | None) -> int:
    row = conn.execute(f"SELECT count(*) FROM v_documents WHERE {_EXPORT_WHERE}",
                       {"site": site, "since": since, "kind": kind}).fetchone()
    return int(row[0]) if row else 0


_EXPORT_WHERE = ("(%(site)s::text IS NULL OR site = %(site)s) "
                 "AND (%(since)s::date IS NULL OR last_changed >= %(since)s::date) "
                 "AND (%(kind)s::text IS NULL OR kind = %(kind)s)")


def export_rows(conn: psycopg.Connection, *, site: str | None, since: date | None, kind: str | None,
                batch: int = 500) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of EXPORT_COLUMNS rows in document_id order, read by keyset pages (each page one
    short statement: the reader's statement timeout bounds a page, not the whole export)."""
    names = ", ".join(n for n, _ in EXPORT_COLUMNS)
    after = 0
    while True:
        rows = conn.execute(
            f"SELECT {names} FROM v_documents WHERE {_EXPORT_WHERE} AND document_id > %(after)s "
            "ORDER BY document_id LIMIT %(n)s",
            {"site": site, "since": since, "kind": kind, "after": after, "n": batch}).fetchall()
        if not rows:
            return
        yield [tuple(r) for r in rows]
        after = rows[-1][0]


def as_of(conn: psycopg.Connection) -> datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]
