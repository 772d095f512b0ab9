-- knowsley-tracker schema, version 4: the plan's writer lock is a row only writers may lock.
--
-- Versions 1-3 serialised a plan's writers with an advisory lock. Any login that
-- can connect to the database may take any advisory lock, so a reader (or a
-- login with no role at all) could hold a plan's lock and keep every officer
-- from writing. The lock is now a row of kt.writers, taken FOR UPDATE by
-- kt.lock_plan, which only a login with the officer role or higher on that plan
-- may call. It lasts until the transaction ends (commit or rollback, or the
-- client's death); lock_timeout bounds the wait (then kt says "busy", exit 7).

CREATE TABLE kt.writers (
    plan_id integer PRIMARY KEY REFERENCES kt.plans (id)
);
ALTER TABLE kt.writers ENABLE ROW LEVEL SECURITY;
ALTER TABLE kt.writers FORCE ROW LEVEL SECURITY;

CREATE FUNCTION kt.lock_plan(p_plan integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    caller kt.role := kt.my_role(p_plan);
BEGIN
    IF caller IS NULL OR caller < 'officer' THEN
        RAISE EXCEPTION 'Changing this plan needs the officer role or higher on it.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO kt.writers (plan_id) VALUES (p_plan) ON CONFLICT (plan_id) DO NOTHING;
    PERFORM 1 FROM kt.writers w WHERE w.plan_id = p_plan FOR UPDATE;
END $$;

REVOKE ALL ON FUNCTION kt.lock_plan(integer) FROM PUBLIC;

DO $$
DECLARE
    auth text := kt.group_role('auth');
BEGIN
    EXECUTE format('CREATE POLICY writers_auth ON kt.writers FOR ALL TO %I USING (true) WITH CHECK (true)', auth);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON kt.writers TO %I', auth);
    EXECUTE format('GRANT SELECT ON kt.writers TO %I', kt.group_role('reader'));
    EXECUTE 'CREATE POLICY writers_read ON kt.writers FOR SELECT '
            'USING (plan_id = ANY ((SELECT kt.plans_with(''reader''))::integer[]))';
    EXECUTE format('GRANT EXECUTE ON FUNCTION kt.lock_plan(integer) TO %I', kt.group_role('officer'));
    -- The function runs as auth (see 0002_access.sql for why the installer joins it for a moment).
    EXECUTE format('GRANT %I TO %I', auth, current_user);
    EXECUTE format('GRANT CREATE ON SCHEMA kt TO %I', auth);
    EXECUTE format('ALTER FUNCTION kt.lock_plan(integer) OWNER TO %I', auth);
    EXECUTE format('REVOKE CREATE ON SCHEMA kt FROM %I', auth);
    EXECUTE format('REVOKE %I FROM %I', auth, current_user);
END $$;
