"""tail, status, search, export as a consumer's login role: they read views only, never
migrate, and name the missing migration when the schema is older than the code."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from govingest.db.reader import EXPORT_COLUMNS, SchemaTooOld, connect_reader
from tests.conftest import _with_dbname
from tests.deploy.helpers import VENV_BIN

READ_ONLY = [["tail"], ["status"], ["search", "检查企业"], ["export", "--format", "jsonl"]]


def govingest(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVINGEST_") and k != "REDIS_URL"}
    env["DATABASE_URL"] = database_url
    return subprocess.run([str(VENV_BIN / "govingest"), *args], env=env, capture_output=True, text=True, timeout=300)


def test_read_only_commands_work_for_a_reader_login(seeded: tuple[str, str], tmp_path: Path) -> None:
    admin, reader = seeded
    with psycopg.connect(admin) as conn:
        documents = conn.execute("SELECT count(*) FROM v_documents").fetchone()[0]  # type: ignore[index]
    tail = govingest(reader, "tail", "--limit", "3")
    assert tail.returncode == 0, tail.stderr
    assert [json.loads(line)["kind"] for line in tail.stdout.splitlines()] == ["created"] * 3
    status = govingest(reader, "status")
    assert status.returncode == 0, status.stderr
    assert "frontier (URLs by state)" in status.stdout and "siming" in status.stdout
    assert "articles, " in status.stdout and "leased URLs" in status.stdout
    # a known answer: the seed that reports 检查企业29136家 (and the fixture site's page it came from)
    found = govingest(reader, "search", "检查企业29136家", "--format", "json", "--limit", "5")
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert any(h["url"].endswith("000_10724a15dab98384.txt") for h in hits), hits
    assert all("<mark>29136</mark>" in h["snippet"] for h in hits), hits
    text = govingest(reader, "search", "检查企业29136家", "--site", "nowhere")
    assert text.returncode == 0 and "no documents match" in text.stdout
    jsonl = govingest(reader, "export", "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(rows) == documents and list(rows[0]) == [n for n, _ in EXPORT_COLUMNS]
    assert [r["document_id"] for r in rows] == sorted(r["document_id"] for r in rows)
    attachments = govingest(reader, "export", "--format", "csv", "--kind", "attachment", "--site", "siming")
    table = list(csv.reader(io.StringIO(attachments.stdout)))
    assert table[0] == [n for n, _ in EXPORT_COLUMNS] and len(table) > 1
    assert {r[3] for r in table[1:]} == {"attachment"}
    out = tmp_path / "all.parquet"
    parquet = govingest(reader, "export", "--format", "parquet", "--output", str(out))
    assert parquet.returncode == 0, parquet.stderr
    import pyarrow.parquet as pq

    t = pq.read_table(out)
    assert t.num_rows == documents and t.schema.names == [n for n, _ in EXPORT_COLUMNS]
    assert str(t.schema.field("published_date").type) == "date32[day]"


def test_reader_connection_takes_the_role_and_cannot_write(seeded: tuple[str, str]) -> None:
    admin, _ = seeded
    with connect_reader(admin) as conn:  # an owner's URL acts as govingest_reader all the same
        assert conn.execute("SELECT current_user, current_setting('statement_timeout')").fetchone() == (
            "govingest_reader", "30s")
        assert conn.execute("SELECT count(*) FROM govingest_search('检查企业')").fetchone()[0] > 0  # type: ignore[index]
        for sql in ["UPDATE documents SET title = 'x'", "DELETE FROM doc_events", "INSERT INTO sites (name) VALUES ('x')",
                    "SELECT * FROM documents", "CREATE TABLE mine (x int)", "SET statement_timeout = 0; "
                    "SELECT count(*) FROM v_search"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)


def test_read_only_commands_never_migrate_and_name_the_missing_migration(migrated_database_url: str,
                                                                         pg_server_url: str) -> None:
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 73")
    for args in READ_ONLY:
        done = govingest(migrated_database_url, *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "needs migration 0073_chinese_search" in done.stderr and "govingest migrate" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    with psycopg.connect(migrated_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations WHERE version = 73").fetchone() == (0,)
    name = f"govingest_test_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    empty = _with_dbname(pg_server_url, name)
    try:
        done = govingest(empty, "status")
        assert done.returncode == 1 and "no govingest schema yet" in done.stderr and "govingest migrate" in done.stderr
        with psycopg.connect(empty) as conn:  # nothing was created
            assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)
        with pytest.raises(SchemaTooOld):
            connect_reader(empty)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
