"""Inserting many rows with COPY, the fastest way into PostgreSQL from psycopg 3.

Measured on this project's documents (bench/store.py and an A/B of one-document
writes): COPY was at least as fast as a pipelined `executemany` even for a single
document's dozen sections and facts, so there is one way, not two.
"""
from __future__ import annotations

from typing import Any, Sequence

import psycopg


def copy_rows(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str],
              rows: Sequence[Sequence[Any]]) -> None:
    """COPY `rows` into `table` (nothing at all when there are none)."""
    if not rows:
        return
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
