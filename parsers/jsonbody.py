"""JSON article bodies: what a page's script fetches (`/api/article?id=…`) made into HTML.

Why: a page whose body is filled in by script (parsers.scripted) names the API that
returns it; the crawler fetches that URL, and the answer is JSON such as
`{"data": {"title": …, "content": "<p>…</p>", "publishTime": …}}`. The object holding
the longest text-bearing field is taken as the article, its common keys as metadata, and
an HTML page is built from them so the rest of the pipeline (extract, metadata, clean)
runs unchanged.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

_CONTENT_KEYS = ("content", "htmlContent", "html", "body", "text", "contentHtml", "articleContent", "detail",
                 "zw", "txt")
_TITLE_KEYS = ("title", "articleTitle", "name", "bt")
_DATE_KEYS = ("publishTime", "publish_time", "pubDate", "pubdate", "releaseDate", "date", "created_at",
              "createTime", "fbsj")
_SOURCE_KEYS = ("source", "contentSource", "ly", "publisher")
_CJK = re.compile(r"[\u3400-\u9fff]")


def looks_like_json(text: str, content_type: str | None) -> bool:
    head = text.lstrip()[:1]
    ct = (content_type or "").lower()
    return head in ("{", "[") and ("json" in ct or "javascript" in ct or "html" not in ct)


def _objects(value: Any, depth: int = 0) -> list[dict[str, Any]]:
    if depth > 6:
        return []
    if isinstance(value, dict):
        out = [value]
        for v in value.values():
            out += _objects(v, depth + 1)
        return out
    if isinstance(value, list):
        return [o for v in value[:50] for o in _objects(v, depth + 1)]
    return []


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = obj.get(k)
        if isinstance(v, (str, int, float)) and str(v).strip():
            return str(v).strip()
    return None


def article_html(text: str) -> str | None:
    """An HTML page built from the JSON article in `text`, or None when there is none."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    best: tuple[int, dict[str, Any], str] | None = None
    for obj in _objects(data):
        for key in _CONTENT_KEYS:
            v = obj.get(key)
            if isinstance(v, str):
                score = len(_CJK.findall(v))
                if score >= 20 and (best is None or score > best[0]):
                    best = (score, obj, v)
    if best is None:
        return None
    _, obj, content = best
    if "<" not in content:
        content = "".join(f"<p>{html.escape(p)}</p>" for p in content.splitlines() if p.strip())
    title, date, source = _first(obj, _TITLE_KEYS), _first(obj, _DATE_KEYS), _first(obj, _SOURCE_KEYS)
    metas = "".join(f'<meta name="{n}" content="{html.escape(v)}"/>'
                    for n, v in (("ArticleTitle", title), ("PubDate", date), ("ContentSource", source)) if v)
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"/>{metas}<title>{html.escape(title or '')}</title>"
            f"</head><body><h1>{html.escape(title or '')}</h1><div class=\"article-content\">{content}</div>"
            "</body></html>")
