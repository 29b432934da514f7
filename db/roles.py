"""Database roles govingest manages: the application's login role.

Why the application gets its own role: the PostgreSQL image (and most installs) hands
out a superuser first, and an application connected as a superuser turns any SQL
injection or leaked password into control of the whole server. Migrations run as the
owner; the workers connect as a login role that is only a member of `govingest_writer`
(migration 0041: read and write the tables, no DDL, no roles, no databases).

The password never reaches the server in clear text: libpq computes the SCRAM-SHA-256
verifier on the client (`PQencryptPasswordConn`) and only that is sent, so it appears
in no server log or `pg_stat_statements`.
"""
from __future__ import annotations

from typing import Literal

import psycopg
from psycopg import sql

WRITER_ROLE = "govingest_writer"


class RoleError(Exception):
    """The login role cannot be created as asked; the message says why and what to do."""


def grant_writer_tables(conn: psycopg.Connection) -> None:
    """Grant the writer role every table and sequence that exists now (idempotent).

    Default privileges (migration 0041) cover tables created later by the same owner;
    this covers migrations applied by another role.
    """
    conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {WRITER_ROLE}")
    conn.execute(f"REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM {WRITER_ROLE}")
    conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {WRITER_ROLE}")


def ensure_app_login(conn: psycopg.Connection, user: str, password: str) -> Literal["created", "updated"]:
    """Create or update `user` as a LOGIN member of govingest_writer with `password`.

    An existing role keeps its name and gets the password, LOGIN, and membership; it is
    never demoted or promoted silently: a superuser, or the role this connection runs
    as, is refused (the application must not share the migrating role).
    """
    if not user or not password:
        raise RoleError("the application URL needs both a user and a password")
    me = conn.execute("SELECT current_user").fetchone()
    if me is not None and me[0] == user:
        raise RoleError(f"the application role {user!r} is the role migrate runs as; give the application "
                        "its own user in GOVINGEST_APP_DATABASE_URL (e.g. govingest_app)")
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
    if row is not None and row[0]:
        raise RoleError(f"role {user!r} is a superuser: the application must not connect as one; "
                        "pick another user name in GOVINGEST_APP_DATABASE_URL")
    verifier = conn.pgconn.encrypt_password(password.encode(), user.encode(), b"scram-sha-256").decode()
    ident, secret = sql.Identifier(user), sql.Literal(verifier)
    with conn.transaction():
        if row is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, secret))
        else:
            conn.execute(sql.SQL("ALTER ROLE {} LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                                 "PASSWORD {}").format(ident, secret))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(WRITER_ROLE), ident))
        grant_writer_tables(conn)
    return "created" if row is None else "updated"
