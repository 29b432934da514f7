"""Writing parsed documents: idempotent upserts, sections, facts and the change feed.

The contract consumers rely on:
* one document per canonical URL (`documents.url_id` is unique);
* output unchanged (same `output_hash` of the whole parse output) → no write and
  no event; changed → document, sections and facts replaced and one `updated`
  event; new → one `created` event;
* everything for a document happens in one transaction, so a crash leaves either
  the old document or the new one, never a mix.

`write_documents` is the batched path (reparse, demo, ingest of many files): one
transaction for the batch, `executemany` (pipelined in psycopg 3) for documents and
COPY for sections, facts and LSH bands. `write_document` is the same code for one
document, so the two paths cannot drift apart.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal, Sequence

import psycopg
from psycopg.types.json import Jsonb

from db import bulk, neardup
from db.pages import record_encodings
from parsers.model import OutlineNode, ParsedDocument
from parsers.stats import Stats

WriteKind = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class WriteResult:
    kind: WriteKind
    document_id: int


@dataclass(frozen=True)
class DocumentWrite:
    """One document to store: which URL and page it came from, and the parse output."""

    url_id: int
    site: str
    page_id: int | None
    doc: ParsedDocument


@dataclass(frozen=True)
class _Prepared:
    """Everything derived from a parse before touching the database (computed once)."""

    write: DocumentWrite
    sections: list[tuple[Any, ...]]  # section rows without the document id
    facts: list[tuple[Any, ...]]  # fact rows without the document id
    output_hash: str


def _prepare(w: DocumentWrite) -> _Prepared:
    sections = section_rows(w.doc.outline)
    facts = fact_rows(w.doc)
    return _Prepared(w, sections, facts, output_hash(w.doc, sections, facts))


def output_hash(doc: ParsedDocument, sections: list[tuple[Any, ...]] | None = None,
                facts: list[tuple[Any, ...]] | None = None) -> str:
    """sha256 of everything a consumer can see of a parse (not just the text).

    Why not `signature.content_hash` alone: a parser change can alter the outline,
    facts or title while the text stays the same, and `reparse` must rewrite those.
    Hashed from the rows we store (cheaper than `to_json`, and exactly what changes).
    """
    payload = [doc.url, doc.title, doc.published_at, doc.source, doc.site_name, doc.script, doc.text,
               asdict(doc.flags), list(doc.removed), doc.encoding, doc.extract_method,
               section_rows(doc.outline) if sections is None else sections,
               fact_rows(doc) if facts is None else facts]
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def section_rows(outline: Sequence[OutlineNode]) -> list[tuple[Any, ...]]:
    """Flatten the outline tree in document order into `sections` rows (minus document_id).

    The dotted number comes from the parser (`OutlineNode.number`, which facts refer
    to); a node without one gets its position path so the key is never empty.
    """
    rows: list[tuple[Any, ...]] = []

    def walk(nodes: Sequence[OutlineNode], parent: str | None, depth: int) -> None:
        for i, node in enumerate(nodes, start=1):
            number = node.number or (f"{parent}.{i}" if parent else str(i))
            rows.append((len(rows), number, parent, depth, node.marker, node.heading,
                         node.start, node.end, json.dumps(list(node.items), ensure_ascii=False)))
            walk(node.children, number, depth + 1)

    walk(outline, None, 0)
    return rows


def fact_rows(doc: ParsedDocument) -> list[tuple[Any, ...]]:
    """`facts` rows (minus document_id), in document order."""
    return [(i, f.indicator, f.value, f.unit, f.qualifier, f.span[0], f.span[1], f.section)
            for i, f in enumerate(doc.facts)]


def _published_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


_DOC_COLUMNS = ("page_id, title, published_at, published_date, source, site_name, script, text, "
                "outline, flags, removed, encoding, extract_method, content_hash, output_hash, "
                "minhash, parser_version")


def _doc_values(p: _Prepared) -> tuple[Any, ...]:
    w, ohash = p.write, p.output_hash
    d = w.doc
    return (w.page_id, d.title, d.published_at, _published_date(d.published_at), d.source, d.site_name,
            d.script, d.text, Jsonb([n.to_json() for n in d.outline]), Jsonb(asdict(d.flags)),
            Jsonb(list(d.removed)), d.encoding, d.extract_method, d.signature.content_hash, ohash,
            [int(v) for v in d.signature.minhash] or None, d.parser_version)


_SECTION_COLUMNS = ("document_id", "ord", "number", "parent", "depth", "marker", "heading",
                    "start_para", "end_para", "items")
_FACT_COLUMNS = ("document_id", "ord", "indicator", "value", "unit", "qualifier", "span_start",
                 "span_end", "section")

_INSERT = f"""
INSERT INTO documents (url_id, url, site, {_DOC_COLUMNS})
SELECT u.id, u.url, %s, {", ".join(["%s"] * 17)} FROM urls u WHERE u.id = %s
RETURNING id"""

_UPDATE = f"""
UPDATE documents SET ({_DOC_COLUMNS}, site, last_changed) =
    ({", ".join(["%s"] * 17)}, %s, now())
WHERE id = %s"""


def write_documents(
    conn: psycopg.Connection, writes: Sequence[DocumentWrite], *, stats: Stats | None = None
) -> list[WriteResult]:
    """Store a batch in one transaction; results are in the order of `writes`.

    Two writes for the same URL in one batch: the last wins (earlier ones report the
    same outcome as the last). Rows are locked in url_id order, so concurrent batches
    cannot deadlock on each other.
    """
    stats = stats if stats is not None else Stats()
    if not writes:
        return []
    prepared = [_prepare(w) for w in writes]
    for attempt in range(_ATTEMPTS):
        try:
            return _write_once(conn, prepared, stats)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected) as exc:
            # Another worker inserted the same URL's document between our check and our
            # insert (or two batches crossed): the transaction was rolled back whole, and
            # a retry now sees that row and updates it or finds it unchanged.
            if (isinstance(exc, psycopg.errors.UniqueViolation)
                    and exc.diag.constraint_name not in ("documents_url_id_key", "documents_url_key")):
                raise
            if attempt == _ATTEMPTS - 1:
                raise
            stats.update("store_retries")
    raise AssertionError("unreachable")


_ATTEMPTS = 3


def _write_once(conn: psycopg.Connection, prepared: list[_Prepared], stats: Stats) -> list[WriteResult]:
    writes = [p.write for p in prepared]
    last: dict[int, _Prepared] = {}
    for p in prepared:
        last[p.write.url_id] = p
    order = sorted(last)
    outcome: dict[int, WriteResult] = {}
    with stats.track("store"), conn.transaction():
        neardup.lock_bands(conn, [bh for u in order
                                  for bh in neardup.band_hashes(last[u].write.doc.signature.minhash)])
        existing = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                """SELECT url_id, id, output_hash, parser_version FROM documents
                   WHERE url_id = ANY(%s) ORDER BY url_id FOR UPDATE""", (order,)).fetchall()
        }
        to_insert = [u for u in order if u not in existing]
        to_update: list[int] = []
        version_only: list[tuple[str, int]] = []
        for u in order:
            if u not in existing:
                continue
            doc_id, old_hash, old_version = existing[u]
            w, ohash = last[u].write, last[u].output_hash
            if old_hash == ohash:
                outcome[u] = WriteResult("unchanged", doc_id)
                if old_version != w.doc.parser_version:
                    version_only.append((w.doc.parser_version, doc_id))
            else:
                to_update.append(u)
        cur = conn.cursor()
        if to_insert:
            cur.executemany(_INSERT, [(last[u].write.site, *_doc_values(last[u]), u) for u in to_insert],
                            returning=True)
            new_ids: list[int] = []
            while True:
                row = cur.fetchone()
                if row is None:
                    raise LookupError("a document's url_id has no row in urls; store the URL first")
                new_ids.append(row[0])
                if not cur.nextset():
                    break
            if len(new_ids) != len(to_insert):
                raise LookupError("a document's url_id has no row in urls; store the URL first")
            for u, doc_id in zip(to_insert, new_ids):
                outcome[u] = WriteResult("created", doc_id)
        if to_update:
            cur.executemany(_UPDATE, [(*_doc_values(last[u]), last[u].write.site, existing[u][0])
                                      for u in to_update])
            for u in to_update:
                outcome[u] = WriteResult("updated", existing[u][0])
            changed_ids = [existing[u][0] for u in to_update]
            conn.execute("DELETE FROM sections WHERE document_id = ANY(%s)", (changed_ids,))
            conn.execute("DELETE FROM facts WHERE document_id = ANY(%s)", (changed_ids,))
        # a URL whose earlier page failed to parse is healthy again once a parse lands
        conn.execute("""UPDATE urls SET state = 'done', last_error_kind = NULL, last_error = NULL
                        WHERE id = ANY(%s) AND state = 'failed' AND last_error_kind = 'parse'""", (order,))
        record_encodings(conn, [(p.write.page_id, p.write.doc.encoding) for p in last.values()
                                if p.write.page_id is not None and p.write.doc.encoding])
        if version_only:
            cur.executemany("UPDATE documents SET parser_version = %s WHERE id = %s", version_only)
        written = [u for u in order if outcome[u].kind != "unchanged"]
        if written:
            bulk.copy_rows(cur, "sections", _SECTION_COLUMNS,
                           [(outcome[u].document_id, *row) for u in written for row in last[u].sections])
            bulk.copy_rows(cur, "facts", _FACT_COLUMNS,
                           [(outcome[u].document_id, *row) for u in written for row in last[u].facts])
            cur.executemany("INSERT INTO doc_events (document_id, kind) VALUES (%s, %s)",
                            [(outcome[u].document_id, outcome[u].kind) for u in written])
            neardup.assign_clusters(conn, [(outcome[u].document_id, last[u].write.doc.signature.minhash)
                                           for u in written])
            conn.execute("SELECT pg_notify('doc_events', %s)", (str(len(written)),))
    for r in outcome.values():
        stats.update(f"documents_{r.kind}")
    return [outcome[w.url_id] for w in writes]


def write_document(
    conn: psycopg.Connection, *, url_id: int, site: str, page_id: int | None, doc: ParsedDocument,
    stats: Stats | None = None,
) -> WriteResult:
    """Store one document in its own transaction (see the module docstring)."""
    return write_documents(conn, [DocumentWrite(url_id, site, page_id, doc)], stats=stats)[0]
