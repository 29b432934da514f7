"""Celery app for drill 4: the real `workers.fleet.app`, with a parser that hangs on the poison page.

Why a wrapper: the fixture's poison page (`/poison.html`) is hostile, but how long the
real parser takes on it changes as the parser improves; the drill must exercise the
worst case every time. For that one URL, the parse first runs a catastrophically
backtracking regex — a real, uninterruptible hang inside C code that holds the GIL,
so neither the per-document SIGALRM timeout nor Celery's soft limit can stop it. Only
the hard time limit (the pool kills the child) and the attempt counter in PostgreSQL
end it. Every other page goes through the real parser untouched.

    celery -A tests.fleet.poison_worker worker -Q process
"""
from __future__ import annotations

from typing import Any

import govingest.workers.stages.process as process_stage
from govingest.parsers import pipeline
from govingest.workers.fleet.app import app  # noqa: F401  (the app `celery -A` finds)
from tests.fixture_site.faults import POISON_PATH

_real_parse = pipeline.parse


def _hanging_parse(body: bytes, **kwargs: Any) -> Any:
    if (kwargs.get("url") or "").endswith(POISON_PATH):
        sum(range(10**13))  # hours of C loop with no signal check
    return _real_parse(body, **kwargs)


pipeline.parse = _hanging_parse  # parsers.timeout looks it up at call time
process_stage.parse = _hanging_parse  # the name workers.stages.process imported
