"""Metadata of plain-text input (no HTML): a title-like first line, 小编为大家整理的《…》."""
from __future__ import annotations


def title_from_text(paragraphs: list[str]) -> str | None:
    """STUB (skeleton)."""
    return None
