"""Zero configuration: no DATABASE_URL → an embedded PostgreSQL in GOVINGEST_DATA_DIR."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govingest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_commands_work_against_the_embedded_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["GOVINGEST_DATA_DIR"] = str(tmp_path / "data")
    seed = sorted((SEEDS).glob("*.txt"))[0]

    first = _run(["migrate"], env)
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout and "0001_initial" in first.stdout
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").is_file()
    # the command stopped the server cleanly when it exited
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()

    again = _run(["migrate"], env)
    assert again.returncode == 0, again.stderr
    assert "nothing to apply" in again.stdout  # same data directory, state kept

    ingest = _run(["ingest", str(seed)], env)
    assert ingest.returncode == 0, ingest.stderr
    tail = _run(["tail"], env)
    assert tail.returncode == 0, tail.stderr
    assert [json.loads(line)["kind"] for line in tail.stdout.splitlines()] == ["created"]
    reparse = _run(["reparse"], env)
    assert reparse.returncode == 0, reparse.stderr
    assert "unchanged 1" in reparse.stdout
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()
    assert "Traceback" not in first.stderr + ingest.stderr + tail.stderr + reparse.stderr
