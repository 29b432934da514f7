"""The in-process runner's output: progress line and per-site summary table."""
from __future__ import annotations

import io
from collections import Counter

from govingest.stats import Stats
from govingest.workers.local.runner import Progress
from govingest.workers.stages.summary import CrawlResult, SiteSummary, format_summary


def test_progress_line_redraws_in_place_and_is_silent_off_a_terminal() -> None:
    out = io.StringIO()
    p = Progress(stream=out, enabled=True)
    p.update(3, 10, 2, 1, force=True)
    p.update(4, 10, 2, 1)  # within 0.2 s: not redrawn
    p.close()
    text = out.getvalue()
    assert text.startswith("\r[") and "3/10 fetched" in text and "2 docs" in text and "1 errors" in text
    assert "4/10" not in text and text.endswith("\n")
    quiet = io.StringIO()
    Progress(stream=quiet).update(1, 2, 0, 0, force=True)  # StringIO is not a tty
    assert quiet.getvalue() == ""


def test_summary_table_lists_sites_and_errors_by_kind() -> None:
    a = SiteSummary("siming", fetched=9, not_modified=2, stored=7, documents=5, facts=50, created=5)
    b = SiteSummary("faults", fetched=12, errors=Counter({"too_large": 2, "not_found": 1}))
    text = format_summary(CrawlResult({"siming": a, "faults": b}, Stats(), 2.0, 21))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["site", "fetched", "304"]
    assert lines[1].split()[:4] == ["siming", "9", "2", "7"]
    assert lines[2].endswith("not_found=1, too_large=2")
    assert lines[-1] == "21 requests in 2.0s (10.5/s)"
