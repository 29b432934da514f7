"""`govingest migrate`: bring the database schema to this code's version."""
from __future__ import annotations

import argparse

from govingest.db.connect import connect, resolve_database_url
from govingest.db.migrate import applied_versions, migrate
from govingest.workers.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply pending schema migrations (idempotent)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with connect(resolve_database_url(Settings.from_env()), autocommit=True) as conn:
        applied = migrate(conn)
        version = max(applied_versions(conn), default=0)
    if applied:
        print(f"applied {len(applied)} migration(s): {', '.join(applied)}; schema at version {version:04d}")
    else:
        print(f"schema up to date at version {version:04d}; nothing to apply")
    return 0
