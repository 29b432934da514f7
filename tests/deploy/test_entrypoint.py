"""Every role of the image runs a real command: the entrypoint's table is executed here.

No Docker engine runs in CI, so the entrypoint script itself is run with the test
virtualenv on PATH (the image puts its virtualenv on PATH the same way). Each role is
executed with `--help`: a misspelled command, module or option fails here, not in
production. The health check is exercised against a real worker on a private Redis.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.deploy.helpers import ENTRYPOINT, VENV_BIN, role_table


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVINGEST_", "CELERY_"))}
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", TMPDIR=str(tmp_path), **extra)
    return env


def _run(args: list[str], tmp_path: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(ENTRYPOINT), *args], cwd=ROOT, env=_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=timeout)


def test_role_table_is_parsed_and_matches_the_usage_text(tmp_path: Path) -> None:
    roles = role_table()
    assert {"migrate", "dispatcher", "fetch-worker", "process-worker", "flower"} <= set(roles)
    assert roles["fetch-worker"][:4] == ["celery", "-A", "govingest.workers.fleet.app", "worker"]
    usage = _run(["help"], tmp_path)
    assert usage.returncode == 0
    listed = set(re.findall(r"^  ([a-z][a-z-]*)\s{2,}", usage.stdout, flags=re.M))
    assert listed == set(roles) | {"healthcheck", "help"}


@pytest.mark.parametrize("role", sorted(role_table()))
def test_every_role_command_runs_with_help(role: str, tmp_path: Path) -> None:
    cmd = role_table()[role]
    done = _run([role, "--help"], tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{role}: {shlex.join(cmd)} --help failed:\n{out[-2000:]}"
    assert "usage" in out.lower(), out[-2000:]
    assert "Traceback" not in out
    # Every option the role passes must be one the command knows. Click commands reject
    # unknown options even with --help; Flower hands its options to tornado and prints
    # help whatever it is given, so check its options against tornado's registry.
    if cmd[3:4] == ["flower"]:
        import flower.options  # noqa: F401  (defines the options)
        from tornado.options import options as tornado_options

        for opt in (a.split("=", 1)[0] for a in cmd[4:] if a.startswith("--")):
            assert opt[2:] in tornado_options._options, f"flower has no option {opt}"
    assert (tmp_path / "govingest-role").read_text().strip() == role


def test_unknown_role_fails_with_a_message(tmp_path: Path) -> None:
    done = _run(["fetch-wroker"], tmp_path)
    assert done.returncode == 64
    assert "unknown role 'fetch-wroker'" in done.stderr and "help" in done.stderr


def test_one_shot_role_is_healthy_without_probe(tmp_path: Path) -> None:
    (tmp_path / "govingest-role").write_text("migrate\n")
    assert _run(["healthcheck"], tmp_path).returncode == 0


def test_worker_healthcheck_follows_the_worker(tmp_path: Path, private_redis: str, fresh_database_url: str) -> None:
    """Unhealthy before the worker answers pings, healthy while it runs, unhealthy after."""
    env = {"REDIS_URL": private_redis, "DATABASE_URL": fresh_database_url}
    (tmp_path / "govingest-role").write_text("process-worker\n")
    assert _run(["healthcheck"], tmp_path, timeout=60, **env).returncode != 0

    worker = subprocess.Popen(["sh", str(ENTRYPOINT), "process-worker", "--concurrency", "1"], cwd=ROOT,
                              env=_env(tmp_path, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        healthy = False
        while time.monotonic() < deadline and worker.poll() is None:
            if _run(["healthcheck"], tmp_path, timeout=60, **env).returncode == 0:
                healthy = True
                break
            time.sleep(1)
        assert healthy, f"worker never answered the health check; exit={worker.poll()}"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown, as on `docker stop`
        try:
            log, _ = worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            log, _ = worker.communicate()
    assert worker.returncode == 0, log[-3000:]
    assert _run(["healthcheck"], tmp_path, timeout=60, **env).returncode != 0


def test_dispatcher_healthcheck_reaches_postgresql(tmp_path: Path, fresh_database_url: str) -> None:
    (tmp_path / "govingest-role").write_text("dispatcher\n")
    assert _run(["healthcheck"], tmp_path, DATABASE_URL=fresh_database_url).returncode == 0
    down = _run(["healthcheck"], tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    assert down.returncode != 0 and "dispatcher unhealthy" in down.stderr and "Traceback" not in down.stderr


def test_fetch_worker_threads_come_from_the_setting(tmp_path: Path) -> None:
    """The shell reads no environment itself: `govingest config --get` resolves the setting."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "celery").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (stub / "celery").chmod(0o755)
    env = _env(tmp_path, GOVINGEST_FETCH_CONCURRENCY="13")
    env["PATH"] = f"{stub}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["sh", str(ENTRYPOINT), "fetch-worker", "--loglevel", "INFO"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    args = done.stdout.splitlines()
    assert args[args.index("--concurrency") + 1] == "13" and args[args.index("--pool") + 1] == "threads"
    assert args[-2:] == ["--loglevel", "INFO"]
