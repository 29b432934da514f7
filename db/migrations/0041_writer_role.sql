-- govingest_writer: what the application needs and nothing more. Its members read and
-- write the tables, use the sequences and send feed notifications; they cannot change
-- the schema (no CREATE, not an owner), create roles or databases, or rewrite the
-- migration history. `govingest migrate` with GOVINGEST_APP_DATABASE_URL set creates the
-- application's login role as a member (db/roles.py); migrations run as the owner.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'govingest_writer') THEN
        CREATE ROLE govingest_writer NOLOGIN;
    END IF;
EXCEPTION
    -- roles are cluster-wide: a migration of another database may create it first
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
GRANT USAGE ON SCHEMA public TO govingest_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO govingest_writer;
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM govingest_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO govingest_writer;
-- Tables and sequences later migrations create (as the same owner) are granted too;
-- `govingest migrate` re-grants on every run for migrations applied by another role.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO govingest_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO govingest_writer;
DO $$
BEGIN
    GRANT EXECUTE ON FUNCTION pg_notify(text, text) TO govingest_writer;
EXCEPTION WHEN insufficient_privilege THEN NULL;  -- pg_notify stayed PUBLIC (see 0040)
END
$$;
