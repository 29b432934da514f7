"""Acceptance: the shared scorer passes all five seeds with full fact recall.

Runs tests/fixtures/eval/score.py (a copy of the project's seed scorer) exactly as the issue states, against the installed
`govingest` console script of the interpreter running the tests.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import EVAL, SEEDS


def test_score_py_passes_all_seeds() -> None:
    govingest = Path(sys.executable).parent / "govingest"
    assert govingest.exists(), f"console script not installed next to {sys.executable}: run `make install`"
    proc = subprocess.run(
        [
            sys.executable, str(EVAL / "score.py"),
            "--gold", str(EVAL / "seeds_gold.json"),
            "--dir", str(SEEDS),
            "--cmd", f"{govingest} parse --format json {{file}}",
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert "5 passed, 0 failed" in proc.stdout, proc.stdout + proc.stderr
    assert "fact recall 50/50" in proc.stdout, proc.stdout
    assert "citation recall 19/19" in proc.stdout, proc.stdout
    assert proc.returncode == 0
