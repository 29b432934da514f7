"""A crawler trap must not stop a later article from being stored (issue 13, "The crawl keeps going").

Before: the URL cap counted every URL the site ever had, so session ids (`;jsessionid=`,
`?sid=`), an endless calendar and ever-deeper paths filled `max_pages` within seconds and
the article the news list published later was never added, silently.
"""
from __future__ import annotations

import threading

import psycopg

from govingest.crawler.config import parse_site
from govingest.workers.local.runner import crawl
from tests.hostile.servers import LATE_ARTICLE, LATE_TITLE, trap_site


def test_trap_site_does_not_stop_a_later_article(migrated_database_url: str) -> None:
    with trap_site(publish_after=60) as srv:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        site = parse_site({
            "name": "trap", "start_urls": [base + "/index.html"], "local": True, "rate": 100.0, "concurrency": 2,
            "article_patterns": [r"/news/t\d{8}_\d+\.html$"],
            "list_patterns": [r"/index\.html", r"/calendar\.html", r"/deep/"],
            "max_pages": 30, "max_depth": 100, "recrawl_list_seconds": 1, "max_query_variants": 20,
        }, "trap test")
        stop = threading.Event()

        def on_fetch(result: object) -> None:
            if getattr(result, "url", "") == base + LATE_ARTICLE:
                stop.set()

        crawl(migrated_database_url, [site], stop=stop, on_fetch=on_fetch, max_seconds=40, linger_seconds=2,
              read_timeout=2, total_timeout=5)
        with psycopg.connect(migrated_database_url) as conn:
            doc = conn.execute("SELECT title FROM documents WHERE url = %s", (base + LATE_ARTICLE,)).fetchone()
            urls = [r[0] for r in conn.execute("SELECT url FROM urls").fetchall()]
            traps = conn.execute("SELECT url, last_error FROM urls WHERE last_error_kind = 'crawler_trap'").fetchall()
        assert doc is not None and LATE_TITLE in (doc[0] or ""), f"the later article was not stored ({len(urls)} URLs)"
        assert not [u for u in urls if "jsessionid" in u.lower() or "sid=" in u.lower() or "token=" in u.lower()]
        trap_urls = [u for u, _ in traps]
        assert any("/deep/x/x/x/" in u for u in trap_urls), trap_urls  # repeating path segments
        assert any("/calendar.html?date=" in u for u in trap_urls), trap_urls  # unbounded query variants
        assert all(why for _, why in traps)
