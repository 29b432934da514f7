"""A per-document time limit for the parse, so one pathological page cannot stall a worker.

Real pages can make regex- or tree-heavy stages slow (megabyte tables, deeply nested
markup). A worker that hangs on one page stops its whole queue, so each document gets
a deadline; when it passes, the page ends as a `ParseError("timeout: …")` and the URL
is recorded as failed with that reason instead.

`signal.setitimer` interrupts pure-Python and most C loops, but only works in the main
thread of the process. Elsewhere (thread pools, some embedders) the parse runs without
a limit: we never fake one with a thread that would keep burning CPU after "timing out".
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from govingest.parsers.model import ParsedDocument, ParseError
from govingest.parsers.site_rules import SiteRules
from govingest.stats import Stats

T = TypeVar("T")

DEFAULT_SECONDS = 30.0


class _Expired(BaseException):
    """Raised from the signal handler; BaseException so stage code's `except Exception`
    clauses (which must stay tolerant of bad input) cannot swallow the deadline."""


def can_enforce() -> bool:
    """True when a deadline can actually interrupt work here (main thread, POSIX timer)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def run_with_timeout(fn: Callable[[], T], seconds: float | None, what: str = "parse") -> T:
    """Run `fn()`; past `seconds` raise ParseError("timeout: …"). None or <= 0: no limit."""
    if not seconds or seconds <= 0 or not can_enforce():
        return fn()

    def _on_alarm(signum: int, frame: object) -> None:
        raise _Expired()

    # an outer timer (a task runner's, pytest-timeout's) is paused and re-armed with
    # what is left of it, so a parse never cancels someone else's deadline
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_delay) if outer_delay else seconds)
    try:
        return fn()
    except _Expired:
        raise ParseError(f"timeout: {what} took longer than {seconds:g}s; the page is too large or "
                         "too deeply nested to parse") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            left = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), outer_interval)


def parse_with_timeout(
    body: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    body_selector: str | None = None,
    stats: Stats | None = None,
    seconds: float | None = DEFAULT_SECONDS,
    rules: SiteRules | None = None,
) -> ParsedDocument:
    """`parsers.pipeline.parse` under a deadline: what workers call for every stored page."""
    from govingest.parsers.pipeline import parse  # the pipeline imports every stage; keep this module light

    return run_with_timeout(
        lambda: parse(body, url=url, content_type=content_type, body_selector=body_selector, stats=stats,
                      rules=rules),
        seconds,
        what=f"parse of {url}" if url else "parse",
    )
