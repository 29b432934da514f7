"""Crawler traps: link structures that generate URLs without end, recognised before they are crawled.

Three shapes account for nearly every trap on government portals:

* **session ids in URLs** (`;jsessionid=…`, `?sid=…`, `PHPSESSID`): every response
  hands out a new one, so every link is new. Not a trap here at all — canonicalization
  drops those parameters (`crawler.urls.canonicalize`), so the links collapse.
* **ever-deeper paths**: a relative link such as `x/` on a page that answers every
  path builds `/x/x/x/…`; a path segment repeated `SEGMENT_REPEATS` times, a path over
  `MAX_PATH_SEGMENTS` segments or a URL over `MAX_URL_LENGTH` characters is refused
  (`structural_trap`, pure, one URL at a time; the same rule Heritrix and Nutch apply).
* **unbounded query variants**: a calendar linking `?date=N+1` from `?date=N`, filters
  and sort orders combined without end. What gives them away is that the page's own
  variants keep adding variants of it: `variant_traps` refuses new ones once a page's
  family (its URL without the query) holds `max_query_variants` members discovered from
  members of the same family. Articles reached from list pages (`detail.jsp?id=N`) are
  not counted, since their parent is another page.

Refused URLs are recorded in the frontier as `gone` with error kind `crawler_trap` and
the reason, so an operator sees what was cut (`v_urls`) and can raise the limit.
"""
from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

DEFAULT_MAX_QUERY_VARIANTS = 200
SEGMENT_REPEATS = 3
MAX_PATH_SEGMENTS = 24
MAX_URL_LENGTH = 2048


def structural_trap(url: str) -> str | None:
    """Why `url`'s shape alone marks it as a trap, else None."""
    if len(url) > MAX_URL_LENGTH:
        return f"URL of {len(url)} characters, over {MAX_URL_LENGTH}: generated, not linked by a person"
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if len(segments) > MAX_PATH_SEGMENTS:
        return f"path of {len(segments)} segments, over {MAX_PATH_SEGMENTS}: an ever-deeper path trap"
    if segments:
        segment, times = Counter(segments).most_common(1)[0]
        if times >= SEGMENT_REPEATS:
            return f"path segment {segment!r} repeats {times} times: an ever-deeper relative-link trap"
    return None


def query_family(url: str) -> str:
    """The URL without its query string: the page whose query variants are counted."""
    return url.split("?", 1)[0]


def self_variants(page_url: str, links: list[str]) -> list[str]:
    """The links that are query variants of the page itself (same family, with a query)."""
    family = query_family(page_url)
    return [u for u in links if "?" in u and query_family(u) == family]


def variant_traps(page_url: str, links: list[str], known_variants: int, limit: int) -> dict[str, str]:
    """Links refused as unbounded query variants: all of the page's own variants once its
    family already holds `limit` variants reached from within (`known_variants`).

    Below the limit every variant is let through, so one page may overshoot it by its own
    links; the next page of the family is refused.
    """
    if known_variants < limit:
        return {}
    why = (f"one of more than {limit} query variants of {query_family(page_url)} reached from its own pages "
           "(a calendar or filter trap); not crawled — raise max_query_variants for the site if they are real pages")
    return dict.fromkeys(self_variants(page_url, links), why)
