"""Secrets never printed: every shape a password takes in a connection target."""
from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from govingest.redact import redact, redact_dsn

SECRET = "s3cr3t"


@pytest.mark.parametrize("dsn", [
    f"postgresql://ingest:{SECRET}@db:5432/govingest",
    f"postgresql://ingest:p@ss{SECRET}@db/govingest",  # a raw '@' in the password
    f"postgresql://ingest@db/govingest?sslmode=require&password={SECRET}",
    f"postgresql://db/govingest?password={SECRET}",
    f"host=db user=ingest password={SECRET} dbname=govingest",
    f"host=db password='{SECRET} with spaces' dbname=govingest",
    f"host=db password = '{SECRET}\\'quoted' dbname=govingest",
    f"redis://:{SECRET}@redis:6379/0",
    f"redis://default:{SECRET}@redis:6379/0",
])
def test_no_form_of_a_target_prints_its_password(dsn: str) -> None:
    for shown in (redact(dsn), redact_dsn(dsn), redact(f"cannot connect to {dsn}: refused")):
        assert SECRET not in shown and "***" in shown, shown


def test_a_redacted_dsn_keeps_its_form_and_everything_but_the_secret() -> None:
    assert redact_dsn(f"postgresql://ingest:{SECRET}@db:5432/govingest") == "postgresql://ingest:***@db:5432/govingest"
    shown = redact_dsn(f"host=db user=ingest password={SECRET} dbname=govingest")
    assert conninfo_to_dict(shown) == {"host": "db", "user": "ingest", "password": "***", "dbname": "govingest"}
    assert redact_dsn("postgresql://ingest@db/govingest") == "postgresql://ingest@db/govingest"


def test_text_without_secrets_is_unchanged() -> None:
    text = "fetched https://www.gov.cn/a.htm?id=3 in 0.2s (user=ingest)"
    assert redact(text) == text
