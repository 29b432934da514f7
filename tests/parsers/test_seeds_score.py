"""Acceptance: the shared scorer passes all five seeds with full fact recall.

Runs ../shared/eval/score.py exactly as the issue states, against the installed
`govingest` console script of the interpreter running the tests.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_score_py_passes_all_seeds(shared_dir: Path) -> None:
    govingest = Path(sys.executable).parent / "govingest"
    assert govingest.exists(), f"console script not installed next to {sys.executable}: run `make install`"
    proc = subprocess.run(
        [
            sys.executable, str(shared_dir / "eval" / "score.py"),
            "--gold", str(shared_dir / "eval" / "seeds_gold.json"),
            "--dir", str(shared_dir / "seeds"),
            "--cmd", f"{govingest} parse --format json {{file}}",
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert "5 passed, 0 failed" in proc.stdout, proc.stdout + proc.stderr
    assert "fact recall 50/50" in proc.stdout, proc.stdout
    assert proc.returncode == 0
