"""`govingest reparse`: rewrites only documents whose parse output changed."""
from __future__ import annotations

import psycopg
import pytest

from govingest.db.frontier import NewUrl
from govingest.parsers import pipeline
from govingest.workers.cli import main
from tests.conftest import REAL, SEEDS
from tests.db.helpers import count


def _snapshot(conn: psycopg.Connection) -> list[tuple[object, ...]]:
    return conn.execute("SELECT id, xmin::text, last_changed FROM documents ORDER BY id").fetchall()


def test_reparse_unchanged_parser_writes_nothing_then_changed_output_updates(
        migrated_database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_database_url)
    seeds = sorted(str(p) for p in (SEEDS).iterdir() if p.suffix == ".txt")
    html = sorted(str(p) for p in (REAL / "html").iterdir())[:3]
    assert main(["ingest", *seeds, "--site", "seeds"]) == 0
    assert main(["ingest", *html, "--site", "real"]) == 0
    capsys.readouterr()
    with psycopg.connect(migrated_database_url) as conn:
        before = _snapshot(conn)
        events = count(conn, "SELECT count(*) FROM doc_events")
        sections = conn.execute("SELECT xmin::text, document_id, ord FROM sections ORDER BY 2, 3").fetchall()

    assert main(["reparse"]) == 0
    out = capsys.readouterr().out
    assert f"reparsed {len(seeds) + len(html)} page(s)" in out and f"unchanged {len(seeds) + len(html)}" in out
    with psycopg.connect(migrated_database_url) as conn:
        assert _snapshot(conn) == before  # not one row version changed
        assert count(conn, "SELECT count(*) FROM doc_events") == events
        assert conn.execute("SELECT xmin::text, document_id, ord FROM sections ORDER BY 2, 3").fetchall() == sections

    # A parser whose output differs for one site only: just those documents change.
    real_parse = pipeline.parse

    def changed_parse(body: bytes, **kw: object):  # type: ignore[no-untyped-def]
        doc = real_parse(body, **kw)  # type: ignore[arg-type]
        if str(kw.get("url", "")).endswith(".txt"):
            doc.title = (doc.title or "") + "（新版）"
        return doc

    monkeypatch.setattr(pipeline, "parse", changed_parse)
    assert main(["reparse", "--site", "seeds", "--since", "2000-01-01"]) == 0
    assert f"updated {len(seeds)}" in capsys.readouterr().out
    with psycopg.connect(migrated_database_url) as conn:
        assert count(conn, "SELECT count(*) FROM doc_events WHERE kind = 'updated'") == len(seeds)
        assert count(conn, "SELECT count(*) FROM documents WHERE title LIKE '%%（新版）'") == len(seeds)
    # --since in the future selects nothing
    assert main(["reparse", "--since", "2999-01-01"]) == 0
    assert "reparsed 0 page(s)" in capsys.readouterr().out


def test_reparse_rejects_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["reparse", "--since", "yesterday"])
    assert "not a date; use YYYY-MM-DD" in capsys.readouterr().err


def test_list_pages_are_stored_finished_and_never_reparsed(migrated_database_url: str) -> None:
    """A list page is kept for link discovery: neither the unprocessed-page sweep nor
    reparse may turn it into a document."""
    from govingest.db import fleet, frontier
    from govingest.db.pages import latest_page_ids, store_page

    body = (REAL / "html" / "mhxqwer-wjmoe.gov.cn__index.html").read_bytes()
    with psycopg.connect(migrated_database_url) as conn:
        frontier.upsert_site(conn, "t", {"name": "t", "start_urls": []})
        frontier.add_urls(conn, "t", [NewUrl("http://t.example/list/index.html", "list", "t.example"),
                                      NewUrl("http://t.example/a.htm", "article", "t.example")], 0, None)
        ids = dict(conn.execute("SELECT kind, id FROM urls").fetchall())
        list_page = store_page(conn, url_id=ids["list"], status=200, headers={}, body=body, to_process=False)
        article_page = store_page(conn, url_id=ids["article"], status=200, headers={}, body=body)
        conn.execute("UPDATE pages SET fetched_at = now() - interval '1 hour'")
        conn.commit()
        assert latest_page_ids(conn) == [article_page]
        assert fleet.claim_stale_pages(conn, older_than_seconds=10, limit=10) == [article_page]
        assert list_page != article_page
