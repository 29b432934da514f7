"""`govingest search QUERY`: ranked Chinese full-text search over the documents, as the reader.

The query is segmented by the same segmenter as the documents (parsers/search.py) and
sent to `govingest_search` (migration 0073), the SQL function consumers call directly.
"""
from __future__ import annotations

import argparse
import json
import re
from typing import get_args

from govingest.db.connect import resolve_database_url
from govingest.db.reader import SearchFilters, connect_reader, search
from govingest.parsers.model import DocumentKind
from govingest.parsers.search import query_words
from govingest.workers.cli import UserError, iso_date
from govingest.workers.settings import Settings

_MARK = re.compile(r"</?mark>")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="full-text search over the documents (Chinese), ranked, with snippets")
    p.add_argument("query", help="words to find, e.g. 安全生产 or '应急管理 预案'")
    p.add_argument("--site", help="only this site's documents")
    p.add_argument("--since", type=iso_date, metavar="DATE", help="published on or after DATE (YYYY-MM-DD)")
    p.add_argument("--until", type=iso_date, metavar="DATE", help="published on or before DATE (YYYY-MM-DD)")
    p.add_argument("--issuer", help="issuer (发文机关) containing this text")
    p.add_argument("--doc-number", help="exactly this document number (文号), e.g. 国办发〔2024〕12号")
    p.add_argument("--kind", choices=get_args(DocumentKind), help="only articles or only attachments")
    p.add_argument("--limit", type=int, default=20, help="hits to show (default 20)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or JSON lines")
    p.set_defaults(func=run)


def plain(snippet: str, *, marks: tuple[str, str] = ("【", "】")) -> str:
    """A snippet for a terminal: highlights as brackets, HTML entities decoded."""
    import html

    return html.unescape(snippet.replace("<mark>", marks[0]).replace("</mark>", marks[1]))


def run(args: argparse.Namespace) -> int:
    if not any(ch.isalnum() for ch in args.query):
        raise UserError("the query has nothing to search for: give Chinese characters, letters or digits")
    filters = SearchFilters(site=args.site, since=args.since, until=args.until, issuer=args.issuer,
                            doc_number=args.doc_number, kind=args.kind)
    with connect_reader(resolve_database_url(Settings.from_env())) as conn:
        hits = search(conn, args.query, words=query_words(args.query), filters=filters, limit=args.limit)
    for hit in hits:
        if args.format == "json":
            print(json.dumps(hit.to_json(), ensure_ascii=False))
            continue
        print(f"{hit.rank:.3f}  {hit.site}  {hit.published_at or '-'}  {hit.title or '(no title)'}")
        print(f"       {hit.url}")
        print(f"       {plain(hit.snippet)}")
    if args.format == "text" and not hits:
        print("no documents match")
    return 0
