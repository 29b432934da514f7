-- 0001_initial: frontier, raw pages, documents, sections, facts, change feed,
-- near-duplicate LSH bands, consumer views and the read-only role.
-- Applied once by db/migrate.py inside one transaction; never edit after release:
-- add 0002_..., 0003_... instead.

CREATE TABLE sites (
    name        text PRIMARY KEY,
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE urls (
    id               bigserial PRIMARY KEY,
    url              text NOT NULL UNIQUE,              -- canonical form
    site             text NOT NULL REFERENCES sites(name),
    host             text NOT NULL,                     -- host[:port], the politeness key
    kind             text CHECK (kind IN ('list', 'article', 'attachment')),
    state            text NOT NULL DEFAULT 'new'
                     CHECK (state IN ('new', 'queued', 'fetching', 'done', 'failed', 'gone')),
    depth            int NOT NULL DEFAULT 0 CHECK (depth >= 0),
    discovered_from  bigint NULL REFERENCES urls(id) ON DELETE SET NULL,
    next_fetch_at    timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz NULL,
    lease_owner      text NULL,
    fail_count       int NOT NULL DEFAULT 0 CHECK (fail_count >= 0),
    last_status      int NULL,
    last_error_kind  text NULL,
    last_error       text NULL,
    etag             text NULL,
    last_modified    text NULL,
    content_type     text NULL,
    content_length   bigint NULL,
    last_fetched_at  timestamptz NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX urls_state_next_fetch_idx ON urls (state, next_fetch_at);
CREATE INDEX urls_host_idx ON urls (host);
CREATE INDEX urls_lease_until_idx ON urls (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX urls_site_idx ON urls (site);

-- Raw responses, kept so `govingest reparse` never needs the network.
CREATE TABLE pages (
    id            bigserial PRIMARY KEY,
    url_id        bigint NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    status        int NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
    body          bytea NOT NULL,                       -- zlib-compressed
    encoding      text NULL,                            -- encoding used to decode, when known
    content_hash  text NOT NULL,                        -- sha256 hex of the uncompressed body
    size          int NOT NULL CHECK (size >= 0)        -- uncompressed bytes
);
CREATE INDEX pages_url_id_idx ON pages (url_id, id DESC);
CREATE INDEX pages_fetched_at_idx ON pages (fetched_at);

CREATE TABLE documents (
    id              bigserial PRIMARY KEY,
    url_id          bigint NOT NULL UNIQUE REFERENCES urls(id) ON DELETE CASCADE,
    url             text NOT NULL UNIQUE,
    site            text NOT NULL REFERENCES sites(name),
    page_id         bigint NULL REFERENCES pages(id) ON DELETE SET NULL,
    title           text NULL,
    published_at    text NULL,                          -- "YYYY-MM-DD[THH:MM]" as parsed
    published_date  date NULL,                          -- the date part, for range queries
    source          text NULL,
    site_name       text NULL,
    script          text NOT NULL CHECK (script IN ('hans', 'hant')),
    text            text NOT NULL,
    outline         jsonb NOT NULL DEFAULT '[]'::jsonb,
    flags           jsonb NOT NULL DEFAULT '{}'::jsonb,
    removed         jsonb NOT NULL DEFAULT '[]'::jsonb,
    encoding        text NULL,
    extract_method  text NULL,
    content_hash    text NOT NULL,                      -- sha256 of text (signature)
    output_hash     text NOT NULL,                      -- sha256 of the whole parse output
    minhash         bigint[] NULL,                      -- MinHash hash values (near-duplicates)
    cluster_id      bigint NULL,                        -- near-duplicate cluster (id of its first member)
    parser_version  text NOT NULL,
    first_seen      timestamptz NOT NULL DEFAULT now(),
    last_changed    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_site_idx ON documents (site);
CREATE INDEX documents_published_date_idx ON documents (published_date);
CREATE INDEX documents_cluster_id_idx ON documents (cluster_id);
CREATE INDEX documents_content_hash_idx ON documents (content_hash);
CREATE INDEX documents_last_changed_idx ON documents (last_changed);

CREATE TABLE sections (
    document_id  bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord          int NOT NULL,                          -- document order, 0-based
    number       text NOT NULL,                         -- dotted path "1.2"
    parent       text NULL,                             -- number of the parent section
    depth        int NOT NULL,
    marker       text NULL,
    heading      text NULL,
    start_para   int NOT NULL,
    end_para     int NOT NULL,
    items        jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (document_id, ord)
);

CREATE TABLE facts (
    document_id  bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord          int NOT NULL,
    indicator    text NOT NULL,
    value        double precision NOT NULL,
    unit         text NOT NULL,
    qualifier    text NULL CHECK (qualifier IN ('about', 'at_least', 'nearly', 'at_most')),
    span_start   int NOT NULL,
    span_end     int NOT NULL,
    section      text NULL,                             -- sections.number
    PRIMARY KEY (document_id, ord)
);
CREATE INDEX facts_indicator_idx ON facts (indicator);

-- The change feed. `xid` is the writing transaction: readers return only events of
-- transactions older than their snapshot's xmin, ordered by (xid, seq), so an event
-- whose transaction commits late can never be skipped (see db/feed.py).
CREATE TABLE doc_events (
    seq          bigserial PRIMARY KEY,
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    document_id  bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('created', 'updated')),
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX doc_events_xid_seq_idx ON doc_events (xid, seq);
CREATE INDEX doc_events_document_id_idx ON doc_events (document_id);

-- MinHash LSH bands: a document is a near-duplicate candidate of another when any
-- (band, hash) matches; Jaccard is then verified from documents.minhash.
CREATE TABLE doc_lsh_bands (
    document_id  bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    band         int NOT NULL,
    hash         bigint NOT NULL,
    PRIMARY KEY (document_id, band)
);
CREATE INDEX doc_lsh_bands_lookup_idx ON doc_lsh_bands (band, hash);

-- ---------------------------------------------------------------------------
-- Consumer API: these views (and only these) are documented and granted to
-- govingest_reader. Their columns are stable; add columns, never rename.
-- ---------------------------------------------------------------------------
CREATE VIEW v_documents AS
SELECT d.id AS document_id, d.url, d.site, d.title, d.published_at, d.published_date,
       d.source, d.site_name, d.script, d.text, d.outline, d.flags, d.content_hash,
       d.cluster_id, d.parser_version, d.first_seen, d.last_changed
FROM documents d;

CREATE VIEW v_sections AS
SELECT s.document_id, s.ord, s.number, s.parent, s.depth, s.marker, s.heading, s.items
FROM sections s;

CREATE VIEW v_facts AS
SELECT f.document_id, f.ord, f.indicator, f.value, f.unit, f.qualifier,
       f.span_start, f.span_end, f.section, d.url, d.site
FROM facts f JOIN documents d ON d.id = f.document_id;

-- Only events whose transaction ended before every transaction still running:
-- the visible prefix in (xid, seq) order is final, so a cursor over it never skips.
CREATE VIEW v_doc_events AS
SELECT e.seq, e.xid::text::bigint AS xid, e.document_id, e.kind, e.at, d.url, d.site, d.title
FROM doc_events e JOIN documents d ON d.id = e.document_id
WHERE e.xid < pg_snapshot_xmin(pg_current_snapshot());

CREATE VIEW v_urls AS
SELECT u.id AS url_id, u.url, u.site, u.host, u.kind, u.state, u.depth, u.next_fetch_at,
       u.fail_count, u.last_status, u.last_error_kind, u.last_error, u.last_fetched_at,
       u.created_at
FROM urls u;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'govingest_reader') THEN
        CREATE ROLE govingest_reader NOLOGIN;
    END IF;
EXCEPTION
    -- roles are cluster-wide: a migration of another database may create it first
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
GRANT USAGE ON SCHEMA public TO govingest_reader;
GRANT SELECT ON v_documents, v_sections, v_facts, v_doc_events, v_urls TO govingest_reader;
