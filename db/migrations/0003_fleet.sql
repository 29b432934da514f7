-- Worker fleet bookkeeping on raw pages (issue 5).
-- Why on `pages`: Redis may lose a `process` message (restart, eviction), so PostgreSQL
-- must know which fetched pages still wait for processing. The fetch task stamps
-- process_enqueued_at when it hands a page to the process queue; the process task stamps
-- processed_at when the page ended (document written, unchanged, or failed for good).
-- The dispatcher re-enqueues pages stamped long ago and never finished, and
-- process_attempts stops a poison page (parser hang, memory blowup that kills its
-- worker) from being retried forever.
ALTER TABLE pages
    ADD COLUMN IF NOT EXISTS process_enqueued_at timestamptz NULL,
    ADD COLUMN IF NOT EXISTS processed_at timestamptz NULL,
    ADD COLUMN IF NOT EXISTS process_attempts int NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS pages_awaiting_process_idx
    ON pages (process_enqueued_at)
    WHERE processed_at IS NULL AND process_enqueued_at IS NOT NULL;

CREATE INDEX IF NOT EXISTS pages_processed_at_idx
    ON pages (processed_at) WHERE processed_at IS NOT NULL;
