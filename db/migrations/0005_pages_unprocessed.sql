-- Pages a fetch worker stored but died before handing to the process queue have no
-- process_enqueued_at: the dispatcher's sweep (db.fleet.claim_stale_pages) counts them
-- from fetched_at, so this index covers every unfinished page by the later stamp.
DROP INDEX IF EXISTS pages_awaiting_process_idx;
CREATE INDEX IF NOT EXISTS pages_unprocessed_idx
    ON pages ((coalesce(process_enqueued_at, fetched_at)))
    WHERE processed_at IS NULL;
