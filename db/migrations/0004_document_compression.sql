-- 0004_document_compression: compress large document columns with lz4 instead of pglz.
-- Why: a document's text, outline and removed lines (~10 KB for a typical page) are
-- TOASTed on every write; lz4 compresses several times faster than pglz at a similar
-- ratio, which bench/store.py shows as store time per document. Skipped (pglz stays)
-- on a server built without lz4, so the migration never fails for lack of it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE documents ALTER COLUMN text SET COMPRESSION lz4;
        ALTER TABLE documents ALTER COLUMN outline SET COMPRESSION lz4;
        ALTER TABLE documents ALTER COLUMN removed SET COMPRESSION lz4;
        ALTER TABLE pages ALTER COLUMN headers SET COMPRESSION lz4;
    END IF;
END
$$;

-- Raw page bodies are zlib-compressed by govingest already: a second compression
-- pass by TOAST only costs CPU, so store them out of line as they are.
ALTER TABLE pages ALTER COLUMN body SET STORAGE EXTERNAL;
