-- `govingest status` as the read-only role (0072) at the cost of the writer's status (0080):
-- the views it reads are redefined over the counters the writes keep and over indexes, so
-- they cost the same at a thousand URLs or a million. Same columns, same grants, guarded.
-- The URL states in `pending` and `due` are frontier.PENDING_SQL and frontier.CLAIMABLE_SQL;
-- the due count stops at db/fleet.DUE_COUNT_CAP (10,000), as the writer's fleet_status does.

CREATE OR REPLACE VIEW v_article_dialects AS
SELECT site, via AS dialect, sum(n)::bigint AS articles
FROM url_count_deltas
WHERE via IS NOT NULL AND govingest_reader_guard()
GROUP BY 1, 2
HAVING sum(n) <> 0;

CREATE OR REPLACE VIEW v_site_caps AS
SELECT s.name AS site, p.pending, (s.config->>'max_pages')::bigint AS max_pages
FROM sites s CROSS JOIN LATERAL (
    SELECT coalesce(sum(c.n), 0)::bigint AS pending FROM url_count_deltas c
    WHERE c.site = s.name AND c.state IN ('new', 'fetching')) p
WHERE s.config ? 'max_pages' AND govingest_reader_guard();

CREATE OR REPLACE VIEW v_fleet_status AS
WITH leases AS MATERIALIZED (SELECT lease_until FROM urls WHERE lease_until IS NOT NULL)
SELECT
  (SELECT count(*) FROM leases) AS leased,
  (SELECT count(*) FROM leases WHERE lease_until < now()) AS expired,
  (SELECT min(lease_until) FROM leases) AS oldest_lease,
  (SELECT count(*) FROM (SELECT 1 FROM urls u
                         WHERE u.state IN ('new', 'done', 'failed') AND u.next_fetch_at <= now()
                           AND u.lease_until IS NULL
                         LIMIT 10000) d) AS due,
  (SELECT count(*) FROM pages WHERE processed_at IS NULL) AS awaiting_process,
  (SELECT count(*) FROM pages WHERE fetched_at > now() - interval '1 minute') AS fetched_last_minute,
  (SELECT count(*) FROM pages p JOIN urls u ON u.id = p.url_id
   WHERE p.processed_at > now() - interval '1 minute' AND u.kind = 'article') AS processed_last_minute
WHERE govingest_reader_guard();
