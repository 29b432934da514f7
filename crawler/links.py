"""Links a page leads to, including pager pages that exist only in JavaScript.

A thin view over `crawler.listing` (one module per CMS list dialect), for callers that
want plain URLs: every link, dialect-found ones (records, pagers, API pages) first.
"""
from __future__ import annotations

from govingest.crawler.listing import read_listing


def discover_links(body: bytes, base_url: str, content_type: str | None = None) -> list[str]:
    """Absolute (not yet canonical) URLs linked from a page, unique, dialect links first."""
    return [link.url for link in read_listing(body, base_url, content_type).links]
