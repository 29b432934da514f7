"""URLs that enter without the crawler (ingested files) and parse outcomes on URLs.

The crawler's frontier (claims, leases, politeness) lives in db/frontier.py; this
module only registers one known URL at a time and records what processing did.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb


def ensure_site(conn: psycopg.Connection, name: str, config: dict[str, object] | None = None) -> None:
    """Create the site row if missing (an existing site's config is left alone)."""
    conn.execute("INSERT INTO sites (name, config) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                 (name, Jsonb(config or {})))


def host_of(url: str) -> str:
    """host[:port], the politeness key; file:// URLs get the host 'localfile'."""
    parts = urlsplit(url)
    return parts.netloc.lower() or ("localfile" if parts.scheme == "file" else "unknown")


def ensure_url(conn: psycopg.Connection, *, url: str, site: str, kind: str = "article",
               state: str = "done") -> int:
    """Id of `url`, inserting it (as already fetched: state 'done') when new.

    An existing URL keeps its site and frontier state; ingesting a file over a URL
    the crawler also knows simply adds a page to it.
    """
    row = conn.execute(
        """INSERT INTO urls (url, site, host, kind, state, last_fetched_at)
           VALUES (%s, %s, %s, %s, %s, now())
           ON CONFLICT (url) DO UPDATE SET last_fetched_at = now()
           RETURNING id""",
        (url, site, host_of(url), kind, state),
    ).fetchone()
    assert row is not None
    return int(row[0])


def record_parse_failure(conn: psycopg.Connection, url_id: int, *, kind: str, message: str) -> None:
    """The page was stored but cannot become a document: the URL ends 'failed' with why."""
    conn.execute(
        """UPDATE urls SET state = 'failed', last_error_kind = %s, last_error = %s,
                           lease_until = NULL, lease_owner = NULL
           WHERE id = %s""",
        (kind, message[:2000], url_id),
    )
