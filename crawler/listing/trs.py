"""TRS WCM (拓尔思): list pagers written by script.

Two shapes are common on gov.cn sites:

* `createPageHTML(7, 0, "index", "html")` — total pages, current page, stem, extension;
* the template that builds the pager from variables: `var currentPage = 0;`,
  `var countPage = 4`, then `document.write("<a href=\\"index" + "_" + i + "." + "html\\">")`
  in a loop (sometimes `createPageHTML(countPage, currentPage, "index", "html")`).

Pages are `index.html`, `index_1.html` … `index_{N-1}.html`; the next page is
`index_{current+1}.html`. Numbers may be quoted or come from those variables.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

from govingest.crawler.listing.anchors import base_url
from govingest.crawler.listing.model import Link, Listing, Page

MAX_PAGER_PAGES = 500  # a wrong total must not flood the frontier
_ARG = r"""\s*['"]?(\w+)['"]?\s*"""
_CREATE = re.compile(rf"""createPageHTML\({_ARG},{_ARG},\s*['"]([\w-]+)['"]\s*,\s*['"](\w+)['"]""")
_VAR = r"""(?:var|let)\s+{name}\s*=\s*['"]?(\d+)['"]?"""
_COUNT_NAMES = ("countPage", "pageCount", "totalPage", "m_nPageCount", "nPageCount", "page_count")
_CURRENT_NAMES = ("currentPage", "curPage", "m_nCurrIndex", "nCurrIndex", "current_page")
# literal concatenations such as "index" + "_" + i + "." + "html" become index_" + i + ".html
_JOIN = re.compile(r"""(['"])\s*\+\s*\1""")
_LOOP_PAGE = re.compile(r"""([\w-]+)_['"]\s*\+\s*\w+\s*\+\s*['"]\.(s?html?)""")


def _number(token: str, script: str, names: tuple[str, ...] = ()) -> int | None:
    if token.isdigit():
        return int(token)
    for name in (token, *names):
        m = re.search(_VAR.format(name=re.escape(name)), script)
        if m:
            return int(m.group(1))
    return None


def pager(page: Page) -> tuple[int, int, str, str] | None:
    """(total pages, current page, stem, extension) of a TRS pager script, or None."""
    script = "\n".join(page.scripts)
    if not script:
        return None
    for m in _CREATE.finditer(script):
        total = _number(m.group(1), script, _COUNT_NAMES)
        current = _number(m.group(2), script, _CURRENT_NAMES)
        if total is not None:
            return total, current or 0, m.group(3), m.group(4)
    total = next((_number(n, script) for n in _COUNT_NAMES if _number(n, script) is not None), None)
    if total is None:
        return None
    joined = _JOIN.sub("", script)
    loop = _LOOP_PAGE.search(joined)
    if loop is None:
        return None
    current = next((_number(n, script) for n in _CURRENT_NAMES if _number(n, script) is not None), 0)
    return total, current or 0, loop.group(1), loop.group(2)


def page_name(stem: str, ext: str, i: int) -> str:
    return f"{stem}.{ext}" if i == 0 else f"{stem}_{i}.{ext}"


def read(page: Page) -> Listing | None:
    found = pager(page)
    if found is None:
        return None
    total, current, stem, ext = found
    base = base_url(page)
    total = min(total, MAX_PAGER_PAGES)
    links = [Link(urljoin(base, page_name(stem, ext, i)), "pager") for i in range(total) if i != current]
    nxt = Link(urljoin(base, page_name(stem, ext, current + 1)), "pager") if current + 1 < total else None
    return Listing("trs", links, next_page=nxt, total_pages=total,
                   notes=[f"TRS pager script: {total} pages, this is page {current} ({stem}_N.{ext})"])
