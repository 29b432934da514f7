"""`govingest serve`: the documents for people who read them — search, a page per document
and per site, Atom feeds, and a JSON API mirroring the pages (FastAPI, server-rendered HTML).

Why server-rendered with Jinja2 and no JavaScript: a page is a query and a template, the
app has no build step, and every page works in any browser (and in the tests' headless
Chromium). The app connects as the read-only role: each pooled connection acts as
`govingest_reader` (`db.reader.act_as_reader`), so it can read the documented views and
nothing else, whatever DATABASE_URL names; the schema is checked once at start.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from psycopg_pool import ConnectionPool

from govingest import __version__
from govingest.db import reader
from govingest.db.reader import SearchFilters
from govingest.parsers.search import query_words

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PAGE = 20


def _pool(database_url: str) -> ConnectionPool:
    def configure(conn: psycopg.Connection) -> None:
        reader.act_as_reader(conn)

    pool = ConnectionPool(database_url, min_size=1, max_size=4, open=False, configure=configure,
                          kwargs={"autocommit": True}, check=ConnectionPool.check_connection)
    pool.open(wait=True, timeout=30)
    return pool


def create_app(database_url: str) -> FastAPI:
    """The app over `database_url`; raises SchemaTooOld when the schema lacks a migration."""
    pool = _pool(database_url)
    with pool.connection() as conn:
        reader.require_schema(conn)
    app = FastAPI(title="govingest", version=__version__,
                  description="Search and read Chinese government documents stored by govingest "
                              "(read-only; the views of docs/consumers.md).")
    app.state.pool = pool

    def filters(site: str | None, since: str | None, until: str | None, kind: str | None) -> SearchFilters:
        """Filters of a form or a query string: empty fields mean no filter."""
        return SearchFilters(site=site or None, since=_day(since), until=_day(until), kind=kind or None)

    def run_search(q: str, f: SearchFilters, limit: int, offset: int = 0) -> list[reader.Hit]:
        if not any(ch.isalnum() for ch in q):
            return []
        with pool.connection() as conn:
            return reader.search(conn, q, words=query_words(q), filters=f, limit=limit, offset=offset)

    @app.get("/", response_class=HTMLResponse, summary="The search page")
    def home(request: Request) -> Response:
        with pool.connection() as conn:
            sites = reader.sites(conn)
        return TEMPLATES.TemplateResponse(request, "home.html", {"sites": sites, "q": ""})

    @app.get("/search", response_class=HTMLResponse, summary="Search results as HTML")
    def search_page(request: Request, q: str = "", site: str | None = None, since: str | None = None,
                    until: str | None = None, kind: str | None = None, page: int = Query(1, ge=1)) -> Response:
        f = filters(site, since, until, kind)
        hits = run_search(q, f, PAGE + 1, (page - 1) * PAGE)
        return TEMPLATES.TemplateResponse(request, "search.html", {
            "q": q, "f": f, "hits": hits[:PAGE], "page": page, "more": len(hits) > PAGE})

    @app.get("/api/search", summary="Search: a list of hits (url, title, snippet as HTML, …)")
    def api_search(q: str, site: str | None = None, since: str | None = None, until: str | None = None,
                   kind: str | None = None, limit: int = Query(20, ge=1, le=200)) -> list[dict[str, Any]]:
        return [h.to_json() for h in run_search(q, filters(site, since, until, kind), limit)]

    def load_document(url: str | None, document_id: int | None) -> dict[str, Any]:
        if url is None and document_id is None:
            raise HTTPException(400, "give url or id")
        with pool.connection() as conn:
            doc = reader.document(conn, url=url, document_id=document_id)
        if doc is None:
            raise HTTPException(404, "no such document")
        return doc

    @app.get("/documents", response_class=HTMLResponse, summary="A document as HTML")
    def document_page(request: Request, url: str | None = None, id: int | None = None) -> Response:
        return TEMPLATES.TemplateResponse(request, "document.html", {"d": load_document(url, id)})

    @app.get("/api/documents", summary="A document with its outline, facts, attachments, citations, near-duplicates")
    def api_document(url: str | None = None, id: int | None = None) -> dict[str, Any]:
        return _jsonable(load_document(url, id))

    @app.get("/sites", response_class=HTMLResponse, summary="Every site")
    def sites_page(request: Request) -> Response:
        with pool.connection() as conn:
            sites = reader.sites(conn)
        return TEMPLATES.TemplateResponse(request, "sites.html", {"sites": sites})

    @app.get("/sites/{site}", response_class=HTMLResponse, summary="A site: documents per day, failures, last crawl")
    def site_page(request: Request, site: str) -> Response:
        with pool.connection() as conn:
            info = reader.site_overview(conn, site)
        return TEMPLATES.TemplateResponse(request, "site.html", {"s": info})

    @app.get("/api/sites/{site}", summary="A site: documents per day, failures by kind, last crawl, newest")
    def api_site(site: str) -> dict[str, Any]:
        with pool.connection() as conn:
            return _jsonable(reader.site_overview(conn, site))

    @app.get("/feeds/search.atom", summary="Atom feed of a search (newest matches)")
    def search_feed(request: Request, q: str, site: str | None = None) -> Response:
        hits = run_search(q, filters(site, None, None, None), 50)
        with pool.connection() as conn:
            docs = [reader.document(conn, document_id=h.document_id) for h in hits]
        entries = sorted((d for d in docs if d), key=lambda d: d["last_changed"], reverse=True)
        return _atom(request, f"govingest: {q}", str(request.url), entries)

    @app.get("/feeds/{site}.atom", summary="Atom feed of a site's new and changed documents")
    def site_feed(request: Request, site: str) -> Response:
        with pool.connection() as conn:
            entries = reader.recent_documents(conn, site=site, limit=50)
        return _atom(request, f"govingest: {site}", str(request.url), entries)

    @app.on_event("shutdown")
    def close_pool() -> None:
        pool.close()

    return app


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{value!r} is not a date: use YYYY-MM-DD") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _atom(request: Request, title: str, self_url: str, docs: list[dict[str, Any]]) -> Response:
    """An Atom 1.0 feed: one entry per document, updated = when its content last changed."""
    ns = "http://www.w3.org/2005/Atom"
    feed = ET.Element("feed", xmlns=ns)
    ET.SubElement(feed, "title").text = title
    ET.SubElement(feed, "id").text = self_url
    ET.SubElement(feed, "link", rel="self", href=self_url)
    newest = max((d["last_changed"] for d in docs), default=datetime.now(UTC))
    ET.SubElement(feed, "updated").text = newest.isoformat()
    for d in docs:
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "title").text = d.get("title") or d["url"]
        ET.SubElement(entry, "id").text = d["url"]
        page = str(request.url_for("document_page").include_query_params(url=d["url"]))
        ET.SubElement(entry, "link", href=page)
        ET.SubElement(entry, "link", rel="via", href=d["url"])
        ET.SubElement(entry, "updated").text = d["last_changed"].isoformat()
        ET.SubElement(entry, "published").text = d["first_seen"].isoformat()
        ET.SubElement(entry, "category", term=d["site"])
        summary = d.get("summary") or (d.get("text") or "")[:200]
        ET.SubElement(entry, "summary").text = summary
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body, media_type="application/atom+xml")
