"""Plain anchors of an HTML page (a, area, frames) resolved against `<base href>`, and
feed/sitemap links it advertises (`<link rel="alternate" type="application/rss+xml">`)."""
from __future__ import annotations

import re
from urllib.parse import urljoin

from govingest.crawler.listing.model import Link, Page

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_WS = re.compile(r"\s+")


def base_url(page: Page) -> str:
    tree = page.tree
    if tree is not None:
        el = tree.find(".//base[@href]")
        if el is not None:
            return urljoin(page.url, str(el.get("href") or "").strip())
    return page.url


def anchors(page: Page) -> list[Link]:
    tree = page.tree
    if tree is None:
        return []
    base = base_url(page)
    out: list[Link] = []
    for el in tree.iter("a", "area", "iframe", "frame", "link"):
        if el.tag == "link":
            if (el.get("type") or "").lower() in _FEED_TYPES and el.get("href"):
                out.append(Link(urljoin(base, el.get("href", "").strip()), "feed"))
            continue
        ref = el.get("href") if el.tag in ("a", "area") else el.get("src")
        if ref and ref.strip():
            text = _WS.sub(" ", el.text_content()).strip() if el.tag == "a" else ""
            out.append(Link(urljoin(base, ref.strip()), "link", text=text))
    return out
