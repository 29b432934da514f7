"""flags: truncated/hidden_chars, template placeholders, aggregator (document-sharing) pages."""
from __future__ import annotations

from parsers.model import Flags


def detect_flags(raw_paragraphs: list[str], kept_paragraphs: list[str]) -> Flags:
    """STUB (skeleton). raw = before clean (sees 此处隐藏N字 wrappers), kept = after."""
    return Flags()
