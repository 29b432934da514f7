"""decode: raw bytes → text, choosing the charset the way browsers and gov sites need.

Order (issue 2, stage 1): byte-order mark, then the HTTP charset, then the page's own
`<meta charset>` / http-equiv declaration, then strict UTF-8, then GB18030, then
charset-normalizer as the last guess. Decoding is ours because trafilatura ignores
headers and meta and reads GBK pages as cp1252.

Two real traps shape the rules:
* gov templates say `gb2312` or `gbk` while the text holds characters outside those
  tables; GB18030 is their superset, so those labels always decode as GB18030;
* templates copied between sites keep a stale declaration (`magichtml__9c642bd…`
  declares gb2312 but is UTF-8). Bytes that are valid UTF-8 *and* contain non-ASCII
  are practically never meant as a legacy codepage, so valid UTF-8 beats a legacy
  declaration.
"""
from __future__ import annotations

import codecs
import re

from govingest.parsers.model import Decoded, ParseError

# Labels whose tables GB18030 contains: decoding with them loses characters that
# real pages use (e.g. 镕, 䶮), so they are read as GB18030.
_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "cp936", "ms936", "windows-936",
              "csgb2312", "euc-cn", "x-euc-cn", "hz-gb-2312", "gb18030", "chinese"}
# Browsers read these Latin labels as windows-1252 (WHATWG encoding standard).
_LATIN_ALIASES = {"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "iso8859-1"}

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]{0,400}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)

# File signatures of formats that are never a page: the reason names the format.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF", "a PDF document", "application/pdf"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx)", "application/zip"),
    (b"\xd0\xcf\x11\xe0", "an MS Office (.doc/.xls) file", "application/msword"),
    (b"\x89PNG", "a PNG image", "image/png"),
    (b"GIF8", "a GIF image", "image/gif"),
    (b"\xff\xd8\xff", "a JPEG image", "image/jpeg"),
    (b"\x1f\x8b", "a gzip archive", "application/gzip"),
    (b"Rar!", "a RAR archive", "application/x-rar"),
    (b"7z\xbc\xaf", "a 7z archive", "application/x-7z-compressed"),
    (b"\x00\x00\x01\x00", "an icon file", "image/x-icon"),
)

_HTML_HINT = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|table|br|span|a\s|script|style|article|section|td|li)\b",
    re.I,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def canonical_charset(label: str | None) -> str | None:
    """Python codec name for a declared charset label, or None when unknown.

    Why a mapping: the GB family must become GB18030 (see module doc) and Latin-1
    labels mean windows-1252 in every browser.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    if name in _LATIN_ALIASES:
        return "cp1252"
    if name in ("utf8", "unicode-1-1-utf-8"):
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP Content-Type header, canonical."""
    if not content_type:
        return None
    m = _HTTP_CHARSET.search(content_type)
    return canonical_charset(m.group(1)) if m else None


def charset_from_meta(body: bytes) -> str | None:
    """The first `<meta charset>` or http-equiv charset in the head of the page."""
    m = _META_CHARSET.search(body[:8192])
    charset = canonical_charset(m.group(1).decode("ascii", "ignore")) if m else None
    if charset and charset.startswith(("utf-16", "utf-32")):
        # a page whose meta could be read as ASCII is not UTF-16; browsers read it as UTF-8
        return "utf-8"
    return charset


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _binary_reason(body: bytes) -> str | None:
    for magic, what, _mime in _MAGIC:
        if body.startswith(magic):
            return f"binary input: looks like {what}, not a page; save the article as HTML or text"
    return None


def _utf16_without_bom(body: bytes) -> str | None:
    """UTF-16 saved without a BOM: markup and ASCII put a NUL in every other byte."""
    sample = body[:4096]
    if len(sample) < 16 or b"\x00" not in sample:
        return None
    half = len(sample) // 2
    even_nul = sample[0::2].count(0) / half
    odd_nul = sample[1::2].count(0) / half
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    """Text decoded from bytes that were never text: control characters or U+FFFD everywhere."""
    sample = text[:20000]
    if not sample:
        return False
    bad = len(_CONTROL.findall(sample)) + sample.count("\ufffd")
    return bad / len(sample) > 0.05


def is_html_text(text: str) -> bool:
    """HTML when the start of the text opens with, or is full of, HTML tags."""
    head = text[:4096].lstrip().lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<head", "<meta", "<!--", "<body")):
        return True
    if head.startswith("<") and _HTML_HINT.match(head):  # a fragment: <div>…, <p>…
        return True
    return len(_HTML_HINT.findall(head)) >= 3


def _guess(body: bytes) -> tuple[str, str]:
    """charset-normalizer as the last resort; replacement characters rather than failure."""
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        enc = canonical_charset(best.encoding) or best.encoding
        return body.decode(enc, errors="replace"), enc
    return body.decode("utf-8", errors="replace"), "utf-8"


def decode(body: bytes, content_type: str | None = None, *, override: str | None = None) -> Decoded:
    """Decode a fetched page or saved file; raises ParseError for binary input.

    `override` is a site's configured encoding (sites file): it wins over every
    declaration; a byte-order mark still wins over it (a BOM cannot be wrong).
    """
    for bom, enc in _BOMS:
        if body.startswith(bom):
            text = body[len(bom):].decode(enc, errors="replace")
            return _finish(text, enc)
    reason = _binary_reason(body)
    if reason:
        raise ParseError(reason)
    forced = canonical_charset(override)
    if forced is not None:
        return _finish(body.decode(forced, errors="replace"), forced)
    utf16 = _utf16_without_bom(body)
    if utf16 is not None:
        return _finish(body.decode(utf16, errors="replace"), utf16)
    utf8 = _strict(body, "utf-8")
    for declared in (charset_from_content_type(content_type), charset_from_meta(body)):
        if declared is None:
            continue
        if declared != "utf-8" and utf8 is not None and not body.isascii():
            # stale legacy declaration over UTF-8 bytes (module doc): UTF-8 wins
            return _finish(utf8, "utf-8")
        decoded = _strict(body, declared)
        if decoded is not None:
            return _finish(decoded, declared)
        # a declared charset that fails strictly is wrong: try the next clue
    if utf8 is not None:
        return _finish(utf8, "utf-8")
    gb = _strict(body, "gb18030")
    if gb is not None:
        return _finish(gb, "gb18030")
    if b"\x00" in body[:4096]:
        raise ParseError("binary input: NUL bytes and no text encoding fits; not a page or text file")
    text, enc = _guess(body)
    return _finish(text, enc)


def binary_type(body: bytes, content_type: str | None = None) -> str | None:
    """The one place that decides text versus binary: a MIME type when `decode` would refuse
    the body as binary, None when it is text.

    The fetch stage calls this for every page body, so a URL is recorded as an
    attachment exactly when the parser could not read it: a UTF-16 page with a BOM (NUL
    bytes everywhere) is text; a PDF served as text/html is binary. Cheap for ordinary
    pages: only bodies with NUL bytes or control characters near the start are decoded.
    """
    if any(body.startswith(bom) for bom, _ in _BOMS):
        return None
    for magic, _what, mime in _MAGIC:
        if body.startswith(magic):
            return mime
    head = body[:4096]
    if b"\x00" not in head and len(_CONTROL_BYTES.findall(head)) <= len(head) // 50:
        return None
    try:
        decode(body, content_type)
    except ParseError:
        return "application/octet-stream"
    return None


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _finish(text: str, encoding: str) -> Decoded:
    if "\x00" in text[:4096] or _looks_binary(text):
        raise ParseError(f"binary input: bytes decode ({encoding}) to control characters, not text; "
                         "pass a saved HTML page or a text file")
    return Decoded(text=text, encoding=encoding, is_html=is_html_text(text))
