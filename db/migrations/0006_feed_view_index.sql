-- Consumers page through v_doc_events by (xid, seq) > (cursor) where the view exposes
-- xid as bigint (xid::text::bigint, a type every client language reads). Without an
-- index on that very expression each page of a long feed would scan doc_events whole.
CREATE INDEX IF NOT EXISTS doc_events_xid_bigint_seq_idx
    ON doc_events (((xid::text)::bigint), seq);
