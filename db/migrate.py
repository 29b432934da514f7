"""Versioned schema migrations: `db/migrations/NNNN_name.sql`, applied in order.

Why hand-written rather than a library: alembic needs SQLAlchemy (which nothing else
here uses) and writes migrations in Python; yoyo-migrations adds its own lock and log
tables and a CLI for what is, here, ~60 lines: plain SQL files, one transaction each,
a version table and an advisory lock. Plain SQL is also what a DBA reviews.

Rules the runner enforces:
* each file runs in its own transaction together with its row in
  `schema_migrations`, so a failing migration leaves nothing behind;
* a session-wide advisory lock makes concurrent `migrate` runs (several workers
  starting at once) apply each file exactly once;
* a database carrying a version this code does not know was migrated by a newer
  govingest: we refuse rather than run old code against a schema it cannot read.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

MIGRATIONS_PACKAGE = "govingest.db.migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Arbitrary constant: pg_advisory_lock key reserved for schema migrations.
_LOCK_KEY = 0x60F1_4E57


class MigrationError(Exception):
    """The schema cannot be brought to this code's version; message says why and what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def available_migrations() -> list[Migration]:
    """The migration files shipped with this code, in version order."""
    found: dict[int, Migration] = {}
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        m = _NAME.match(entry.name)
        if not m:
            continue
        version = int(m.group(1))
        if version in found:
            raise MigrationError(f"two migration files share version {version:04d}: "
                                 f"{found[version].label}.sql and {entry.name}; renumber one")
        found[version] = Migration(version, m.group(2), entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def _ensure_table(conn: psycopg.Connection) -> None:
    # Looked up first: CREATE ... IF NOT EXISTS still needs CREATE on the schema, which the
    # application's role (govingest_writer, no DDL) lacks; it only checks the version.
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if exists and exists[0]:
        return
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version    int PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


def applied_versions(conn: psycopg.Connection) -> dict[int, str]:
    """version -> name of every migration recorded in the database (empty if none)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    return dict(conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall())


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the pending migrations; return their labels (empty when up to date).

    `conn` must not be inside a transaction: each migration commits on its own.
    """
    known = available_migrations()
    latest = known[-1].version if known else 0
    prev_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            _ensure_table(conn)
            done = applied_versions(conn)
            newer = sorted(v for v in done if v > latest)
            if newer:
                raise MigrationError(
                    f"database schema is at version {max(done):04d} ({done[max(done)]}) but this "
                    f"govingest knows versions up to {latest:04d}: it was migrated by a newer "
                    "govingest; upgrade govingest (pip install -U govingest) before using this database")
            applied: list[str] = []
            for mig in known:
                if mig.version in done:
                    continue
                try:
                    with conn.transaction():
                        conn.execute(mig.sql)  # trusted file, no params
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (mig.version, mig.name, mig.checksum))
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"migration {mig.label}.sql failed and was rolled back: "
                        f"{str(exc).strip().splitlines()[0]}; fix the SQL file or the database, "
                        "then rerun `govingest migrate`") from exc
                applied.append(mig.label)
            return applied
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    finally:
        conn.autocommit = prev_autocommit


def pending(conn: psycopg.Connection) -> list[str]:
    """Labels of the migrations not yet applied (for `status` and start-up checks)."""
    done = applied_versions(conn)
    return [m.label for m in available_migrations() if m.version not in done]
