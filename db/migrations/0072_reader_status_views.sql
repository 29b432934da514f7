-- What read-only commands need as govingest_reader (issue 14): `status` reads views, never
-- tables, and every read-only command can tell whether the schema is older than its code.
--
-- * govingest_schema_versions(): the applied migration versions. SECURITY DEFINER, so a
--   reader can check the schema without SELECT on schema_migrations; it returns numbers only.
-- * v_site_rule_hits, v_article_dialects, v_site_caps, v_fleet_status: what `govingest
--   status` printed from base tables (rule hits, articles by the dialect of the list that
--   linked them, sites at their max_pages cap, leases and throughput), as guarded views.
-- Every view ends in `WHERE govingest_reader_guard()` (0040) and is granted to the reader.

CREATE OR REPLACE FUNCTION govingest_schema_versions() RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT version FROM schema_migrations ORDER BY version
$$;
REVOKE ALL ON FUNCTION govingest_schema_versions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION govingest_schema_versions() TO govingest_reader;

CREATE OR REPLACE VIEW v_site_rule_hits AS
SELECT h.site, h.rule, h.hits, h.last_at
FROM site_rule_hits h
WHERE govingest_reader_guard();

-- An article linked from a list counts under that list's dialect, one linked from
-- another article under 'article', a start URL under 'start' (as `status` always did).
CREATE OR REPLACE VIEW v_article_dialects AS
SELECT a.site, CASE WHEN p.id IS NULL THEN 'start' ELSE coalesce(p.dialect, p.kind) END AS dialect,
       count(*) AS articles
FROM urls a
LEFT JOIN urls p ON p.id = a.discovered_from
WHERE a.kind = 'article' AND govingest_reader_guard()
GROUP BY 1, 2;

-- One row per site with a max_pages cap: URLs waiting or in flight against the cap.
CREATE OR REPLACE VIEW v_site_caps AS
SELECT s.name AS site, p.pending, (s.config->>'max_pages')::bigint AS max_pages
FROM sites s CROSS JOIN LATERAL (
    SELECT count(*) AS pending FROM urls u WHERE u.site = s.name AND u.state IN ('new', 'fetching')) p
WHERE s.config ? 'max_pages' AND govingest_reader_guard();

-- The fleet figures of `govingest status` (db/fleet.py fleet_status), one row.
CREATE OR REPLACE VIEW v_fleet_status AS
SELECT
  (SELECT count(*) FROM urls WHERE lease_until IS NOT NULL) AS leased,
  (SELECT count(*) FROM urls WHERE lease_until IS NOT NULL AND lease_until < now()) AS expired,
  (SELECT min(lease_until) FROM urls WHERE lease_until IS NOT NULL) AS oldest_lease,
  (SELECT count(*) FROM urls WHERE lease_until IS NULL AND state IN ('new', 'done', 'failed')
                                AND next_fetch_at <= now()) AS due,
  (SELECT count(*) FROM pages WHERE processed_at IS NULL) AS awaiting_process,
  (SELECT count(*) FROM pages WHERE fetched_at > now() - interval '1 minute') AS fetched_last_minute,
  (SELECT count(*) FROM pages p JOIN urls u ON u.id = p.url_id
   WHERE p.processed_at > now() - interval '1 minute' AND u.kind = 'article') AS processed_last_minute
WHERE govingest_reader_guard();

GRANT SELECT ON v_site_rule_hits, v_article_dialects, v_site_caps, v_fleet_status TO govingest_reader;
