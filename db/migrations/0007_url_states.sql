-- 0007_url_states: no state in the schema that nothing writes. 'queued' was never set by
-- any code (Redis carries the messages; a dispatched URL is 'fetching' under a lease), so
-- the check and the claim index list exactly govingest.states.UrlState / CLAIMABLE.
UPDATE urls SET state = 'new' WHERE state = 'queued';  -- none expected; keeps the check valid
ALTER TABLE urls DROP CONSTRAINT urls_state_check;
ALTER TABLE urls ADD CONSTRAINT urls_state_check
    CHECK (state IN ('new', 'fetching', 'done', 'failed', 'gone'));
DROP INDEX urls_due_by_host_idx;
CREATE INDEX urls_due_by_host_idx ON urls (host, next_fetch_at, id)
    WHERE state IN ('new', 'done', 'failed');
