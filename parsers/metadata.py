"""metadata: title, published_at, source, site_name of an HTML page."""
from __future__ import annotations

from parsers.model import Decoded, Extracted, Metadata


def extract_metadata(decoded: Decoded, extracted: Extracted, url: str | None = None) -> Metadata:
    """STUB (skeleton)."""
    return Metadata()
