"""Writing parsed documents: idempotent upserts, sections, facts and the change feed.

The contract consumers rely on:
* one document per canonical URL (`documents.url_id` is unique);
* output unchanged (same `output_hash` of the whole parse output) → no write and
  no event; changed → document, sections and facts replaced and one `updated`
  event; new → one `created` event;
* everything for a document happens in one transaction, so a crash leaves either
  the old document or the new one, never a mix.

`write_documents` is the batched path (reparse, demo, ingest of many files): one
transaction for the batch. Every statement takes whole columns as arrays (sent in
binary) and `unnest`s them, so a write costs the same round trips for one document
or a hundred, and psycopg's pipeline mode sends dependent-free statements together:
(1) band locks, URL/page bookkeeping, existing rows, new ids and near-duplicate
candidates; (2) the document rows, sections + facts + event + bands + NOTIFY; then
COMMIT. On a loaded server round trips, not bytes, dominate;
COPY needs two per table and measured no faster here. `write_document`
is the same code for one document, so the two paths cannot drift apart.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import psycopg

from govingest.db import neardup
from govingest.parsers.model import OutlineNode, ParsedDocument
from govingest.parsers.stats import Stats

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
    bands: list[tuple[int, int]]  # LSH bands of the MinHash (locks, candidates, stored rows)


def _prepare(w: DocumentWrite) -> _Prepared:
    sections = section_rows(w.doc.outline)
    facts = fact_rows(w.doc)
    return _Prepared(w, sections, facts, output_hash(w.doc, sections, facts),
                     neardup.band_hashes(w.doc.signature.minhash))


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
                         node.start, node.end, list(node.items)))
            walk(node.children, number, depth + 1)

    walk(outline, None, 0)
    return rows


def fact_rows(doc: ParsedDocument) -> list[tuple[Any, ...]]:
    """`facts` rows (minus document_id), in document order."""
    return [(i, f.indicator, float(f.value), f.unit, f.qualifier, f.span[0], f.span[1], f.section)
            for i, f in enumerate(doc.facts)]


def _published_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# Columns written from a parse, in the order of `_doc_params` and the SQL below.
_DOC_FIELDS: list[tuple[str, str]] = [
    ("page_id", "bigint"), ("title", "text"), ("published_at", "text"), ("published_date", "date"),
    ("source", "text"), ("site_name", "text"), ("script", "text"), ("text", "text"),
    ("outline", "jsonb"), ("flags", "jsonb"), ("removed", "jsonb"), ("encoding", "text"),
    ("extract_method", "text"), ("content_hash", "text"), ("output_hash", "text"),
    ("minhash", "bigint[]"), ("parser_version", "text"),
]
_NAMES = ", ".join(n for n, _ in _DOC_FIELDS)
# Arrays travel as text[] for the types unnest cannot take directly (jsonb values,
# bigint[] per row: unnest would flatten a 2-D array); the SELECT casts them back.
_ARRAY_TYPES = ", ".join(f"%({n})b::{'text' if t in ('jsonb', 'bigint[]') else t}[]" for n, t in _DOC_FIELDS)
_CASTS = ", ".join(f"v.{n}::{t}" if t in ("jsonb", "bigint[]") else f"v.{n}" for n, t in _DOC_FIELDS)

_INSERT = f"""
INSERT INTO documents (id, url_id, url, site, cluster_id, {_NAMES})
SELECT v.id, u.id, u.url, v.site, v.cluster_id, {_CASTS}
FROM unnest(%(id)b::bigint[], %(url_id)b::bigint[], %(site)b::text[], %(cluster_id)b::bigint[], {_ARRAY_TYPES})
     AS v(id, url_id, site, cluster_id, {_NAMES})
JOIN urls u ON u.id = v.url_id
RETURNING url_id"""

_UPDATE = f"""
WITH old_sections AS (DELETE FROM sections WHERE document_id = ANY(%(id)b)),
     old_facts AS (DELETE FROM facts WHERE document_id = ANY(%(id)b)),
     old_bands AS (DELETE FROM doc_lsh_bands WHERE document_id = ANY(%(id)b))
UPDATE documents d SET ({_NAMES}, site, cluster_id, last_changed) = ({_CASTS}, v.site, v.cluster_id, now())
FROM unnest(%(id)b::bigint[], %(site)b::text[], %(cluster_id)b::bigint[], {_ARRAY_TYPES})
     AS v(id, site, cluster_id, {_NAMES})
WHERE d.id = v.id"""

_SECTION_COLUMNS = [("document_id", "bigint"), ("ord", "int"), ("number", "text"), ("parent", "text"),
                    ("depth", "int"), ("marker", "text"), ("heading", "text"), ("start_para", "int"),
                    ("end_para", "int"), ("items", "jsonb")]
_FACT_COLUMNS = [("document_id", "bigint"), ("ord", "int"), ("indicator", "text"), ("value", "float8"),
                 ("unit", "text"), ("qualifier", "text"), ("span_start", "int"), ("span_end", "int"),
                 ("section", "text")]


def _json_insert(table: str, columns: list[tuple[str, str]], param: str) -> str:
    """INSERT of rows sent as one JSON array of objects keyed by column name.

    Why JSON rather than one array per column: psycopg adapts list elements one by one
    in Python, while `json.dumps` of the whole batch runs in C and the server expands it
    with `json_populate_recordset` against the table's own row type.
    """
    names = ", ".join(n for n, _ in columns)
    return (f"INSERT INTO {table} ({names}) SELECT {names} "
            f"FROM json_populate_recordset(NULL::{table}, %({param})s::json)")


# Sections, facts, events, LSH bands and the NOTIFY in one statement (one round trip).
_CHILDREN = f"""
WITH s AS ({_json_insert("sections", _SECTION_COLUMNS, "sections")}),
     f AS ({_json_insert("facts", _FACT_COLUMNS, "facts")}),
     e AS (INSERT INTO doc_events (document_id, kind)
           SELECT * FROM unnest(%(e_document_id)b::bigint[], %(e_kind)b::text[])),
     b AS (INSERT INTO doc_lsh_bands (document_id, band, hash)
           SELECT * FROM unnest(%(b_document_id)b::bigint[], %(b_band)b::int[], %(b_hash)b::bigint[]))
SELECT pg_notify('doc_events', %(n)s)"""

# The opening statement, one round trip: take the band locks (before near-duplicate
# candidates are read), mark URLs whose earlier parse failed as healthy, remember page
# encodings, lock this batch's existing documents (url_id order: batches never
# deadlock on each other) and draw ids for the new ones (known before the rows are
# written, so cluster ids can go into the INSERT instead of a second write).
_OPEN = f"""
WITH fixed AS (UPDATE urls SET state = 'done', last_error_kind = NULL, last_error = NULL
               WHERE id = ANY(%(urls)s) AND state = 'failed' AND last_error_kind = 'parse'),
     encodings AS (UPDATE pages p SET encoding = v.encoding
                   FROM unnest(%(pages)s::bigint[], %(encodings)s::text[]) AS v(id, encoding)
                   WHERE p.id = v.id AND p.encoding IS NULL),
     existing AS (SELECT url_id, id, output_hash, parser_version FROM documents
                  WHERE url_id = ANY(%(urls)s) ORDER BY url_id FOR UPDATE)
SELECT ({neardup.LOCK_SQL.replace("%s", "%(locks)s")}),
       (SELECT coalesce(json_agg(json_build_array(url_id, id, output_hash, parser_version)), '[]')
        FROM existing),
       (SELECT coalesce(array_agg(nextval(pg_get_serial_sequence('documents', 'id'))), '{{}}')
        FROM generate_series(1, cardinality(%(urls)s::bigint[]) - (SELECT count(*) FROM existing)))"""


def _pg_array(values: Sequence[int]) -> str | None:
    return "{" + ",".join(str(int(v)) for v in values) + "}" if values else None


def _json_rows(rows: list[tuple[Any, ...]], columns: list[tuple[str, str]]) -> str:
    """Row tuples → the JSON array `_json_insert` expects."""
    names = [n for n, _ in columns]
    return json.dumps([dict(zip(names, r, strict=False)) for r in rows], ensure_ascii=False)


def _doc_params(items: list[tuple[int, int, int, _Prepared]]) -> dict[str, list[Any]]:
    """Parameters of `_INSERT`/`_UPDATE` from (document id, url id, cluster id, write)."""
    cols: dict[str, list[Any]] = {"id": [], "url_id": [], "site": [], "cluster_id": [],
                                  **{n: [] for n, _ in _DOC_FIELDS}}
    for doc_id, url_id, cluster_id, p in items:
        d = p.write.doc
        values = (p.write.page_id, d.title, d.published_at, _published_date(d.published_at), d.source,
                  d.site_name, d.script, d.text,
                  json.dumps([n.to_json() for n in d.outline], ensure_ascii=False),
                  json.dumps(asdict(d.flags)), json.dumps(list(d.removed), ensure_ascii=False),
                  d.encoding, d.extract_method, d.signature.content_hash, p.output_hash,
                  _pg_array(d.signature.minhash), d.parser_version)
        cols["id"].append(doc_id)
        cols["url_id"].append(url_id)
        cols["site"].append(p.write.site)
        cols["cluster_id"].append(cluster_id)
        for (name, _), value in zip(_DOC_FIELDS, values, strict=False):
            cols[name].append(value)
    return cols


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
    last: dict[int, _Prepared] = {p.write.url_id: p for p in prepared}
    order = sorted(last)
    outcome: dict[int, WriteResult] = {}
    with stats.track("store"), conn.transaction():
        band_keys = [bh for u in order for bh in last[u].bands]
        encodings = [(p.write.page_id, p.write.doc.encoding) for p in last.values()
                     if p.write.page_id is not None and p.write.doc.encoding]
        # Round trip 1: locks, bookkeeping, existing rows, new ids and near-duplicate
        # candidates, sent together (pipeline); the candidates statement runs after the
        # band locks are held because the server runs the two in order.
        with conn.pipeline():
            opened = conn.execute(_OPEN, {"urls": order, "pages": [i for i, _ in encodings],
                                          "encodings": [e for _, e in encodings],
                                          "locks": neardup.lock_keys(band_keys)})
            near = conn.execute(neardup.CANDIDATES_SQL,
                                neardup.candidate_params([(u, last[u].bands) for u in order]))
            row = opened.fetchone()
            candidates = near.fetchall()
        assert row is not None
        existing = {r[0]: (r[1], r[2], r[3]) for r in row[1]}
        new_ids = list(row[2])
        to_insert = [u for u in order if u not in existing]
        to_update: list[int] = []
        version_only: list[tuple[str, int]] = []
        for u in order:
            if u not in existing:
                continue
            doc_id, old_hash, old_version = existing[u]
            w = last[u].write
            if old_hash == last[u].output_hash:
                outcome[u] = WriteResult("unchanged", doc_id)
                if old_version != w.doc.parser_version:
                    version_only.append((w.doc.parser_version, doc_id))
            else:
                to_update.append(u)
        for u, doc_id in zip(to_insert, new_ids, strict=False):
            outcome[u] = WriteResult("created", doc_id)
        for u in to_update:
            outcome[u] = WriteResult("updated", existing[u][0])
        written = [u for u in order if outcome[u].kind != "unchanged"]
        clusters = neardup.assign_clusters(
            [(u, outcome[u].document_id, last[u].write.doc.signature.minhash, last[u].bands) for u in written],
            candidates)
        # Round trip 2: every write of the batch in one pipeline; COMMIT follows.
        with conn.pipeline():
            inserted = None
            if to_insert:
                inserted = conn.execute(_INSERT, _doc_params(
                    [(outcome[u].document_id, u, clusters[outcome[u].document_id], last[u]) for u in to_insert]))
            if to_update:
                conn.execute(_UPDATE, _doc_params(
                    [(outcome[u].document_id, u, clusters[outcome[u].document_id], last[u]) for u in to_update]))
            if version_only:
                conn.cursor().executemany("UPDATE documents SET parser_version = %s WHERE id = %s", version_only)
            if written:
                sections = [(outcome[u].document_id, *r) for u in written for r in last[u].sections]
                facts = [(outcome[u].document_id, *r) for u in written for r in last[u].facts]
                bands = neardup.band_rows([(outcome[u].document_id, last[u].bands) for u in written])
                conn.execute(_CHILDREN, {
                    "sections": _json_rows(sections, _SECTION_COLUMNS),
                    "facts": _json_rows(facts, _FACT_COLUMNS),
                    "e_document_id": [outcome[u].document_id for u in written],
                    "e_kind": [outcome[u].kind for u in written],
                    "b_document_id": [b[0] for b in bands], "b_band": [b[1] for b in bands],
                    "b_hash": [b[2] for b in bands],
                    "n": str(len(written)),
                })
            if inserted is not None:
                missing = set(to_insert) - {r[0] for r in inserted.fetchall()}
                if missing:
                    raise LookupError(f"url ids {sorted(missing)} have no row in urls; "
                                      "store the URL before its document")
    for r in outcome.values():
        stats.update(f"documents_{r.kind}")
    return [outcome[w.url_id] for w in writes]


def write_document(
    conn: psycopg.Connection, *, url_id: int, site: str, page_id: int | None, doc: ParsedDocument,
    stats: Stats | None = None,
) -> WriteResult:
    """Store one document in its own transaction (see the module docstring)."""
    return write_documents(conn, [DocumentWrite(url_id, site, page_id, doc)], stats=stats)[0]
