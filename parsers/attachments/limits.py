"""Limits of one attachment read: what a hostile or huge file may cost before it is cut or refused."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024  # the file itself (the fetch cap comes first)
    max_pages: int = 300  # PDF/OFD pages read; the rest is cut and the document flagged truncated
    max_member_bytes: int = 64 * 1024 * 1024  # one ZIP member (document.xml, a sheet) inflated
    max_unzipped_bytes: int = 256 * 1024 * 1024  # all members read, inflated
    max_cells: int = 200_000  # spreadsheet cells read
    max_chars: int = 2_000_000  # text kept; the rest is cut and flagged truncated
    doc_seconds: float = 20.0  # the DOC converter's own time limit
