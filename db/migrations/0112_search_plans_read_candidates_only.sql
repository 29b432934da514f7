-- Search plans that read every vector (issue 15: bench/scale.py's rare probe took 180-300
-- ms at 20k documents, and any query whose term is in a few documents about as long; both
-- grow with the corpus). Measured on 20k documents: 3-20 ms after.
--
-- 1. Matching: the planner read search_index sequentially, testing every row's stripped
--    vector, instead of asking the GIN index (3 ms). It prices `grams @@ query` at one
--    operator call per row (cpu_operator_cost), but each call first detoasts and
--    decompresses an 8 kB vector (~9 us); the narrow heap then looks cheaper to scan than
--    the GIN index, whose estimate counts its pending list. Operators priced 40x higher,
--    inside the search only, bring the estimates in line: rare and absent terms take the
--    GIN index, a common term still walks the date index for its newest matches.
-- 2. Ranking: the "bigrams adjacent" test on the positional vector (30 kB, stored
--    uncompressed out of line) was pushed down into a scan of every search_index row and
--    hashed against the 200 candidates; computed in a MATERIALIZED step, it reads the
--    candidates' vectors only.
--
-- A later CREATE OR REPLACE of this function must keep both (tests/db/test_search.py).
CREATE OR REPLACE FUNCTION govingest_search_run(
    q text, p_site text, since date, until date, p_issuer text, p_doc_number text, p_kind text,
    lim integer, words text[], skip integer)
RETURNS TABLE (document_id bigint, url text, site text, title text, published_at text,
               published_date date, kind text, issuer text, doc_number text, rank real, snippet text)
LANGUAGE plpgsql STABLE
SET cpu_operator_cost = 0.1  -- 0112: what a vector match costs (detoasting it)
AS $fn$
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
    ranked AS MATERIALIZED (  -- 0112: the match test on the positional vector stays on the candidates
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
