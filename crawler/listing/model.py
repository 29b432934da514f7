"""The types every dialect module speaks: a decoded page in, a `Listing` out."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from lxml.html import HtmlElement

from govingest.parsers.extract import parse_html

LinkKind = Literal["article", "pager", "feed", "link"]


@dataclass(frozen=True)
class Link:
    """One URL a list page leads to.

    kind: `article` (a record of the list: an article whatever the site's patterns say),
    `pager` (a later page of this same list), `feed` (a further link source: sitemap,
    RSS/Atom, a child sitemap), `link` (an ordinary anchor, classified by the site's
    patterns as before). `method` POST sends the URL's query as a form body.
    """

    url: str
    kind: LinkKind
    method: str = "GET"
    text: str = ""


@dataclass
class Listing:
    dialect: str
    links: list[Link] = field(default_factory=list)
    next_page: Link | None = None  # the page after this one, when the dialect knows it
    total_pages: int | None = None  # what the page says about the list's length, if anything
    notes: list[str] = field(default_factory=list)  # how the dialect read the page, for `govingest try`
    # the page holds no records itself: its next page (an API, a proxy range) is where the
    # records are, so it is followed whatever this page yielded
    records_elsewhere: bool = False

    def of_kind(self, kind: LinkKind) -> list[Link]:
        return [link for link in self.links if link.kind == kind]

    @property
    def pagers(self) -> list[Link]:
        """Later pages: the next one first."""
        rest = [lk for lk in self.of_kind("pager") if self.next_page is None or lk.url != self.next_page.url]
        return ([self.next_page] if self.next_page else []) + rest


@dataclass
class Page:
    """A fetched page as the dialects read it."""

    url: str
    text: str  # decoded
    content_type: str | None = None

    @cached_property
    def tree(self) -> HtmlElement | None:
        return parse_html(self.text) if self.text.strip() else None

    @cached_property
    def scripts(self) -> list[str]:
        tree = self.tree
        if tree is None:
            return []
        return [s.text or "" for s in tree.iter("script") if (s.text or "").strip()]

    @cached_property
    def is_json(self) -> bool:
        head = self.text.lstrip()[:1]
        return head in ("{", "[") and "html" not in (self.content_type or "").lower()

    @cached_property
    def is_xml(self) -> bool:
        head = self.text.lstrip()[:200].lower()
        return (head.startswith("<?xml") and "<html" not in self.text[:2000].lower()) or head.startswith(
            ("<urlset", "<sitemapindex", "<rss", "<feed", "<datastore"))
