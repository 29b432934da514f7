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

UPDATE documents SET search_tsv = govingest_search_grams_vector(title, text, doc_number) WHERE search_tsv IS NULL;
CREATE INDEX IF NOT EXISTS documents_search_tsv_idx ON documents USING gin (search_tsv);
CREATE INDEX IF NOT EXISTS documents_kind_idx ON documents (kind);
CREATE INDEX IF NOT EXISTS documents_published_order_idx ON documents (published_date DESC NULLS LAST, id DESC);

-- The query: each run of the query as a phrase of its bigrams (a one-character run as a
-- prefix), runs ANDed; OR all of `words` (the segmenter's words of the query, which the
-- CLI and the app pass) ANDed. NULL when the query has no searchable character.
CREATE OR REPLACE FUNCTION govingest_search_query(q text, words text[] DEFAULT NULL) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH parts AS (
        SELECT r.pos, CASE WHEN NOT r.cjk THEN '''' || lower(r.run) || ''''
                           WHEN length(r.run) = 1 THEN '''' || r.run || ''':*'
                           ELSE (SELECT string_agg('''' || substr(r.run, i, 2) || '''', ' <-> ' ORDER BY i)
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

-- What search reads: the filter columns, the body for snippets and the vector.
CREATE OR REPLACE VIEW v_search AS
SELECT d.id AS document_id, d.url, d.site, d.title, d.published_at, d.published_date, d.kind,
       d.issuer, d.doc_number, d.text, d.search_tsv
FROM documents d
WHERE govingest_reader_guard();
GRANT SELECT ON v_search TO govingest_reader;

-- Ranked hits: documents holding the query as written (adjacent characters) before those
-- holding only its words apart; then title matches (weight A), then the newest. Filters are optional;
-- `issuer` matches a part of the issuer, `doc_number` the whole number. Ranking reads each
-- match's vector, so it ranks the newest 1000 matches: a rare term is ranked over all of
-- them, a very common one (half the corpus) over its newest 1000, found by walking
-- documents_published_order_idx instead of reading every match (p95 bound, bench/search.py).
CREATE OR REPLACE FUNCTION govingest_search(
    q text, site text DEFAULT NULL, since date DEFAULT NULL, until date DEFAULT NULL,
    issuer text DEFAULT NULL, doc_number text DEFAULT NULL, kind text DEFAULT NULL,
    lim integer DEFAULT 20, words text[] DEFAULT NULL, skip integer DEFAULT 0)
RETURNS TABLE (document_id bigint, url text, site text, title text, published_at text,
               published_date date, kind text, issuer text, doc_number text, rank real, snippet text)
LANGUAGE sql STABLE AS $$
    WITH query AS (SELECT govingest_search_query(govingest_search.q, govingest_search.words) AS tsq,
                          govingest_search_query(govingest_search.q) AS exact),
    matches AS (
        SELECT s.document_id, s.search_tsv, s.published_date
        FROM v_search s, query
        WHERE s.search_tsv @@ query.tsq
          AND (govingest_search.site IS NULL OR s.site = govingest_search.site)
          AND (govingest_search.since IS NULL OR s.published_date >= govingest_search.since)
          AND (govingest_search.until IS NULL OR s.published_date <= govingest_search.until)
          AND (govingest_search.issuer IS NULL OR s.issuer LIKE '%' || govingest_search.issuer || '%')
          AND (govingest_search.doc_number IS NULL OR s.doc_number = govingest_search.doc_number)
          AND (govingest_search.kind IS NULL OR s.kind = govingest_search.kind)
        ORDER BY s.published_date DESC NULLS LAST, s.document_id DESC
        LIMIT 1000),
    hits AS (
        SELECT m.document_id,
               ts_rank(m.search_tsv, query.tsq) + CASE WHEN m.search_tsv @@ query.exact THEN 1 ELSE 0 END AS rank,
               m.published_date
        FROM matches m, query
        ORDER BY rank DESC, m.published_date DESC NULLS LAST, m.document_id DESC
        LIMIT govingest_search.lim OFFSET govingest_search.skip)
    SELECT s.document_id, s.url, s.site, s.title, s.published_at, s.published_date, s.kind, s.issuer,
           s.doc_number, h.rank,
           govingest_search_snippet(s.text, govingest_search.q, govingest_search.words)
    FROM hits h JOIN v_search s ON s.document_id = h.document_id
    ORDER BY h.rank DESC, h.published_date DESC NULLS LAST, h.document_id DESC
$$;
