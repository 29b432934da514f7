"""OFD (GB/T 33190, China's fixed-layout format) text: the TextCode of each page, in order.

An OFD is a ZIP: OFD.xml names the document root (DocBody/DocRoot), Document.xml
lists the pages (Pages/Page@BaseLoc), and each page's Content.xml holds TextObjects
whose TextCode elements carry the text with its position. Lines are rebuilt from the
TextObjects' Boundary y coordinate, then reflowed like PDF lines.
"""
from __future__ import annotations

import posixpath

from lxml import etree

from govingest.parsers.attachments.limits import Limits
from govingest.parsers.attachments.reflow import reflow, strip_furniture
from govingest.parsers.attachments.safezip import SafeZip
from govingest.parsers.model import ParseError
from govingest.states import ErrorKind

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml(z: SafeZip, name: str) -> etree._Element:
    try:
        return etree.fromstring(z.read(name), parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"corrupt OFD: {name}: {exc}", kind=ErrorKind.ATTACHMENT_CORRUPT) from None


def _first(root: etree._Element, name: str) -> etree._Element | None:
    return next((el for el in root.iter() if _local(el.tag) == name), None)


def _resolve(base: str, loc: str) -> str:
    loc = loc.strip()
    if loc.startswith("/"):
        return loc.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), loc))


def _page_lines(content: etree._Element) -> list[str]:
    """TextObjects grouped into lines by their y position (top to bottom, left to right)."""
    items: list[tuple[float, float, str]] = []
    for obj in content.iter():
        if _local(obj.tag) != "TextObject":
            continue
        box = (obj.get("Boundary") or "0 0 0 0").split()
        try:
            x, y = float(box[0]), float(box[1])
        except (ValueError, IndexError):
            x, y = 0.0, 0.0
        text = "".join(code.text or "" for code in obj if _local(code.tag) == "TextCode")
        if text.strip():
            items.append((round(y, 0), x, text))
    items.sort()
    lines: list[str] = []
    last_y: float | None = None
    for y, _x, text in items:
        if last_y is not None and abs(y - last_y) < 1.5:
            lines[-1] += text
        else:
            lines.append(text)
        last_y = y
    return lines


def ofd_paragraphs(body: bytes, limits: Limits) -> tuple[list[str], bool]:
    z = SafeZip(body, limits, "OFD")
    root = _xml(z, "OFD.xml")
    doc_root = _first(root, "DocRoot")
    if doc_root is None or not (doc_root.text or "").strip():
        raise ParseError("corrupt OFD: OFD.xml names no DocRoot", kind=ErrorKind.ATTACHMENT_CORRUPT)
    doc_name = _resolve("OFD.xml", doc_root.text or "")
    document = _xml(z, doc_name)
    page_locs = [el.get("BaseLoc") for el in document.iter() if _local(el.tag) == "Page" and el.get("BaseLoc")]
    truncated = len(page_locs) > limits.max_pages
    pages = [_page_lines(_xml(z, _resolve(doc_name, loc or ""))) for loc in page_locs[: limits.max_pages]]
    if page_locs and not any(pages):
        raise ParseError(f"scanned OFD: {len(page_locs)} page(s) and no text; needs OCR", kind=ErrorKind.NEEDS_OCR)
    lines = [line for page in strip_furniture(pages) for line in page]
    return reflow(lines), truncated
