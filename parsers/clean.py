"""clean: take out the site chrome extraction left behind (rules in boilerplate_rules).

Runs before normalization, so it matches each line through a *match key* (Simplified,
ASCII punctuation) and cuts from the original line: what is kept is the page's own
text, and `removed` shows the lines exactly as the page had them, for auditing.
"""
from __future__ import annotations

from govingest.parsers.boilerplate_rules import RULES, Rule
from govingest.parsers.model import Cleaned
from govingest.parsers.normalize import to_simplified

# FF01–FF5E are fullwidth ASCII; U+3000 and NBSP are spaces a page uses for layout.
_KEY_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}

_LINE_RULES = [r for r in RULES if r.scope == "line"]
_CUT_RULES = [r for r in RULES if r.scope in ("prefix", "suffix")]
_BLOCK_RULES = [r for r in RULES if r.scope == "block"]


def match_key(line: str) -> str:
    """The form rules are written against: Simplified, fullwidth ASCII → ASCII."""
    return to_simplified(line).translate(_KEY_FOLD)


def _first_full_match(rules: list[Rule], key: str) -> Rule | None:
    lowered = key.lower()
    for rule in rules:
        if rule.may_match(lowered) and rule.regex.fullmatch(key):
            return rule
    return None


def _cut(line: str, removed: list[str], hits: dict[str, int]) -> str:
    """Apply prefix/suffix rules; positions map 1:1 when the key has the line's length."""
    for rule in _CUT_RULES:
        key = match_key(line)
        if not rule.may_match(key.lower()):
            continue
        if len(key) != len(line):
            continue  # a phrase conversion changed lengths: cut nothing rather than cut wrong
        m = rule.regex.match(key) if rule.scope == "prefix" else rule.regex.search(key)
        if m is None or m.end() - m.start() == 0:
            continue
        if rule.scope == "suffix" and m.end() != len(key):
            continue
        removed.append(line[m.start():m.end()].strip())
        hits[rule.name] = hits.get(rule.name, 0) + 1
        line = (line[: m.start()] + line[m.end():]).strip()
        if not line:
            break
    return line


def clean(paragraphs: list[str]) -> Cleaned:
    """Drop chrome lines and cut chrome prefixes/suffixes; count each rule that fired."""
    hits: dict[str, int] = {}
    lines: list[str] = []
    for raw in paragraphs:
        for part in raw.splitlines():
            part = part.strip()
            if part:
                lines.append(part)

    # verdict per line: None = keep, Rule = removed by that line rule, "block" = candidate
    verdict: list[Rule | str | None] = []
    kept_text: list[str] = []
    cut_parts: list[list[str]] = []  # per line, so `removed` stays in document order
    for line in lines:
        cut_parts.append([])
        key = match_key(line)
        rule = _first_full_match(_LINE_RULES, key)
        if rule is not None:
            verdict.append(rule)
            kept_text.append(line)
            continue
        line = _cut(line, cut_parts[-1], hits)
        kept_text.append(line)
        if not line:
            verdict.append("cut")
            continue
        verdict.append("block" if _first_full_match(_BLOCK_RULES, match_key(line)) else None)

    drop_block = _block_candidates_in_chrome(verdict)
    out: list[str] = []
    removed: list[str] = []
    for i, (line, v) in enumerate(zip(kept_text, verdict, strict=False)):
        removed.extend(cut_parts[i])
        if isinstance(v, Rule):
            removed.append(line)
            hits[v.name] = hits.get(v.name, 0) + 1
        elif v == "block" and i in drop_block:
            removed.append(line)
            rule = _first_full_match(_BLOCK_RULES, match_key(line))
            name = rule.name if rule else "block"
            hits[name] = hits.get(name, 0) + 1
        elif v != "cut":
            out.append(line)
    return Cleaned(paragraphs=out, removed=removed, rules_hit=hits)


def _block_candidates_in_chrome(verdict: list[Rule | str | None]) -> set[int]:
    """Indexes of block candidates that sit in a run touching a line a line-rule removed."""
    drop: set[int] = set()
    i = 0
    n = len(verdict)
    while i < n:
        if verdict[i] is None or verdict[i] == "cut":
            i += 1
            continue
        j = i
        while j < n and verdict[j] is not None and verdict[j] != "cut":
            j += 1
        run = range(i, j)
        if any(isinstance(verdict[k], Rule) for k in run):
            drop.update(k for k in run if verdict[k] == "block")
        i = j
    return drop
