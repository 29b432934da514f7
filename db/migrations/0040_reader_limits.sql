-- govingest_reader may read the consumer views and do nothing else that costs the
-- server or other consumers: it cannot call pg_notify (forge feed wake-ups), create
-- temporary objects, or run a statement without a time limit.
--
-- statement_timeout is a setting any session may change, and a role's default
-- (ALTER ROLE ... SET) does not apply to the login roles that are its members. So the
-- views enforce it: each ends in `WHERE govingest_reader_guard()`, which refuses to
-- return anything to a govingest_reader member whose statement_timeout is 0 (no limit)
-- or above 5 minutes. The guard takes no column, so the planner evaluates it once per
-- query (a one-time filter), not per row.
--
-- RULE for later migrations: a consumer view written anew must end in
-- `WHERE govingest_reader_guard()` (tests/db/test_reader_role.py checks every view
-- granted to govingest_reader).
--
-- The NOTIFY *statement* has no privilege in PostgreSQL and cannot be revoked; govingest's
-- listeners (`tail --follow`, examples/consumer.py) treat a notification only as a hint
-- to re-read the view, so a forged one costs a re-read, never a wrong event.

CREATE OR REPLACE FUNCTION govingest_reader_guard() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    limit_ms bigint := (SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout');
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       OR NOT pg_has_role(current_user, 'govingest_reader', 'USAGE') THEN
        RETURN true;
    END IF;
    IF limit_ms = 0 OR limit_ms > 300000 THEN
        RAISE EXCEPTION 'govingest_reader members must keep statement_timeout between 1ms and 5min (it is %)',
                        current_setting('statement_timeout')
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'as an administrator: ALTER ROLE <login role> SET statement_timeout = ''30s''; '
                         'or in the session: SET statement_timeout = ''30s''';
    END IF;
    RETURN true;
END
$$;

-- Wrap each consumer view as it stands (whatever columns earlier migrations gave it):
-- same columns in the same order, so CREATE OR REPLACE keeps its grants.
DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['v_documents', 'v_sections', 'v_facts', 'v_doc_events', 'v_urls'] LOOP
        EXECUTE format('CREATE OR REPLACE VIEW %I AS SELECT * FROM (%s) unguarded WHERE govingest_reader_guard()',
                       v, rtrim(pg_get_viewdef(v::regclass), E'; \n'));
    END LOOP;
END
$$;

-- pg_notify and temporary tables are granted to PUBLIC by default; take them back. Both
-- need a superuser (pg_notify belongs to the bootstrap superuser) or the database owner:
-- on a managed server where the migrating role is neither, say what to run instead.
DO $$
BEGIN
    REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'govingest_reader can still call pg_notify: as a superuser run '
                  'REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC';
END
$$;
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;  -- the default since PostgreSQL 15; older servers too
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'govingest_reader can still create temporary tables: as the database owner run '
                  'REVOKE TEMPORARY ON DATABASE % FROM PUBLIC', current_database();
END
$$;
