"""Which dialect a page speaks, and everything it links to: one call per fetched page."""
from __future__ import annotations

from govingest.crawler.listing import anchors, feeds, gkmlpt, govcn, hanweb, jsonapi, trs
from govingest.crawler.listing.model import Link, Listing, Page
from govingest.parsers.decode import decode


def page_text(body: bytes, content_type: str | None, encoding: str | None = None) -> str:
    """Decoded text of a page; best effort (an undecodable page is read as UTF-8)."""
    try:
        return decode(body, content_type, override=encoding).text
    except Exception:  # links are best effort: a page the parser would refuse still may link
        return body.decode("utf-8", errors="replace")


def _merge(listing: Listing, plain: list[Link]) -> Listing:
    """Dialect links first (their kinds win), then the page's anchors, each URL once."""
    seen: set[str] = set()
    merged: list[Link] = []
    for link in [*listing.links, *plain]:
        if link.url not in seen:
            seen.add(link.url)
            merged.append(link)
    listing.links = merged
    return listing


def read_page(page: Page) -> Listing:
    if page.is_xml or page.is_json:
        for reader in (feeds.read, hanweb.read, gkmlpt.read, jsonapi.read):
            found = reader(page)
            if found is not None:
                return found
        return Listing("plain", notes=["XML/JSON answer no dialect recognizes"])
    plain = anchors.anchors(page)
    for reader in (hanweb.read, gkmlpt.read, trs.read):
        found = reader(page)
        if found is not None:
            return _merge(found, plain)
    found = govcn.read(plain, page.url)
    if found is not None:
        return _merge(found, plain)
    found = jsonapi.read(page)
    if found is not None:
        return _merge(found, plain)
    return Listing("plain", list(plain))


def read_listing(body: bytes, url: str, content_type: str | None = None, *, encoding: str | None = None) -> Listing:
    """The dialect of a fetched page and every link it leads to (absolute, not yet canonical)."""
    text = page_text(body, content_type, encoding)
    if not text.strip():
        return Listing("plain")
    return read_page(Page(url, text, content_type))
