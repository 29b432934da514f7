"""`govingest crawl` exits non-zero when a site failed entirely or stored nothing it should have.

cron, CI and Kubernetes Jobs read the exit status, not the table: a site that is down
or whose patterns match nothing must not look like a success.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from govingest.stats import Stats
from govingest.workers.cli import EXIT_INCOMPLETE
from govingest.workers.cli.commands.crawl import site_problems
from govingest.workers.fixture_site import FixtureSite, write_sites_toml
from govingest.workers.stages.summary import CrawlResult, SiteSummary
from tests.conftest import ROOT


def _result(*sites: SiteSummary) -> CrawlResult:
    return CrawlResult({s.site: s for s in sites}, Stats(), 1.0, 0)


@pytest.mark.parametrize(("summary", "problem"), [
    (SiteSummary("ok", fetched=9, stored=8, documents=5), None),
    (SiteSummary("recrawl", fetched=9, not_modified=9, documents=5), None),  # all 304: fine
    (SiteSummary("idle", documents=5), None),  # nothing due this run
    (SiteSummary("flaky", fetched=9, stored=3, documents=5, errors=Counter(timeout=6)), None),
    (SiteSummary("down", documents=5, errors=Counter(connect_error=4)), "failed entirely"),
    (SiteSummary("blocked", fetched=3, documents=5, errors=Counter(http_error=3)), "failed entirely"),
    (SiteSummary("robots", errors=Counter(robots_unavailable=1)), "failed entirely"),
    (SiteSummary("no-articles", fetched=2, stored=2, documents=0), "has no document"),
    (SiteSummary("first-404", fetched=1, documents=0, errors=Counter(not_found=1)), "failed entirely"),
])
def test_site_verdicts(summary: SiteSummary, problem: str | None) -> None:
    found = site_problems(_result(summary))
    if problem is None:
        assert found == []
    else:
        (line,) = found
        assert repr(summary.site) in line and problem in line


def _crawl(sites: Path, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVINGEST_")}
    env.update(DATABASE_URL=database_url, GOVINGEST_DATA_DIR=str(tmp_path / "data"), GOVINGEST_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "govingest", "crawl", "--sites", str(sites), "--linger", "1"],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_crawl_exit_status_follows_the_sites(fresh_database_url: str, tmp_path: Path) -> None:
    with FixtureSite(sites=["siming"], crawl_delay=0) as fx:
        good = write_sites_toml(tmp_path / "good.toml", fx, rate=50)
        ok = _crawl(good, fresh_database_url, tmp_path)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "siming" in ok.stdout and ok.stderr.strip() == ""

        no_match = write_sites_toml(tmp_path / "nomatch.toml", fx, rate=50,
                                    overrides={"siming": {"name": "siming-typo",
                                                          "article_patterns": [r"/no-such-column/\d+\.htm$"]}})
        typo = _crawl(no_match, fresh_database_url, tmp_path)
    assert typo.returncode == EXIT_INCOMPLETE, typo.stderr
    assert "site 'siming-typo' has no document" in typo.stderr and "article_patterns" in typo.stderr
    assert "siming-typo" in typo.stdout  # the table is printed first

    down = tmp_path / "down.toml"
    down.write_text(f'[[site]]\nname = "down"\nstart_urls = ["http://127.0.0.1:{_closed_port()}/index.html"]\n'
                    'article_patterns = [\'/t\\d+\\.htm$\']\nlocal = true\n', encoding="utf-8")
    gone = _crawl(down, fresh_database_url, tmp_path)
    assert gone.returncode == EXIT_INCOMPLETE and "site 'down' failed entirely" in gone.stderr, gone.stderr
    assert "Traceback" not in gone.stderr


def test_exit_codes_are_in_the_help_and_the_operations_guide() -> None:
    done = subprocess.run([sys.executable, "-m", "govingest", "crawl", "--help"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for code in ("0", "1", "2", "3", "78", "130"):
        assert f"\n  {code} " in done.stdout, code
        assert f"| `{code}` |" in guide, code
