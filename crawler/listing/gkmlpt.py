"""Guangdong's gkmlpt platform (政府信息公开目录): a JSON API behind the list page.

The list page `/{dept}/gkmlpt/index` is a Vue app; its HTML carries a config object
`window._CONFIG = {SID: '755041', …}` and the category in the URL fragment
(`index#721`; crawlers never see fragments, so category 0 — everything — is read).
The records come from `/{dept}/gkmlpt/api/all/{category}?page={n}&sid={SID}`, which
answers `{"total": 145, "articles": [{"id", "title", "url", "created_at", …}], …}`;
article pages are `/gkmlpt/content/0/963/post_963149.html`.
"""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from govingest.crawler.listing.model import Link, Listing, Page

_SID = re.compile(r"""\bSID\s*[:=]\s*['"]?(\d+)['"]?""")
_API = re.compile(r"/gkmlpt/api/all/(\d+)$")
MAX_PAGES = 500


def _api_url(page_url: str, category: str, n: int, sid: str) -> str:
    parts = urlsplit(page_url)
    root = parts.path.split("/gkmlpt/", 1)[0]
    return urlunsplit(parts._replace(path=f"{root}/gkmlpt/api/all/{category}",
                                     query=urlencode({"page": n, "sid": sid}), fragment=""))


def _list_page(page: Page) -> Listing | None:
    if "/gkmlpt/" not in urlsplit(page.url).path:
        return None
    m = _SID.search("\n".join(page.scripts)) or _SID.search(page.text)
    if m is None:
        return None
    category = urlsplit(page.url).fragment or "0"
    first = Link(_api_url(page.url, category, 1, m.group(1)), "pager")
    return Listing("gkmlpt", [first], next_page=first, records_elsewhere=True,
                   notes=[f"gkmlpt list page: SID {m.group(1)}, category {category}; records from {first.url}"])


def _api_answer(page: Page) -> Listing | None:
    parts = urlsplit(page.url)
    if not _API.search(parts.path) or not page.is_json:
        return None
    try:
        data = json.loads(page.text)
    except ValueError:
        return Listing("gkmlpt", notes=["gkmlpt API answer is not JSON"])
    articles = data.get("articles") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        return Listing("gkmlpt", notes=["gkmlpt API answer without an 'articles' list"])
    links = []
    for a in articles:
        if isinstance(a, dict):
            url = a.get("url") or a.get("post_url") or a.get("link")
            if isinstance(url, str) and url.strip():
                links.append(Link(urljoin(page.url, url.strip()), "article", text=str(a.get("title") or "")))
    listing = Listing("gkmlpt", links)
    query = dict(parse_qsl(parts.query))
    n = int(query.get("page", "1") or 1)
    total = data.get("total") if isinstance(data.get("total"), int) else None
    per_page = len(articles)
    if links and total is not None and per_page and n * per_page < total and n < MAX_PAGES:
        query["page"] = str(n + 1)
        nxt = Link(urlunsplit(parts._replace(query=urlencode(query))), "pager")
        listing.links.append(nxt)
        listing.next_page = nxt
        listing.total_pages = -(-total // per_page)
    listing.notes.append(f"gkmlpt API page {n}: {len(links)} articles of {total}")
    return listing


def read(page: Page) -> Listing | None:
    return _api_answer(page) if page.is_json else _list_page(page)
