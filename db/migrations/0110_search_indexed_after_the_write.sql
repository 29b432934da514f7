-- Search indexing leaves the document write (issue 15): the write transaction only queues
-- the document (search_pending, one narrow row by trigger); the index stage
-- (workers/stages/index.py, SQL in db/search_index.py) computes the vectors of a batch of
-- queued documents and writes them to search_index in one statement.
--
-- Why: computing the vector (parsers/search.py) and indexing it in the write transaction
-- cost 4.4x the rest of a document write (measured: 1.0 ms write, +5.6 ms vector,
-- +2.4 ms SQL), so a document reached `documents` and the feed at 1.4x the cost of its
-- parse. Queued, it is searchable one index batch later (the process stage drains the queue
-- after each batch it writes).
--
-- The positional vector moves from documents.search_tsv to search_index.tsv: one copy of
-- it, not two (documents kept it, and search_index a stripped copy); v_search reads it
-- from there, same columns as before.

-- One row per document waiting to be indexed. `ticket` changes each time the document is
-- queued again: the indexer stores a vector only if the ticket it read is still the row's
-- (else a newer text is queued and a later batch indexes it). `claimed_until` is the
-- indexer's lease, so workers side by side take different documents and a dead worker's
-- claim runs out.
CREATE SEQUENCE IF NOT EXISTS search_pending_ticket;
CREATE TABLE IF NOT EXISTS search_pending (
    document_id   bigint PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    ticket        bigint NOT NULL DEFAULT nextval('search_pending_ticket'),
    queued_at     timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz NULL
);
CREATE INDEX IF NOT EXISTS search_pending_queued_idx ON search_pending (queued_at, document_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON search_pending TO govingest_writer;
GRANT USAGE, SELECT ON SEQUENCE search_pending_ticket TO govingest_writer;

ALTER TABLE search_index ADD COLUMN IF NOT EXISTS tsv tsvector NULL;
-- read for ranking the best candidates only: stored uncompressed and out of line, the
-- row the matching scans stays narrow and reading the vector is a copy
ALTER TABLE search_index ALTER COLUMN tsv SET STORAGE EXTERNAL;
UPDATE search_index si SET tsv = d.search_tsv FROM documents d WHERE d.id = si.document_id;

-- A document whose searchable text or filters change is queued again, with a new ticket
-- and no claim: an indexer holding its older text will not store it.
CREATE OR REPLACE FUNCTION documents_search_queue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_pending (document_id) VALUES (NEW.id)
    ON CONFLICT (document_id) DO UPDATE
        SET ticket = EXCLUDED.ticket, queued_at = EXCLUDED.queued_at, claimed_until = NULL;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS documents_search_index_insert ON documents;
DROP TRIGGER IF EXISTS documents_search_index_update ON documents;
DROP TRIGGER IF EXISTS documents_search_tsv_default ON documents;
DROP FUNCTION IF EXISTS documents_search_index();
DROP FUNCTION IF EXISTS documents_search_tsv_default();
CREATE TRIGGER documents_search_queue_insert AFTER INSERT ON documents
    FOR EACH ROW EXECUTE FUNCTION documents_search_queue();
CREATE TRIGGER documents_search_queue_update AFTER UPDATE ON documents
    FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.title IS DISTINCT FROM NEW.title
                       OR OLD.doc_number IS DISTINCT FROM NEW.doc_number OR OLD.site IS DISTINCT FROM NEW.site
                       OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.published_date IS DISTINCT FROM NEW.published_date
                       OR OLD.parser_version IS DISTINCT FROM NEW.parser_version)
    EXECUTE FUNCTION documents_search_queue();

-- Documents with no index row yet (none, after 0073's backfill, unless a write raced it)
INSERT INTO search_pending (document_id)
SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM search_index si WHERE si.document_id = d.id)
ON CONFLICT DO NOTHING;

CREATE OR REPLACE VIEW v_search AS
SELECT d.id AS document_id, d.url, d.site, d.title, d.published_at, d.published_date, d.kind,
       d.issuer, d.doc_number, d.text, si.tsv AS search_tsv
FROM documents d LEFT JOIN search_index si ON si.document_id = d.id
WHERE govingest_reader_guard();
GRANT SELECT ON v_search TO govingest_reader;

-- How far search is behind the writes, for `govingest status`.
-- (the guard outside the aggregate: over an empty queue it must still run)
CREATE OR REPLACE VIEW v_search_backlog AS
SELECT b.queued, b.oldest_seconds
FROM (SELECT count(*) AS queued, extract(epoch FROM now() - min(queued_at))::float8 AS oldest_seconds
      FROM search_pending) b
WHERE govingest_reader_guard();
GRANT SELECT ON v_search_backlog TO govingest_reader;

ALTER TABLE documents DROP COLUMN IF EXISTS search_tsv;

-- The bigram vector in SQL, as parsers/search.py now writes its literal: one entry per
-- occurrence, grouping and the per-lexeme position cap left to the tsvector input, so the
-- two agree to the last position (tests/db/test_search.py). Only the tests and a manual
-- re-index call it; the query side shares its runs (govingest_search_runs).
CREATE OR REPLACE FUNCTION govingest_search_grams_vector(title text, body text, doc_number text DEFAULT NULL)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH head AS (SELECT concat_ws(' ', nullif(title, ''), nullif(doc_number, '')) AS h),
    g AS (SELECT lexeme, least(pos, 16383) AS pos, 'A' AS w FROM head, govingest_search_grams(head.h, 1)
          UNION ALL
          SELECT lexeme, least(pos, 16383), '' FROM head,
                 govingest_search_grams(body, govingest_search_next_start(head.h, 1)))
    SELECT coalesce(string_agg('''' || lexeme || ''':' || pos || w, ' '), '')::tsvector FROM g
$$;
