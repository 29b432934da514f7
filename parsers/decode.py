"""decode: raw bytes → text, choosing the charset the way browsers and gov sites need."""
from __future__ import annotations

from parsers.model import Decoded


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """STUB (skeleton): strict UTF-8 then GB18030."""
    try:
        text, enc = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, enc = body.decode("gb18030", errors="replace"), "gb18030"
    head = text[:4096].lower()
    return Decoded(text=text, encoding=enc, is_html="<html" in head or "<body" in head or "<div" in head)
