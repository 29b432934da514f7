"""Links a list page leads to, including pager pages that exist only in JavaScript.

Why the TRS special case: TRS WCM, the CMS behind most Chinese government sites, writes
its pager with `createPageHTML(total, current, "index", "html")` in a script, so a
list's second page (`index_1.html`) appears in no `<a href>`. Without reading the call
a crawl sees only the first page of every column.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

from govingest.parsers.decode import decode
from govingest.parsers.extract import parse_html

# createPageHTML(7, 0, "index", "html") — TRS pager: pages index.html, index_1.html … index_6.html
_TRS_PAGER = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")
MAX_PAGER_PAGES = 500  # a wrong total must not flood the frontier


def trs_pager_urls(html: str, base_url: str) -> list[str]:
    """Absolute URLs of every page a TRS `createPageHTML` pager would link to."""
    out: list[str] = []
    for m in _TRS_PAGER.finditer(html):
        total, _current, stem, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        for i in range(min(total, MAX_PAGER_PAGES)):
            name = f"{stem}.{ext}" if i == 0 else f"{stem}_{i}.{ext}"
            out.append(urljoin(base_url, name))
    return out


def _text(body: bytes, content_type: str | None) -> str:
    try:
        return decode(body, content_type).text
    except Exception:  # links are best effort: a page we cannot decode is read as UTF-8
        return body.decode("utf-8", errors="replace")


def discover_links(body: bytes, base_url: str, content_type: str | None = None) -> list[str]:
    """Absolute (not yet canonical) URLs linked from a page, in document order, unique."""
    text = _text(body, content_type)
    if not text.strip():
        return []
    found: list[str] = []
    root = parse_html(text)  # the parser's own: survives <?xml encoding=…?> prologs
    base = base_url
    if root is not None:
        base_el = root.find(".//base[@href]")
        if base_el is not None:
            base = urljoin(base_url, base_el.get("href", "").strip())
        for el in root.iter("a", "area", "iframe", "frame"):
            ref = el.get("href") if el.tag in ("a", "area") else el.get("src")
            if ref and ref.strip():
                found.append(urljoin(base, ref.strip()))
    found.extend(trs_pager_urls(text, base))
    seen: set[str] = set()
    unique: list[str] = []
    for u in found:
        if u not in seen:
            seen.add(u)
            unique.append(u)
    return unique
