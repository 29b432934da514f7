"""normalize: script detection, Traditional → Simplified, width, punctuation, whitespace."""
from __future__ import annotations

from parsers.model import Script


def detect_script(text: str) -> Script:
    """STUB (skeleton)."""
    return "hans"


def normalize_paragraphs(paragraphs: list[str], script: Script) -> list[str]:
    """STUB (skeleton): strip only. Converts to Simplified when script == 'hant'."""
    return [p.strip() for p in paragraphs if p.strip()]
