"""Fixtures of the fleet drills: private servers, the 300-article fixture site, and the
in-process crawl every drill's result is compared with."""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixture_site.faults import poisoned_bulk
from tests.fleet.servers import PrivatePostgres, PrivateRedis, ServerUnavailable, traversable_dir

ARTICLES = 300


@pytest.fixture(scope="session")
def servers_root() -> Iterator[Path]:
    root = traversable_dir("govingest-drill-")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_pg(servers_root: Path) -> Iterator[PrivatePostgres]:
    """A PostgreSQL only the drills use (drill 3 stops and starts it)."""
    try:
        pg = PrivatePostgres(servers_root / "pg").init()
    except (ServerUnavailable, OSError, FileNotFoundError) as exc:
        pytest.fail(f"fleet drills need a private PostgreSQL (initdb/pg_ctl): {exc}")
    yield pg
    pg.stop("immediate")


@pytest.fixture
def private_redis(servers_root: Path) -> Iterator[PrivateRedis]:
    """A fresh Redis per drill (drill 2 kills it and starts an empty one)."""
    try:
        r = PrivateRedis(servers_root / f"redis-{uuid.uuid4().hex[:6]}").start()
    except (ServerUnavailable, OSError) as exc:
        pytest.fail(f"fleet drills need a private redis-server: {exc}")
    yield r
    r.kill()


@pytest.fixture(scope="session")
def bulk_site() -> Iterator[object]:
    from govingest.workers.fixture_site import FixtureSite

    with FixtureSite(sites=[], extra_sites=[poisoned_bulk(ARTICLES)], crawl_delay=0) as fx:
        yield fx


@pytest.fixture(scope="session")
def bulk_configs(bulk_site: object) -> list:
    from govingest.crawler.config import parse_sites
    from govingest.workers.fixture_site.sites_toml import site_tables

    # generous budget: the drills test recovery, not politeness
    return parse_sites({"site": site_tables(bulk_site, rate=400.0, concurrency=8)}, "fleet drill")


@dataclass(frozen=True)
class Reference:
    documents: frozenset[str]  # URL paths of the documents the in-process crawl stored


def url_paths(urls: list[str]) -> list[str]:
    from urllib.parse import urlsplit

    return [urlsplit(u).path for u in urls]


@pytest.fixture(scope="session")
def in_process_reference(private_pg: PrivatePostgres) -> Reference:
    """What the in-process crawl stores from the same 300 articles (same paths; a site of its
    own without the poison page, whose parse time depends on the parser of the day)."""
    import psycopg

    from govingest.crawler.config import parse_sites
    from govingest.workers.fixture_site import FixtureSite
    from govingest.workers.fixture_site.sites_toml import site_tables
    from govingest.workers.local.runner import crawl

    url = private_pg.create_database(f"drill_ref_{uuid.uuid4().hex[:8]}")
    with FixtureSite(sites=["bulk"], articles=ARTICLES, crawl_delay=0) as fx:
        configs = parse_sites({"site": site_tables(fx, rate=400.0, concurrency=8)}, "reference")
        crawl(url, configs, linger_seconds=1.0, max_seconds=300)
    with psycopg.connect(url) as conn:
        docs = frozenset(url_paths([r[0] for r in conn.execute("SELECT url FROM documents")]))
    return Reference(docs)
