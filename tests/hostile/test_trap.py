"""A crawler trap must not stop a later article from being stored (issue 13, "The crawl keeps going").

Before: the URL cap counted every URL the site ever had, so session ids (`;jsessionid=`,
`?sid=`), an endless calendar and ever-deeper paths filled `max_pages` within seconds and
the article the news list published later was never added, silently.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import psycopg

from govingest.crawler.config import parse_site
from govingest.db import frontier, reader
from govingest.db.frontier import NewUrl
from govingest.workers.local.runner import crawl
from govingest.workers.stages.seed import seed_sites
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


def test_cap_counts_pending_urls_not_history(migrated_database_url: str) -> None:
    site = parse_site({"name": "cap", "start_urls": ["http://www.a.gov.cn/index.html"], "max_pages": 3}, "t")
    with psycopg.connect(migrated_database_url) as conn:
        seed_sites(conn, [site])  # the start URL: 1 pending
        old = [NewUrl(f"http://www.a.gov.cn/old/t{i}.html", "article", "www.a.gov.cn") for i in range(10)]
        frontier.add_urls(conn, "cap", old, 1, None)
        conn.execute("UPDATE urls SET state = 'done' WHERE url LIKE '%/old/%'")  # ten fetched: history
        new = [NewUrl(f"http://www.a.gov.cn/new/t{i}.html", "article", "www.a.gov.cn") for i in range(5)]
        added = frontier.add_urls(conn, "cap", new, 1, None, max_urls=site.max_pages)
        assert added == 2  # room for two beside the pending start URL; history does not count
        assert reader.sites_at_cap(conn) == [("cap", 3, 3)]


def test_status_warns_when_a_site_is_at_its_cap(migrated_database_url: str, redis_url: str) -> None:
    site = parse_site({"name": "full", "start_urls": ["http://www.a.gov.cn/index.html"], "max_pages": 1}, "t")
    with psycopg.connect(migrated_database_url) as conn:
        seed_sites(conn, [site])
    env = {**os.environ, "DATABASE_URL": migrated_database_url, "REDIS_URL": redis_url}
    out = subprocess.run([sys.executable, "-m", "govingest", "status"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "warning: site 'full' has 1 URLs waiting, at its cap (max_pages = 1)" in out.stdout, out.stdout
