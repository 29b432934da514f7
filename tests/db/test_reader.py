"""db/reader.py against a real PostgreSQL: what `govingest status` reads."""
from __future__ import annotations

import psycopg

from govingest.db import frontier, reader
from govingest.db.frontier import NewUrl


def _list_pages(conn: psycopg.Connection, site: str, intervals: list[float | None]) -> None:
    frontier.upsert_site(conn, site, {"name": site, "start_urls": []})
    host = f"{site}.gov.cn"
    frontier.add_urls(conn, site, [NewUrl(f"https://{host}/col{i}/index.html", "list", host)
                                   for i in range(len(intervals))], 0, None)
    for i, interval in enumerate(intervals):
        conn.execute("UPDATE urls SET list_interval = %s WHERE url = %s", (interval, f"https://{host}/col{i}/index.html"))


def test_list_pages_gives_each_sites_busiest_and_its_count(migrated_database_url: str) -> None:
    """`status` prints a few list pages per site and how many there are: a big frontier
    has thousands, which it must not read all of (bench/scale.py)."""
    with psycopg.connect(migrated_database_url) as conn:
        _list_pages(conn, "a", [3600, 60, None, 600, 86400])
        _list_pages(conn, "b", [300])
        conn.execute("UPDATE urls SET state = 'gone' WHERE url = 'https://a.gov.cn/col1/index.html'")
        conn.commit()
        top = reader.list_pages(conn, per_site=2)
        every = reader.list_pages(conn)
        only_b = reader.list_pages(conn, ["b"], per_site=2)
    assert [(r[0], r[1], r[2], r[8]) for r in top] == [
        ("a", "https://a.gov.cn/col3/index.html", 600, 4),  # the gone page (60 s) is left out
        ("a", "https://a.gov.cn/col0/index.html", 3600, 4),
        ("b", "https://b.gov.cn/col0/index.html", 300, 1),
    ]
    assert [r[2] for r in every if r[0] == "a"] == [600, 3600, 86400, None]  # busiest first, unscheduled last
    assert [r[0] for r in only_b] == ["b"]
