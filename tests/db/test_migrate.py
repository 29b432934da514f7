from __future__ import annotations

import threading

import psycopg
import pytest

from govingest.db.migrate import MigrationError, applied_versions, available_migrations, migrate, pending
from govingest.workers.cli import main


def test_migrate_applies_all_then_is_a_noop(fresh_database_url: str) -> None:
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        first = migrate(conn)
        assert first == [m.label for m in available_migrations()]
        assert first[0] == "0001_initial"
        tables_before = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()
        assert migrate(conn) == []
        assert pending(conn) == []
        assert conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone() == tables_before
        assert sorted(applied_versions(conn)) == [m.version for m in available_migrations()]


def test_concurrent_migrations_apply_each_file_once(fresh_database_url: str) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(fresh_database_url, autocommit=True) as conn:
                results.append(migrate(conn))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    applied = sorted(label for r in results for label in r)
    assert applied == sorted(m.label for m in available_migrations())


def test_refuses_a_database_newer_than_the_code(fresh_database_url: str) -> None:
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        migrate(conn)
        conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')")
        with pytest.raises(MigrationError, match="newer govingest"):
            migrate(conn)


def test_failed_migration_leaves_nothing(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from govingest.db import migrate as migrate_mod

    real = migrate_mod.available_migrations()
    broken = migrate_mod.Migration(real[-1].version + 1, "broken",
                                   "CREATE TABLE half_done (x int); SELECT 1/0;")
    monkeypatch.setattr(migrate_mod, "available_migrations", lambda: [*real, broken])
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        with pytest.raises(MigrationError, match=r"broken\.sql failed and was rolled back"):
            migrate(conn)
        assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)
        assert broken.version not in applied_versions(conn)
        assert real[-1].version in applied_versions(conn)


def test_cli_migrate_twice(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    assert main(["migrate"]) == 0
    assert "applied" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "nothing to apply" in capsys.readouterr().out


def test_cli_migrate_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:sekrit@127.0.0.1:1/nope?connect_timeout=2")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("govingest migrate: cannot connect to PostgreSQL")
    assert "sekrit" not in err and "Traceback" not in err
