"""Writing parsed documents: idempotent upserts, sections, facts and the change feed.

The contract consumers rely on:
* one document per canonical URL (`documents.url_id` is unique);
* output unchanged (same `output_hash` of the whole parse output) → no write and
  no event; changed → document, sections and facts replaced and one `updated`
  event; new → one `created` event;
* everything for a document happens in one transaction, so a crash leaves either
  the old document or the new one, never a mix.

`write_documents` is the batched path (reparse, demo, ingest of many files): one
transaction for the batch. Every statement takes whole columns (document and child rows
as one JSON array each, keys and ids as array literals) and expands them on the server,
so a write costs the same round trips and the same plans for one document or a hundred:
(1) plan settings, band locks, URL and page bookkeeping, existing rows, new ids and
near-duplicate candidates, sent together in psycopg's pipeline mode; (2) the new
document rows with their sections + facts + citations + event + bands + NOTIFY in one
statement (a changed document's UPDATE, which deletes its old children, goes before it
in the same pipeline); then COMMIT. On a loaded server round trips, not bytes, dominate;
COPY needs two per table and measured no faster here. One document is a batch of one,
so the two paths cannot drift apart (tests/db/test_documents.py compares them).

The plans are generic (`_GENERIC_PLANS`): planned once per connection, whatever the batch
size. So no statement may let a row estimate choose a scan: rows are found by key
(`id = ANY(…)`, a subquery per row), never by a join planned for 100 rows.

db knows nothing of the parser: a `DocumentWrite` carries the columns by name (the
parse model says which fields are columns; the catalog says their types) and the
`sections`/`facts` rows as db's own row types (`workers/stages/store.py` builds them).
"""
from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import psycopg

from govingest.db import frontier, neardup
from govingest.db.arrays import array_literal, int_array_literal
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


def _json_value(value: Any, sql_type: str) -> Any:
    """A column value as the JSON rows of `_INSERT`/`_UPDATE` carry it: an empty array is
    stored as NULL (no MinHash, no removed lines); everything else as it is, dates and
    other non-JSON scalars as their ISO text, which the column's input function reads."""
    if sql_type.endswith("[]") and not value:
        return None
    return value


def _json_rows_text(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class _Statements:
    insert_with_children: str  # new documents, their children, events and NOTIFY
    update: str


_statements: dict[tuple[str, ...], _Statements] = {}

# an attachment's parent is the page that linked it: the URL that discovered its URL.
# The urls row is read by primary key in a subquery, not joined: the JSON rows are
# estimated at 100, and a join planned for 100 rows hashed a scan of the whole urls table.
_PARENT = "CASE WHEN v.kind = 'attachment' THEN {} END"
_DISCOVERED_FROM = "(SELECT u.discovered_from FROM urls u WHERE u.id = v.url_id)"


def _statements_for(names: tuple[str, ...]) -> _Statements:
    """INSERT and UPDATE of documents for these columns, built once.

    The rows travel as one JSON array of objects keyed by column name and are expanded
    against the table's own row type (`json_populate_recordset(NULL::documents, …)`), so
    each value arrives typed by its column. Why not one array parameter per column (as
    before): psycopg adapts each of ~40 arrays in Python, the largest client cost of a
    one-document write, and the statement was planned again on every execution (custom
    plans: `unnest` of the actual arrays looked cheaper than the generic plan).
    """
    found = _statements.get(names)
    if found is not None:
        return found
    listed = ", ".join(names)
    values = ", ".join(f"v.{n}" for n in names)
    rows = "json_populate_recordset(NULL::documents, %(rows)s::json) AS v"
    built = _Statements(
        insert_with_children=_children(f"""
INSERT INTO documents (id, url_id, url, site, cluster_id, parent_url_id, {listed})
SELECT v.id, v.url_id, (SELECT u.url FROM urls u WHERE u.id = v.url_id), v.site, v.cluster_id,
       {_PARENT.format(_DISCOVERED_FROM)}, {values}
FROM {rows}"""),
        update=f"""
WITH old_sections AS (DELETE FROM sections WHERE document_id = ANY(%(ids)s::bigint[])),
     old_facts AS (DELETE FROM facts WHERE document_id = ANY(%(ids)s::bigint[])),
     old_citations AS (DELETE FROM citations WHERE document_id = ANY(%(ids)s::bigint[])),
     old_bands AS (DELETE FROM doc_lsh_bands WHERE document_id = ANY(%(ids)s::bigint[]))
UPDATE documents d SET ({listed}, site, cluster_id, parent_url_id, last_changed) = ({values}, v.site, v.cluster_id,
    {_PARENT.format(_DISCOVERED_FROM)}, now())
FROM {rows}
WHERE d.id = v.id AND d.id = ANY(%(ids)s::bigint[])""")  # ANY: found by primary key, never a scan
    _statements[names] = built
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


def _children(insert: str | None) -> str:
    """Sections, facts, citations, events, LSH bands and the NOTIFY in one statement, after
    `insert` (the new documents' INSERT) when there are new documents: one statement
    fewer, and its foreign keys are checked at its end, when the documents are there.
    Changed documents cannot join: the UPDATE deletes their old children, and one
    statement cannot delete a key and insert it again."""
    documents = f"d AS ({insert}),\n     " if insert else ""
    return f"""
WITH {documents}s AS ({_json_insert("sections", SectionRow, "sections")}),
     f AS ({_json_insert("facts", FactRow, "facts")}),
     c AS ({_json_insert("citations", CitationRow, "citations")}),
     e AS (INSERT INTO doc_events (document_id, kind)
           SELECT * FROM unnest(%(e_document_id)s::bigint[], %(e_kind)s::text[])),
     b AS (INSERT INTO doc_lsh_bands (document_id, band, hash)
           SELECT * FROM unnest(%(b_document_id)s::bigint[], %(b_band)s::int[], %(b_hash)s::bigint[]))
SELECT pg_notify('{CHANNEL}', %(n)s)"""


_CHILDREN = _children(None)

# The opening statement, one round trip: take the band locks (before near-duplicate
# candidates are read), remember page encodings, find the URLs never stored (an error
# before anything is written) and those whose last parse failed (healed in round trip 2
# by `frontier.record_parsed`), lock this batch's existing documents
# (url_id order: batches never deadlock on each other) and draw ids for the new ones
# (known before the rows are written, so cluster ids can go into the INSERT instead of
# a second write).
_OPEN = f"""
WITH encodings AS (UPDATE pages p SET encoding = v.encoding
                   FROM unnest(%(pages)s::bigint[], %(encodings)s::text[]) AS v(id, encoding)
                   WHERE p.id = v.id AND p.id = ANY(%(pages)s::bigint[]) AND p.encoding IS NULL),
     existing AS (SELECT url_id, id, output_hash, parser_version FROM documents
                  WHERE url_id = ANY(%(urls)s::bigint[]) ORDER BY url_id FOR UPDATE)
SELECT ({neardup.LOCK_SQL.replace("%s", "%(locks)s")}),
       url_states.stored, url_states.content_failed,
       (SELECT coalesce(json_agg(json_build_array(url_id, id, output_hash, parser_version)), '[]')
        FROM existing),
       (SELECT coalesce(array_agg(nextval(pg_get_serial_sequence('documents', 'id'))), '{{}}')
        FROM generate_series(1, cardinality(%(urls)s::bigint[]) - (SELECT count(*) FROM existing)))
FROM ({frontier.URL_STATES_SQL}) url_states"""


# The write's statements take whole columns, so one plan serves any batch: planned once
# per connection, not per execution. Why forced: under the default (`auto`) the planner
# compares the generic plan's estimate (arrays of unknown length) with the custom plans'
# (the actual arrays) and, for the opening statement, kept choosing custom plans — planned
# again on every write, ~15% of the server's time for a one-document write. And no
# sequential scans: every row the write reads is found by key, but a plan made while a
# table was small (a new database, a worker's first writes) scanned it and kept scanning
# it as it grew (10% of the server's time in bench/store.py). No JIT: a scan that has no
# index to take instead is costed as disabled (10^10), far past `jit_above_cost`, and would
# be compiled on every execution. Local to the write's own transaction; a write nested in
# a caller's transaction (a savepoint) goes without them, since `set_config(…, true)` would
# last until the caller's commit and plan the caller's later statements too.
_GENERIC_PLANS = ("SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
                  "set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)")


def _json_rows(document_id: int, rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows of one document as the objects `_json_insert` expects."""
    if not rows:
        return []
    names = ("document_id", *rows[0]._fields)  # type: ignore[attr-defined]
    return [dict(zip(names, (document_id, *r), strict=True)) for r in rows]


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
    content_failed: list[int] = field(default_factory=list)  # URLs whose last parse failed: healed

    @property
    def written(self) -> list[int]:
        return [u for u in self.order if self.outcome[u].kind != "unchanged"]

    def doc_id(self, url_id: int) -> int:
        return self.outcome[url_id].document_id


def _write_once(conn: psycopg.Connection, writes: Sequence[DocumentWrite], stats: Stats) -> list[WriteResult]:
    last = {w.url_id: w for w in writes}
    batch = _Batch(last, sorted(last))
    own_transaction = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with stats.track("store"), conn.transaction():
        existing, new_ids, candidates = _open(conn, batch, plan_settings=own_transaction)
        _classify(batch, existing, new_ids)
        written = batch.written
        clusters = neardup.assign_clusters(
            [(u, batch.doc_id(u), batch.last[u].columns.get("minhash") or [], batch.last[u].bands)
             for u in written], neardup.not_rewritten(candidates, set(written)))
        _write(conn, batch, clusters)
    for r in batch.outcome.values():
        stats.update(f"documents_{r.kind}")
    return [batch.outcome[w.url_id] for w in writes]


def _open(conn: psycopg.Connection, batch: _Batch, *, plan_settings: bool
          ) -> tuple[dict[int, tuple[int, str, str]], list[int], list[tuple[Any, ...]]]:
    """Round trip 1: locks, page encodings, URLs to heal, existing rows, new ids and
    near-duplicate candidates, sent together (pipeline); the candidates statement runs
    after the band locks are held because the server runs the statements in order.
    Results are read after the pipeline's sync: reading one inside it costs a flush and
    a wait of its own."""
    encodings = [(w.page_id, w.columns["encoding"]) for w in batch.last.values()
                 if w.page_id is not None and w.columns.get("encoding")]
    band_keys = [bh for u in batch.order for bh in batch.last[u].bands]
    with conn.pipeline():
        if plan_settings:
            conn.execute(_GENERIC_PLANS)
        opened = conn.execute(_OPEN, {"urls": int_array_literal(batch.order),
                                      "pages": int_array_literal(i for i, _ in encodings),
                                      "encodings": array_literal(e for _, e in encodings),
                                      "locks": int_array_literal(neardup.lock_keys(band_keys)),
                                      **frontier.url_states_params()})
        near = conn.execute(neardup.CANDIDATES_SQL,
                            neardup.candidate_params([(u, batch.last[u].bands) for u in batch.order]))
    row = opened.fetchone()
    candidates = near.fetchall()
    assert row is not None
    missing = set(batch.order) - set(row[1])
    if missing:
        raise LookupError(f"url ids {sorted(missing)} have no row in urls; store the URL before its document")
    batch.content_failed = list(row[2])
    existing = {r[0]: (r[1], r[2], r[3]) for r in row[3]}
    return existing, list(row[4]), candidates


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
    """Round trip 2: every write of the batch, in one pipeline when it takes several
    statements (for one statement psycopg's pipeline costs more client time than it
    saves: a new document is one); COMMIT follows."""
    written = batch.written
    columns = tuple(_columns(conn, ["page_id", "output_hash", *batch.last[written[0]].columns])) if written else ()
    statements = _statements_for(tuple(n for n, _ in columns)) if written else None
    several = sum(map(bool, (batch.content_failed, batch.to_update, batch.version_only, written))) > 1
    with conn.pipeline() if several else contextlib.nullcontext():
        if batch.content_failed:
            frontier.record_parsed(conn, batch.content_failed)
        if statements is not None and batch.to_update:
            conn.execute(statements.update, _document_params(batch, batch.to_update, clusters, columns))
        if batch.version_only:
            # a newer parser may index differently: the new version queues the document for
            # search indexing again (migration 0110's trigger)
            conn.cursor().executemany("UPDATE documents SET parser_version = %s WHERE id = %s", batch.version_only)
        if statements is not None:
            params = _children_params(batch, written, clusters)
            if batch.to_insert:
                params.update(_document_params(batch, batch.to_insert, clusters, columns))
            conn.execute(statements.insert_with_children if batch.to_insert else _CHILDREN, params)


def _document_params(batch: _Batch, url_ids: list[int], clusters: dict[int, int],
                     columns: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The `documents` rows of `url_ids` as `_Statements` takes them: one JSON array, and
    their ids (an UPDATE finds the rows by them)."""
    rows = []
    for u in url_ids:
        w = batch.last[u]
        doc_id = batch.doc_id(u)
        values = {"page_id": w.page_id, "output_hash": w.output_hash, **w.columns}
        rows.append({"id": doc_id, "url_id": u, "site": w.site, "cluster_id": clusters[doc_id],
                     **{n: _json_value(values[n], t) for n, t in columns}})
    return {"rows": _json_rows_text(rows), "ids": int_array_literal(r["id"] for r in rows)}


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
        "e_document_id": int_array_literal(batch.doc_id(u) for u in written),
        "e_kind": array_literal(batch.outcome[u].kind for u in written),
        "b_document_id": int_array_literal(b[0] for b in bands), "b_band": int_array_literal(b[1] for b in bands),
        "b_hash": int_array_literal(b[2] for b in bands),
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
