"""Inserting many rows: COPY for big batches, pipelined executemany for small ones.

Why two ways: COPY is the fastest path for thousands of rows but costs extra round
trips to start and finish, and cannot run inside a pipeline; a single document's
dozen sections and facts go faster as an `executemany` in the same pipeline as the
statements around it (one round trip for the lot).
"""
from __future__ import annotations

from typing import Any, Sequence

import psycopg

# Rows in one write above which COPY beats a pipelined executemany.
COPY_MIN_ROWS = 500


def insert_rows(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], *, use_copy: bool) -> None:
    """Insert `rows` into `table`; `use_copy` is False inside `conn.pipeline()`."""
    if not rows:
        return
    cols = ", ".join(columns)
    if use_copy:
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(columns))
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # type: ignore[arg-type]
