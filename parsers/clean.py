"""clean: take out the site chrome extraction left behind (rules in boilerplate_rules)."""
from __future__ import annotations

from parsers.model import Cleaned


def clean(paragraphs: list[str]) -> Cleaned:
    """STUB (skeleton): drops empty lines only."""
    kept = [p for p in (x.strip() for x in paragraphs) if p]
    return Cleaned(paragraphs=kept, removed=[])
