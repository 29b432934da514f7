"""Hanweb / jpaas (大汉): column pages whose records sit in a datastore script.

A column page `/col/col{N}/index.html` embeds its first group of records:

    <script type="text/xml"><datastore><nextgroup><![CDATA[…]]></nextgroup>
      <recordset><record><![CDATA[<li><a href="/art/2024/3/5/art_1229_123.html">…</a></li>]]></record>…
    </recordset></datastore></script>

and calls `$('#div').jpage({proxyUrl: '/module/web/jpage/dataproxy.jsp', perPage: 15,
totalRecord: 128, groupSize: 3, ajaxParam: {col: 1, webid: 1, columnid: 1229, unitid:
4045445, …}})`. Later records come only from the proxy, in groups of groupSize×perPage:
`dataproxy.jsp?startrecord=46&endrecord=90&perpage=15`, posted with the ajaxParam as a
form (jpage.js does a POST; servers also take the same parameters in a GET query). The
answer is the same `<datastore>` XML, with `<totalrecord>`.

Frontier URLs carry every parameter in the query (one URL per column and range), with
method POST: the fetcher posts the query as the form body.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from govingest.crawler.listing.model import Link, Listing, Page
from govingest.parsers.extract import parse_html

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S | re.I)
_TOTAL_XML = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_JPAGE = re.compile(r"\.jpage\s*\(\s*\{(.*?)\}\s*\)\s*;?", re.S)
_KEY = r"""['"]?{key}['"]?\s*:\s*['"]?([^'",}}\s]+)['"]?"""
_AJAX_PARAM = re.compile(r"""ajaxParam\s*:\s*\{(.*?)\}""", re.S)
_PAIR = re.compile(r"""['"]?([A-Za-z_]\w*)['"]?\s*:\s*(?:'([^']*)'|"([^"]*)"|([\w.\-/]+))""")
_VAR = r"""var\s+{name}\s*=\s*['"]?([^'";\s]+)['"]?"""
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
MAX_GROUPS = 200


def _value(block: str, key: str, script: str) -> str | None:
    m = re.search(_KEY.format(key=key), block)
    if not m:
        return None
    value = m.group(1)
    if not value.isdigit() and re.fullmatch(r"[A-Za-z_]\w*", value):  # a variable: look it up
        var = re.search(_VAR.format(name=re.escape(value)), script)
        return var.group(1) if var else None
    return value


def _records(text: str, base: str) -> list[Link]:
    out: list[Link] = []
    for cdata in _RECORD.findall(text):
        tree = parse_html(f"<div>{cdata}</div>")
        if tree is None:
            continue
        for a in tree.iter("a"):
            href = (a.get("href") or "").strip()
            if href and not href.startswith(("javascript:", "#")):
                out.append(Link(urljoin(base, href), "article", text=" ".join(a.text_content().split())))
    return out


def _proxy_url(base: str, proxy: str, start: int, per_page: int, group: int, params: dict[str, str]) -> str:
    end = start + per_page * group - 1
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": per_page, **params})
    return urljoin(base, proxy.split("?", 1)[0]) + "?" + query


def _column_page(page: Page) -> Listing | None:
    script = "\n".join(page.scripts)
    text = page.text
    if "<datastore" not in text.lower() and ".jpage(" not in script:
        return None
    base = page.url
    records = _records(text, base)
    listing = Listing("hanweb", list(records))
    m = _JPAGE.search(script)
    if m is None:
        listing.notes.append(f"datastore with {len(records)} records, no jpage() call: no later pages")
        return listing
    block = m.group(1)
    proxy = _value(block, "proxyUrl", script) or DEFAULT_PROXY
    per_page = int(_value(block, "perPage", script) or 15)
    group = int(_value(block, "groupSize", script) or 3)
    total = int(_value(block, "totalRecord", script) or 0)
    params: dict[str, str] = {}
    ajax = _AJAX_PARAM.search(block)
    if ajax:
        for k, a, b, c in _PAIR.findall(ajax.group(1)):
            params[k] = a or b or c
    step = per_page * group
    first = len(records) + 1 if records else 1
    starts = list(range(first, total + 1, step))[:MAX_GROUPS]
    links = [Link(_proxy_url(base, proxy, s, per_page, group, params), "pager", method="POST") for s in starts]
    listing.links += links
    listing.next_page = links[0] if links else None
    listing.records_elsewhere = not records
    listing.total_pages = -(-total // per_page) if per_page else None
    listing.notes.append(f"jpage: {total} records, {per_page} per page in groups of {group}; "
                         f"{len(records)} embedded, {len(links)} proxy requests ({proxy}, POST)")
    return listing


def _proxy_answer(page: Page) -> Listing | None:
    """A dataproxy.jsp answer: records, and the next range from this request's own query."""
    text = page.text
    if "<datastore" not in text[:500].lower():
        return None
    records = _records(text, page.url)
    listing = Listing("hanweb", list(records))
    total_m = _TOTAL_XML.search(text)
    parts = urlsplit(page.url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    nxt_group = _NEXTGROUP.search(text)
    if total_m and "startrecord" in query and "endrecord" in query:
        total, start, end = int(total_m.group(1)), int(query["startrecord"]), int(query["endrecord"])
        if end < total and records:
            width = end - start + 1
            query.update(startrecord=str(end + 1), endrecord=str(end + width))
            nxt = Link(urlunsplit(parts._replace(query=urlencode(query))), "pager", method="POST")
            listing.links.append(nxt)
            listing.next_page = nxt
        listing.notes.append(f"dataproxy answer: records {start}-{end} of {total}")
    elif nxt_group:
        tree = parse_html(f"<div>{nxt_group.group(1)}</div>")
        a = tree.find(".//a[@href]") if tree is not None else None
        if a is not None and records:
            nxt = Link(urljoin(page.url, a.get("href", "")), "pager")
            listing.links.append(nxt)
            listing.next_page = nxt
    return listing


def read(page: Page) -> Listing | None:
    if page.is_xml:
        return _proxy_answer(page)
    return _column_page(page)
