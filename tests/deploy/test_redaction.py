"""No connection string's secret reaches a log line, an error message or a status line.

Each form libpq and Redis accept is checked through `redact`/`redact_dsn`, then through
the real outputs: a JSON and a text log line, the CLI's one-line error for a database it
cannot reach, and a setting's validation message.
"""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from govingest.redact import MASK, redact, redact_dsn, remember_secret
from govingest.workers.observe.log import JsonFormatter, TextFormatter
from tests.conftest import ROOT

SECRET = "Hunter2-s3cret"

# (form, text with the secret, what must survive)
FORMS = [
    ("url userinfo", f"postgresql://app:{SECRET}@db:5432/govingest", "postgresql://app:***@db:5432/govingest"),
    ("url password with @", f"postgresql://app:{SECRET}@tail@db/govingest", "postgresql://app:***@db/govingest"),
    ("url percent-encoded @", "postgresql://app:Hunter2%40s3cret@db/govingest", "postgresql://app:***@db/govingest"),
    ("query password", f"postgresql://db/govingest?user=app&password={SECRET}&sslmode=require",
     "postgresql://db/govingest?user=app&password=***&sslmode=require"),
    ("query sslpassword", f"postgres://app@db/govingest?sslpassword={SECRET}", "postgres://app@db/govingest?sslpassword=***"),
    ("key=value", f"host=db user=app password={SECRET} dbname=govingest", "host=db user=app password=*** dbname=govingest"),
    ("key = value, spaced", f"host=db password = {SECRET} dbname=govingest", "host=db password = *** dbname=govingest"),
    ("key=value quoted", f"host=db password='{SECRET} with \\' quote' dbname=govingest",
     "host=db password=*** dbname=govingest"),
    ("redis url", f"redis://:{SECRET}@redis:6379/0", "redis://:***@redis:6379/0"),
    ("rediss url with user", f"rediss://default:{SECRET}@redis:6380/1", "rediss://default:***@redis:6380/1"),
]


@pytest.mark.parametrize(("form", "text", "kept"), FORMS, ids=[f[0] for f in FORMS])
def test_each_connection_string_form_is_redacted(form: str, text: str, kept: str) -> None:
    for out in (redact(text), redact_dsn(text), redact(f"cannot connect to {text}: refused")):
        assert "Hunter2" not in out and "s3cret" not in out and "tail" not in out, (form, out)
    assert redact_dsn(text) == kept
    assert redact(redact(text)) == redact(text), "redacting twice changes nothing"


def test_redaction_leaves_ordinary_urls_and_text_alone() -> None:
    for text in ["https://www.gov.cn/zwgk/2024/t20240101_1.html?id=7&page=2", "http://h:8080/a:b@c",
                 "mailto user@example.com", "postgresql://app@db/govingest", "retrying in 5 s"]:
        assert redact(text) == text


def test_libpq_reading_is_the_last_word() -> None:
    """Whatever libpq would send as the password is masked, even in a form the text rules miss."""
    odd = f"host=db dbname=x password={SECRET}"
    assert SECRET not in redact_dsn(odd)
    assert redact_dsn("host=db dbname=x") == "host=db dbname=x"


def test_remembered_secrets_are_masked_in_any_text() -> None:
    remember_secret("Zq81-remembered-value")
    assert redact("psycopg said: invalid value 'Zq81-remembered-value' for port") == f"psycopg said: invalid value '{MASK}' for port"
    remember_secret("short")  # too short to mask safely: ordinary words stay readable
    assert redact("a short message") == "a short message"


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("govingest.test", logging.ERROR, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(("form", "text", "kept"), FORMS, ids=[f[0] for f in FORMS])
def test_log_lines_carry_no_secret(form: str, text: str, kept: str) -> None:
    record = _record(f"connecting to {text}", dsn=text, nested={"urls": [text], "n": 1})
    line = JsonFormatter().format(record)
    assert SECRET not in line and "s3cret" not in line, line
    parsed = json.loads(line)
    assert parsed["dsn"] == kept and parsed["nested"]["urls"] == [kept] and parsed["nested"]["n"] == 1
    text_line = TextFormatter().format(_record(f"connecting to {text}", dsn=text))
    assert "s3cret" not in text_line


def test_traceback_of_a_log_line_is_redacted() -> None:
    try:
        raise RuntimeError(f"boom at postgresql://app:{SECRET}@db/x?password={SECRET}")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.emit(record)
    assert SECRET not in out.getvalue() and "RuntimeError" in out.getvalue()


def _govingest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GOVINGEST_") and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "govingest", *args], env={**full, **env}, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("dsn", [
    f"postgresql://app:{SECRET}@127.0.0.1:1/x",
    f"postgresql://app@127.0.0.1:1/x?password={SECRET}",
    f"host=127.0.0.1 port=1 user=app password={SECRET} dbname=x",
    f"host=127.0.0.1 port=1 user=app password='{SECRET} spaced' dbname=x",
], ids=["url", "query", "key=value", "key=value quoted"])
def test_cli_error_for_an_unreachable_database_names_it_without_the_secret(dsn: str) -> None:
    done = _govingest("status", DATABASE_URL=dsn)
    assert done.returncode == 1 and "cannot connect to PostgreSQL at" in done.stderr
    assert "Hunter2" not in done.stderr + done.stdout and "***" in done.stderr, done.stderr
    assert "port 1 failed" in done.stderr  # the reason survives redaction


def test_password_with_an_unencoded_at_is_refused_before_any_connection() -> None:
    """libpq would cut such a password at its first `@` and report the tail as a host name."""
    done = _govingest("status", DATABASE_URL=f"postgresql://app:{SECRET}@tail@127.0.0.1:1/x")
    assert done.returncode == 78 and "DATABASE_URL=<redacted> is invalid" in done.stderr and "%40" in done.stderr
    assert "Hunter2" not in done.stderr and "tail" not in done.stderr


def test_config_shows_secret_settings_as_set_only() -> None:
    done = _govingest("config", DATABASE_URL=f"postgresql://app:{SECRET}@db/x", REDIS_URL=f"redis://:{SECRET}@r:6379/0")
    assert done.returncode == 0 and "DATABASE_URL=<set>" in done.stdout and "REDIS_URL=<set>" in done.stdout
    assert SECRET not in done.stdout + done.stderr
