-- Chinese full-text search on stock PostgreSQL (issue 14; parsers/search.py says why this shape).
--
-- documents.search_tsv: a tsvector written by the application (character bigrams of every
-- run of Chinese characters at their positions, ASCII words, and rjieba's words of 3+
-- characters; title and document number weighted A), with a GIN index. No text-search
-- parser touches Chinese: the server's does not split it.
--
-- Documents stored before this migration, and any row written without search_tsv (an
-- older worker during a rolling upgrade), get the bigram part computed here in SQL
-- (govingest_search_grams_vector, kept equal to parsers/search.py by the tests): every
-- document is searchable as soon as this migration ends.
--
-- Consumers call govingest_search(q, ...) (docs/consumers.md): ranked hits with a
-- highlighted snippet, read through the guarded view v_search.

ALTER TABLE documents ADD COLUMN IF NOT EXISTS search_tsv tsvector NULL;

-- (position of the run's first character, run, is Chinese) of each run of Chinese
-- characters or of ASCII letters/digits, positions as parsers/search.py `_runs` gives them.
CREATE OR REPLACE FUNCTION govingest_search_runs(t text, start integer DEFAULT 1)
RETURNS TABLE (pos integer, run text, cjk boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (start + coalesce(sum(x.width) OVER (ORDER BY x.n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::integer,
           x.run, x.cjk
    FROM (SELECT r.n, r.m[1] AS run, r.m[1] ~ '^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]' AS cjk,
                 CASE WHEN r.m[1] ~ '^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]' THEN length(r.m[1]) + 1 ELSE 2 END AS width
          FROM regexp_matches(coalesce(t, ''), '[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9A-Za-z]+', 'g')
               WITH ORDINALITY AS r(m, n)) x
    ORDER BY x.n
$$;

CREATE OR REPLACE FUNCTION govingest_search_next_start(t text, start integer DEFAULT 1) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(max(r.pos + CASE WHEN r.cjk THEN length(r.run) + 1 ELSE 2 END), start)
    FROM govingest_search_runs(t, start) r
$$;

-- (lexeme, position): bigrams of Chinese runs (a one-character run as itself), ASCII runs lower-cased.
CREATE OR REPLACE FUNCTION govingest_search_grams(t text, start integer DEFAULT 1)
RETURNS TABLE (lexeme text, pos integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN NOT r.cjk THEN lower(r.run)
                WHEN length(r.run) = 1 THEN r.run
                ELSE substr(r.run, i + 1, 2) END,
           r.pos + i
    FROM govingest_search_runs(t, start) r
    CROSS JOIN LATERAL generate_series(0, CASE WHEN r.cjk THEN greatest(length(r.run) - 2, 0) ELSE 0 END) i
$$;

CREATE OR REPLACE FUNCTION govingest_search_grams_vector(title text, body text, doc_number text DEFAULT NULL)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH head AS (SELECT concat_ws(' ', nullif(title, ''), nullif(doc_number, '')) AS h),
    g AS (SELECT lexeme, least(pos, 16383) AS pos, 'A' AS w FROM head, govingest_search_grams(head.h, 1)
          UNION ALL
          SELECT lexeme, least(pos, 16383), '' FROM head,
                 govingest_search_grams(body, govingest_search_next_start(head.h, 1))),
    p AS (SELECT lexeme, pos, max(w) AS w,
                 row_number() OVER (PARTITION BY lexeme ORDER BY pos) AS rn
          FROM g GROUP BY lexeme, pos),
    l AS (SELECT lexeme, string_agg(pos || w, ',' ORDER BY pos) AS ps FROM p WHERE rn <= 255 GROUP BY lexeme)
    SELECT coalesce(string_agg('''' || lexeme || ''':' || ps, ' '), '')::tsvector FROM l
$$;

-- A row written without search_tsv (an older worker), or whose text changed without it,
-- gets the bigram part here; the application's full vector is kept when it sends one.
CREATE OR REPLACE FUNCTION documents_search_tsv_default() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.search_tsv IS NULL
       OR (TG_OP = 'UPDATE' AND NEW.search_tsv IS NOT DISTINCT FROM OLD.search_tsv
           AND (NEW.text IS DISTINCT FROM OLD.text OR NEW.title IS DISTINCT FROM OLD.title
                OR NEW.doc_number IS DISTINCT FROM OLD.doc_number)) THEN
        NEW.search_tsv := govingest_search_grams_vector(NEW.title, NEW.text, NEW.doc_number);
    END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS documents_search_tsv_default ON documents;
CREATE TRIGGER documents_search_tsv_default BEFORE INSERT OR UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION documents_search_tsv_default();

-- The positional vector is read for ranking the best candidates only: stored uncompressed
-- (EXTERNAL), reading it is a copy, not a decompression.
ALTER TABLE documents ALTER COLUMN search_tsv SET STORAGE EXTERNAL;

-- What matching reads: one narrow row per document (filters and the vector stripped of
-- positions and weights) with the GIN index. Why apart from documents: a common term
-- matches tens of thousands of documents; finding the newest of them reads each match's
-- row, and documents' rows are wide (inline text), these are not. Kept by a trigger.
CREATE TABLE IF NOT EXISTS search_index (
    document_id     bigint PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    site            text NOT NULL,
    kind            text NOT NULL,
    published_date  date NULL,
    grams           tsvector NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON search_index TO govingest_writer;

CREATE OR REPLACE FUNCTION documents_search_index() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_index (document_id, site, kind, published_date, grams)
    VALUES (NEW.id, NEW.site, NEW.kind, NEW.published_date, strip(NEW.search_tsv))
    ON CONFLICT (document_id) DO UPDATE
        SET site = EXCLUDED.site, kind = EXCLUDED.kind, published_date = EXCLUDED.published_date,
            grams = EXCLUDED.grams;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS documents_search_index_insert ON documents;
CREATE TRIGGER documents_search_index_insert AFTER INSERT ON documents
    FOR EACH ROW EXECUTE FUNCTION documents_search_index();
DROP TRIGGER IF EXISTS documents_search_index_update ON documents;
CREATE TRIGGER documents_search_index_update AFTER UPDATE ON documents
    FOR EACH ROW WHEN (OLD.search_tsv IS DISTINCT FROM NEW.search_tsv OR OLD.site IS DISTINCT FROM NEW.site
                       OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.published_date IS DISTINCT FROM NEW.published_date)
    EXECUTE FUNCTION documents_search_index();

UPDATE documents SET search_tsv = govingest_search_grams_vector(title, text, doc_number) WHERE search_tsv IS NULL;
INSERT INTO search_index (document_id, site, kind, published_date, grams)
SELECT id, site, kind, published_date, strip(search_tsv) FROM documents
ON CONFLICT (document_id) DO NOTHING;
CREATE INDEX IF NOT EXISTS search_index_grams_idx ON search_index USING gin (grams);
CREATE INDEX IF NOT EXISTS search_index_published_idx ON search_index (published_date DESC NULLS LAST, document_id DESC);
CREATE INDEX IF NOT EXISTS search_index_site_published_idx
    ON search_index (site, published_date DESC NULLS LAST, document_id DESC);

-- The query: each run of the query as a phrase of its bigrams (a one-character run as a
-- prefix), runs ANDed; OR all of `words` (the segmenter's words of the query, which the
-- CLI and the app pass) ANDed. NULL when the query has no searchable character.
-- With phrase => false the bigrams of a run are ANDed instead (what search_index, with no
-- positions, answers from its index alone).
CREATE OR REPLACE FUNCTION govingest_search_query(q text, words text[] DEFAULT NULL, phrase boolean DEFAULT true)
RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH parts AS (
        SELECT r.pos, CASE WHEN NOT r.cjk THEN '''' || lower(r.run) || ''''
                           WHEN length(r.run) = 1 THEN '''' || r.run || ''':*'
                           ELSE (SELECT string_agg('''' || substr(r.run, i, 2) || '''', CASE WHEN phrase THEN ' <-> ' ELSE ' & ' END ORDER BY i)
                                 FROM generate_series(1, length(r.run) - 1) i) END AS part
        FROM govingest_search_runs(q, 1) r),
    grams AS (SELECT '(' || string_agg(part, ' & ' ORDER BY pos) || ')' AS g FROM parts),
    ws AS (SELECT '(' || string_agg('''' || w || '''', ' & ') || ')' AS w
           FROM unnest(words) AS u(w)
           WHERE w ~ '^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9a-z]+$')
    SELECT CASE WHEN grams.g IS NULL THEN NULL
                WHEN ws.w IS NULL THEN grams.g
                ELSE grams.g || ' | ' || ws.w END::tsquery
    FROM grams, ws
$$;

-- A window of `body` around the first query term it contains, HTML-escaped, terms in <mark>.
CREATE OR REPLACE FUNCTION govingest_search_snippet(body text, q text, words text[] DEFAULT NULL,
                                                    width integer DEFAULT 120) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    terms text[];
    first integer := 0;
    p integer;
    term text;
    start integer;
    s text;
BEGIN
    SELECT array_agg(t ORDER BY length(t) DESC) INTO terms FROM (
        SELECT DISTINCT lower(r.run) AS t FROM govingest_search_runs(q, 1) r
        UNION
        SELECT lower(w) FROM unnest(words) AS u(w) WHERE w ~ '^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9a-z]+$') x;
    body := regexp_replace(coalesce(body, ''), '\s+', ' ', 'g');
    FOREACH term IN ARRAY coalesce(terms, '{}') LOOP
        p := strpos(lower(body), term);
        IF p > 0 AND (first = 0 OR p < first) THEN
            first := p;
        END IF;
    END LOOP;
    start := greatest(1, first - width / 4);
    s := substr(body, start, width);
    s := replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;');
    IF terms IS NOT NULL THEN
        s := regexp_replace(s, '(' || array_to_string(terms, '|') || ')', '<mark>\1</mark>', 'gi');
    END IF;
    RETURN (CASE WHEN start > 1 THEN '…' ELSE '' END) || s
           || (CASE WHEN start + width <= length(body) THEN '…' ELSE '' END);
END
$$;

-- What search reads: matching reads v_search_index (search_index's narrow rows: a common term
-- matches a large part of the corpus, and reading documents' wide rows for each would cost
-- more than the whole query may), ranking and snippets read v_search for the candidates only.
CREATE OR REPLACE VIEW v_search_index AS
SELECT si.document_id, si.site, si.kind, si.published_date, si.grams
FROM search_index si
WHERE govingest_reader_guard();
GRANT SELECT ON v_search_index TO govingest_reader;

CREATE OR REPLACE VIEW v_search AS
SELECT d.id AS document_id, d.url, d.site, d.title, d.published_at, d.published_date, d.kind,
       d.issuer, d.doc_number, d.text, d.search_tsv
FROM documents d
WHERE govingest_reader_guard();
GRANT SELECT ON v_search TO govingest_reader;

-- Ranked hits. Matching, in search_index: every bigram of the query, newest first, at most
-- 100 candidates (a rare query is ranked over all its matches, a common one over its newest
-- 100); only when those cannot fill the page, all the query's words anywhere, likewise. Ranking reads each
-- candidate's positional vector: documents holding the query as written (characters
-- adjacent) first, then ts_rank (title matches weigh most, weight A), then the newest.
-- Filters are optional; `issuer` matches a part of the issuer, `doc_number` the whole number.
-- govingest_search's body (below): PL/pgSQL names its arguments apart from its columns.
CREATE OR REPLACE FUNCTION govingest_search_run(
    q text, p_site text, since date, until date, p_issuer text, p_doc_number text, p_kind text,
    lim integer, words text[], skip integer)
RETURNS TABLE (document_id bigint, url text, site text, title text, published_at text,
               published_date date, kind text, issuer text, doc_number text, rank real, snippet text)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    grams tsquery := govingest_search_query(q, NULL, false);
    word_query tsquery := (SELECT ('(' || string_agg('''' || w || '''', ' & ') || ')')::tsquery
                           FROM unnest(words) AS u(w)
                           WHERE w ~ '^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9a-z]+$');
    tsq tsquery := govingest_search_query(q, words);
    exact tsquery := govingest_search_query(q);
BEGIN
    IF grams IS NULL THEN
        RETURN;
    END IF;
    -- The queries go into the statement as constants (EXECUTE plans it for them): the planner
    -- reads the index statistics of their lexemes and, for a term in half the corpus, walks
    -- the date index instead of collecting every match.
    RETURN QUERY EXECUTE format($q$
    WITH exact_matches AS (
        SELECT s.document_id, s.published_date
        FROM v_search_index s
        WHERE s.grams @@ %1$L::tsquery
%5$s
        ORDER BY s.published_date DESC NULLS LAST, s.document_id DESC
        LIMIT 100),
    word_matches AS (
        SELECT s.document_id, s.published_date
        FROM v_search_index s
        WHERE (SELECT count(*) FROM exact_matches) < $8 + $10
          AND %2$L::tsquery IS NOT NULL AND s.grams @@ %2$L::tsquery
%5$s
        ORDER BY s.published_date DESC NULLS LAST, s.document_id DESC
        LIMIT 100),
    matches AS (SELECT * FROM exact_matches UNION SELECT * FROM word_matches),
    ranked AS (
        SELECT m.document_id, m.published_date, s.search_tsv @@ %4$L::tsquery AS exact,
               s.search_tsv @@ %3$L::tsquery AS matched, ts_rank(s.search_tsv, %3$L::tsquery) AS r
        FROM matches m JOIN v_search s ON s.document_id = m.document_id),
    hits AS (
        SELECT h.document_id, h.published_date, h.r + CASE WHEN h.exact THEN 1 ELSE 0 END AS rank
        FROM ranked h WHERE h.matched  -- the bigrams adjacent, or all the words: not merely present
        ORDER BY rank DESC, h.published_date DESC NULLS LAST, h.document_id DESC
        LIMIT $8 OFFSET $10)
    SELECT s.document_id, s.url, s.site, s.title, s.published_at, s.published_date, s.kind, s.issuer,
           s.doc_number, h.rank::real, govingest_search_snippet(s.text, $1, $9)
    FROM hits h JOIN v_search s ON s.document_id = h.document_id
    ORDER BY h.rank DESC, h.published_date DESC NULLS LAST, h.document_id DESC
    $q$, grams, word_query, tsq, exact, $f$
          AND ($2 IS NULL OR s.site = $2) AND ($7 IS NULL OR s.kind = $7)
          AND ($3 IS NULL OR s.published_date >= $3) AND ($4 IS NULL OR s.published_date <= $4)
          AND ($5 IS NULL AND $6 IS NULL
               OR EXISTS (SELECT 1 FROM v_documents x WHERE x.document_id = s.document_id
                          AND ($5 IS NULL OR x.issuer LIKE '%' || $5 || '%')
                          AND ($6 IS NULL OR x.doc_number = $6)))$f$)
    USING q, p_site, since, until, p_issuer, p_doc_number, p_kind, lim, words, skip;
END
$fn$;

CREATE OR REPLACE FUNCTION govingest_search(
    q text, site text DEFAULT NULL, since date DEFAULT NULL, until date DEFAULT NULL,
    issuer text DEFAULT NULL, doc_number text DEFAULT NULL, kind text DEFAULT NULL,
    lim integer DEFAULT 20, words text[] DEFAULT NULL, skip integer DEFAULT 0)
RETURNS TABLE (document_id bigint, url text, site text, title text, published_at text,
               published_date date, kind text, issuer text, doc_number text, rank real, snippet text)
LANGUAGE sql STABLE AS $$
    SELECT * FROM govingest_search_run(q, site, since, until, issuer, doc_number, kind, lim, words, skip)
$$;
