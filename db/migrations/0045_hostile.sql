-- 0045_hostile: what a hostile or unlucky site must not do to the frontier (issue 13).
--
-- * The URL cap counts what is pending, not history: a site's pending URLs are counted
--   on every page's links, read off this small partial index.
-- * Crawler traps: a page's query variants reached from its own pages are counted per
--   family (the URL without its query), off an index of URLs that have a query.
-- * URLs stored before canonicalization dropped session ids and tokens (or ingested
--   under a prefix that carries one) are redacted in v_urls: the parameter's value
--   becomes REDACTED, in `url` and in `last_error` (redirect messages quote URLs).
--   The parameter names are crawler/urls.py's SECRET_PARAMETER.

CREATE INDEX urls_pending_by_site_idx ON urls (site) WHERE state IN ('new', 'fetching');
CREATE INDEX urls_query_family_idx ON urls (site, split_part(url, '?', 1)) WHERE url LIKE '%?%';

CREATE OR REPLACE FUNCTION redact_url_secrets(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
    SELECT regexp_replace(
             regexp_replace(t,
               '((?:;|%3[bB])(?:jsessionid|phpsessid|sid|sessionid|aspsessionid\w*)=)[^/;?#&\s]*',
               '\1REDACTED', 'gi'),
             '([?&](?:jsessionid|phpsessid|sid|sessid|sessionid|session_id|aspsessionid\w*|cfid|cftoken|ticket'
             '|password|passwd|pwd|secret|api_?key|signature|sig|\w*token)=)[^&#\s]*',
             '\1REDACTED', 'gi')
$$;

-- Ends in the reader guard of migration 0040, as every consumer view must.
CREATE OR REPLACE VIEW v_urls AS
SELECT u.id AS url_id, redact_url_secrets(u.url) AS url, u.site, u.host, u.kind, u.state, u.depth,
       u.next_fetch_at, u.fail_count, u.last_status, u.last_error_kind,
       redact_url_secrets(u.last_error) AS last_error, u.last_fetched_at, u.created_at
FROM urls u
WHERE govingest_reader_guard();

GRANT EXECUTE ON FUNCTION redact_url_secrets(text) TO govingest_reader;
