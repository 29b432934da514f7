"""`govingest dispatch` as a user runs it: a real PostgreSQL, a real (private) Redis."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

GOVINGEST = [sys.executable, "-m", "govingest"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOVINGEST, *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


def test_dispatch_without_a_broker_says_what_to_do(fresh_database_url):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATABASE_URL"] = fresh_database_url
    r = _run(["dispatch", "--once"], env)
    assert r.returncode == 1
    assert "REDIS_URL is not set" in r.stderr and "--workers" in r.stderr
    assert "Traceback" not in r.stderr


def test_dispatch_once_registers_sites_and_enqueues_their_start_urls(fresh_database_url, private_redis, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text('[[site]]\nname = "a"\nstart_urls = ["http://a.example/list/index.html"]\n'
                     'list_patterns = ["/list/"]\n\n'
                     '[[site]]\nname = "b"\nstart_urls = ["http://b.example/index.html"]\n', encoding="utf-8")
    env = dict(os.environ, DATABASE_URL=fresh_database_url, REDIS_URL=private_redis.url,
               GOVINGEST_LOG_LEVEL="WARNING")
    r = _run(["dispatch", "--once", "--sites", str(sites)], env)
    assert r.returncode == 0, r.stderr
    assert "dispatched 2 URLs" in r.stdout
    assert private_redis.queue_length("fetch") == 2
    with psycopg.connect(fresh_database_url) as conn:
        states = conn.execute("SELECT site, state, lease_owner IS NOT NULL FROM urls ORDER BY site").fetchall()
    assert states == [("a", "fetching", True), ("b", "fetching", True)]
    # a second dispatcher finds nothing to hand out: the leases hold
    r = _run(["dispatch", "--once", "--sites", str(sites)], env)
    assert r.returncode == 0 and "dispatched 0 URLs" in r.stdout
    assert private_redis.queue_length("fetch") == 2


def test_crawl_with_workers_runs_the_fleet_and_prints_the_summary(fresh_database_url, private_redis, tmp_path):
    """`govingest crawl --workers N`: the distributed path end to end, as a user types it."""
    from govingest.workers.fixture_site import FixtureSite
    from govingest.workers.fixture_site.sites_toml import write_sites_toml

    with FixtureSite(sites=["siming"], crawl_delay=0) as fx:
        sites = write_sites_toml(tmp_path / "sites.toml", fx)
        env = dict(os.environ, DATABASE_URL=fresh_database_url, REDIS_URL=private_redis.url,
                   GOVINGEST_LOG_LEVEL="WARNING")
        r = _run(["crawl", "--sites", str(sites), "--workers", "1"], env)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "siming" in r.stdout and "Traceback" not in r.stderr
        with psycopg.connect(fresh_database_url) as conn:
            # the five seeds, and the first one's three attachments (PDF, DOCX, XLSX; the scan is flagged)
            kinds = dict(conn.execute("SELECT kind, count(*) FROM documents GROUP BY kind").fetchall())
            assert kinds == {"article": 5, "attachment": 3}
        r = _run(["crawl", "--sites", str(sites), "--workers", "1", "--forever"], env)
        assert r.returncode == 1 and "govingest dispatch" in r.stderr
