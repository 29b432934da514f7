"""DOCX text in reading order: paragraphs and table rows as they stand in the body.

Read with zipfile + lxml rather than python-docx: python-docx lists tables apart
from paragraphs (the reading order is lost) and reads parts without a size cap.
"""
from __future__ import annotations

from lxml import etree

from govingest.parsers.attachments.limits import Limits
from govingest.parsers.attachments.safezip import SafeZip
from govingest.parsers.model import ParseError
from govingest.states import ErrorKind

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)


def _paragraph_text(p: etree._Element) -> str:
    out: list[str] = []
    for el in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if el.tag == f"{_W}t":
            out.append(el.text or "")
        elif el.tag == f"{_W}tab":
            out.append("\t")
        else:
            out.append("\n")
    return "".join(out)


def _table_rows(tbl: etree._Element) -> list[str]:
    rows: list[str] = []
    for tr in tbl.iter(f"{_W}tr"):
        cells = []
        for tc in tr.findall(f"{_W}tc"):
            text = " ".join(t for t in (_paragraph_text(p).strip() for p in tc.iter(f"{_W}p")) if t)
            if text:
                cells.append(text)
        if cells:
            rows.append("\t".join(cells))
    return rows


def docx_paragraphs(body: bytes, limits: Limits) -> tuple[list[str], bool]:
    z = SafeZip(body, limits, "DOCX")
    try:
        root = etree.fromstring(z.read("word/document.xml"), parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"corrupt DOCX: word/document.xml: {exc}", kind=ErrorKind.ATTACHMENT_CORRUPT) from None
    doc_body = root.find(f"{_W}body")
    if doc_body is None:
        raise ParseError("corrupt DOCX: word/document.xml has no body", kind=ErrorKind.ATTACHMENT_CORRUPT)
    out: list[str] = []
    chars = 0
    for child in doc_body:
        if child.tag == f"{_W}p":
            lines = _paragraph_text(child).splitlines()
        elif child.tag == f"{_W}tbl":
            lines = _table_rows(child)
        else:  # sdt (content controls) hold paragraphs too
            lines = [t for p in child.iter(f"{_W}p") for t in _paragraph_text(p).splitlines()]
        for line in lines:
            if line.strip():
                out.append(line)
                chars += len(line)
        if chars > limits.max_chars:
            return out, True
    return out, False
