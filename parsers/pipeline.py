"""The whole parse: bytes of a saved page (or a text file) to a `ParsedDocument`.

decode → (HTML parsed once with lxml) → extract → metadata → clean → normalize →
outline/facts/flags → signature. Pure: no network, no database. Raises `ParseError`
with a one-line reason when the input cannot become a document. Each stage is timed
and counted in `stats`.
"""
from __future__ import annotations

from govingest.parsers.clean import clean
from govingest.parsers.decode import decode
from govingest.parsers.extract import extract, parse_html
from govingest.parsers.facts import extract_facts
from govingest.parsers.flags import detect_flags
from govingest.parsers.metadata import extract_metadata
from govingest.parsers.model import Metadata, ParsedDocument, ParseError
from govingest.parsers.normalize import detect_script, normalize_paragraphs
from govingest.parsers.outline import parse_outline
from govingest.parsers.signature import sign
from govingest.parsers.text_metadata import title_from_text
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
    with stats.track("decode"):
        decoded = decode(body, content_type)
    tree = None
    if decoded.is_html:
        with stats.track("dom"):
            tree = parse_html(decoded.text)  # parsed once, shared by extract and metadata
        if tree is None:
            raise ParseError("no body: the HTML has no elements to extract from")
    with stats.track("extract"):
        extracted = extract(decoded, body_selector, tree=tree, url=url)
    stats.update(f"extract_{extracted.method.split(':')[0]}")  # container / selector / trafilatura / text
    with stats.track("metadata"):
        meta = extract_metadata(decoded, extracted, url, tree=tree) if tree is not None else Metadata()
    with stats.track("clean"):
        cleaned = clean(extracted.paragraphs)
    if not any(ch.isalnum() for p in cleaned.paragraphs for ch in p):
        # only markup debris or punctuation left: not a document
        raise ParseError("no body: nothing article-like was found in the page")
    with stats.track("normalize"):
        script = detect_script("\n".join(cleaned.paragraphs))
        paragraphs = normalize_paragraphs(cleaned.paragraphs, script)
        if not decoded.is_html and meta.title is None:
            meta.title = title_from_text(normalize_paragraphs(extracted.paragraphs[:40], script))
    with stats.track("parse"):
        outline = parse_outline(paragraphs)
        facts = extract_facts(paragraphs, outline)
        flags = detect_flags(extracted.paragraphs, paragraphs)
    text = "\n".join(paragraphs)
    with stats.track("signature"):
        signature = sign(text)
    stats.update("documents")
    stats.update("facts", len(facts))
    stats.update("removed_lines", len(cleaned.removed))
    for rule, n in cleaned.rules_hit.items():
        stats.update(f"rule_{rule}", n)  # which boilerplate rules fire, for tuning the rule set
    return ParsedDocument(
        url=url, title=meta.title, published_at=meta.published_at, source=meta.source,
        site_name=meta.site_name, script=script, text=text, outline=outline, facts=facts,
        flags=flags, removed=cleaned.removed, signature=signature,
        encoding=decoded.encoding, extract_method=extracted.method,
    )
