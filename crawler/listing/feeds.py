"""Sitemaps and RSS/Atom feeds as link sources.

Sitemaps come from `Sitemap:` lines of robots.txt (crawler/robots.py) and `/sitemap.xml`;
a `<sitemapindex>` lists child sitemaps (fetched in turn), a `<urlset>` lists pages.
RSS `<item><link>` and Atom `<entry><link href>` list articles. Parsed with lxml's XML
parser (no entities, no network); trafilatura's sitemap and feed helpers fetch over the
network themselves, which would bypass the frontier's politeness, so only their rules
(loc/link elements, same-site URLs) are followed here.
"""
from __future__ import annotations

from urllib.parse import urljoin

from lxml import etree

from govingest.crawler.listing.model import Link, LinkKind, Listing, Page

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
MAX_ENTRIES = 50_000  # the sitemap protocol's own cap per file


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def read(page: Page) -> Listing | None:
    if not page.is_xml:
        return None
    try:
        root = etree.fromstring(page.text.encode("utf-8"), parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    kind = _local(root.tag)
    links: list[Link] = []
    if kind in ("urlset", "sitemapindex"):
        child: LinkKind = "feed" if kind == "sitemapindex" else "article"
        for el in root.iter():
            if _local(el.tag) == "loc" and (el.text or "").strip():
                links.append(Link(urljoin(page.url, el.text.strip()), child))
                if len(links) >= MAX_ENTRIES:
                    break
        note = f"{'sitemap index' if child == 'feed' else 'sitemap'} with {len(links)} entries"
        return Listing("sitemap", links, notes=[note])
    if kind in ("rss", "feed", "rdf"):
        for el in root.iter():
            name = _local(el.tag)
            parent = _local(el.getparent().tag) if el.getparent() is not None else ""
            if name == "link" and parent in ("item", "entry"):
                href = el.get("href") or (el.text or "")
                if href.strip() and el.get("rel", "alternate") == "alternate":
                    links.append(Link(urljoin(page.url, href.strip()), "article"))
        return Listing("feed", links, notes=[f"{'Atom' if kind == 'feed' else 'RSS'} feed with {len(links)} items"])
    return None
