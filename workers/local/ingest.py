"""Files on disk → stored raw pages → documents, as if the pages had been fetched.

For archives users already hold, and the way to fill a database before the crawler
exists. Each file becomes a URL (`--url-prefix` + file name, else the file's
`file://` URL), a raw page (kept, so `reparse` works on it like on crawled pages)
and, through `workers.stages.process`, a document. Re-ingesting the same files stores no
new pages and writes no documents: both steps are idempotent.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from govingest.crawler.urls import host_key
from govingest.db.frontier import ensure_site, register_url
from govingest.db.pages import store_page
from govingest.stats import Stats
from govingest.workers.stages.process import ProcessOutcome, process_pages

DEFAULT_SITE = "local"


@dataclass(frozen=True)
class IngestOutcome:
    file: str
    url: str | None
    kind: str  # created | updated | unchanged | failed | skipped
    document_id: int | None = None
    error: str | None = None


def url_for(path: Path, url_prefix: str | None) -> str:
    """The URL a file is stored under: prefix + file name, or its absolute file:// URL."""
    if url_prefix:
        return url_prefix.rstrip("/") + "/" + quote(path.name)
    return path.resolve().as_uri()


def content_type_for(path: Path) -> str:
    """What a server would have said: lets the parser tell HTML from plain text."""
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def ingest_files(
    conn: psycopg.Connection,
    paths: Sequence[Path],
    *,
    site: str = DEFAULT_SITE,
    url_prefix: str | None = None,
    stats: Stats | None = None,
    batch_size: int = 50,
    on_file: Callable[[IngestOutcome], None] | None = None,
) -> list[IngestOutcome]:
    """Store and process `paths` in batches; one outcome per path, in order.

    `on_file` is called as each file finishes (the CLI's progress bar).
    """
    stats = stats if stats is not None else Stats()
    with conn.transaction():
        ensure_site(conn, site, {"source": "ingest"})
    results: list[IngestOutcome] = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        done: dict[int, IngestOutcome] = {}
        stored: list[tuple[int, str, int]] = []  # (index in chunk, url, page id)
        for i, path in enumerate(chunk):
            url = url_for(path, url_prefix)
            try:
                body = path.read_bytes()
            except OSError as exc:
                done[i] = IngestOutcome(str(path), url, "failed",
                                        error=f"cannot read {path}: {exc.strerror or exc}; "
                                              "check the path and permissions")
                continue
            with stats.track("store_page"), conn.transaction():
                url_id = register_url(conn, url=url, site=site, host=host_key(url))
                page_id = store_page(conn, url_id=url_id, status=200,
                                     headers={"content-type": content_type_for(path)}, body=body)
            stored.append((i, url, page_id))
        processed: list[ProcessOutcome] = process_pages(conn, [p for _, _, p in stored], stats=stats,
                                                        batch_size=batch_size)
        for (i, url, _), po in zip(stored, processed, strict=False):
            done[i] = IngestOutcome(str(chunk[i]), url, po.kind, po.document_id, po.error)
        for i in range(len(chunk)):
            results.append(done[i])
            if on_file:
                on_file(done[i])
    return results
