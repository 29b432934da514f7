"""govingest_reader reads the documented views and nothing else."""
from __future__ import annotations

import time

import psycopg
import pytest

from govingest.parsers.model import Citation
from govingest.workers.stages.index import index_all
from tests.db.helpers import add_url, make_doc, write_one

VIEWS = ["v_documents", "v_sections", "v_facts", "v_doc_events", "v_urls", "v_citations",
         # 0072: what `govingest status` reads; 0073: what search reads; 0080: counters; 0090: list schedules
         "v_site_rule_hits", "v_article_dialects", "v_site_caps", "v_fleet_status", "v_search", "v_search_index",
         "v_url_counts", "v_document_counts", "v_list_pages",
         "v_search_backlog"]  # 0110


def test_reader_reads_views_and_cannot_write_or_read_tables(migrated_database_url: str) -> None:
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        url_id = add_url(conn, "https://www.gov.cn/r.html")
        list_id = add_url(conn, "https://www.gov.cn/tzgg/index.html")  # v_list_pages shows list pages
        conn.execute("UPDATE urls SET kind = 'list' WHERE id = %s", (list_id,))
        write_one(conn, url_id, make_doc(
            "正文。", facts=2, cites=(Citation("福建省安全生产条例", None, "条例", "福建省安全生产条例"),)))
        assert index_all(conn) == 1  # v_search_index shows indexed documents
        conn.execute("SET statement_timeout = '30s'")  # readers must run with one (migration 0040)
        conn.execute("SET ROLE govingest_reader")
        for view in ("v_site_rule_hits", "v_site_caps"):  # no rule matched, no cap set: readable, empty
            assert conn.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,)
        for view in [v for v in VIEWS if v not in ("v_site_rule_hits", "v_site_caps")]:
            # v_doc_events shows an event once no older transaction runs anywhere on the
            # server (xids are server-wide): on a shared server that may take a moment
            deadline = time.monotonic() + 20
            while conn.execute(f"SELECT count(*) FROM {view}").fetchone()[0] < 1:  # type: ignore[index]
                assert time.monotonic() < deadline, f"{view} stayed empty for the reader"
                time.sleep(0.05)
        assert conn.execute("SELECT indicator, unit FROM v_facts ORDER BY ord LIMIT 1").fetchone() == ("检查企业0", "家")
        assert conn.execute("SELECT count(*) FROM govingest_search('正文')").fetchone() == (1,)
        assert conn.execute("SELECT queued FROM v_search_backlog").fetchone() == (0,)
        for sql in ["SELECT * FROM schema_migrations", "UPDATE search_index SET tsv = NULL", "SELECT * FROM search_pending",
                    "SELECT govingest_search_snippet('x', 'x') FROM site_rule_hits",
                    "INSERT INTO documents (url_id, url, site, script, text, content_hash, output_hash, "
                    "parser_version) VALUES (1, 'x', 't', 'hans', '', '', '', '1')",
                    "UPDATE documents SET title = 'x'",
                    "DELETE FROM doc_events",
                    "SELECT * FROM documents",
                    "SELECT * FROM pages",
                    "SELECT * FROM urls",
                    "CREATE TABLE mine (x int)"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        for sql in ["UPDATE v_documents SET title = 'x'", "DELETE FROM v_urls"]:
            # no privilege, and the guarded views are not updatable at all
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectNotInPrerequisiteState)):
                conn.execute(sql)
        conn.execute("RESET ROLE")


def test_reader_role_creation_is_idempotent(migrated_database_url: str) -> None:
    """The role is cluster-wide: migrating another database must not fail on it."""
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        grants = conn.execute(
            """SELECT table_name FROM information_schema.role_table_grants
               WHERE grantee = 'govingest_reader' ORDER BY 1""").fetchall()
    assert sorted({g[0] for g in grants}) == sorted(VIEWS)


def test_reader_follows_the_feed_through_the_view(migrated_database_url: str) -> None:
    """The documented SQL cursor: ORDER BY (xid, seq), resume after the last (xid, seq)."""
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        ids = [add_url(conn, f"https://www.gov.cn/v/{i}.html") for i in range(3)]
        for i, u in enumerate(ids[:2]):
            write_one(conn, u, make_doc(f"第{i}篇"))
        conn.execute("SET statement_timeout = '30s'")
        conn.execute("SET ROLE govingest_reader")
        page = "SELECT xid, seq, kind FROM v_doc_events WHERE (xid, seq) > (%s, %s) ORDER BY xid, seq"

        def read_all(cursor: tuple[int, int], want: int) -> list[tuple[int, int, str]]:
            rows: list[tuple[int, int, str]] = []
            deadline = time.monotonic() + 20  # other tests' open transactions may hold it back
            while len(rows) < want and time.monotonic() < deadline:
                rows += conn.execute(page, rows[-1][:2] if rows else cursor).fetchall()
                time.sleep(0.05)
            return rows

        first = read_all((0, 0), 2)
        assert [r[2] for r in first] == ["created", "created"]
        conn.execute("RESET ROLE")
        write_one(conn, ids[2], make_doc("第2篇"))
        conn.execute("SET ROLE govingest_reader")
        rest = read_all(first[-1][:2], 1)
        assert [r[2] for r in rest] == ["created"] and rest[0][1] not in {r[1] for r in first}
        conn.execute("RESET ROLE")


@pytest.fixture
def reader_login(migrated_database_url: str):
    """A consumer's login role, made as docs/consumers.md says: a member of govingest_reader
    with a statement_timeout of its own."""
    import uuid

    from tests.conftest import _with_user

    name = f"govingest_test_reader_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        url_id = add_url(conn, "https://www.gov.cn/limits.html")
        write_one(conn, url_id, make_doc("正文。", facts=1))
        conn.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE govingest_reader')
        conn.execute(f"ALTER ROLE \"{name}\" SET statement_timeout = '30s'")
    yield _with_user(migrated_database_url, name)
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_reader_cannot_forge_feed_notifications_or_create_temporary_objects(reader_login: str) -> None:
    with psycopg.connect(reader_login, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT pg_notify('doc_events', 'forged')")
        for sql in ["CREATE TEMP TABLE mine (x int)", "CREATE TEMPORARY VIEW mine AS SELECT 1",
                    "CREATE TABLE public.mine (x int)"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)


def _granted_views(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("""SELECT DISTINCT table_name FROM information_schema.role_table_grants
                           WHERE grantee = 'govingest_reader' ORDER BY 1""").fetchall()
    return [r[0] for r in rows]


def test_reader_cannot_lift_statement_timeout(reader_login: str) -> None:
    """The login role's default applies; lifting it (0) or raising it past 5 minutes makes
    every consumer view refuse, whatever view a later migration adds."""
    with psycopg.connect(reader_login, autocommit=True) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
        views = _granted_views(conn)
        assert {"v_documents", "v_facts", "v_doc_events", "v_urls", "v_sections"} <= set(views)
        for view in views:
            conn.execute(f"SELECT count(*) FROM {view}")  # within the limit: readable
        for lifted in ("0", "10min"):
            conn.execute(f"SET statement_timeout = '{lifted}'")
            for view in views:
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="statement_timeout"):
                    conn.execute(f"SELECT count(*) FROM {view}")
        conn.execute("SET statement_timeout = '5min'")
        assert conn.execute("SELECT count(*) FROM v_documents").fetchone() == (1,)


def test_writer_and_owner_are_not_held_by_the_reader_limits(migrated_database_url: str) -> None:
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:  # the owner (superuser here)
        conn.execute("SET statement_timeout = 0")
        assert conn.execute("SELECT count(*) FROM v_documents").fetchone() == (0,)
        conn.execute("SELECT pg_notify('doc_events', '1')")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT * FROM v_documents WHERE site = 'x'").fetchall())
        assert "One-Time Filter: govingest_reader_guard()" in plan  # once per query, not per row
