"""outline: the section tree (一、/(一)/1./(1), unnumbered headings, 一是/二是 items)."""
from __future__ import annotations

from parsers.model import OutlineNode


def parse_outline(paragraphs: list[str]) -> list[OutlineNode]:
    """STUB (skeleton)."""
    return []
