-- Every view the reader role may read ends in `WHERE govingest_reader_guard()` (0040).
-- Views added or redefined by migrations written in parallel with 0040 (citations,
-- search, list schedules, …) may lack it: wrap each granted view whose definition does
-- not call the guard yet, keeping its columns, order and grants. Idempotent: a later
-- migration that redefines a view can simply be followed by this same block.
DO $$
DECLARE
    v text;
BEGIN
    FOR v IN SELECT DISTINCT table_name FROM information_schema.role_table_grants
             WHERE grantee = 'govingest_reader' AND table_schema = current_schema()
    LOOP
        IF to_regclass(v) IS NOT NULL
           AND (SELECT relkind FROM pg_class WHERE oid = to_regclass(v)) = 'v'
           AND position('govingest_reader_guard' IN pg_get_viewdef(v::regclass)) = 0 THEN
            EXECUTE format('CREATE OR REPLACE VIEW %I AS SELECT * FROM (%s) unguarded WHERE govingest_reader_guard()',
                           v, rtrim(pg_get_viewdef(v::regclass), E'; \n'));
        END IF;
    END LOOP;
END
$$;
