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
COPY needs two per table and measured no faster here. One document is a batch of one,
so the two paths cannot drift apart.

db knows nothing of the parser: a `DocumentWrite` carries the columns by name (the
parse model says which fields are columns; the catalog says their types) and the
`sections`/`facts` rows as db's own row types (`workers/stages/store.py` builds them).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import psycopg

from govingest.db import frontier, neardup
from govingest.db.feed import CHANNEL
from govingest.stats import Stats

WriteKind = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class WriteResult:
    kind: WriteKind
    document_id: int


class SectionRow(NamedTuple):
    """One `sections` row (minus document_id): the outline flattened in document order."""

    ord: int
    number: str
    parent: str | None
    depth: int
    marker: str | None
    heading: str | None
    start_para: int
    end_para: int
    items: list[str]


class FactRow(NamedTuple):
    """One `facts` row (minus document_id)."""

    ord: int
    indicator: str
    value: float
    unit: str
    qualifier: str | None
    span_start: int
    span_end: int
    section: str | None


class CitationRow(NamedTuple):
    """One `citations` row (minus document_id): a document the text cites, in order.

    Resolved to a document at read time (`v_citations`), by doc_number, else title_key.
    """

    ord: int
    title: str | None
    title_key: str | None
    doc_number: str | None
    kind: str | None


@dataclass(frozen=True)
class DocumentWrite:
    """One document to store: which URL and page it came from, its `documents` columns
    (name → value, jsonb values as JSON-able data: whatever the parse model marks as a
    column), its section and fact rows, and the hash of everything a consumer sees.

    db knows a few columns by name because it acts on them: `minhash` (near-duplicate
    clusters), `parser_version` (a version-only update), `encoding` (kept on the page).
    Every other column is written as given, typed by the table itself (see `_columns`).
    """

    url_id: int
    site: str
    page_id: int | None
    columns: Mapping[str, Any]
    sections: Sequence[SectionRow]
    facts: Sequence[FactRow]
    output_hash: str
    citations: Sequence[CitationRow] = ()
    bands: list[tuple[int, int]] = field(init=False)  # LSH bands of the MinHash, computed once

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", neardup.band_hashes(self.columns.get("minhash") or []))


# --- the documents table, as the catalog describes it ---------------------------------

_CATALOG = """SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
              WHERE a.attrelid = 'documents'::regclass AND a.attnum > 0 AND NOT a.attisdropped"""
_catalog_lock = threading.Lock()
_catalog: dict[tuple[str, ...], dict[str, str]] = {}  # database identity -> column -> type


def _database_key(conn: psycopg.Connection) -> tuple[str, ...]:
    info = conn.info
    return (info.host, str(info.port), info.dbname)


def _columns(conn: psycopg.Connection, names: Sequence[str]) -> list[tuple[str, str]]:
    """(name, SQL type) of `names` in `documents`, read from the catalog once per database
    and read again when a name is missing (a migration ran since): the parse model names
    the columns, the table types them, and nothing in between lists them again."""
    key = _database_key(conn)
    with _catalog_lock:
        known = _catalog.get(key)
    if known is None or any(n not in known for n in names):
        known = {r[0]: r[1] for r in conn.execute(_CATALOG).fetchall()}
        with _catalog_lock:
            _catalog[key] = known
    missing = [n for n in names if n not in known]
    if missing:
        raise LookupError(f"the parse output has field(s) {', '.join(missing)} but table documents has no such "
                          "column; add a migration in db/migrations/ that adds it, then run `govingest migrate`")
    return [(n, known[n]) for n in names]


def _travels_as_text(sql_type: str) -> bool:
    # jsonb values and per-row arrays cannot be unnested from an array of their own type
    # (unnest would flatten a 2-D array): they travel as text[] and are cast back
    return sql_type in ("json", "jsonb") or sql_type.endswith("[]")


def _array_literal(values: Sequence[Any]) -> str:
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _wire_value(value: Any, sql_type: str) -> Any:
    """A column value as `_INSERT`/`_UPDATE` send it."""
    if value is None:
        return None
    if sql_type in ("json", "jsonb"):
        return json.dumps(value, ensure_ascii=False)
    if sql_type.endswith("[]"):
        return _array_literal(value) if value else None
    return value


@dataclass(frozen=True)
class _Statements:
    insert: str
    update: str


_statements: dict[tuple[tuple[str, str], ...], _Statements] = {}


def _statements_for(columns: tuple[tuple[str, str], ...]) -> _Statements:
    """INSERT and UPDATE of documents for these (column, type) pairs, built once."""
    found = _statements.get(columns)
    if found is not None:
        return found
    names = ", ".join(n for n, _ in columns)
    arrays = ", ".join(f"%({n})b::{'text' if _travels_as_text(t) else t}[]" for n, t in columns)
    casts = ", ".join(f"v.{n}::{t}" if _travels_as_text(t) else f"v.{n}" for n, t in columns)
    # an attachment's parent is the page that linked it: the URL that discovered its URL
    parent = "CASE WHEN v.kind = 'attachment' THEN {} END"
    has_kind = any(n == "kind" for n, _ in columns)
    built = _Statements(
        insert=f"""
INSERT INTO documents (id, url_id, url, site, cluster_id, parent_url_id, {names})
SELECT v.id, u.id, u.url, v.site, v.cluster_id, {parent.format("u.discovered_from") if has_kind else "NULL"}, {casts}
FROM unnest(%(id)b::bigint[], %(url_id)b::bigint[], %(site)b::text[], %(cluster_id)b::bigint[], {arrays})
     AS v(id, url_id, site, cluster_id, {names})
JOIN urls u ON u.id = v.url_id
RETURNING url_id""",
        update=f"""
WITH old_sections AS (DELETE FROM sections WHERE document_id = ANY(%(id)b)),
     old_facts AS (DELETE FROM facts WHERE document_id = ANY(%(id)b)),
     old_citations AS (DELETE FROM citations WHERE document_id = ANY(%(id)b)),
     old_bands AS (DELETE FROM doc_lsh_bands WHERE document_id = ANY(%(id)b))
UPDATE documents d SET ({names}, site, cluster_id, parent_url_id, last_changed) = ({casts}, v.site, v.cluster_id,
    {parent.format("(SELECT u.discovered_from FROM urls u WHERE u.id = d.url_id)") if has_kind else "NULL"}, now())
FROM unnest(%(id)b::bigint[], %(site)b::text[], %(cluster_id)b::bigint[], {arrays})
     AS v(id, site, cluster_id, {names})
WHERE d.id = v.id""")
    _statements[columns] = built
    return built


def _json_insert(table: str, row_type: type[tuple[Any, ...]], param: str) -> str:
    """INSERT of rows sent as one JSON array of objects keyed by column name.

    Why JSON rather than one array per column: psycopg adapts list elements one by one
    in Python, while `json.dumps` of the whole batch runs in C and the server expands it
    with `json_populate_recordset` against the table's own row type.
    """
    names = ", ".join(("document_id", *row_type._fields))  # type: ignore[attr-defined]
    return (f"INSERT INTO {table} ({names}) SELECT {names} "
            f"FROM json_populate_recordset(NULL::{table}, %({param})s::json)")


# Sections, facts, citations, events, LSH bands and the NOTIFY in one statement (one round trip).
_CHILDREN = f"""
WITH s AS ({_json_insert("sections", SectionRow, "sections")}),
     f AS ({_json_insert("facts", FactRow, "facts")}),
     c AS ({_json_insert("citations", CitationRow, "citations")}),
     e AS (INSERT INTO doc_events (document_id, kind)
           SELECT * FROM unnest(%(e_document_id)b::bigint[], %(e_kind)b::text[])),
     b AS (INSERT INTO doc_lsh_bands (document_id, band, hash)
           SELECT * FROM unnest(%(b_document_id)b::bigint[], %(b_band)b::int[], %(b_hash)b::bigint[]))
SELECT pg_notify('{CHANNEL}', %(n)s)"""

# The opening statement, one round trip: take the band locks (before near-duplicate
# candidates are read), remember page encodings, lock this batch's existing documents
# (url_id order: batches never deadlock on each other) and draw ids for the new ones
# (known before the rows are written, so cluster ids can go into the INSERT instead of
# a second write).
_OPEN = f"""
WITH encodings AS (UPDATE pages p SET encoding = v.encoding
                   FROM unnest(%(pages)s::bigint[], %(encodings)s::text[]) AS v(id, encoding)
                   WHERE p.id = v.id AND p.encoding IS NULL),
     existing AS (SELECT url_id, id, output_hash, parser_version FROM documents
                  WHERE url_id = ANY(%(urls)s) ORDER BY url_id FOR UPDATE)
SELECT ({neardup.LOCK_SQL.replace("%s", "%(locks)s")}),
       (SELECT coalesce(json_agg(json_build_array(url_id, id, output_hash, parser_version)), '[]')
        FROM existing),
       (SELECT coalesce(array_agg(nextval(pg_get_serial_sequence('documents', 'id'))), '{{}}')
        FROM generate_series(1, cardinality(%(urls)s::bigint[]) - (SELECT count(*) FROM existing)))"""


def _json_rows(document_id: int, rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows of one document as the objects `_json_insert` expects."""
    return [{"document_id": document_id, **r._asdict()} for r in rows]  # type: ignore[attr-defined]


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
    for attempt in range(_ATTEMPTS):
        try:
            return _write_once(conn, writes, stats)
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


@dataclass
class _Batch:
    """One attempt at a batch: the last write per URL, in url_id order, and what each became."""

    last: dict[int, DocumentWrite]
    order: list[int]
    outcome: dict[int, WriteResult] = field(default_factory=dict)
    to_insert: list[int] = field(default_factory=list)
    to_update: list[int] = field(default_factory=list)
    # (parser_version, document id): same output, newer parser
    version_only: list[tuple[str, int]] = field(default_factory=list)

    @property
    def written(self) -> list[int]:
        return [u for u in self.order if self.outcome[u].kind != "unchanged"]

    def doc_id(self, url_id: int) -> int:
        return self.outcome[url_id].document_id


def _write_once(conn: psycopg.Connection, writes: Sequence[DocumentWrite], stats: Stats) -> list[WriteResult]:
    last = {w.url_id: w for w in writes}
    batch = _Batch(last, sorted(last))
    with stats.track("store"), conn.transaction():
        existing, new_ids, candidates = _open(conn, batch)
        _classify(batch, existing, new_ids)
        clusters = neardup.assign_clusters(
            [(u, batch.doc_id(u), batch.last[u].columns.get("minhash") or [], batch.last[u].bands)
             for u in batch.written], candidates)
        _write(conn, batch, clusters)
    for r in batch.outcome.values():
        stats.update(f"documents_{r.kind}")
    return [batch.outcome[w.url_id] for w in writes]


def _open(conn: psycopg.Connection, batch: _Batch
          ) -> tuple[dict[int, tuple[int, str, str]], list[int], list[tuple[Any, ...]]]:
    """Round trip 1: the URLs' parse outcome, locks, page encodings, existing rows, new ids
    and near-duplicate candidates, sent together (pipeline); the candidates statement runs
    after the band locks are held because the server runs the statements in order."""
    encodings = [(w.page_id, w.columns["encoding"]) for w in batch.last.values()
                 if w.page_id is not None and w.columns.get("encoding")]
    band_keys = [bh for u in batch.order for bh in batch.last[u].bands]
    with conn.pipeline():
        frontier.record_parsed(conn, batch.order)
        opened = conn.execute(_OPEN, {"urls": batch.order, "pages": [i for i, _ in encodings],
                                      "encodings": [e for _, e in encodings],
                                      "locks": neardup.lock_keys(band_keys)})
        near = conn.execute(neardup.CANDIDATES_SQL,
                            neardup.candidate_params([(u, batch.last[u].bands) for u in batch.order]))
        row = opened.fetchone()
        candidates = near.fetchall()
    assert row is not None
    existing = {r[0]: (r[1], r[2], r[3]) for r in row[1]}
    return existing, list(row[2]), candidates


def _classify(batch: _Batch, existing: dict[int, tuple[int, str, str]], new_ids: list[int]) -> None:
    """Created, updated or unchanged (same output hash; maybe a new parser version)."""
    batch.to_insert = [u for u in batch.order if u not in existing]
    for u, doc_id in zip(batch.to_insert, new_ids, strict=False):
        batch.outcome[u] = WriteResult("created", doc_id)
    for u in batch.order:
        if u not in existing:
            continue
        doc_id, old_hash, old_version = existing[u]
        w = batch.last[u]
        if old_hash != w.output_hash:
            batch.to_update.append(u)
            batch.outcome[u] = WriteResult("updated", doc_id)
            continue
        batch.outcome[u] = WriteResult("unchanged", doc_id)
        if old_version != w.columns["parser_version"]:
            batch.version_only.append((w.columns["parser_version"], doc_id))


def _write(conn: psycopg.Connection, batch: _Batch, clusters: dict[int, int]) -> None:
    """Round trip 2: every write of the batch in one pipeline; COMMIT follows."""
    written = batch.written
    columns = tuple(_columns(conn, ["page_id", "output_hash", *batch.last[written[0]].columns])) if written else ()
    with conn.pipeline():
        inserted = None
        if batch.to_insert:
            inserted = _upsert(conn, batch, batch.to_insert, clusters, columns, insert=True)
        if batch.to_update:
            _upsert(conn, batch, batch.to_update, clusters, columns, insert=False)
        if batch.version_only:
            # a newer parser may index differently: the new version queues the document for
            # search indexing again (migration 0110's trigger)
            conn.cursor().executemany("UPDATE documents SET parser_version = %s WHERE id = %s", batch.version_only)
        if written:
            conn.execute(_CHILDREN, _children_params(batch, written, clusters))
        if inserted is not None:
            missing = set(batch.to_insert) - {r[0] for r in inserted.fetchall()}
            if missing:
                raise LookupError(f"url ids {sorted(missing)} have no row in urls; "
                                  "store the URL before its document")


def _upsert(conn: psycopg.Connection, batch: _Batch, url_ids: list[int], clusters: dict[int, int],
            columns: tuple[tuple[str, str], ...], *, insert: bool) -> psycopg.Cursor[Any]:
    """INSERT (new documents) or UPDATE (changed ones) of `url_ids`, one statement."""
    params: dict[str, list[Any]] = {"id": [], "url_id": [], "site": [], "cluster_id": [],
                                    **{n: [] for n, _ in columns}}
    for u in url_ids:
        w = batch.last[u]
        doc_id = batch.doc_id(u)
        values = {"page_id": w.page_id, "output_hash": w.output_hash, **w.columns}
        params["id"].append(doc_id)
        params["url_id"].append(u)
        params["site"].append(w.site)
        params["cluster_id"].append(clusters[doc_id])
        for name, sql_type in columns:
            params[name].append(_wire_value(values[name], sql_type))
    statements = _statements_for(columns)
    return conn.execute(statements.insert if insert else statements.update, params)


def _children_params(batch: _Batch, written: list[int], clusters: dict[int, int]) -> dict[str, Any]:
    sections = [r for u in written for r in _json_rows(batch.doc_id(u), batch.last[u].sections)]
    facts = [r for u in written for r in _json_rows(batch.doc_id(u), batch.last[u].facts)]
    citations = [r for u in written for r in _json_rows(batch.doc_id(u), batch.last[u].citations)]
    # bands of cluster representatives only (neardup.representative_bands)
    bands = neardup.band_rows(neardup.representative_bands(
        [(batch.doc_id(u), batch.last[u].bands) for u in written], clusters))
    return {
        "sections": json.dumps(sections, ensure_ascii=False),
        "facts": json.dumps(facts, ensure_ascii=False),
        "citations": json.dumps(citations, ensure_ascii=False),
        "e_document_id": [batch.doc_id(u) for u in written],
        "e_kind": [batch.outcome[u].kind for u in written],
        "b_document_id": [b[0] for b in bands], "b_band": [b[1] for b in bands], "b_hash": [b[2] for b in bands],
        "n": str(len(written)),
    }


# --- withdrawn and restored (issue 16) ---------------------------------------------------
# The document keeps its text; `withdrawn_at` says the site took it down. One event per
# change of state, written with the NOTIFY in the same statement as the flag, so the
# feed has `withdrawn` exactly once per withdrawal and `restored` once per return.


def _flag_change(assign: str, condition: str, event: str) -> str:
    """Set the flag on the documents of `%(urls)s` that meet `condition`, one `event` each,
    and notify the feed's channel: one statement, one count."""
    return f"""
WITH d AS (UPDATE documents SET {assign} WHERE url_id = ANY(%(urls)s) AND {condition} RETURNING id),
     e AS (INSERT INTO doc_events (document_id, kind) SELECT id, '{event}' FROM d)
SELECT count(*), CASE WHEN count(*) > 0 THEN pg_notify('{CHANNEL}', count(*)::text) END FROM d"""


_WITHDRAW = _flag_change("withdrawn_at = now(), withdrawn_reason = %(reason)s", "withdrawn_at IS NULL", "withdrawn")
_RESTORE = _flag_change("withdrawn_at = NULL, withdrawn_reason = NULL",
                        "withdrawn_at IS NOT NULL AND withdrawn_reason = ANY(%(reasons)s)", "restored")


def mark_withdrawn(conn: psycopg.Connection, url_ids: Sequence[int], reason: str) -> int:
    """Mark the documents of `url_ids` withdrawn (those not already): one `withdrawn` event
    each; returns how many. The caller commits."""
    if not url_ids:
        return 0
    row = conn.execute(_WITHDRAW, {"urls": list(url_ids), "reason": reason}).fetchone()
    return int(row[0]) if row else 0


def mark_restored(conn: psycopg.Connection, url_ids: Sequence[int], reasons: Sequence[str]) -> int:
    """Documents of `url_ids` withdrawn for one of `reasons` are back: `withdrawn_at`
    cleared, one `restored` event each; returns how many. The caller commits.

    `reasons` because evidence is specific: the article answering 200 again undoes a
    404 or an error redirect, not a delisting (the page may have stayed up all along);
    reappearing on its list undoes a delisting."""
    if not url_ids:
        return 0
    row = conn.execute(_RESTORE, {"urls": list(url_ids), "reasons": list(reasons)}).fetchone()
    return int(row[0]) if row else 0
