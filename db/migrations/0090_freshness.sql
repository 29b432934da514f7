-- 0090_freshness (issue 16): withdrawn documents, adaptive list schedules, the list budget.
--
-- Withdrawn documents. An article that later answers 404/410, redirects to an error or
-- home page, or drops off its list while the list is otherwise intact is re-checked, and
-- on the second signal in a row its document is marked withdrawn: the text stays,
-- `withdrawn_at` is set and the feed gets one `withdrawn` event; when it comes back, one
-- `restored` event and `withdrawn_at` is cleared. `urls.gone_signals` counts the article's own
-- signs in a row (404/410, error redirect; its next healthy answer resets it).
ALTER TABLE documents
    ADD COLUMN IF NOT EXISTS withdrawn_at timestamptz NULL,
    ADD COLUMN IF NOT EXISTS withdrawn_reason text NULL
        CHECK (withdrawn_reason IN ('not_found', 'error_redirect', 'delisted'));
CREATE INDEX IF NOT EXISTS documents_withdrawn_idx ON documents (withdrawn_at) WHERE withdrawn_at IS NOT NULL;

ALTER TABLE doc_events DROP CONSTRAINT IF EXISTS doc_events_kind_check;
ALTER TABLE doc_events ADD CONSTRAINT doc_events_kind_check
    CHECK (kind IN ('created', 'updated', 'withdrawn', 'restored'));

ALTER TABLE urls
    ADD COLUMN IF NOT EXISTS gone_signals int NOT NULL DEFAULT 0 CHECK (gone_signals >= 0),
    -- articles: list fetches in a row that found the article missing from an otherwise
    -- intact list (apart from gone_signals: the article's own 200 does not undo a delisting)
    ADD COLUMN IF NOT EXISTS delisted_signals int NOT NULL DEFAULT 0 CHECK (delisted_signals >= 0),
    -- list pages: the article URLs the page listed at its last fetch, in page order (what
    -- "dropped off an otherwise intact list" is judged against)
    ADD COLUMN IF NOT EXISTS list_articles text[] NULL,
    -- list pages: the change-rate estimator's state (crawler/schedule.py): new article
    -- links seen and seconds observed, decayed with a long and a short half-life, and the interval
    -- the scheduler chose last (next_fetch_at = last fetch + list_interval)
    ADD COLUMN IF NOT EXISTS change_events double precision NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS change_window double precision NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS change_events_fast double precision NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS change_window_fast double precision NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS list_interval double precision NULL,
    ADD COLUMN IF NOT EXISTS last_change_at timestamptz NULL;

-- the site's list pages, read on every list fetch to share the budget among them
CREATE INDEX IF NOT EXISTS urls_list_pages_idx ON urls (site) WHERE kind IN ('list', 'feed');

-- The explicit list budget (`list_requests_per_hour` in the sites file): a token bucket per
-- site, refilled continuously, at most one hour's worth banked. claim_due hands out a list
-- page only while the bucket holds a token and spends one per list page handed out.
ALTER TABLE sites
    ADD COLUMN IF NOT EXISTS list_tokens double precision NULL,  -- NULL: full
    ADD COLUMN IF NOT EXISTS list_tokens_at timestamptz NULL;

-- The bucket as it stands now (refilled to this instant); +infinity when the site sets no budget.
CREATE OR REPLACE FUNCTION list_tokens_now(p_site text) RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN s.config ? 'list_requests_per_hour' THEN
               least((s.config->>'list_requests_per_hour')::float8,
                     coalesce(s.list_tokens, (s.config->>'list_requests_per_hour')::float8)
                     + extract(epoch FROM clock_timestamp() - coalesce(s.list_tokens_at, clock_timestamp()))
                       * (s.config->>'list_requests_per_hour')::float8 / 3600.0)
           ELSE 'infinity'::float8 END
    FROM sites s WHERE s.name = p_site
$$;

-- Spend one token of the site's list budget (called by claim_due for each list page it hands out).
CREATE OR REPLACE FUNCTION spend_list_token(p_site text) RETURNS void
LANGUAGE sql AS $$
    UPDATE sites SET list_tokens = list_tokens_now(p_site) - 1, list_tokens_at = clock_timestamp()
    WHERE name = p_site AND config ? 'list_requests_per_hour'
$$;

-- v_documents: every earlier column, then withdrawn_at and withdrawn_reason at the end.
CREATE OR REPLACE VIEW v_documents AS
SELECT d.id AS document_id, d.url, d.site, d.title, d.published_at, d.published_date,
       d.source, d.site_name, d.script, d.text, d.outline, d.flags, d.content_hash,
       d.cluster_id, d.parser_version, d.first_seen, d.last_changed,
       d.kind, d.index_number, d.doc_number, d.issuer, d.written_at, d.subject, d.validity,
       (SELECT pu.url FROM urls pu WHERE pu.id = d.parent_url_id) AS parent_url,
       (SELECT pd.id FROM documents pd WHERE pd.url_id = d.parent_url_id) AS parent_document_id,
       d.title_key, d.withdrawn_at, d.withdrawn_reason
FROM documents d
WHERE govingest_reader_guard();

-- Each site's list pages and their schedule (`govingest status`): the interval the
-- scheduler chose, the estimated change rate (new articles a day), the last change seen.
CREATE OR REPLACE VIEW v_list_pages AS
SELECT u.id AS url_id, redact_url_secrets(u.url) AS url, u.site, u.host, u.kind, u.state,
       u.list_interval AS interval_seconds,
       u.change_events, u.change_window,
       u.last_change_at, u.last_fetched_at, u.next_fetch_at,
       CASE WHEN s.config ? 'list_requests_per_hour'
            THEN (s.config->>'list_requests_per_hour')::float8 END AS list_requests_per_hour
FROM urls u JOIN sites s ON s.name = u.site
WHERE u.kind IN ('list', 'feed') AND govingest_reader_guard();

GRANT SELECT ON v_documents, v_list_pages TO govingest_reader;
