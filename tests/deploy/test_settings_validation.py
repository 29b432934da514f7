"""Settings are validated when a process starts: one line per bad variable, naming it and
what it accepts, exit 78 — never a worker that runs with a lease of -5 seconds."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from govingest.workers.settings import BY_ENV, SETTINGS, Settings, SettingsError, parse_setting
from tests.conftest import ROOT

BAD = [
    ("GOVINGEST_LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR"),
    ("GOVINGEST_LOG_JSON", "ture", "true or false"),
    ("GOVINGEST_LEASE_SECONDS", "-5", "an integer from 1 to 86400"),
    ("GOVINGEST_LEASE_SECONDS", "1.5", "an integer"),
    ("GOVINGEST_FETCH_CONCURRENCY", "0", "an integer from 1 to 1000"),
    ("GOVINGEST_DB_POOL_MAX", "-1", "an integer from 1 to 1000"),
    ("GOVINGEST_DISPATCH_INTERVAL", "nan", "a number from 0.01 to 3600"),
    ("GOVINGEST_FEED_POLL_SECONDS", "inf", "a number from 0.05 to 3600"),
    ("GOVINGEST_FETCH_READ_TIMEOUT", "-1e300", "a number"),
    ("GOVINGEST_METRICS_PORT", "99999", "0 (off) or an integer from 1 to 65535"),
    ("GOVINGEST_WORKER_MEMORY_LIMIT_MB", "12", "0 (off) or an integer from 256"),
    ("GOVINGEST_EMBEDDED", "maybe", "true or false"),
    ("REDIS_URL", "http://redis:6379/0", "a redis:// URL"),
    ("DATABASE_URL", "mysql://u@h/db", "a postgresql:// URL"),
    ("DATABASE_URL", "postgresql://u@h:99999/db", "a postgresql:// URL"),
]


@pytest.mark.parametrize(("env", "raw", "accepted"), BAD, ids=[f"{e}={r}" for e, r, _ in BAD])
def test_an_invalid_value_names_the_variable_and_what_it_accepts(env: str, raw: str, accepted: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({env: raw})
    (line,) = err.value.problems
    assert line.startswith(f"{env}=") and "is invalid; accepted: " in line and accepted in line, line
    if BY_ENV[env].secret:
        assert raw not in line and "<redacted>" in line


def test_every_invalid_variable_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({env: raw for env, raw, _ in BAD if not env.endswith("_URL")})
    named = [line.split("=", 1)[0] for line in err.value.problems]
    assert set(named) == {env for env, _, _ in BAD if not env.endswith("_URL")}


@pytest.mark.parametrize(("env", "raw", "value"), [
    ("GOVINGEST_LOG_LEVEL", "debug", "DEBUG"),
    ("GOVINGEST_LOG_JSON", " Off ", False),
    ("GOVINGEST_LEASE_SECONDS", "1", 1),
    ("GOVINGEST_METRICS_PORT", "0", 0),
    ("GOVINGEST_METRICS_PORT", "65535", 65535),
    ("GOVINGEST_WORKER_MEMORY_LIMIT_MB", "0", 0),
    ("GOVINGEST_DISPATCH_INTERVAL", "0.25", 0.25),
    ("GOVINGEST_LEASE_SECONDS", "", 120),  # empty counts as unset: the default
    ("DATABASE_URL", "host=db user=app dbname=govingest", "host=db user=app dbname=govingest"),
    ("REDIS_URL", "redis+socket:///tmp/redis.sock", "redis+socket:///tmp/redis.sock"),
])
def test_valid_values_and_bounds_are_accepted(env: str, raw: str, value: object) -> None:
    assert getattr(Settings.from_env({env: raw}), BY_ENV[env].name) == value


def test_settings_annotations_name_exactly_the_table() -> None:
    assert list(Settings.__annotations__) == [s.name for s in SETTINGS]


def test_defaults_are_valid_and_every_setting_says_what_it_accepts() -> None:
    Settings.from_env({})
    for s in SETTINGS:
        assert s.kind.accepted(), s.env
        if s.default is not None:
            parse_setting(s, s.default)


def _run(cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GOVINGEST_", "CELERY_"))} | env
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("command", [["status"], ["parse", "-"], ["config", "--get", "GOVINGEST_LOG_LEVEL"]])
def test_every_command_refuses_bad_settings_at_start(command: list[str]) -> None:
    done = _run([sys.executable, "-m", "govingest", *command], GOVINGEST_LOG_JSON="ture", GOVINGEST_LEASE_SECONDS="-5")
    assert done.returncode == 78, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in done.stderr
    assert lines[0].endswith("GOVINGEST_LOG_JSON='ture' is invalid; accepted: true or false (also 1/0, yes/no, on/off)")
    assert "GOVINGEST_LEASE_SECONDS='-5' is invalid; accepted: an integer from 1 to 86400" in lines[1]


def test_a_celery_worker_refuses_bad_settings_in_one_line() -> None:
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    done = _run([celery, "-A", "govingest.workers.fleet.app", "worker", "-Q", "fetch"], GOVINGEST_FETCH_CONCURRENCY="0")
    assert done.returncode == 78
    assert done.stderr.strip() == ("govingest worker: GOVINGEST_FETCH_CONCURRENCY='0' is invalid; "
                                   "accepted: an integer from 1 to 1000")


def test_validate_requires_the_urls_a_role_needs() -> None:
    cmd = [sys.executable, "-m", "govingest", "config", "--validate", "--require", "DATABASE_URL", "--require", "REDIS_URL"]
    missing = _run(cmd)
    assert missing.returncode == 78
    assert [ln.split(": ", 1)[1].split(" ", 1)[0] for ln in missing.stderr.strip().splitlines()] == ["DATABASE_URL", "REDIS_URL"]
    assert _run(cmd, DATABASE_URL="postgresql://app@db/govingest", REDIS_URL="redis://r:6379/0").returncode == 0
    unknown = _run([sys.executable, "-m", "govingest", "config", "--validate", "--require", "NOPE"])
    assert unknown.returncode == 1 and "no setting 'NOPE'" in unknown.stderr
