-- 0002_politeness: per-host politeness budgets and robots.txt, shared by every worker;
-- plus the hash of each URL's last stored body, so an unchanged refetch stores nothing.

CREATE TABLE hosts (
    host               text PRIMARY KEY,                  -- host[:port], as urls.host
    interval_seconds   double precision NOT NULL DEFAULT 1.0 CHECK (interval_seconds > 0),
    concurrency        int NOT NULL DEFAULT 1 CHECK (concurrency >= 1),
    crawl_delay        double precision NULL,             -- from robots.txt
    robots_txt         text NULL,                         -- NULL = not fetched yet; '' = none
    robots_status      int NULL,
    robots_fetched_at  timestamptz NULL,
    next_allowed_at    timestamptz NOT NULL DEFAULT now(), -- earliest next hand-out
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hosts_next_allowed_idx ON hosts (next_allowed_at);

ALTER TABLE urls ADD COLUMN content_hash text NULL;        -- sha256 of the last stored body
CREATE INDEX urls_fetching_host_idx ON urls (host) WHERE state = 'fetching';
-- claim_due: the oldest due URL of one host, read straight off the index
CREATE INDEX urls_due_by_host_idx ON urls (host, next_fetch_at, id)
    WHERE state IN ('new', 'queued', 'done', 'failed');
