"""JSON list APIs a list page names in its scripts.

Many newer gov templates render a column from an API the page's script calls:
`$.ajax({url: '/api/news/list?columnId=12&pageNo=1&pageSize=20', …})`,
`fetch('/front/list.json?page=1')`. The page is read for such URLs (a list-like path
or page parameter, not a script or style file); the API's JSON answer is read for
arrays of records with a link (url, link, href, linkUrl, docUrl …) and for the paging
(total / totalPage / pages), and the next page is the same URL with its page parameter
incremented.
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from govingest.crawler.listing.model import Link, Listing, Page
from govingest.parsers.scripted import api_url

_LISTISH = re.compile(r"list|page|query|search|column|channel|articles|news|docs", re.I)
_PAGE_PARAMS = ("page", "pageNo", "pageNum", "pageIndex", "currentPage", "curPage", "p", "pn")
_LINK_KEYS = ("url", "link", "href", "linkUrl", "docUrl", "articleUrl", "detailUrl", "path", "pageUrl")
_TOTAL_PAGES = ("totalPage", "totalPages", "pages", "pageCount", "total_page")
_TOTAL = ("total", "totalCount", "totalRecord", "count", "recordCount", "totalElements")
MAX_PAGES = 500


def _named_api(page: Page) -> str | None:
    url = api_url(page.scripts, page.url)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.path.endswith((".js", ".css", ".html", ".htm", ".shtml")) or not _LISTISH.search(url):
        return None
    return url


def _records(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    """The longest list of dicts with a link key anywhere in the answer."""
    if depth > 5:
        return []
    best: list[dict[str, Any]] = []
    if isinstance(data, list):
        rows = [r for r in data if isinstance(r, dict) and any(isinstance(r.get(k), str) for k in _LINK_KEYS)]
        if len(rows) > len(best):
            best = rows
        items = data
    elif isinstance(data, dict):
        items = list(data.values())
    else:
        return []
    for v in items:
        if isinstance(v, (list, dict)):
            sub = _records(v, depth + 1)
            if len(sub) > len(best):
                best = sub
    return best


def _find_int(data: Any, keys: tuple[str, ...], depth: int = 0) -> int | None:
    if not isinstance(data, dict) or depth > 3:
        return None
    for k in keys:
        v = data.get(k)
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
            return int(v)
    for v in data.values():
        found = _find_int(v, keys, depth + 1)
        if found is not None:
            return found
    return None


def _answer(page: Page) -> Listing | None:
    try:
        data = json.loads(page.text)
    except ValueError:
        return None
    rows = _records(data)
    if not rows:
        return None
    links = []
    for r in rows:
        link = next((r[k] for k in _LINK_KEYS if isinstance(r.get(k), str) and r[k].strip()), None)
        if link:
            links.append(Link(urljoin(page.url, link.strip()), "article", text=str(r.get("title") or "")))
    listing = Listing("jsonapi", links)
    parts = urlsplit(page.url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    param = next((p for p in _PAGE_PARAMS if p in query and query[p].isdigit()), None)
    if param is None:
        listing.notes.append(f"JSON list: {len(links)} records, no page parameter in the URL")
        return listing
    n = int(query[param])
    pages = _find_int(data, _TOTAL_PAGES)
    total = _find_int(data, _TOTAL)
    if pages is None and total is not None and rows:
        size = next((int(query[k]) for k in ("pageSize", "size", "rows", "limit", "perPage")
                     if k in query and query[k].isdigit()), len(rows))
        pages = -(-total // size) if size else None
    more = (n < pages) if pages is not None else bool(links)
    if more and n < MAX_PAGES:
        query[param] = str(n + 1)
        nxt = Link(urlunsplit(parts._replace(query=urlencode(query))), "pager")
        listing.links.append(nxt)
        listing.next_page = nxt
    listing.total_pages = pages
    listing.notes.append(f"JSON list page {n}: {len(links)} records" + (f" of {pages} pages" if pages else ""))
    return listing


def read(page: Page) -> Listing | None:
    if page.is_json:
        return _answer(page)
    url = _named_api(page)
    if url is None:
        return None
    first = Link(url, "pager")
    return Listing("jsonapi", [first], next_page=first, records_elsewhere=True,
                   notes=[f"list API named in the page's script: {url}"])
