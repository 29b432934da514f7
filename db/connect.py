"""Where the database is and how to reach it: one URL, one connect, one pool.

Zero configuration: with `DATABASE_URL` unset, an embedded PostgreSQL (pgserver, a
pip-installed server binary) is started in `GOVINGEST_DATA_DIR` or the platform's
user data directory. pgserver keeps a list of the processes using a data directory:
a second command started while the first runs reuses the same server, and the last
process to exit stops it (`pg_ctl stop`, a clean shutdown, data kept for next time).
"""
from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from govingest.redact import redact, redact_dsn

log = logging.getLogger(__name__)

# The embedded server handle must live as long as the process: pgserver stops the
# server when the last handle's process exits (atexit), not when this object dies.
_embedded: dict[Path, Any] = {}


class DatabaseUnavailable(Exception):
    """No database could be reached or started; the message says what to do."""


def data_dir(settings: Any) -> Path:
    """The directory for local state: GOVINGEST_DATA_DIR, else platformdirs' user data dir."""
    configured = getattr(settings, "data_dir", None)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("govingest", appauthor=False))


def embedded_url(directory: Path) -> str:
    """Start (or join) the embedded PostgreSQL whose data lives under `directory`."""
    pgdata = (directory / "pgdata").resolve()
    server = _embedded.get(pgdata)
    if server is None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
            with warnings.catch_warnings():
                # platformdirs warns on stderr when XDG_RUNTIME_DIR is unset (containers,
                # cron): pgserver only uses that dir for its lock file, the fallback is fine.
                warnings.simplefilter("ignore")
                import pgserver

                server = pgserver.get_server(pgdata, cleanup_mode="stop")
        except ImportError as exc:
            raise DatabaseUnavailable(
                "DATABASE_URL is unset and the embedded PostgreSQL is not installed: set DATABASE_URL to a "
                "running PostgreSQL, or install the `embedded` extra (pip install 'govingest[embedded]')") from exc
        except Exception as exc:
            raise DatabaseUnavailable(
                f"could not start the embedded PostgreSQL in {pgdata}: {exc}; set DATABASE_URL to a "
                "running PostgreSQL, or GOVINGEST_DATA_DIR to a writable directory") from exc
        _embedded[pgdata] = server
    return str(server.get_uri())


def resolve_database_url(settings: Any) -> str:
    """DATABASE_URL when set, else the embedded server's URL (starting it on demand).

    GOVINGEST_EMBEDDED=false (set by the container entrypoint) turns the fallback off: a
    container given no DATABASE_URL must stop and say so, never start a private database
    whose data dies with the container.
    """
    url = getattr(settings, "database_url", None)
    if url:
        return str(url)
    if not getattr(settings, "embedded", True):
        raise DatabaseUnavailable(
            "DATABASE_URL is not set and embedded servers are off (GOVINGEST_EMBEDDED=false, as in the "
            "container image): set DATABASE_URL to your PostgreSQL, e.g. postgresql://USER@HOST:5432/DB")
    return embedded_url(data_dir(settings))


def stop_embedded() -> None:
    """Release this process's handles on embedded servers (the last user stops them).

    Normally atexit does this; tests and long-lived parents call it explicitly.
    """
    while _embedded:
        _, server = _embedded.popitem()
        try:
            server.cleanup()
        except Exception as exc:  # stopping is best effort; the data stays safe on disk
            log.warning("embedded PostgreSQL did not stop cleanly", extra={"error": str(exc)})


def connect(url: str, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection:
    """One connection; errors become `DatabaseUnavailable` with the (redacted) target."""
    try:
        return psycopg.connect(url, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        first = redact(str(exc).strip().splitlines()[0]) if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {redact_dsn(url)}: {first}; check DATABASE_URL "
            "and that the server is running (unset DATABASE_URL to use the embedded one)") from exc


def one_row(conn: psycopg.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
            ) -> tuple[Any, ...]:
    """The row of a statement that always returns exactly one (an aggregate, `now()`)."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"expected one row from {sql.split()[0]} but got none")
    return row


def server_at_fault(conn: psycopg.Connection, exc: psycopg.DatabaseError) -> bool:
    """True when a statement failed for the server's sake (retry later), not its input's.

    The connection tells a lost server; the class alone cannot: a limit the row hits (an
    index row past the btree's size, a tsvector past 1 MB) is an OperationalError too, and
    retrying it as an outage would retry it forever. Other operational errors (a cancelled
    statement, a shutdown, too many connections) are the server's.
    """
    if conn.broken:
        return True
    return isinstance(exc, psycopg.OperationalError) and not isinstance(exc, psycopg.errors.ProgramLimitExceeded)


def make_pool(url: str, min_size: int = 1, max_size: int = 4, **kwargs: Any) -> ConnectionPool:
    """A connection pool for worker processes (one per process; threads share it).

    `check` validates a connection before handing it out, so a pool that outlived a
    server restart heals instead of failing the next task.
    """
    pool = ConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                          check=ConnectionPool.check_connection, **kwargs)
    pool.open(wait=True, timeout=30)
    return pool


def connect_migrated(settings: Any, *, autocommit: bool = True) -> psycopg.Connection:
    """Connect to the configured (or embedded) database with its schema up to date.

    Commands call this so a zero-config first run just works; `migrate` is idempotent
    and cheap when nothing is pending. Raises DatabaseUnavailable or MigrationError.
    """
    from govingest.db.migrate import migrate

    conn = connect(resolve_database_url(settings), autocommit=True)
    try:
        migrate(conn)
    except Exception:
        conn.close()
        raise
    conn.autocommit = autocommit
    return conn
