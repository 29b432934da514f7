"""From a parse to the rows `db.documents` stores: the one place that knows both shapes.

Why here, between the two: `parsers/` knows nothing of tables and `db/` nothing of the
parser. The parse model marks which of its fields are `documents` columns
(`ParsedDocument.columns`); this module adds the outline flattened into `sections`
rows, the facts as `facts` rows, and the output hash over everything a consumer sees.
(The search vector is not written here: `workers/stages/index.py` computes it after.)
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from govingest.db.documents import CitationRow, DocumentWrite, FactRow, SectionRow
from govingest.parsers.model import OutlineNode, ParsedDocument


def document_write(url_id: int, site: str, page_id: int | None, doc: ParsedDocument) -> DocumentWrite:
    """What `db.documents.write_documents` needs to store `doc` for URL `url_id`."""
    sections = section_rows(doc.outline)
    facts = fact_rows(doc)
    citations = citation_rows(doc)
    return DocumentWrite(url_id=url_id, site=site, page_id=page_id, columns=doc.columns(),
                         sections=sections, facts=facts, citations=citations,
                         output_hash=output_hash(doc, sections, facts, citations))


def output_hash(doc: ParsedDocument, sections: Sequence[SectionRow], facts: Sequence[FactRow],
                citations: Sequence[CitationRow] = ()) -> str:
    """sha256 of everything a consumer can see of a parse (not just the text).

    Why not `signature.content_hash` alone: a parser change can alter the outline,
    facts or title while the text stays the same, and `reparse` must rewrite those.
    Hashed from the values and rows we store (cheaper than `to_json`, and exactly what
    changes); a new column of the parse model joins the hash by itself.
    """
    payload = [*doc.hashed_values(), sections, facts, citations]
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def section_rows(outline: Sequence[OutlineNode]) -> list[SectionRow]:
    """Flatten the outline tree in document order into `sections` rows.

    The dotted number comes from the parser (`OutlineNode.number`, which facts refer
    to); a node without one gets its position path so the key is never empty.
    """
    rows: list[SectionRow] = []

    def walk(nodes: Sequence[OutlineNode], parent: str | None, depth: int) -> None:
        for i, node in enumerate(nodes, start=1):
            number = node.number or (f"{parent}.{i}" if parent else str(i))
            rows.append(SectionRow(len(rows), number, parent, depth, node.marker, node.heading,
                                   node.start, node.end, list(node.items)))
            walk(node.children, number, depth + 1)

    walk(outline, None, 0)
    return rows


def fact_rows(doc: ParsedDocument) -> list[FactRow]:
    """`facts` rows, in document order."""
    return [FactRow(i, f.indicator, float(f.value), f.unit, f.qualifier, f.span[0], f.span[1], f.section)
            for i, f in enumerate(doc.facts)]


def citation_rows(doc: ParsedDocument) -> list[CitationRow]:
    """`citations` rows, in the order the text cites them."""
    return [CitationRow(i, c.title, c.title_key, c.doc_number, c.kind) for i, c in enumerate(doc.citations)]
