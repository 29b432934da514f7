"""The whole parse: bytes of a saved page (or a text file) to a `ParsedDocument`.

decode → (HTML parsed once with lxml) → extract → metadata → clean → normalize →
outline/facts/flags/citations → signature. Attachments (PDF, Office, OFD: recognised by
their bytes, not their name) take `parsers/attachments` for the first two steps and
share the rest. Pure: no network, no database. Raises `ParseError` with a one-line
reason when the input cannot become a document. Each stage is timed and counted in
`stats`.
"""
from __future__ import annotations

from govingest.parsers.attachments import attachment_format, extract_attachment
from govingest.parsers.citations import extract_citations, title_key
from govingest.parsers.clean import clean
from govingest.parsers.decode import decode
from govingest.parsers.disclosure import complete_from_body, disclosure_from_lines
from govingest.parsers.extract import extract, parse_html
from govingest.parsers.facts import extract_facts
from govingest.parsers.flags import detect_flags
from govingest.parsers.jsonbody import article_html, looks_like_json
from govingest.parsers.metadata import extract_metadata
from govingest.parsers.model import Decoded, DocumentKind, Metadata, ParsedDocument, ParseError, ScriptFilledError
from govingest.parsers.normalize import detect_script, normalize_paragraphs
from govingest.parsers.outline import parse_outline
from govingest.parsers.scripted import detect_script_filled
from govingest.parsers.signature import sign
from govingest.parsers.site_rules import SiteRules, is_site_rule
from govingest.parsers.text_metadata import title_from_text
from govingest.stats import Stats


def parse(
    body: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    body_selector: str | None = None,
    stats: Stats | None = None,
    rules: SiteRules | None = None,
) -> ParsedDocument:
    """Parse one page. `content_type` is the HTTP Content-Type header when fetched;
    `rules` are the site's parse rules from the sites file (parsers.site_rules).

    Raises ScriptFilledError (a ParseError) for a page whose body is filled in by
    script: never a document made of its footer.
    """
    stats = stats if stats is not None else Stats()
    rules = rules or SiteRules()
    hits: dict[str, int] = {}
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
            decoded = decode(body, content_type, override=rules.encoding)
            if rules.encoding:
                hits[f"encoding:{rules.encoding}"] = 1
            if looks_like_json(decoded.text, content_type):
                page = article_html(decoded.text)  # an article API's answer (parsers.jsonbody)
                if page is None:
                    raise ParseError("no body: JSON without an article field (content, html, body …)")
                decoded = Decoded(text=page, encoding=decoded.encoding, is_html=True)
        is_html, encoding = decoded.is_html, decoded.encoding
        tree = None
        if decoded.is_html:
            with stats.track("dom"):
                tree = parse_html(decoded.text)  # parsed once, shared by extract and metadata
            if tree is None:
                raise ParseError("no body: the HTML has no elements to extract from")
        with stats.track("extract"):
            extracted = extract(decoded, body_selector, tree=tree, url=url, body_selectors=rules.body_selectors)
        if extracted.method.startswith("selector:"):
            hits["body_" + extracted.method] = 1
        elif tree is not None:
            verdict = detect_script_filled(tree, url)
            if verdict is not None:
                stats.update("script_filled")
                raise ScriptFilledError(verdict.reason, verdict.api_url)
        with stats.track("metadata"):
            meta = extract_metadata(decoded, extracted, url, tree=tree) if tree is not None else Metadata()
    stats.update(f"extract_{extracted.method.split(':')[0]}")  # container / selector / trafilatura / text / pdf …
    with stats.track("clean"):
        cleaned = rules.apply_boilerplate(clean(extracted.paragraphs))
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
        rules_hit={**hits, **{k: v for k, v in cleaned.rules_hit.items() if is_site_rule(k)}},
    )


def _starts_with_table_row(paragraphs: list[str]) -> bool:
    """A spreadsheet's header row is no title."""
    first = next((p for p in paragraphs if p.strip()), "")
    return "\t" in first
