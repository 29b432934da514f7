"""The whole parse: bytes of a saved page (or a text file) to a `ParsedDocument`.

decode → extract → metadata → clean → normalize → outline/facts/flags → signature.
Pure: no network, no database. Raises `ParseError` with a one-line reason when the
input cannot become a document.
"""
from __future__ import annotations

# NOTE: placeholder wiring written with the skeleton; the parsers work replaces it
# stage by stage. Kept working end to end so the other folders can build on it.
import hashlib

import trafilatura

from parsers.model import Flags, ParsedDocument, ParseError, Signature
from parsers.stats import Stats


def parse(
    body: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    body_selector: str | None = None,
    stats: Stats | None = None,
) -> ParsedDocument:
    """Parse one page. `content_type` is the HTTP header when fetched (charset hint)."""
    stats = stats or Stats()
    if not body.strip():
        raise ParseError("empty input: the file has no bytes to parse")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("gb18030", errors="replace")
    is_html = "<html" in text[:2000].lower() or "<body" in text.lower()
    if is_html:
        text = trafilatura.extract(text, include_tables=True, include_comments=False) or ""
    if not text.strip():
        raise ParseError("no body: nothing article-like was found in the page")
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ParsedDocument(
        url=url, title=None, published_at=None, source=None, site_name=None, script="hans",
        text=text, outline=[], facts=[], flags=Flags(), removed=[],
        signature=Signature(content_hash=digest, minhash=[]),
    )
