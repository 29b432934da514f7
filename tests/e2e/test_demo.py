"""`govingest demo` with zero configuration (embedded PostgreSQL), run twice."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_demo(env: dict[str, str]) -> str:
    """The demo's stdout. A hung demo fails by the subprocess timeout; how fast it runs is
    not asserted here (a loaded machine slowed it past any fixed bound): `make demo`
    prints its request count and seconds."""
    proc = subprocess.run([sys.executable, "-m", "govingest", "demo"], env=env, capture_output=True,
                          timeout=180, cwd=ROOT)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    assert "Traceback" not in proc.stderr.decode()
    return out


def table(out: str) -> dict[str, dict[str, str]]:
    lines = out.strip().splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    rows = {}
    for line in lines[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= len(header) - 1 and cells[0] in ("siming", "real", "gbk"):
            rows[cells[0]] = dict(zip(header, cells, strict=False))
    return rows


@pytest.mark.slow
def test_demo_zero_setup_then_second_run_stores_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(GOVINGEST_DATA_DIR=str(tmp_path / "data"), GOVINGEST_LOG_LEVEL="WARNING")
    out = run_demo(env)
    first = table(out)
    assert set(first) == {"siming", "real", "gbk"}, out  # the fault endpoints are test equipment, not demo sites
    assert int(first["siming"]["documents"]) >= 5 and int(first["gbk"]["documents"]) >= 6, out
    assert int(first["siming"]["stored"]) > 0
    assert int(first["real"]["documents"]) >= 20, out

    # the embedded server stopped with the first run; the second starts it on the same data
    out2 = run_demo(env)
    second = table(out2)
    assert all(r["stored"] == "0" and r["new/changed docs"] == "0" for r in second.values()), out2
    assert int(second["siming"]["304"]) >= 5 and int(second["gbk"]["304"]) >= 6, out2
    assert second["siming"]["documents"] == first["siming"]["documents"]
    assert "nothing new stored" in out2
