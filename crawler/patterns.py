"""A site's URL patterns, matched in time linear in the URL (RE2), whatever the pattern.

Why RE2 rather than `re`: patterns come from a sites file, and a backtracking engine
turns one careless pattern into a stalled worker — `(a+)+$` takes 1.1 s on a
24-character URL with `re` and doubles with every character, while RE2 answers in
microseconds (`bench/hostile.py`). The price is paid in the common case: three
ordinary patterns cost ~4-20 µs per URL instead of ~0.5-3 µs, a few ms per list page.
RE2 has no lookaround and no backreferences; a pattern that needs them is refused at
load with the reason, which is better than a pattern that may never finish. `\\uXXXX` escapes, which RE2 spells
`\\x{XXXX}`, are translated so patterns keep the meaning they have in Python.
"""
from __future__ import annotations

import re
from functools import cached_property

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # errors reach the user as ConfigError, not on stderr
# \uXXXX / \UXXXXXXXX preceded by an even number of backslashes (an escape, not a literal "\u")
_PY_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")


def _to_re2(pattern: str) -> str:
    return _PY_UNICODE_ESCAPE.sub(lambda m: f"{m.group(1)}\\x{{{m.group(2) or m.group(3)}}}", pattern)


def pattern_error(pattern: str) -> str | None:
    """Why `pattern` cannot be a URL pattern, else None."""
    try:
        re2.compile(_to_re2(pattern), _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return (f"not a valid regular expression for RE2 ({reason}); URL patterns run in linear time, "
                "so lookaround (?=…) (?<=…) and backreferences \\1 are not available")
    return None


class Patterns:
    """Match any of a list of patterns (already checked with `pattern_error`)."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns

    @cached_property
    def _compiled(self) -> list[object]:
        if not self.patterns:
            return []
        try:  # one alternation: a single pass over the URL for all patterns
            return [re2.compile("|".join(f"(?:{_to_re2(p)})" for p in self.patterns), _OPTIONS)]
        except re2.error:  # e.g. one group name used by two patterns
            return [re2.compile(_to_re2(p), _OPTIONS) for p in self.patterns]

    def search(self, url: str) -> bool:
        return any(r.search(url) for r in self._compiled)  # type: ignore[attr-defined]
