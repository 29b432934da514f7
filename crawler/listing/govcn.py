"""gov.cn and "t-date" list pages: plain pager anchors.

`home.htm` / `home_1.htm` (www.gov.cn columns), `index.html` / `index_2.html`, with
anchors labelled 首页 / 上一页 / 下一页 / 尾页 and numbered anchors (1 2 3 …). The
next page is the 下一页 anchor, else the numbered anchor after the current page.
"""
from __future__ import annotations

import re

from govingest.crawler.listing.model import Link, Listing

_NEXT = re.compile(r"^(?:下一页|下页|后一页|下一頁|next\s*page|next|›|»|>|>>|＞)$", re.I)
_LAST = re.compile(r"^(?:尾页|末页|最后一页|尾頁|last)$", re.I)
_PAGER_WORDS = re.compile(r"^(?:上一页|上页|前一页|下一页|下页|尾页|末页)$")
_NUMBER = re.compile(r"^\[?(\d{1,4})\]?$")
_PAGE_URL = re.compile(r"(?:^|/)(?:index|home|list|default)(?:_\d+)?\.s?html?$|[?&](?:page|pageNo|pageNum|p)=\d+")
# A page of a list: same directory as the list, its name a pager name (index_2.html, home_1.htm)
_PAGE_NUM = re.compile(r"_(\d+)\.s?html?$|[?&](?:page|pageNo|pageNum|p)=(\d+)")


def _number_of(url: str) -> int:
    m = _PAGE_NUM.search(url)
    if not m:
        return 0
    return int(m.group(1) or m.group(2))


def read(anchors: list[Link], page_url: str) -> Listing | None:
    """The pager of a page whose pager anchors are plain links, or None without one."""
    nxt: Link | None = None
    pagers: list[Link] = []
    numbered: list[tuple[int, Link]] = []
    for link in anchors:
        text = link.text.strip()
        if _NEXT.match(text) and nxt is None and link.url != page_url:
            nxt = Link(link.url, "pager", text=text)
        elif _LAST.match(text) or _PAGER_WORDS.match(text):
            if link.url != page_url:
                pagers.append(Link(link.url, "pager", text=text))
        elif (m := _NUMBER.match(text)) and _PAGE_URL.search(link.url) and link.url != page_url:
            numbered.append((int(m.group(1)), Link(link.url, "pager", text=text)))
    if nxt is None and len(numbered) >= 2:
        # no 下一页: the numbered anchor whose page number follows this page's
        here = _number_of(page_url)
        later = sorted((_number_of(lk.url), lk) for _, lk in numbered if _number_of(lk.url) > here)
        if later:
            nxt = later[0][1]
    if nxt is None and not numbered and not pagers:
        return None
    links = [lk for _, lk in numbered] + pagers
    return Listing("govcn", links, next_page=nxt,
                   notes=[f"pager anchors: next {nxt.url if nxt else 'none'}, {len(numbered)} numbered"])
