-- 0010: government documents, not just text (issue 12).
-- * documents.kind: 'article' (a page) or 'attachment' (a PDF/Office/OFD file an article
--   links to); parent_url_id: for an attachment, the URL of the page that linked it.
-- * the 政府信息公开 fields of a page: index_number (索引号), doc_number (文号),
--   issuer (发文机关), written_at (成文日期), subject (主题分类), validity (有效性).
-- * title_key: the title as citations match it (no spaces, quote marks or edition
--   notes), computed by the parser (parsers/citations.title_key) so both sides agree.
-- * citations: the documents each document cites; v_citations resolves each one to a
--   document of the corpus by doc_number, else by title_key, at read time, so a
--   citation resolves as soon as the cited document arrives (no back-filling, no race
--   between the citing and the cited document's transactions).
ALTER TABLE documents
    ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'article' CHECK (kind IN ('article', 'attachment')),
    ADD COLUMN IF NOT EXISTS parent_url_id bigint NULL REFERENCES urls(id) ON DELETE SET NULL,
    ADD COLUMN IF NOT EXISTS index_number text NULL,
    ADD COLUMN IF NOT EXISTS doc_number text NULL,
    ADD COLUMN IF NOT EXISTS issuer text NULL,
    ADD COLUMN IF NOT EXISTS written_at date NULL,
    ADD COLUMN IF NOT EXISTS subject text NULL,
    ADD COLUMN IF NOT EXISTS validity text NULL,
    ADD COLUMN IF NOT EXISTS title_key text NULL;

CREATE INDEX IF NOT EXISTS documents_doc_number_idx ON documents (doc_number) WHERE doc_number IS NOT NULL;
CREATE INDEX IF NOT EXISTS documents_title_key_idx ON documents (title_key) WHERE title_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS documents_parent_url_id_idx ON documents (parent_url_id) WHERE parent_url_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS citations (
    document_id  bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord          int NOT NULL,                          -- order in the citing text, from 0
    title        text NULL,                             -- as written inside 《》
    title_key    text NULL,                             -- parsers.citations.title_key(title)
    doc_number   text NULL,                             -- 国办发〔2024〕12号 (〔〕 brackets, no spaces)
    kind         text NULL,                             -- 条例, 通知 … (null for a bare number)
    PRIMARY KEY (document_id, ord)
);
CREATE INDEX IF NOT EXISTS citations_doc_number_idx ON citations (doc_number) WHERE doc_number IS NOT NULL;
CREATE INDEX IF NOT EXISTS citations_title_key_idx ON citations (title_key) WHERE title_key IS NOT NULL;

-- v_documents: every earlier column, then the new ones (columns are only ever appended).
-- The parent is looked up by scalar subqueries, not joins: the view keeps reading one
-- table, so a write through it fails on privileges like every other view's.
CREATE OR REPLACE VIEW v_documents AS
SELECT d.id AS document_id, d.url, d.site, d.title, d.published_at, d.published_date,
       d.source, d.site_name, d.script, d.text, d.outline, d.flags, d.content_hash,
       d.cluster_id, d.parser_version, d.first_seen, d.last_changed,
       d.kind, d.index_number, d.doc_number, d.issuer, d.written_at, d.subject, d.validity,
       (SELECT pu.url FROM urls pu WHERE pu.id = d.parent_url_id) AS parent_url,
       (SELECT pd.id FROM documents pd WHERE pd.url_id = d.parent_url_id) AS parent_document_id,
       d.title_key
FROM documents d;

CREATE OR REPLACE VIEW v_doc_events AS
SELECT e.seq, e.xid::text::bigint AS xid, e.document_id, e.kind, e.at, d.url, d.site, d.title,
       d.kind AS document_kind
FROM doc_events e JOIN documents d ON d.id = e.document_id
WHERE e.xid < pg_snapshot_xmin(pg_current_snapshot());

-- A citation resolves to the document with its number, else to one with its title
-- (articles before attachments, then the earliest); null while the corpus has neither.
CREATE OR REPLACE VIEW v_citations AS
SELECT c.document_id, d.url, d.site, c.ord, c.title, c.doc_number, c.kind, c.title_key,
       coalesce(bn.id, bt.id) AS cited_document_id, coalesce(bn.url, bt.url) AS cited_url
FROM citations c
JOIN documents d ON d.id = c.document_id
LEFT JOIN LATERAL (
    SELECT t.id, t.url FROM documents t
    WHERE c.doc_number IS NOT NULL AND t.doc_number = c.doc_number AND t.id <> c.document_id
    ORDER BY t.kind, t.id LIMIT 1) bn ON true
LEFT JOIN LATERAL (
    SELECT t.id, t.url FROM documents t
    WHERE bn.id IS NULL AND c.title_key IS NOT NULL AND t.title_key = c.title_key AND t.id <> c.document_id
    ORDER BY t.kind, t.id LIMIT 1) bt ON true;

GRANT SELECT ON v_documents, v_doc_events, v_citations TO govingest_reader;
