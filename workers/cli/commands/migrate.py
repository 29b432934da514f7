"""`govingest migrate`: bring the database schema to this code's version.

With GOVINGEST_APP_DATABASE_URL set it also creates (or updates) the application's login
role from that URL's user and password, as a member of govingest_writer: the deployment's
migrate step runs as the owner, and everything else connects with less (db/roles.py).
"""
from __future__ import annotations

import argparse

import psycopg
from psycopg.conninfo import conninfo_to_dict

from govingest.db.connect import connect, resolve_database_url
from govingest.db.migrate import applied_versions, migrate
from govingest.db.roles import RoleError, ensure_app_login
from govingest.workers.cli import UserError
from govingest.workers.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply pending schema migrations (idempotent); with "
                       "GOVINGEST_APP_DATABASE_URL set, also create the application's login role")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with connect(resolve_database_url(settings), autocommit=True) as conn:
        applied = migrate(conn)
        version = max(applied_versions(conn), default=0)
        app_role = _app_login(conn, settings.app_database_url) if settings.app_database_url else None
    if applied:
        print(f"applied {len(applied)} migration(s): {', '.join(applied)}; schema at version {version:04d}")
    else:
        print(f"schema up to date at version {version:04d}; nothing to apply")
    if app_role:
        print(app_role)
    return 0


def _app_login(conn: psycopg.Connection, app_url: str) -> str:
    params = conninfo_to_dict(app_url)
    user, password = str(params.get("user") or ""), str(params.get("password") or "")
    try:
        done = ensure_app_login(conn, user, password)
    except RoleError as exc:
        raise UserError(f"GOVINGEST_APP_DATABASE_URL: {exc}") from exc
    return f"login role {user}: {done} (member of govingest_writer: reads and writes the tables, no DDL)"
