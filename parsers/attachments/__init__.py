"""attachments: text of the files articles link to (PDF, DOCX, XLSX, XLS, DOC, OFD).

`attachment_format(body)` names the format from the bytes (never from the URL: sites
serve PDFs as .htm and pages as .pdf); `extract_attachment(body)` returns its text as
paragraphs for the same clean → normalize → outline → facts stages a page goes through.

Why these readers (measured with bench/attachments.py on a Chinese PDF with an
embedded subset font, a 500-page PDF and hostile files; figures in the README there):
* PDF: pypdf. pdfminer.six and pypdfium2 read the same text from CJK PDFs with
  embedded fonts; pypdfium2 is 20x faster but is native code that aborts the whole
  process (SIGABRT) on a compression bomb under a memory cap, and pdfminer raises
  MemoryError after inflating it. pypdf caps every decompression and reports cyclic
  page trees, so a hostile PDF costs one recorded failure, never a worker.
* DOCX and OFD: read here with zipfile + lxml (`safezip` caps every member's inflated
  size before it is read); python-docx reads a whole part into memory and lists
  tables apart from paragraphs, losing the reading order.
* XLSX: openpyxl in read-only (streaming) mode, after the same zip caps; XLS: xlrd
  (maintained for .xls only, which is all it is used for).
* DOC (Word 97–2003, WPS): Debian's `catdoc` (falls back to `antiword`), which read
  Chinese DOCs correctly; no maintained Python library reads DOC.

Every limit (pages, inflated bytes, cells, characters) ends in a recorded state:
`ParseError` with kind 'needs_ocr' (a scan, no text layer), 'attachment_too_large',
'attachment_corrupt', 'attachment_encrypted' or 'attachment_unsupported'.
"""
from __future__ import annotations

from govingest.parsers.attachments.formats import AttachmentFormat, attachment_format
from govingest.parsers.attachments.limits import Limits
from govingest.parsers.model import Extracted, ParseError
from govingest.states import ErrorKind
from govingest.stats import Stats

__all__ = ["AttachmentFormat", "Limits", "attachment_format", "extract_attachment"]


def extract_attachment(body: bytes, *, limits: Limits | None = None, stats: Stats | None = None) -> Extracted:
    """Paragraphs of an attachment; raises ParseError (with its kind) when it has no usable text."""
    limits = limits or Limits()
    fmt = attachment_format(body)
    if fmt is None:
        raise ParseError("not an attachment format govingest reads (PDF, DOCX, XLSX, XLS, DOC, OFD)",
                         kind=ErrorKind.ATTACHMENT_UNSUPPORTED)
    if len(body) > limits.max_bytes:
        raise ParseError(f"{fmt} of {len(body)} bytes is over the {limits.max_bytes}-byte attachment cap; not read",
                         kind=ErrorKind.ATTACHMENT_TOO_LARGE)
    if stats is not None:
        stats.update(f"attachment_{fmt}")
    if fmt == "pdf":
        from govingest.parsers.attachments.pdf import pdf_paragraphs
        paragraphs, truncated = pdf_paragraphs(body, limits)
    elif fmt == "docx":
        from govingest.parsers.attachments.docx import docx_paragraphs
        paragraphs, truncated = docx_paragraphs(body, limits)
    elif fmt == "xlsx":
        from govingest.parsers.attachments.sheets import xlsx_paragraphs
        paragraphs, truncated = xlsx_paragraphs(body, limits)
    elif fmt == "xls":
        from govingest.parsers.attachments.sheets import xls_paragraphs
        paragraphs, truncated = xls_paragraphs(body, limits)
    elif fmt == "doc":
        from govingest.parsers.attachments.doc import doc_paragraphs
        paragraphs, truncated = doc_paragraphs(body, limits)
    else:
        from govingest.parsers.attachments.ofd import ofd_paragraphs
        paragraphs, truncated = ofd_paragraphs(body, limits)
    return Extracted(paragraphs=paragraphs, method=fmt, truncated=truncated)
