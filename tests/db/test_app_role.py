"""The application's login role: created by `govingest migrate`, enough to crawl, no more.

compose connects every govingest service but `migrate` as this role; these tests run the
same commands against a real PostgreSQL as a login that is only a govingest_writer member.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from govingest.db.migrate import MigrationError, migrate
from tests.conftest import ROOT, _with_user
from tests.db.helpers import add_url, make_doc, write_one

GOVINGEST = [sys.executable, "-m", "govingest"]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GOVINGEST_")} | env
    return subprocess.run([*GOVINGEST, *args], env=full, capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.fixture
def app_login(fresh_database_url: str) -> Iterator[tuple[str, str]]:
    """(owner URL, application URL): `govingest migrate` run by the owner made the login role."""
    name = f"govingest_test_app_{uuid.uuid4().hex[:10]}"
    app_url = _with_user(fresh_database_url, name, "app-password-1")
    done = _run(["migrate"], DATABASE_URL=fresh_database_url, GOVINGEST_APP_DATABASE_URL=app_url)
    assert done.returncode == 0, done.stderr
    assert f"login role {name}: created" in done.stdout and "app-password-1" not in done.stdout + done.stderr
    yield fresh_database_url, app_url
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_migrate_creates_a_login_member_of_writer_with_a_scram_password(app_login: tuple[str, str]) -> None:
    owner, app = app_login
    user = psycopg.conninfo.conninfo_to_dict(app)["user"]
    with psycopg.connect(owner, autocommit=True) as conn:
        row = conn.execute("""SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolpassword
                              FROM pg_authid WHERE rolname = %s""", (user,)).fetchone()
        member = conn.execute("SELECT pg_has_role(%s, 'govingest_writer', 'MEMBER')", (user,)).fetchone()
    assert row is not None and row[:4] == (True, False, False, False)
    assert row[4].startswith("SCRAM-SHA-256$") and "app-password-1" not in row[4]
    assert member == (True,)
    # a second run updates the same role (a rotated password), never a second one
    again = _run(["migrate"], DATABASE_URL=owner, GOVINGEST_APP_DATABASE_URL=_with_user(owner, user, "rotated-2"))
    assert again.returncode == 0 and f"login role {user}: updated" in again.stdout, again.stderr


def test_app_role_writes_data_but_not_the_schema(app_login: tuple[str, str]) -> None:
    _, app = app_login
    with psycopg.connect(app, autocommit=True) as conn:
        assert migrate(conn) == []  # an up-to-date schema: the check needs no DDL
        url_id = add_url(conn, "https://www.gov.cn/app.html")
        write_one(conn, url_id, make_doc("正文。", facts=1))  # + pg_notify
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (1,)
        for sql in ["CREATE TABLE mine (x int)", "ALTER TABLE documents ADD COLUMN x int", "DROP TABLE facts",
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'x', 'x')",
                    "DELETE FROM schema_migrations", "CREATE ROLE evil", "CREATE TEMP TABLE t (x int)"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)


def test_app_role_cannot_apply_a_pending_migration_and_says_what_to_run(app_login: tuple[str, str]) -> None:
    owner, app = app_login
    with psycopg.connect(owner, autocommit=True) as conn:
        last = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        conn.execute("DELETE FROM schema_migrations WHERE version = %s", (last,))
    with psycopg.connect(app, autocommit=True) as conn, pytest.raises(MigrationError, match="govingest migrate"):
        migrate(conn)


def test_app_role_crawls_end_to_end(app_login: tuple[str, str], tmp_path: Path) -> None:
    from govingest.workers.fixture_site import FixtureSite, write_sites_toml

    _, app = app_login
    with FixtureSite(sites=["siming"], crawl_delay=0) as fx:
        sites = write_sites_toml(tmp_path / "sites.toml", fx, rate=50)
        done = _run(["crawl", "--sites", str(sites), "--linger", "1"], DATABASE_URL=app,
                    GOVINGEST_DATA_DIR=str(tmp_path / "data"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    with psycopg.connect(app) as conn:
        assert conn.execute("SELECT count(*) FROM v_documents WHERE site = 'siming' AND kind = 'article'"
                            ).fetchone() == (5,)
        assert conn.execute("SELECT count(*) FROM v_documents WHERE site = 'siming' AND kind = 'attachment'"
                            ).fetchone()[0] >= 1


@pytest.mark.parametrize("who", ["self", "superuser"])
def test_migrate_refuses_to_hand_the_application_a_privileged_role(fresh_database_url: str, who: str) -> None:
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        me = conn.execute("SELECT current_user").fetchone()[0]
        name = me
        if who == "superuser":
            name = f"govingest_test_su_{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE ROLE "{name}" SUPERUSER')
    try:
        done = _run(["migrate"], DATABASE_URL=fresh_database_url,
                    GOVINGEST_APP_DATABASE_URL=_with_user(fresh_database_url, name, "some-password"))
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "GOVINGEST_APP_DATABASE_URL" in done.stderr and "some-password" not in done.stderr
        with psycopg.connect(fresh_database_url, autocommit=True) as conn:
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (name,)).fetchone() == (True,)
    finally:
        if who == "superuser":
            with psycopg.connect(fresh_database_url, autocommit=True) as conn:
                conn.execute(f'DROP ROLE IF EXISTS "{name}"')
