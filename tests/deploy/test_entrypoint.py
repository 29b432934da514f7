"""Every role of the image runs a real command: the entrypoint's table is executed here.

No Docker engine runs in CI, so the entrypoint script itself is run with the test
virtualenv on PATH (the image puts its virtualenv on PATH the same way). Each role is
executed with `--help`: a misspelled command, module or option fails here, not in
production. The health check is exercised against a real worker on a private Redis.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT
from tests.deploy.helpers import ENTRYPOINT, VENV_BIN, role_table


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOVINGEST_", "CELERY_", "FLOWER_")) and k not in ("DATABASE_URL", "REDIS_URL")}
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
    env = _env(tmp_path, GOVINGEST_FETCH_CONCURRENCY="13", DATABASE_URL="postgresql://app@db/govingest",
               REDIS_URL="redis://redis:6379/0")
    env["PATH"] = f"{stub}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["sh", str(ENTRYPOINT), "fetch-worker", "--loglevel", "INFO"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    args = done.stdout.splitlines()
    assert args[args.index("--concurrency") + 1] == "13" and args[args.index("--pool") + 1] == "threads"
    assert args[-2:] == ["--loglevel", "INFO"]


# ---------------------------------------------------------------- fail fast, never embedded


def required_settings() -> dict[str, set[str]]:
    """ROLE -> the URLs the entrypoint requires before starting it (its `required` table)."""
    text = ENTRYPOINT.read_text(encoding="utf-8")
    block = text.split("# --- required settings ---", 1)[1].split("# --- end required settings ---", 1)[0]
    return {m.group(1): set(m.group(2).split())
            for m in re.finditer(r'^\s+([a-z][a-z-]*)\)\s+required="([^"]*)" ;;', block, re.M)}


def _postgres_processes(marker: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "postgres" in (proc.info["name"] or "") and marker in cmd:
            found.append(cmd)
    return found


def test_every_role_has_a_required_settings_line() -> None:
    required = required_settings()
    assert set(required) == set(role_table())
    for role in ("migrate", "dispatcher", "fetch-worker", "process-worker", "crawl"):
        assert "DATABASE_URL" in required[role], role
    for role in ("dispatcher", "fetch-worker", "process-worker", "flower"):
        assert "REDIS_URL" in required[role], role
    assert "DATABASE_URL" not in required["flower"], "Flower must not be handed the database password"


ROLE_RUNS = [(role, [], need) for role, needs in sorted(required_settings().items()) for need in sorted(needs)]


@pytest.mark.parametrize(("role", "args", "missing"), [*ROLE_RUNS, ("govingest", ["status"], "DATABASE_URL")],
                         ids=[f"{r}-without-{m}" for r, _, m in ROLE_RUNS] + ["govingest status-without-DATABASE_URL"])
def test_a_role_without_its_url_fails_fast_naming_it_and_starts_no_server(
        role: str, args: list[str], missing: str, tmp_path: Path) -> None:
    """The container never falls back to an embedded PostgreSQL or Redis (the test venv has
    both installed, so nothing but the entrypoint prevents it)."""
    present = {"DATABASE_URL": "postgresql://app@127.0.0.1:1/govingest", "REDIS_URL": "redis://127.0.0.1:1/0"}
    present.pop(missing)
    data = tmp_path / "data"
    start = time.monotonic()
    done = _run([role, *args], tmp_path, timeout=60, GOVINGEST_DATA_DIR=str(data), **present)
    took = time.monotonic() - start
    assert done.returncode != 0, done.stdout + done.stderr
    assert missing in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert took < 10, f"{role} took {took:.1f}s to fail"
    assert not (data / "pgdata").exists() and not _postgres_processes(str(tmp_path)), "an embedded PostgreSQL started"
    if role != "govingest":
        assert done.returncode == 78 and f"{missing} is not set; this role needs it" in done.stderr


def test_a_role_with_an_invalid_setting_fails_fast(tmp_path: Path) -> None:
    done = _run(["fetch-worker"], tmp_path, timeout=60, DATABASE_URL="postgresql://app@db/govingest",
                REDIS_URL="redis://redis:6379/0", GOVINGEST_FETCH_CONCURRENCY="0")
    assert done.returncode == 78
    assert "GOVINGEST_FETCH_CONCURRENCY='0' is invalid; accepted: an integer from 1 to 1000" in done.stderr


def test_flower_refuses_to_start_without_authentication(tmp_path: Path) -> None:
    done = _run(["flower"], tmp_path, timeout=60, REDIS_URL="redis://127.0.0.1:1/0")
    assert done.returncode == 78 and "FLOWER_BASIC_AUTH is not set" in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, auth: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:  # not listening yet
        return 0, ""


def _stop(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()[0]


@pytest.mark.slow
def test_flower_shows_the_workers_online_behind_authentication(tmp_path: Path, private_redis: str,
                                                              fresh_database_url: str) -> None:
    """Heartbeats and task events are on: Flower's worker list has the worker, online
    (its status comes from heartbeats alone), and answers only with the password."""
    env = {"REDIS_URL": private_redis, "DATABASE_URL": fresh_database_url}
    port, auth = _free_port(), "ops:flower-test-password"
    worker_tmp, flower_tmp = tmp_path / "w", tmp_path / "f"
    worker_tmp.mkdir()
    flower_tmp.mkdir()
    worker = subprocess.Popen(["sh", str(ENTRYPOINT), "process-worker", "--concurrency", "1"], cwd=ROOT,
                              env=_env(worker_tmp, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    flower = subprocess.Popen(["sh", str(ENTRYPOINT), "flower", f"--port={port}", "--address=127.0.0.1"], cwd=ROOT,
                              env=_env(flower_tmp, REDIS_URL=private_redis, FLOWER_BASIC_AUTH=auth),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        online: dict[str, bool] = {}
        while time.monotonic() < deadline and worker.poll() is None and flower.poll() is None:
            status, body = _get(f"{base}/workers?json=1", auth)
            if status == 200:
                online = {w["hostname"]: bool(w.get("status")) for w in json.loads(body)["data"]}
                if any(name.startswith("process@") and up for name, up in online.items()):
                    break
            time.sleep(1)
        assert any(name.startswith("process@") and up for name, up in online.items()), \
            f"Flower never showed the worker online: {online}; flower exit={flower.poll()} worker exit={worker.poll()}"
        assert _get(f"{base}/workers?json=1")[0] == 401, "Flower answered without the password"
        assert _get(f"{base}/workers?json=1", "ops:wrong")[0] == 401
    finally:
        _stop(flower)
        _stop(worker)
