"""List pages come back on their schedule and reveal new articles; articles do not."""
from __future__ import annotations

import threading
import time

import psycopg

from govingest.crawler.config import parse_sites
from govingest.workers.fixture_site.server import FixtureSite, read_access_log
from govingest.workers.fixture_site.sites_toml import site_tables
from govingest.workers.local.runner import crawl


def test_lists_refetched_on_schedule_find_new_articles(fresh_database_url: str) -> None:
    fixture = FixtureSite(sites=["gbk"], gbk_articles=4).start()
    try:
        sites = parse_sites({"site": site_tables(fixture, rate=10.0, recrawl_list_seconds=2,
                                                 recrawl_article_seconds=3600)}, "schedule")
        stop = threading.Event()
        result: list = []
        runner = threading.Thread(target=lambda: result.append(
            crawl(fresh_database_url, sites, linger_seconds=float("inf"), max_seconds=40, stop=stop)))
        runner.start()
        gbk = fixture.site("gbk")

        def documents() -> set[str]:
            with psycopg.connect(fresh_database_url) as conn:
                try:
                    return {r[0] for r in conn.execute("SELECT url FROM documents")}
                except psycopg.errors.UndefinedTable:
                    return set()

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not set(gbk.article_urls) <= documents():
            time.sleep(0.2)
        assert set(gbk.article_urls) <= documents(), "first pass did not finish"
        new = fixture.publish("gbk", 1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not set(new) <= documents():
            time.sleep(0.2)
        stop.set()
        runner.join(30)
        assert set(new) <= documents(), "a re-fetched list page must reveal the new article"
        log = read_access_log(fixture.access_log)
        lists = [r for r in log if r["path"] == gbk.start_urls[0].replace(gbk.base_url, "")]
        assert len(lists) >= 2
        articles = [r["path"] for r in log if gbk.base_url + r["path"] in set(gbk.article_urls)]
        assert len(articles) == len(set(articles)), "articles are not re-fetched within their interval"
    finally:
        fixture.stop()
