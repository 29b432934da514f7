"""End to end: crawl the fixture sites into a real PostgreSQL and check what came out.

One crawl (module fixture) of every fixture site; the tests read the database and the
fixture's access log: seeds parsed to gold, robots.txt obeyed, per-host rate kept,
every fault endpoint recorded with a clear message, and a second run 304s.
"""
from __future__ import annotations

import importlib.util
import itertools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from govingest.crawler.config import parse_sites
from govingest.workers.fixture_site.server import FixtureSite, read_access_log
from govingest.workers.fixture_site.sites_toml import site_tables
from govingest.workers.local.runner import crawl
from govingest.workers.stages.summary import CrawlResult
from tests.conftest import EVAL, GOLD, _with_dbname
from tests.fixture_site.faults import FaultSettings, build_faults

RATE = 8.0  # requests/s per host asked of the crawler (robots Crawl-delay 0.1 allows 10)


def load_score():
    path = EVAL / "score.py"
    spec = importlib.util.spec_from_file_location("govingest_shared_score", path)
    if spec is None or spec.loader is None:
        pytest.fail(f"cannot import the scorer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Crawled:
    def __init__(self, url: str, fixture: FixtureSite, result: CrawlResult, second: CrawlResult) -> None:
        self.url, self.fixture, self.result, self.second = url, fixture, result, second

    def log(self) -> list[dict]:
        return read_access_log(self.fixture.access_log)


@pytest.fixture(scope="module")
def crawled(pg_server_url: str) -> Iterator[Crawled]:
    name = f"govingest_test_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = _with_dbname(pg_server_url, name)
    fixture = FixtureSite(extra_sites=[build_faults(FaultSettings(slow_seconds=3.0))]).start()
    try:
        tables = site_tables(fixture, rate=RATE, concurrency=3)
        for t in tables:  # let robots-forbidden links into the frontier, to prove they are never fetched
            t["list_patterns"] = [*t["list_patterns"], r"/admin/"]
        sites = parse_sites({"site": tables}, "e2e")
        first = crawl(url, sites, linger_seconds=4.0, read_timeout=1.0, total_timeout=5.0, max_seconds=150)
        second = crawl(url, sites, recrawl=True, linger_seconds=0.5, read_timeout=1.0, total_timeout=5.0,
                       max_seconds=60)
        yield Crawled(url, fixture, first, second)
    finally:
        fixture.stop()
        with psycopg.connect(pg_server_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def doc_json(conn: psycopg.Connection, url: str) -> dict | None:
    row = conn.execute("SELECT id, title, script, text, outline, flags FROM documents WHERE url = %s",
                       (url,)).fetchone()
    if row is None:
        return None
    facts = conn.execute(
        "SELECT indicator, value, unit, qualifier, span_start, span_end, section FROM facts "
        "WHERE document_id = %s ORDER BY ord", (row[0],)).fetchall()
    citations = conn.execute("SELECT title, doc_number, kind FROM citations WHERE document_id = %s ORDER BY ord",
                             (row[0],)).fetchall()
    return {"title": row[1], "script": row[2], "text": row[3], "outline": row[4], "flags": row[5],
            "citations": [{"title": c[0], "doc_number": c[1], "kind": c[2]} for c in citations],
            "facts": [{"indicator": f[0], "value": f[1], "unit": f[2], "qualifier": f[3],
                       "span": [f[4], f[5]], "section": f[6]} for f in facts]}


def test_every_seed_page_becomes_a_gold_document(crawled: Crawled) -> None:
    score = load_score()
    gold = json.loads(Path(GOLD).read_text(encoding="utf-8"))
    seeds = crawled.fixture.site("siming").seed_urls
    assert set(gold) <= set(seeds), "the fixture serves every gold seed"
    problems: list[str] = []
    with psycopg.connect(crawled.url) as conn:
        for name, exp in gold.items():
            doc = doc_json(conn, seeds[name])
            if doc is None:
                state = conn.execute("SELECT state, last_error FROM urls WHERE url = %s", (seeds[name],)).fetchone()
                problems.append(f"{name}: no document for {seeds[name]} (url: {state})")
                continue
            score.check(doc, exp, lambda msg, n=name: problems.append(f"{n}: {msg}"))
    assert not problems, "\n".join(problems)


def test_robots_disallow_never_requested(crawled: Crawled) -> None:
    forbidden = {(i.name, u.replace(i.base_url, "")) for i in crawled.fixture.sites for u in i.disallowed_urls}
    assert forbidden
    requested = {(r["site"], r["path"]) for r in crawled.log()}
    assert not forbidden & requested
    assert any(r["path"] == "/robots.txt" for r in crawled.log())
    with psycopg.connect(crawled.url) as conn:
        rows = conn.execute("SELECT state, last_error_kind, last_error FROM urls WHERE url LIKE '%%/admin/%%'").fetchall()
    assert rows and all(r[0] == "gone" and r[1] == "robots_disallowed" and "robots.txt" in r[2] for r in rows)


def test_per_host_rate_never_above_configured(crawled: Crawled) -> None:
    """Measured at the wire, no tolerance: no two requests to one host (robots.txt included)
    start closer together than the host's interval, the larger of 1/rate and Crawl-delay."""
    by_site: dict[str, list[float]] = defaultdict(list)
    for r in crawled.log():
        by_site[r["site"]].append(r["ts"])
    assert len(by_site) == len(crawled.fixture.sites)
    for site, stamps in by_site.items():
        stamps.sort()
        info = crawled.fixture.site(site)
        interval = max(1 / RATE, info.crawl_delay)
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        assert len(gaps) > 5, f"{site}: too few requests to judge"
        closest = min(gaps)
        assert closest >= interval, (
            f"{site}: two requests {closest:.4f}s apart at the server, interval {interval}s")
        # and the server never saw two of them at once (Crawl-delay: one in flight); the
        # faults site is left out: the crawler hangs up on its slow, huge and bomb answers
        # while the server goes on "sending" them
        if site == "faults":
            continue
        spans = sorted((r["ts"], r["ts"] + r["seconds"]) for r in crawled.log() if r["site"] == site)
        overlaps = sum(1 for (_, end), (nxt, _) in itertools.pairwise(spans) if nxt < end)
        assert overlaps == 0, f"{site}: {overlaps} requests started while another was in flight"


FAULT_ENDINGS = {
    # fault kind -> (state, error kind, words the message must contain)
    "not_found": ("gone", "not_found", "404"),
    "flaky": ("done", None, None),  # 500 once, then 200 after a backoff retry
    "rate_limited": ("done", None, None),  # 429 + Retry-After, then 200
    "slow": ("failed", "timeout", "in time"),
    "huge": ("failed", "too_large", "cap"),
    "gzip_bomb": ("failed", "too_large", "decompression"),
    "redirect_loop": ("done", None, "redirects to"),  # loop-a → loop-b, which leads back: see below
    "redirect_private": ("gone", "out_of_scope", "10.0.0.1"),
    "redirect_metadata": ("gone", "out_of_scope", "169.254.169.254"),
    "wrong_charset": ("done", None, None),
    "binary": ("failed", "binary_body", "binary"),
    "empty": ("failed", "empty_body", "empty"),
    # the stand-in PDF draws its words in an undeclared font: no text layer to read, so it
    # is fetched, kept as a page, and recorded as a scan that needs OCR (never as garbage text)
    "attachment": ("failed", "needs_ocr", "needs OCR"),
}


def test_every_fault_endpoint_recorded_and_crawl_goes_on(crawled: Crawled) -> None:
    faults = crawled.fixture.site("faults").fault_urls
    assert set(FAULT_ENDINGS) <= set(faults)
    with psycopg.connect(crawled.url) as conn:
        for kind, (state, error, words) in FAULT_ENDINGS.items():
            row = conn.execute("SELECT state, last_error_kind, last_error, last_status FROM urls WHERE url = %s",
                               (faults[kind],)).fetchone()
            assert row is not None, f"{kind}: {faults[kind]} never entered the frontier"
            assert (row[0], row[1]) == (state, error), f"{kind}: {row}"
            if words:
                assert words in row[2], f"{kind}: message {row[2]!r} lacks {words!r}"
        loop_b = faults["redirect_loop"].replace("loop-a", "loop-b")
        row = conn.execute("SELECT state, last_error_kind, last_error FROM urls WHERE url = %s", (loop_b,)).fetchone()
        assert row[:2] == ("failed", "redirect_loop") and "loop-a" in row[2], row
        pdf = conn.execute("SELECT kind, content_type, content_length FROM urls WHERE url = %s",
                           (faults["attachment"],)).fetchone()
        assert pdf[0] == "attachment" and pdf[1] == "application/pdf" and pdf[2] > 0
        # the wrong-charset and recovered pages still became documents
        for kind in ("flaky", "rate_limited", "wrong_charset"):
            assert doc_json(conn, faults[kind]) is not None, kind
        assert conn.execute("SELECT count(*) FROM urls WHERE state IN ('new', 'fetching')").fetchone()[0] == 0


def test_second_run_conditional_gets_store_nothing(crawled: Crawled) -> None:
    first_docs = sum(s.documents for s in crawled.result.sites.values())
    assert first_docs >= 5 + 6  # the seeds and the gbk articles at least
    second = crawled.second
    assert sum(s.stored for s in second.sites.values()) == 0
    assert sum(s.created for s in second.sites.values()) == 0
    assert sum(s.documents for s in second.sites.values()) == first_docs
    assert second.sites["siming"].not_modified >= 5  # every seed article answered 304
    conditional = [r for r in crawled.log() if r.get("headers", {}).get("If-None-Match")]
    assert conditional and all(r["status"] in (304, 200) for r in conditional)


def test_status_command_shows_counts_and_errors(crawled: Crawled, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from govingest.workers.cli import main

    monkeypatch.setenv("DATABASE_URL", crawled.url)
    assert main(["status", "--errors", "50"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.strip().startswith("site"))
    assert all(s in header for s in ("new", "fetching", "done", "failed", "gone"))
    assert any(line.strip().startswith("faults") for line in lines)
    assert "too_large" in out and "robots_disallowed" in out and "HTTP 404" in out


def test_crawl_command_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from govingest.workers.cli import main

    assert main(["crawl", "--sites", str(tmp_path / "missing.toml")]) == 1
    err = capsys.readouterr().err
    assert "missing.toml" in err and "not found" in err and "Traceback" not in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[[site]]\nname = "x"\nstart_urls = ["http://x.gov.cn/"]\nrate = 0\n', encoding="utf-8")
    assert main(["crawl", "--sites", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "site 'x'" in err and "'rate'" in err and len(err.strip().splitlines()) == 1
    bad.write_text('[[site]]\nname = "x"\nstart_urls = ["http://x.gov.cn/"]\n', encoding="utf-8")
    assert main(["crawl", "--sites", str(bad), "--site", "y"]) == 1
    err = capsys.readouterr().err
    assert "no site named 'y'" in err and "x" in err


def test_attachments_land_as_documents_under_their_own_url_with_their_parent(crawled: Crawled) -> None:
    """The siming site's first article links a notice (PDF with an embedded CJK font, DOCX)
    and a statistics table (XLSX); the second links a scanned PDF (no text layer)."""
    info = crawled.fixture.site("siming")
    urls = {url.rsplit(".", 1)[1] + ("_scan" if "195350" in url else ""): url for url in info.attachment_urls}
    with psycopg.connect(crawled.url) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT url, kind, parent_url, parent_document_id, doc_number, issuer, written_at, text "
            "FROM v_documents WHERE kind = 'attachment'")}
        articles = {r[0]: r[1] for r in conn.execute("SELECT url, document_id FROM v_documents WHERE kind = 'article'")}
        scan = conn.execute("SELECT state, last_error_kind, last_error FROM urls WHERE url = %s",
                            (urls["pdf_scan"],)).fetchone()
        cited = conn.execute("SELECT title, doc_number, kind FROM v_citations WHERE url = %s ORDER BY ord",
                             (urls["pdf"],)).fetchall()
    for ext in ("pdf", "docx", "xlsx"):
        kind, parent_url, parent_id, *_rest, text = rows[urls[ext]]
        assert kind == "attachment"
        assert parent_url in articles and parent_id == articles[parent_url]  # the article that links it
    _k, _p, _i, doc_number, issuer, written_at, text = rows[urls["pdf"]]
    assert "全区检查企业1200家" in text and "厦门市思明区应急管理局关于开展2024年安全生产月活动的通知" in text
    assert (doc_number, issuer, str(written_at)) == ("厦思应急〔2024〕15号", "厦门市思明区应急管理局", "2024-05-28")
    assert rows[urls["docx"]][-1] == text  # the same notice as DOCX reads the same
    assert "嘉莲街道\t215\t63\t12.5" in rows[urls["xlsx"]][-1].replace(" ", "\t")
    assert ("福建省安全生产条例", None, "条例") in cited
    assert ("国务院安委会办公室关于开展2024年全国“安全生产月”活动的通知", "安委办〔2024〕3号", "通知") in cited
    # the scan is not stored as text: its URL says why, and status counts it
    assert urls["pdf_scan"] not in rows
    assert scan[0] == "failed" and scan[1] == "needs_ocr" and "needs OCR" in scan[2]
