"""The whole parse: bytes of a saved page (or a text file) to a `ParsedDocument`.

decode → (HTML parsed once with lxml) → extract → metadata → clean → normalize →
outline/facts/flags/citations → signature. Attachments (PDF, Office, OFD: recognised by
their bytes, not their name) take `parsers/attachments` for the first two steps and
share the rest. Pure: no network, no database. Raises `ParseError` with a one-line
reason when the input cannot become a document. Each stage is timed and counted in
`stats`.
"""
from __future__ import annotations

from lxml.html import HtmlElement

from govingest.parsers.attachments import attachment_format, extract_attachment
from govingest.parsers.citations import extract_citations, title_key
from govingest.parsers.clean import clean
from govingest.parsers.decode import decode
from govingest.parsers.disclosure import complete_from_body, disclosure_from_lines
from govingest.parsers.extract import extract, parse_html
from govingest.parsers.facts import extract_facts
from govingest.parsers.flags import detect_flags
from govingest.parsers.metadata import extract_metadata
from govingest.parsers.model import DocumentKind, Extracted, Metadata, ParsedDocument, ParseError
from govingest.parsers.normalize import detect_script, normalize_paragraphs
from govingest.parsers.outline import parse_outline
from govingest.parsers.scripted import detect_script_filled
from govingest.parsers.signature import sign
from govingest.parsers.text_metadata import title_from_text
from govingest.states import ErrorKind
from govingest.stats import Stats


def parse(
    body: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    body_selector: str | None = None,
    stats: Stats | None = None,
) -> ParsedDocument:
    """Parse one page. `content_type` is the HTTP Content-Type header when fetched."""
    stats = stats if stats is not None else Stats()
    if not body.strip():
        raise ParseError("empty input: the file has no bytes to parse")
    kind: DocumentKind = "article"
    is_html = False
    encoding: str | None = None
    if attachment_format(body) is not None:
        kind = "attachment"
        with stats.track("attachment"):
            extracted = extract_attachment(body, stats=stats)
        meta = Metadata()
    else:
        with stats.track("decode"):
            decoded = decode(body, content_type)
        is_html, encoding = decoded.is_html, decoded.encoding
        tree = None
        if decoded.is_html:
            with stats.track("dom"):
                tree = parse_html(decoded.text)  # parsed once, shared by extract and metadata
            if tree is None:
                raise ParseError("no body: the HTML has no elements to extract from")
        with stats.track("extract"):
            extracted = extract(decoded, body_selector, tree=tree, url=url)
        with stats.track("metadata"):
            meta = extract_metadata(decoded, extracted, url, tree=tree) if tree is not None else Metadata()
        if tree is not None:
            _refuse_script_filled(tree, extracted)
    stats.update(f"extract_{extracted.method.split(':')[0]}")  # container / selector / trafilatura / text / pdf …
    with stats.track("clean"):
        cleaned = clean(extracted.paragraphs)
    if not any(ch.isalnum() for p in cleaned.paragraphs for ch in p):
        # only markup debris or punctuation left: not a document
        raise ParseError("no body: nothing article-like was found in the page")
    with stats.track("normalize"):
        script = detect_script("\n".join(cleaned.paragraphs))
        paragraphs = normalize_paragraphs(cleaned.paragraphs, script)
        if not is_html and meta.title is None and not _starts_with_table_row(extracted.paragraphs):
            meta.title = title_from_text(normalize_paragraphs(extracted.paragraphs[:40], script))
        if not is_html:
            meta.disclosure = disclosure_from_lines(paragraphs)
        complete_from_body(meta.disclosure, paragraphs)
    with stats.track("parse"):
        outline = parse_outline(paragraphs)
        facts = extract_facts(paragraphs, outline)
        flags = detect_flags(extracted.paragraphs, paragraphs)
        if extracted.truncated:
            flags.truncated = True
    text = "\n".join(paragraphs)
    with stats.track("citations"):
        citations = extract_citations(text, own_doc_number=meta.disclosure.doc_number, own_title=meta.title)
    with stats.track("signature"):
        signature = sign(text)
    stats.update("documents")
    stats.update("facts", len(facts))
    stats.update("citations", len(citations))
    stats.update("removed_lines", len(cleaned.removed))
    for rule, n in cleaned.rules_hit.items():
        stats.update(f"rule_{rule}", n)  # which boilerplate rules fire, for tuning the rule set
    return ParsedDocument(
        url=url, title=meta.title, published_at=meta.published_at, source=meta.source,
        site_name=meta.site_name, script=script, text=text, outline=outline, facts=facts,
        flags=flags, removed=cleaned.removed, signature=signature,
        encoding=encoding, extract_method=extracted.method,
        kind=kind, index_number=meta.disclosure.index_number, doc_number=meta.disclosure.doc_number,
        issuer=meta.disclosure.issuer, written_at=meta.disclosure.written_at, subject=meta.disclosure.subject,
        validity=meta.disclosure.validity, citations=citations, title_key=title_key(meta.title),
    )


def _starts_with_table_row(paragraphs: list[str]) -> bool:
    """A spreadsheet's header row is no title."""
    first = next((p for p in paragraphs if p.strip()), "")
    return "\t" in first


# A body with fewer CJK characters than this, next to an empty element a script fills,
# is the page's chrome, not its article.
_THIN_BODY_CJK = 200


def _refuse_script_filled(tree: HtmlElement, extracted: Extracted) -> None:
    """Raise when the article is loaded by script and the HTML holds only chrome."""
    cjk = sum(1 for p in extracted.paragraphs for ch in p if "\u3400" <= ch <= "\u9fff")
    if cjk >= _THIN_BODY_CJK:
        return
    found = detect_script_filled(tree)
    if found is not None:
        raise ParseError(found.reason(), kind=ErrorKind.SCRIPT_FILLED)
