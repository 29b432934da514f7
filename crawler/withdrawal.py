"""Signs that a site took an article down, and how many in a row make it withdrawn.

Why a count and not the first failure: government servers answer a stray 404 during a
redeploy, a CMS briefly redirects everything to the home page, and a list page is
sometimes rendered half-empty. A document is marked withdrawn only when a second sign
follows the first (the article is re-checked soon after the first); any healthy answer
in between resets the count. Pure: the fetch stage asks, db.frontier and db.documents store.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import urlsplit

SIGNALS_TO_WITHDRAW = 2  # signs in a row before a document is marked withdrawn
RECHECK_SECONDS = 900.0  # after the first sign, the article is fetched again this soon
WITHDRAWN_RECHECK_SECONDS = 86400.0  # a withdrawn article is looked at daily, in case it comes back

# where sites send a page that no longer exists: the home page, or an error page
_HOME_PATHS = frozenset({"", "/", "/index.htm", "/index.html", "/index.shtml", "/index.jsp", "/default.htm",
                         "/default.html", "/default.aspx", "/index.php"})
_ERROR_PATH = re.compile(r"(?:^|[/_.-])(?:404|error|err|notfound|not_found|nopage|deleted)(?:[/_.-]|$)", re.I)


class WithdrawReason(StrEnum):
    """Why a document was marked withdrawn (`v_documents.withdrawn_reason`)."""

    NOT_FOUND = "not_found"  # the article answers 404/410
    ERROR_REDIRECT = "error_redirect"  # the article redirects to an error or home page
    DELISTED = "delisted"  # the article dropped off its list while the list was otherwise intact


def is_error_redirect(url: str, target: str) -> bool:
    """An article redirecting here is gone: to the site's home page or an error page."""
    src, dst = urlsplit(url), urlsplit(target)
    path = dst.path.lower()
    if path in _HOME_PATHS and src.path.lower() not in _HOME_PATHS:
        return True
    return bool(_ERROR_PATH.search(path))


def delisted(before: Sequence[str], after: Sequence[str]) -> list[str]:
    """Articles of `before` missing from `after` while the list is otherwise intact.

    An article counts only when a neighbour listed above it and one listed below it are
    both still there: an article pushed off the bottom by newer ones is not withdrawn,
    and a page that came back empty or re-ordered says nothing.
    """
    now = set(after)
    if not now:
        return []
    kept = [i for i, u in enumerate(before) if u in now]
    if len(kept) < 2:
        return []
    first, last = kept[0], kept[-1]
    return [u for i, u in enumerate(before) if first < i < last and u not in now]


def remembered(before: Sequence[str], after: Sequence[str], missing: Sequence[str]) -> list[str]:
    """What to compare the list's next fetch with: `after`, with each `missing` article put
    back just below the neighbour it followed in `before`, so a delisted article is looked
    for again (its second sign) and not forgotten after one fetch."""
    out = list(after)
    gone = set(missing)
    for i, url in enumerate(before):
        if url not in gone:
            continue
        above = next((u for u in reversed(before[:i]) if u in out), None)
        out.insert(out.index(above) + 1 if above is not None else 0, url)
    return out
