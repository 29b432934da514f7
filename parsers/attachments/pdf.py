"""PDF text with pypdf (why pypdf: see the package docstring)."""
from __future__ import annotations

import io
import logging

from govingest.parsers.attachments.limits import Limits
from govingest.parsers.attachments.reflow import reflow, strip_furniture
from govingest.parsers.model import ParseError
from govingest.states import ErrorKind

# Fewer letters than this per page on average: the pages are images (a scan).
_MIN_CHARS_PER_PAGE = 20


def pdf_paragraphs(body: bytes, limits: Limits) -> tuple[list[str], bool]:
    """(paragraphs, truncated) of a PDF; ParseError for scans, encrypted and corrupt files."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns per odd object; we record one outcome
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # most "encrypted" gov PDFs only forbid printing: empty user password
            except Exception:
                raise ParseError("encrypted PDF: it needs a password to read", kind=ErrorKind.ATTACHMENT_ENCRYPTED) from None
        n_pages = len(reader.pages)
        pages: list[list[str]] = []
        chars = 0
        truncated = n_pages > limits.max_pages
        for page in reader.pages[: limits.max_pages]:
            text = page.extract_text() or ""
            chars += len(text)
            pages.append(text.splitlines())
            if chars > limits.max_chars:
                truncated = True
                break
    except ParseError:
        raise
    except FileNotDecryptedError:
        raise ParseError("encrypted PDF: it needs a password to read", kind=ErrorKind.ATTACHMENT_ENCRYPTED) from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, AssertionError, ZeroDivisionError) as exc:
        raise ParseError(f"corrupt PDF: {type(exc).__name__}: {str(exc)[:200]}", kind=ErrorKind.ATTACHMENT_CORRUPT) from None
    letters = sum(1 for page in pages for line in page for ch in line if ch.isalnum())
    if n_pages and letters < _MIN_CHARS_PER_PAGE * min(len(pages), n_pages):
        raise ParseError(f"scanned PDF: {n_pages} page(s) and no text layer ({letters} letters); needs OCR",
                         kind=ErrorKind.NEEDS_OCR)
    lines = [line for page in strip_furniture(pages) for line in page]
    return reflow(lines), truncated
