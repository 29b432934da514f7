"""Raw pages: every fetched (or ingested) body is kept, zlib-compressed.

Why keep them: `govingest reparse` rebuilds every document with a new parser without
touching the network, and a bad parse can be debugged from the exact bytes.
"""
from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class StoredPage:
    page_id: int
    url_id: int
    url: str
    site: str
    status: int
    body: bytes  # uncompressed
    headers: dict[str, str]
    encoding: str | None
    fetched_at: datetime
    content_hash: str
    body_selector: str | None = None  # the site's configured article container, if any
    site_config: dict[str, Any] | None = None  # the site's validated table (its parse rules)

    @property
    def content_type(self) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == "content-type":
                return v
        return None


class PageNotFound(LookupError):
    pass


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def store_page(
    conn: psycopg.Connection,
    *,
    url_id: int,
    status: int,
    headers: dict[str, str] | None,
    body: bytes,
    encoding: str | None = None,
    fetched_at: datetime | None = None,
    to_process: bool = True,
    content_hash: str | None = None,
) -> int:
    """Store one response; return its page id.

    `to_process=False` (list pages: kept for link discovery and audit, never documents)
    stores the page already finished, so the sweep for unprocessed pages passes it by.

    A body identical to the URL's latest stored page (same status and hash) is not
    stored again: the existing id is returned, so refetching an unchanged page costs
    no space and `process_page` of it writes nothing.
    """
    digest = content_hash or body_hash(body)  # the fetch stage already hashed it
    row = conn.execute(
        "SELECT id, status, content_hash FROM pages WHERE url_id = %s ORDER BY id DESC LIMIT 1",
        (url_id,),
    ).fetchone()
    if row is not None and row[1] == status and row[2] == digest:
        return int(row[0])
    row = conn.execute(
        """INSERT INTO pages (url_id, fetched_at, status, headers, body, encoding, content_hash, size,
                              processed_at)
           VALUES (%s, coalesce(%s, now()), %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN NULL ELSE now() END)
           RETURNING id""",
        (url_id, fetched_at, status, Jsonb(dict(headers or {})), zlib.compress(body, 6),
         encoding, digest, len(body), to_process),
    ).fetchone()
    assert row is not None
    return int(row[0])


_LOAD = """SELECT p.id, p.url_id, u.url, u.site, p.status, p.body, p.headers, p.encoding,
                  p.fetched_at, p.content_hash, s.config->>'body_selector', s.config
           FROM pages p JOIN urls u ON u.id = p.url_id JOIN sites s ON s.name = u.site"""


def _row_to_page(row: tuple[Any, ...]) -> StoredPage:
    return StoredPage(page_id=row[0], url_id=row[1], url=row[2], site=row[3], status=row[4],
                      body=zlib.decompress(row[5]), headers=dict(row[6] or {}), encoding=row[7],
                      fetched_at=row[8], content_hash=row[9], body_selector=row[10],
                      site_config=dict(row[11] or {}))


def load_page(conn: psycopg.Connection, page_id: int) -> StoredPage:
    row = conn.execute(_LOAD + " WHERE p.id = %s", (page_id,)).fetchone()
    if row is None:
        raise PageNotFound(f"page {page_id} does not exist")
    return _row_to_page(row)


def latest_page_ids(
    conn: psycopg.Connection, *, site: str | None = None, since: datetime | None = None
) -> list[int]:
    """The newest successful page of every article and attachment URL (optionally of one site /
    fetched since).

    This is what `reparse` walks: the page each current document would be built from.
    List pages are stored for link discovery only and never become documents.
    """
    rows = conn.execute(
        """SELECT DISTINCT ON (p.url_id) p.id
           FROM pages p JOIN urls u ON u.id = p.url_id
           WHERE p.status < 400 AND u.kind IN ('article', 'attachment')
             AND (%(site)s::text IS NULL OR u.site = %(site)s)
             AND (%(since)s::timestamptz IS NULL OR p.fetched_at >= %(since)s)
           ORDER BY p.url_id, p.id DESC""",
        {"site": site, "since": since},
    ).fetchall()
    return sorted(r[0] for r in rows)


