"""Per-site parse rules from the sites file: extra body selectors, boilerplate, encoding.

Why data and not code: a government site the generic rules get wrong (a body in
`div.zw_con`, a footer line no shared rule knows, a GBK page declared as UTF-8) should
cost one line in the sites file, not a release. The crawler validates these at load
(crawler/config.py); here they are applied, and every application is counted under a
rule key (`body_selector:div.zw`, `boilerplate_line:…`, `boilerplate_pattern:…`,
`encoding:gb18030`) so `govingest status` and `govingest try` can show which rules
actually match.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govingest.parsers.model import Cleaned


@dataclass(frozen=True)
class SiteRules:
    body_selectors: tuple[str, ...] = ()  # CSS, or XPath when starting with / or (
    boilerplate_lines: tuple[str, ...] = ()  # a body line equal to one of these is removed
    boilerplate_patterns: tuple[str, ...] = ()  # a body line matching one (re.search) is removed
    encoding: str | None = None  # decode with this charset whatever the page declares
    _patterns: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        # RE2, as the sites file validated them: linear time on every body line, whatever the pattern
        object.__setattr__(self, "_patterns", tuple(_compile(p) for p in self.boilerplate_patterns))

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> SiteRules:
        """The rules of a stored site table (`sites.config`, already validated at load)."""
        cfg = config or {}
        selectors = [cfg["body_selector"]] if cfg.get("body_selector") else []
        selectors += [s for s in cfg.get("body_selectors", []) if s not in selectors]
        return cls(body_selectors=tuple(selectors),
                   boilerplate_lines=tuple(cfg.get("boilerplate_lines", [])),
                   boilerplate_patterns=tuple(cfg.get("boilerplate_patterns", [])),
                   encoding=cfg.get("encoding"))

    def __bool__(self) -> bool:
        return bool(self.body_selectors or self.boilerplate_lines or self.boilerplate_patterns or self.encoding)

    def apply_boilerplate(self, cleaned: Cleaned) -> Cleaned:
        """Take the site's own boilerplate lines out of cleaned text; hits counted by rule key."""
        if not (self.boilerplate_lines or self._patterns):
            return cleaned
        exact = {line.strip() for line in self.boilerplate_lines}
        kept: list[str] = []
        removed = list(cleaned.removed)
        hits = dict(cleaned.rules_hit)
        for line in cleaned.paragraphs:
            key = _rule_for(line.strip(), exact, self._patterns)
            if key is None:
                kept.append(line)
                continue
            removed.append(line)
            hits[key] = hits.get(key, 0) + 1
        return Cleaned(paragraphs=kept, removed=removed, rules_hit=hits)


def _compile(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error:  # not through the sites file's validation: Python's engine
        return re.compile(pattern)


def _rule_for(line: str, exact: set[str], patterns: tuple[Any, ...]) -> str | None:
    if line in exact:
        return f"boilerplate_line:{line}"
    for p in patterns:
        if p.search(line):
            return f"boilerplate_pattern:{p.pattern}"
    return None


def is_site_rule(key: str) -> bool:
    """Whether a `rules_hit` key names a site rule (as opposed to a shared boilerplate rule)."""
    return key.startswith(("body_selector:", "boilerplate_line:", "boilerplate_pattern:", "encoding:"))
