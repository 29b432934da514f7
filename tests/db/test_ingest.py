"""`govingest ingest` of the shared seeds and real pages, through the CLI entry point."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from govingest.db.pages import load_page
from govingest.workers.cli import main
from tests.conftest import REAL, SEEDS
from tests.db.helpers import count


def _files() -> list[Path]:
    return sorted(p for d in (SEEDS, REAL / "html")
                  for p in d.iterdir() if p.is_file() and not p.name.startswith("."))


def test_ingest_shared_pages_once_then_nothing(migrated_database_url: str,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_database_url)
    files = _files()
    assert len(files) >= 20
    dirs = [str(SEEDS), str(REAL / "html")]
    assert main(["ingest", *dirs, "--site", "archive"]) == 0, capsys.readouterr().err
    assert f"created {len(files)}" in capsys.readouterr().out
    with psycopg.connect(migrated_database_url) as conn:
        assert count(conn, "SELECT count(*) FROM documents") == len(files)
        assert count(conn, "SELECT count(*) FROM doc_events WHERE kind = 'created'") == len(files)
        assert count(conn, "SELECT count(*) FROM doc_events") == len(files)
        assert count(conn, "SELECT count(DISTINCT document_id) FROM doc_events") == len(files)
        assert count(conn, "SELECT count(*) FROM pages") == len(files)
        # URLs default to the file's file:// URL; the raw bytes are kept exactly
        url, page_id = conn.execute(
            "SELECT d.url, d.page_id FROM documents d ORDER BY d.url LIMIT 1").fetchone()  # type: ignore[misc]
        assert url.startswith("file:///")
        page = load_page(conn, page_id)
        assert page.body == Path(url.removeprefix("file://")).read_bytes()
        assert page.site == "archive"
    assert main(["ingest", *dirs, "--site", "archive"]) == 0
    assert f"unchanged {len(files)}" in capsys.readouterr().out
    with psycopg.connect(migrated_database_url) as conn:
        assert count(conn, "SELECT count(*) FROM documents") == len(files)
        assert count(conn, "SELECT count(*) FROM doc_events") == len(files)
        assert count(conn, "SELECT count(*) FROM pages") == len(files)


def test_url_prefix_and_changed_file(tmp_path: Path, migrated_database_url: str,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_database_url)
    page = tmp_path / "通知.txt"
    page.write_text("关于做好安全生产工作的通知\n各单位：请认真落实安全生产责任制。", encoding="utf-8")
    assert main(["ingest", str(page), "--url-prefix", "https://www.example.gov.cn/zwgk/"]) == 0
    page.write_text("关于做好安全生产工作的通知\n各单位：请认真落实安全生产责任制，加强检查。", encoding="utf-8")
    assert main(["ingest", str(page), "--url-prefix", "https://www.example.gov.cn/zwgk"]) == 0
    with psycopg.connect(migrated_database_url) as conn:
        assert conn.execute("SELECT url FROM documents").fetchall() == [
            ("https://www.example.gov.cn/zwgk/%E9%80%9A%E7%9F%A5.txt",)]
        assert conn.execute("SELECT kind FROM doc_events ORDER BY seq").fetchall() == [("created",), ("updated",)]
        assert count(conn, "SELECT count(*) FROM pages") == 2  # both raw versions kept


def test_unparseable_and_missing_files_fail_cleanly(tmp_path: Path, migrated_database_url: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_database_url)
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"   \n")
    good = tmp_path / "good.txt"
    good.write_text("通知\n请各单位按时报送材料。", encoding="utf-8")
    assert main(["ingest", str(empty), str(good)]) == 1
    captured = capsys.readouterr()
    assert "empty.html: empty input" in captured.err
    assert "created 1" in captured.out and "failed 1" in captured.out
    assert "Traceback" not in captured.err
    with psycopg.connect(migrated_database_url) as conn:
        assert conn.execute("SELECT state, last_error_kind FROM urls WHERE url LIKE %s",
                            ("%empty.html",)).fetchone() == ("failed", "parse")
        assert count(conn, "SELECT count(*) FROM pages") == 2  # the raw page is kept even so
    assert main(["ingest", str(tmp_path / "missing.html")]) == 1
    assert "no such file or directory" in capsys.readouterr().err
