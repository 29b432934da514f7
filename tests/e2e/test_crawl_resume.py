"""A `govingest crawl` killed with SIGKILL and restarted: nothing refetched, nothing lost."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from govingest.workers.fixture_site.server import FixtureSite, read_access_log
from govingest.workers.fixture_site.sites_toml import write_sites_toml

GOVINGEST = [sys.executable, "-m", "govingest"]


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM urls GROUP BY state").fetchall())


def test_sigkill_then_resume(fresh_database_url: str, tmp_path: Path) -> None:
    fixture = FixtureSite(sites=["siming", "gbk"], articles=60, latency=0.02).start()
    try:
        sites = write_sites_toml(tmp_path / "sites.toml", fixture, rate=10.0, concurrency=2)
        env = {**os.environ, "DATABASE_URL": fresh_database_url, "GOVINGEST_DATA_DIR": str(tmp_path / "data"),
               "GOVINGEST_LOG_LEVEL": "WARNING"}
        cmd = [*GOVINGEST, "crawl", "--sites", str(sites), "--linger", "2"]
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 cwd=Path(__file__).resolve().parents[2])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if first.poll() is not None:
                pytest.fail(f"crawl ended before it could be killed: {first.stderr.read().decode()[-2000:]}")
            try:
                c = counts(fresh_database_url)
            except psycopg.Error:
                continue  # schema not migrated yet
            if c.get("done", 0) >= 25:
                break
        else:
            pytest.fail(f"crawl made no progress in 60 s: {counts(fresh_database_url)}")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.time()
        with psycopg.connect(fresh_database_url) as conn:
            done_before = {r[0] for r in conn.execute(
                "SELECT url FROM urls WHERE state = 'done' AND last_fetched_at IS NOT NULL")}
            pending_before = {r[0] for r in conn.execute("SELECT url FROM urls WHERE state IN ('new', 'fetching')")}
        assert pending_before, "the kill must leave work pending for this test to mean anything"

        second = subprocess.run(cmd, env=env, capture_output=True, timeout=240,
                                cwd=Path(__file__).resolve().parents[2])
        assert second.returncode == 0, second.stderr.decode()[-3000:]

        log = read_access_log(fixture.access_log)
        refetched = []
        for r in log:
            if r["ts"] >= killed_at:
                site = fixture.site(r["site"])
                if site.base_url + r["path"] in done_before:
                    refetched.append(r["path"])
        assert not refetched, f"done pages fetched again after the restart: {refetched[:10]}"
        assert not [r for r in log if r["ts"] >= killed_at and r["path"] == "/robots.txt"]
        with psycopg.connect(fresh_database_url) as conn:
            states = dict(conn.execute("SELECT url, state FROM urls").fetchall())
            missing_docs = conn.execute(
                """SELECT u.url FROM urls u WHERE u.kind = 'article' AND u.state = 'done'
                   AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.url_id = u.id)""").fetchall()
            lingering = conn.execute("SELECT count(*) FROM urls WHERE lease_owner IS NOT NULL").fetchone()[0]
        lost = [u for u in pending_before if states.get(u) in (None, "new", "fetching")]
        assert not lost, f"pending URLs never finished after the restart: {lost[:10]}"
        assert not missing_docs, f"fetched articles without a document: {missing_docs[:10]}"
        assert lingering == 0
        bulk = fixture.site("bulk")
        assert all(states.get(u) == "done" for u in bulk.article_urls), "every bulk article crawled"
    finally:
        fixture.stop()
