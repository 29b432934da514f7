"""End to end: crawl one fixture site per list dialect, with no per-site patterns.

The sites (workers/fixture_site/dialects.py) follow the public shape of real pages of each
CMS family; the crawler must find every article from the pages alone, store it with its
text (F1 >= 0.95 against the truth the fixture keeps), never request a robots-disallowed
URL, keep the Crawl-delay at the wire, record the attachment and the 404, stop paging at
the first page with nothing new, and on a scheduled re-fetch of the lists ask no page
after a first page that brought nothing new.
"""
from __future__ import annotations

import importlib.util
import itertools
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from govingest.crawler.config import parse_sites
from govingest.db import reader
from govingest.workers.fixture_site.server import DIALECT_SITES, FixtureSite, read_access_log
from govingest.workers.fixture_site.sites_toml import site_tables
from govingest.workers.local.runner import crawl
from tests.conftest import EVAL, _with_dbname

RATE = 8.0
DELAY = 0.1


def _prf():
    spec = importlib.util.spec_from_file_location("govingest_eval_pages", EVAL / "pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.prf


class Crawled:
    def __init__(self, url: str, fixture: FixtureSite, first_log: int) -> None:
        self.url, self.fixture, self.first_log = url, fixture, first_log

    def log(self) -> list[dict]:
        return read_access_log(self.fixture.access_log)


@pytest.fixture(scope="module")
def crawled(pg_server_url: str) -> Iterator[Crawled]:
    name = f"govingest_test_dialects_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = _with_dbname(pg_server_url, name)
    fixture = FixtureSite(sites=DIALECT_SITES, crawl_delay=DELAY).start()
    try:
        tables = site_tables(fixture, rate=RATE, concurrency=2)
        for t in tables:  # robots-forbidden links may enter the frontier: they must never be asked
            t["list_patterns"] = [r"/admin/"]
        sites = parse_sites({"site": tables}, "e2e dialects")
        crawl(url, sites, linger_seconds=2.0, read_timeout=2.0, total_timeout=10.0, max_seconds=150)
        first_log = len(read_access_log(fixture.access_log))
        # the schedule comes round for the list pages (recrawl_list_seconds): only they are due
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE urls SET next_fetch_at = now() WHERE kind = 'list' AND state = 'done'")
            conn.commit()
        crawl(url, sites, linger_seconds=0.5, read_timeout=2.0, total_timeout=10.0, max_seconds=60)
        yield Crawled(url, fixture, first_log)
    finally:
        fixture.stop()
        with psycopg.connect(pg_server_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_article_of_every_dialect_is_stored_with_its_text(crawled: Crawled) -> None:
    prf = _prf()
    problems = []
    with psycopg.connect(crawled.url) as conn:
        for info in crawled.fixture.sites:
            docs = dict(conn.execute("SELECT url, text FROM documents WHERE site = %s AND kind = 'article'",
                                     (info.name,)).fetchall())
            assert len(info.truth) >= 10, info.name
            for url, truth in info.truth.items():
                if url not in docs:
                    state = conn.execute("SELECT state, last_error FROM urls WHERE url = %s", (url,)).fetchone()
                    problems.append(f"{info.name}: no document for {url} ({state})")
                    continue
                _, _, f1 = prf(docs[url], truth)
                if f1 < 0.95:
                    problems.append(f"{info.name}: {url} text F1 {f1:.3f}")
            extra = set(docs) - set(info.truth)
            if extra:
                problems.append(f"{info.name}: documents that are not articles: {sorted(extra)[:3]}")
    assert not problems, "\n".join(problems)


def test_articles_are_counted_by_the_dialect_that_found_them(crawled: Crawled) -> None:
    names = [i.name for i in crawled.fixture.sites]
    with psycopg.connect(crawled.url) as conn:
        found = reader.articles_by_dialect(conn, names)
        heads = dict(conn.execute("SELECT site, dialect FROM urls WHERE depth = 0 AND kind = 'list'").fetchall())
    for info in crawled.fixture.sites:
        if info.name == "feeds":
            assert found[info.name].get("sitemap", 0) >= 5 and found[info.name].get("feed", 0) >= 5, found
            continue
        assert heads[info.name] == info.dialect, f"{info.name}: head read as {heads[info.name]}"
        assert found[info.name].get(info.dialect, 0) >= len(info.truth) - 1, (info.name, found[info.name])


def test_robots_disallowed_never_requested_and_crawl_delay_kept_at_the_wire(crawled: Crawled) -> None:
    log = crawled.log()
    assert not [r for r in log if r["path"].startswith("/admin/")]
    for info in crawled.fixture.sites:
        stamps = sorted(r["ts"] for r in log if r["site"] == info.name)
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        interval = max(1 / RATE, DELAY)
        assert min(gaps) >= interval, f"{info.name}: two requests {min(gaps):.4f}s apart (interval {interval})"
    with psycopg.connect(crawled.url) as conn:
        gone = conn.execute("SELECT count(*) FROM urls WHERE url LIKE '%%/admin/%%' AND state = 'gone' "
                            "AND last_error_kind = 'robots_disallowed'").fetchone()[0]
    assert gone == len(crawled.fixture.sites)


def test_attachment_and_dead_link_are_recorded(crawled: Crawled) -> None:
    info = crawled.fixture.site("trs-var")
    with psycopg.connect(crawled.url) as conn:
        pdf = conn.execute("SELECT state, kind, content_type FROM urls WHERE url = %s",
                           (info.attachment_urls[0],)).fetchone()
        dead = conn.execute("SELECT state, last_status, last_error_kind FROM urls WHERE url = %s",
                            (info.missing_urls[0],)).fetchone()
    assert pdf == ("done", "attachment", "application/pdf")
    assert dead == ("gone", 404, "not_found")
    with psycopg.connect(crawled.url) as conn:
        doc = conn.execute(
            "SELECT d.kind, p.url, d.text FROM documents d JOIN urls p ON p.id = d.parent_url_id "
            "JOIN urls u ON u.id = d.url_id WHERE u.url = %s", (info.attachment_urls[0],)).fetchone()
    assert doc is not None, "the attachment's text is stored as a document of its own"
    kind, parent, text = doc
    assert kind == "attachment" and parent in info.list_urls + info.start_urls
    assert "安全生产月" in text


def test_stale_deep_pages_are_never_asked(crawled: Crawled) -> None:
    info = crawled.fixture.site("trs-var")
    asked = {info.base_url + r["path"] for r in crawled.log() if r["site"] == "trs-var"}
    first_stale, second_stale = info.stale_urls
    assert first_stale in asked  # the page after the last real one is asked once …
    assert second_stale not in asked  # … and brings nothing new, so paging stops there


def test_scheduled_list_refetch_stops_at_the_first_page_with_nothing_new(crawled: Crawled) -> None:
    second = crawled.log()[crawled.first_log:]
    heads = {(i.name, i.start_urls[0].replace(i.base_url, "")) for i in crawled.fixture.sites}
    asked = {(r["site"], r["path"]) for r in second}
    assert {h for h in heads if h[0] != "feeds"} <= asked, "every list head is re-fetched"
    pagers = [r for r in second if "index_" in r["path"] or "home_" in r["path"] or "dataproxy" in r["path"]]
    assert not pagers, f"re-fetched lists brought nothing new, yet later pages were asked: {pagers[:3]}"


def test_hanweb_records_come_from_the_proxy_by_post(crawled: Crawled) -> None:
    proxy = [r for r in crawled.log() if r["site"] == "hanweb" and "dataproxy.jsp" in r["path"]]
    assert proxy and all(r["method"] == "POST" and r["status"] == 200 for r in proxy)


def test_script_filled_page_is_recorded_and_its_api_fetched(crawled: Crawled) -> None:
    info = crawled.fixture.site("govcn")
    page = info.fault_urls["script_filled"]
    with psycopg.connect(crawled.url) as conn:
        state, kind, message = conn.execute("SELECT state, last_error_kind, last_error FROM urls WHERE url = %s",
                                            (page,)).fetchone()
        assert conn.execute("SELECT count(*) FROM documents WHERE url = %s", (page,)).fetchone()[0] == 0
    assert (state, kind) == ("failed", "script_filled")
    assert "filled in by script" in message or "script fills it" in message
    assert any(u.endswith(".json") for u in info.truth)  # its text was stored under the API's URL


def test_utf16_page_with_a_bom_is_a_document(crawled: Crawled) -> None:
    info = crawled.fixture.site("govcn")
    with psycopg.connect(crawled.url) as conn:
        row = conn.execute("SELECT title FROM documents WHERE url = %s", (info.fault_urls["utf16"],)).fetchone()
    assert row is not None and row[0]
