"""extract: the article body of a decoded page, as paragraphs."""
from __future__ import annotations

import trafilatura

from parsers.model import Decoded, Extracted


def extract(decoded: Decoded, body_selector: str | None = None) -> Extracted:
    """STUB (skeleton): text input → its lines; HTML → trafilatura."""
    if not decoded.is_html:
        return Extracted(paragraphs=decoded.text.splitlines(), method="text")
    out = trafilatura.extract(decoded.text, include_tables=True, include_comments=False) or ""
    return Extracted(paragraphs=out.splitlines(), method="trafilatura")
