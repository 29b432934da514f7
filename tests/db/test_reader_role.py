"""govingest_reader reads the documented views and nothing else."""
from __future__ import annotations

import psycopg
import pytest

from db.documents import write_document
from tests.db.helpers import add_url, make_doc

VIEWS = ["v_documents", "v_sections", "v_facts", "v_doc_events", "v_urls"]


def test_reader_reads_views_and_cannot_write_or_read_tables(migrated_database_url: str) -> None:
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        url_id = add_url(conn, "https://www.gov.cn/r.html")
        write_document(conn, url_id=url_id, site="t", page_id=None, doc=make_doc("正文。", facts=2))
        conn.execute("SET ROLE govingest_reader")
        for view in VIEWS:
            assert conn.execute(f"SELECT count(*) FROM {view}").fetchone()[0] >= 1  # type: ignore[index]
        assert conn.execute("SELECT indicator, unit FROM v_facts ORDER BY ord LIMIT 1").fetchone() == ("检查企业0", "家")
        for sql in ["INSERT INTO documents (url_id, url, site, script, text, content_hash, output_hash, "
                    "parser_version) VALUES (1, 'x', 't', 'hans', '', '', '', '1')",
                    "UPDATE documents SET title = 'x'",
                    "DELETE FROM doc_events",
                    "UPDATE v_documents SET title = 'x'",
                    "DELETE FROM v_urls",
                    "SELECT * FROM documents",
                    "SELECT * FROM pages",
                    "SELECT * FROM urls",
                    "CREATE TABLE mine (x int)"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        conn.execute("RESET ROLE")


def test_reader_role_creation_is_idempotent(migrated_database_url: str) -> None:
    """The role is cluster-wide: migrating another database must not fail on it."""
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        grants = conn.execute(
            """SELECT table_name FROM information_schema.role_table_grants
               WHERE grantee = 'govingest_reader' ORDER BY 1""").fetchall()
    assert sorted({g[0] for g in grants}) == sorted(VIEWS)
