-- Who sent the host's latest request (db.frontier.take_slot), so a crawl that finds the
-- process dead (workers/local/runner.release_dead_leases) frees the host at once
-- (db.frontier.free_slots) instead of waiting out the stale window: a SIGKILLed crawl
-- leaves last_request_at > last_response_at, and the restarted crawl held every fetch on
-- that host for a minute (tests/e2e/test_crawl_resume.py). Only the dead owner's own mark
-- is cleared: another live process's request in flight on the host still holds it.
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS request_owner text NULL;
COMMENT ON COLUMN hosts.request_owner IS
    'lease owner that sent the latest request (take_slot); lets a dead owner''s unanswered request be cleared';
