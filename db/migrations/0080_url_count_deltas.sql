-- 0080_url_count_deltas: `govingest status` and the dispatcher's housekeeping read counters
-- the writes keep, not the whole urls/documents tables (678 ms at 1M URLs before).
--
-- Why insert-only deltas and not one counter row per (site, state): every claim and every
-- recorded outcome moves a URL between two states, and two writers updating the same two
-- counter rows in opposite orders deadlock (fetching→done against done→fetching), while
-- all writers of a busy site would queue on one row. A statement-level trigger instead
-- appends one row per changed key (site, state, error kind, article "via" label) with the
-- net change of the statement; readers sum them; `fold_count_deltas()` (run by the
-- dispatcher's and the in-process runner's housekeeping) folds them back to one row per key.
--
-- `via` is what `govingest status` lists as "articles found, by the list dialect of the page
-- that linked them": for an article URL, its parent's dialect (else the parent's kind), or
-- 'start' without a parent; NULL for other URLs. When a parent's label changes, its article
-- children's counts move with it.

CREATE TABLE url_count_deltas (
    id          bigserial PRIMARY KEY,
    site        text NOT NULL,
    state       text NOT NULL,
    error_kind  text NULL,
    via         text NULL,
    n           bigint NOT NULL
);

CREATE TABLE doc_count_deltas (
    id    bigserial PRIMARY KEY,
    site  text NOT NULL,
    kind  text NULL,
    n     bigint NOT NULL
);

-- the label an article URL is counted under (see above)
CREATE FUNCTION url_via(kind text, parent bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN kind IS DISTINCT FROM 'article' THEN NULL
                WHEN parent IS NULL THEN 'start'
                ELSE coalesce((SELECT coalesce(p.dialect, p.kind) FROM urls p WHERE p.id = parent), 'start') END
$$;

CREATE FUNCTION urls_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO url_count_deltas (site, state, error_kind, via, n)
    SELECT site, state, last_error_kind, url_via(kind, discovered_from), count(*)
    FROM new_rows GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;

CREATE FUNCTION urls_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO url_count_deltas (site, state, error_kind, via, n)
    SELECT site, state, last_error_kind, url_via(kind, discovered_from), -count(*)
    FROM old_rows GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;

-- An UPDATE nets out: -1 under each old key, +1 under each new one, only keys that moved
-- stored. Most updates (schedule, lease, etag) move none and insert nothing.
CREATE FUNCTION urls_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO url_count_deltas (site, state, error_kind, via, n)
    SELECT site, state, error_kind, via, sum(n) FROM (
        SELECT o.site, o.state, o.last_error_kind AS error_kind,
               CASE WHEN o.kind = 'article' THEN
                   CASE WHEN o.discovered_from IS NULL THEN 'start'
                        WHEN op.id IS NULL THEN url_via(o.kind, o.discovered_from)
                        ELSE coalesce(op.dialect, op.kind, 'start') END END AS via, -1 AS n
        FROM old_rows o LEFT JOIN old_rows op ON op.id = o.discovered_from
        UNION ALL
        SELECT site, state, last_error_kind, url_via(kind, discovered_from), 1 FROM new_rows
        UNION ALL  -- article children of URLs whose label changed: counted under the new label
        SELECT c.site, c.state, c.last_error_kind, l.old_label, -count(*)
        FROM (SELECT n.id, coalesce(o.dialect, o.kind) AS old_label, coalesce(n.dialect, n.kind) AS new_label
              FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE coalesce(o.dialect, o.kind) IS DISTINCT FROM coalesce(n.dialect, n.kind)) l
        JOIN urls c ON c.discovered_from = l.id AND c.kind = 'article'
        WHERE c.id NOT IN (SELECT id FROM new_rows)
        GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT c.site, c.state, c.last_error_kind, l.new_label, count(*)
        FROM (SELECT n.id, coalesce(o.dialect, o.kind) AS old_label, coalesce(n.dialect, n.kind) AS new_label
              FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE coalesce(o.dialect, o.kind) IS DISTINCT FROM coalesce(n.dialect, n.kind)) l
        JOIN urls c ON c.discovered_from = l.id AND c.kind = 'article'
        WHERE c.id NOT IN (SELECT id FROM new_rows)
        GROUP BY 1, 2, 3, 4
    ) d
    GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION urls_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM url_count_deltas;
    RETURN NULL;
END $$;

CREATE TRIGGER urls_count_insert AFTER INSERT ON urls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION urls_count_insert();
CREATE TRIGGER urls_count_update AFTER UPDATE ON urls REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION urls_count_update();
CREATE TRIGGER urls_count_delete AFTER DELETE ON urls REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION urls_count_delete();
CREATE TRIGGER urls_count_truncate AFTER TRUNCATE ON urls
    FOR EACH STATEMENT EXECUTE FUNCTION urls_count_truncate();

-- a URL's article children, for the label moves above
CREATE INDEX urls_discovered_from_idx ON urls (discovered_from) WHERE discovered_from IS NOT NULL;
-- `govingest status`'s recent errors, newest first, without sorting the frontier
CREATE INDEX urls_recent_errors_idx ON urls (last_fetched_at DESC NULLS LAST, id DESC)
    WHERE last_error_kind IS NOT NULL;

CREATE FUNCTION documents_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO doc_count_deltas (site, kind, n) SELECT site, kind, count(*) FROM new_rows GROUP BY 1, 2;
    RETURN NULL;
END $$;

CREATE FUNCTION documents_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO doc_count_deltas (site, kind, n) SELECT site, kind, -count(*) FROM old_rows GROUP BY 1, 2;
    RETURN NULL;
END $$;

CREATE FUNCTION documents_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO doc_count_deltas (site, kind, n)
    SELECT site, kind, sum(n) FROM (SELECT site, kind, -1 AS n FROM old_rows
                                    UNION ALL SELECT site, kind, 1 FROM new_rows) d
    GROUP BY 1, 2 HAVING sum(n) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION documents_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM doc_count_deltas;
    RETURN NULL;
END $$;

CREATE TRIGGER documents_count_insert AFTER INSERT ON documents REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION documents_count_insert();
CREATE TRIGGER documents_count_update AFTER UPDATE ON documents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION documents_count_update();
CREATE TRIGGER documents_count_delete AFTER DELETE ON documents REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION documents_count_delete();
CREATE TRIGGER documents_count_truncate AFTER TRUNCATE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION documents_count_truncate();

-- what is already there
INSERT INTO url_count_deltas (site, state, error_kind, via, n)
SELECT u.site, u.state, u.last_error_kind,
       CASE WHEN u.kind = 'article' THEN CASE WHEN p.id IS NULL THEN 'start' ELSE coalesce(p.dialect, p.kind) END END,
       count(*)
FROM urls u LEFT JOIN urls p ON p.id = u.discovered_from GROUP BY 1, 2, 3, 4;
INSERT INTO doc_count_deltas (site, kind, n) SELECT site, kind, count(*) FROM documents GROUP BY 1, 2;

-- Fold the deltas to one row per key. Safe beside writers and other folds: it deletes
-- only rows its snapshot sees (a concurrent fold's rows are gone or invisible to it).
CREATE FUNCTION fold_count_deltas() RETURNS void LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM url_count_deltas RETURNING site, state, error_kind, via, n)
    INSERT INTO url_count_deltas (site, state, error_kind, via, n)
    SELECT site, state, error_kind, via, sum(n) FROM gone GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0;
    WITH gone AS (DELETE FROM doc_count_deltas RETURNING site, kind, n)
    INSERT INTO doc_count_deltas (site, kind, n)
    SELECT site, kind, sum(n) FROM gone GROUP BY 1, 2 HAVING sum(n) <> 0;
$$;

-- The counts as consumers (and `govingest status` as the read-only role) read them.
CREATE VIEW v_url_counts AS
SELECT * FROM (SELECT site, state, error_kind, via, sum(n)::bigint AS n FROM url_count_deltas
               GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0) unguarded
WHERE govingest_reader_guard();
CREATE VIEW v_document_counts AS
SELECT * FROM (SELECT site, kind, sum(n)::bigint AS n FROM doc_count_deltas
               GROUP BY 1, 2 HAVING sum(n) <> 0) unguarded
WHERE govingest_reader_guard();
GRANT SELECT ON v_url_counts, v_document_counts TO govingest_reader;
