"""facts: numeric facts (检查企业29136家, 1.84万人次, 下降20.8%) with spans into the text."""
from __future__ import annotations

from parsers.model import Fact, OutlineNode


def extract_facts(paragraphs: list[str], outline: list[OutlineNode]) -> list[Fact]:
    """STUB (skeleton). Spans index "\\n".join(paragraphs)."""
    return []
