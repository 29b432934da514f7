"""Which attachment format a body is, from its bytes."""
from __future__ import annotations

import io
import zipfile
from typing import Literal

AttachmentFormat = Literal["pdf", "docx", "xlsx", "xls", "doc", "ofd"]

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def attachment_format(body: bytes) -> AttachmentFormat | None:
    """'pdf', 'docx', 'xlsx', 'xls', 'doc', 'ofd', or None for anything else (pages, images, archives)."""
    head = body[:1024]
    if b"%PDF-" in head:  # some servers put a few bytes before the header; readers allow 1 KB
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "OFD.xml" in names:
            return "ofd"
        return None
    if body.startswith(_OLE):
        # the OLE directory names its streams in UTF-16: WordDocument (Word, WPS) or Workbook/Book (Excel)
        if _utf16("WordDocument") in body:
            return "doc"
        if _utf16("Workbook") in body or _utf16("Book") in body:
            return "xls"
    return None
