-- knowsley-tracker schema, version 2: who may do what, enforced by PostgreSQL.
--
-- Identity is the database login: session_user, which a client cannot change
-- (SET ROLE changes current_user only; SET SESSION AUTHORIZATION needs a
-- superuser). Every row a command writes that says who wrote it (history, log,
-- evidence, KPI values, snapshots) takes session_user, and a policy refuses
-- any other value.
--
-- Roles are granted per plan, in kt.access:
--   reader   every read, nothing else (board members)
--   officer  a reader who may also log progress, complete and add evidence on
--            the actions whose owner is linked to their login (kt.owners.login)
--   editor   everything on the plan's records (the performance team)
--   admin    an editor who also manages access and settings
--
-- Two layers enforce them:
--   1. GRANTs to group roles, one per role, chained reader < officer < editor
--      < admin. A login is a member of the group of the highest role it holds
--      on any plan of this database (kt.sync_groups keeps that true), so a
--      login that is only ever a reader has no INSERT, UPDATE or DELETE
--      privilege at all. Column grants keep plan_id, id and login unchangeable.
--   2. Row-level security on every table that holds plan data, FORCEd so that
--      the tables' owner is bound too: a row is visible only on plans where
--      the login holds a role, and writable only where the role allows it.
--
-- kt.access is changed only through SECURITY DEFINER functions (create_plan,
-- grant_access, revoke_access), which check that the caller is the plan's
-- admin. They run as the NOLOGIN group "auth", the one role whose policies
-- see every row of kt.plans, kt.access and kt.counters; nobody is a member of
-- it, so only those functions act as it. Ids are handed out by a trigger that
-- also runs as auth, so an officer can add a log entry without being able to
-- touch kt.counters.
--
-- Group role names are per database (kt_<database>_<role>, see kt.role_groups)
-- because roles are cluster-wide and one server may hold several databases.

CREATE TYPE kt.role AS ENUM ('reader', 'officer', 'editor', 'admin');

CREATE TABLE kt.role_groups (
    role text PRIMARY KEY CONSTRAINT role_groups_role_known
        CHECK (role IN ('auth', 'planner', 'reader', 'officer', 'editor', 'admin')),
    rolname text NOT NULL CONSTRAINT role_groups_rolname_unique UNIQUE
);

CREATE TABLE kt.access (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    login text NOT NULL,
    role kt.role NOT NULL,
    granted_by text NOT NULL DEFAULT session_user,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, login)
);
CREATE INDEX access_login ON kt.access (login);

-- The group roles: created here unless a database of the same name created them
-- before (they carry a comment naming their database; any other role of that
-- name is refused rather than taken over).
DO $$
DECLARE
    db text := current_database();
    prefix text := 'kt_' || current_database();
    kind text;
    group_name text;
    tag text;
    existing oid;
BEGIN
    IF octet_length(prefix) > 54 THEN
        prefix := 'kt_' || substr(md5(db), 1, 16);
    END IF;
    FOREACH kind IN ARRAY ARRAY['auth', 'planner', 'reader', 'officer', 'editor', 'admin'] LOOP
        group_name := prefix || '_' || kind;
        tag := format('knowsley-tracker %s group of database %s', kind, db);
        SELECT r.oid INTO existing FROM pg_catalog.pg_roles r WHERE r.rolname = group_name;
        IF existing IS NULL THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', group_name);
            EXECUTE format('COMMENT ON ROLE %I IS %L', group_name, tag);
        ELSIF pg_catalog.shobj_description(existing, 'pg_authid') IS DISTINCT FROM tag THEN
            RAISE EXCEPTION 'The role % exists already and is not knowsley-tracker''s group for database %.', group_name, db
                USING ERRCODE = 'duplicate_object',
                      HINT = 'Rename or drop that role, or install knowsley-tracker in a database of another name.';
        END IF;
        INSERT INTO kt.role_groups (role, rolname) VALUES (kind, group_name);
    END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- Who the caller is, per plan (invoker functions: they read the caller's own
-- rows of kt.access, which its policy lets every login see).

CREATE FUNCTION kt.group_role(kind text) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    AS $$ SELECT g.rolname FROM kt.role_groups g WHERE g.role = kind $$;

CREATE FUNCTION kt.my_role(p_plan integer) RETURNS kt.role
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    AS $$ SELECT a.role FROM kt.access a WHERE a.plan_id = p_plan AND a.login = session_user $$;

-- The plans where the caller holds at least role p_least. Policies call it as
-- plan_id = ANY ((SELECT kt.plans_with(...))::integer[]): an init plan, evaluated
-- once per query rather than once per row, and an index condition on (plan_id, ...).
CREATE FUNCTION kt.plans_with(p_least kt.role) RETURNS integer[]
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT coalesce(array_agg(a.plan_id), '{}')
        FROM kt.access a WHERE a.login = session_user AND a.role >= p_least
    $$;

-- True when the action's owner is linked to the caller's login.
CREATE FUNCTION kt.owns_action(p_plan integer, p_action integer) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT EXISTS (
            SELECT 1 FROM kt.actions a
            JOIN kt.owners o ON o.plan_id = a.plan_id AND o.id = a.owner_id
            WHERE a.plan_id = p_plan AND a.id = p_action AND o.login = session_user
        )
    $$;

-- ---------------------------------------------------------------------------
-- Triggers

-- Ids: the next number of the plan's counter for the table, or (editors only,
-- for imports and undo) the id given, which moves the counter past it. Runs as
-- auth, the only role allowed to write kt.counters.
CREATE FUNCTION kt.assign_id() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    given integer;
    issued integer;
    caller kt.role := kt.my_role(NEW.plan_id);
BEGIN
    IF caller IS NULL OR caller < 'officer' THEN
        RAISE EXCEPTION 'Adding to this plan needs the officer role or higher on it.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_TABLE_NAME = 'history' THEN
        given := NEW.txn;
    ELSE
        given := NEW.id;
    END IF;
    IF given IS NULL THEN
        INSERT INTO kt.counters AS c (plan_id, kind, last) VALUES (NEW.plan_id, TG_TABLE_NAME, 1)
        ON CONFLICT (plan_id, kind) DO UPDATE SET last = c.last + 1
        RETURNING c.last INTO issued;
    ELSE
        IF caller < 'editor' THEN
            RAISE EXCEPTION 'Choosing the id of a new % row needs the editor role.', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        INSERT INTO kt.counters AS c (plan_id, kind, last) VALUES (NEW.plan_id, TG_TABLE_NAME, given)
        ON CONFLICT (plan_id, kind) DO UPDATE SET last = greatest(c.last, EXCLUDED.last);
        issued := given;
    END IF;
    IF TG_TABLE_NAME = 'history' THEN
        NEW.txn := issued;
    ELSE
        NEW.id := issued;
    END IF;
    RETURN NEW;
END $$;

-- An officer changes only the progress side of an action (what kt log and
-- kt done change); the rest of it is the editors'. The column grants say the
-- same for a login that is an officer everywhere; this holds it per plan for a
-- login that is an officer here and an editor elsewhere.
CREATE FUNCTION kt.guard_action_update() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF kt.my_role(NEW.plan_id) >= 'editor' THEN
        RETURN NEW;
    END IF;
    IF (NEW.rec_id, NEW.title, NEW.due, NEW.owner_id, NEW.original_due, NEW.success_measure, NEW.created_at)
        IS DISTINCT FROM
       (OLD.rec_id, OLD.title, OLD.due, OLD.owner_id, OLD.original_due, OLD.success_measure, OLD.created_at) THEN
        RAISE EXCEPTION 'Changing an action''s title, recommendation, owner, due date or success measure needs the editor role.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['inspections', 'focus_areas', 'owners', 'recommendations', 'actions', 'log', 'evidence',
                             'visits', 'kpis', 'kpi_values', 'boards', 'interventions', 'partners', 'history'] LOOP
        EXECUTE format('CREATE TRIGGER assign_id BEFORE INSERT ON kt.%I FOR EACH ROW EXECUTE FUNCTION kt.assign_id()', t);
    END LOOP;
END $$;

CREATE TRIGGER guard_action_update BEFORE UPDATE ON kt.actions
    FOR EACH ROW EXECUTE FUNCTION kt.guard_action_update();

-- ---------------------------------------------------------------------------
-- Access management (SECURITY DEFINER, run as auth)

-- Make the login's group memberships match the highest role it holds here.
CREATE FUNCTION kt.sync_groups(who text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    top kt.role;
    kind kt.role;
    grp text;
    is_member boolean;
BEGIN
    SELECT max(a.role) INTO top FROM kt.access a WHERE a.login = who;
    FOREACH kind IN ARRAY enum_range(NULL::kt.role) LOOP
        grp := kt.group_role(kind::text);
        SELECT EXISTS (
            SELECT 1 FROM pg_auth_members m
            WHERE m.roleid = grp::regrole AND m.member = who::regrole AND m.grantor = current_user::regrole
        ) INTO is_member;
        IF kind = top AND NOT is_member THEN
            EXECUTE format('GRANT %I TO %I', grp, who);
        ELSIF kind IS DISTINCT FROM top AND is_member THEN
            EXECUTE format('REVOKE %I FROM %I', grp, who);
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION kt.create_plan(plan_key text, plan_authority text, created timestamptz DEFAULT now()) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    new_id integer;
BEGIN
    IF NOT pg_has_role(session_user, kt.group_role('planner'), 'MEMBER') THEN
        RAISE EXCEPTION 'Creating a plan needs the planner role (%).', kt.group_role('planner')
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('Ask the database administrator: GRANT %I TO %I;', kt.group_role('planner'), session_user);
    END IF;
    INSERT INTO kt.plans (key, authority, created_at) VALUES (plan_key, plan_authority, created) RETURNING id INTO new_id;
    INSERT INTO kt.access (plan_id, login, role) VALUES (new_id, session_user, 'admin');
    PERFORM kt.sync_groups(session_user);
    RETURN new_id;
END $$;

-- The plan's id when the caller is its admin; otherwise the same refusal whether
-- or not the plan exists, so that nobody learns of plans they cannot see.
CREATE FUNCTION kt.admin_plan(plan_key text, doing text) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    found integer;
BEGIN
    SELECT p.id INTO found FROM kt.plans p WHERE p.key = plan_key;
    IF found IS NULL OR kt.my_role(found) IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION '% on plan % needs the admin role there.', doing, plan_key
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN found;
END $$;

CREATE FUNCTION kt.grant_access(plan_key text, who text, new_role kt.role) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    plan integer := kt.admin_plan(plan_key, 'Granting access');
BEGIN
    IF new_role IS NULL THEN
        RAISE EXCEPTION 'Give a role: reader, officer, editor or admin.' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = who AND r.rolcanlogin) THEN
        RAISE EXCEPTION 'There is no database login %.', who
            USING ERRCODE = 'undefined_object',
                  HINT = 'The database administrator creates logins (CREATE ROLE ... LOGIN).';
    END IF;
    IF new_role <> 'admin' AND kt.last_admin(plan, who) THEN
        RAISE EXCEPTION '% is the only admin of plan %: grant admin to someone else first.', who, plan_key
            USING ERRCODE = 'restrict_violation';
    END IF;
    INSERT INTO kt.access AS a (plan_id, login, role) VALUES (plan, who, new_role)
    ON CONFLICT (plan_id, login) DO UPDATE
        SET role = EXCLUDED.role, granted_by = session_user, granted_at = now();
    PERFORM kt.sync_groups(who);
END $$;

CREATE FUNCTION kt.revoke_access(plan_key text, who text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    plan integer := kt.admin_plan(plan_key, 'Revoking access');
BEGIN
    IF kt.last_admin(plan, who) THEN
        RAISE EXCEPTION '% is the only admin of plan %: grant admin to someone else first.', who, plan_key
            USING ERRCODE = 'restrict_violation';
    END IF;
    DELETE FROM kt.access a WHERE a.plan_id = plan AND a.login = who;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM kt.sync_groups(who);
    RETURN true;
END $$;

CREATE FUNCTION kt.last_admin(plan integer, who text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT EXISTS (SELECT 1 FROM kt.access a WHERE a.plan_id = plan AND a.login = who AND a.role = 'admin')
           AND NOT EXISTS (SELECT 1 FROM kt.access a WHERE a.plan_id = plan AND a.login <> who AND a.role = 'admin')
    $$;

CREATE FUNCTION kt.list_access(plan_key text)
    RETURNS TABLE (login text, role kt.role, granted_by text, granted_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    plan integer := kt.admin_plan(plan_key, 'Listing access');
BEGIN
    RETURN QUERY
        SELECT a.login, a.role, a.granted_by, a.granted_at FROM kt.access a
        WHERE a.plan_id = plan ORDER BY a.role DESC, a.login;
END $$;

-- Move an id counter up (kt import); never down. Editors only.
CREATE FUNCTION kt.raise_counter(p_plan integer, p_counter text, p_value integer) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    before integer;
BEGIN
    IF kt.my_role(p_plan) IS NULL OR kt.my_role(p_plan) < 'editor' THEN
        RAISE EXCEPTION 'Moving an id counter needs the editor role.' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT c.last INTO before FROM kt.counters c WHERE c.plan_id = p_plan AND c.kind = p_counter FOR UPDATE;
    IF before IS NOT NULL AND before >= p_value THEN
        RETURN false;
    END IF;
    INSERT INTO kt.counters AS c (plan_id, kind, last) VALUES (p_plan, p_counter, p_value)
    ON CONFLICT (plan_id, kind) DO UPDATE SET last = greatest(c.last, EXCLUDED.last);
    RETURN true;
END $$;

-- ---------------------------------------------------------------------------
-- Group roles and their privileges

DO $$
DECLARE
    auth text := kt.group_role('auth');
    planner text := kt.group_role('planner');
    reader text := kt.group_role('reader');
    officer text := kt.group_role('officer');
    editor text := kt.group_role('editor');
    admin text := kt.group_role('admin');
    t text;
    cols text;
BEGIN
    EXECUTE format('GRANT %I TO %I', reader, officer);
    EXECUTE format('GRANT %I TO %I', officer, editor);
    EXECUTE format('GRANT %I TO %I', editor, admin);
    -- auth manages memberships; the installer may make planners (GRANT ... TO login) and is one.
    FOREACH t IN ARRAY ARRAY[reader, officer, editor, admin] LOOP
        EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION', t, auth);
    END LOOP;
    EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION', planner, current_user);

    -- Every login of the database may see that kt is here and which version, and
    -- ask to create a plan (kt.create_plan refuses, by name, all but planners);
    -- nothing else without a role.
    EXECUTE 'REVOKE ALL ON ALL FUNCTIONS IN SCHEMA kt FROM PUBLIC';
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA kt REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC';
    EXECUTE 'GRANT USAGE ON SCHEMA kt TO PUBLIC';
    EXECUTE 'GRANT SELECT ON kt.schema_version, kt.role_groups TO PUBLIC';
    EXECUTE 'GRANT EXECUTE ON FUNCTION kt.create_plan(text, text, timestamptz) TO PUBLIC';

    -- Readers read everything (row-level security then shows only their plans).
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA kt TO %I', reader);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kt.group_role(text), kt.my_role(integer), kt.plans_with(kt.role), '
                   'kt.owns_action(integer, integer) TO %I, %I', reader, auth);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kt.grant_access(text, text, kt.role), kt.revoke_access(text, text), '
                   'kt.list_access(text) TO %I', reader);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kt.raise_counter(integer, text, integer) TO %I', editor);

    -- Officers: the progress side of actions, log entries, evidence, and their commands' history.
    EXECUTE format('GRANT UPDATE (status, progress, completed_on, dropped_reason, rag_override, rag_reason, '
                   'last_logged_at, last_note) ON kt.actions TO %I', officer);
    FOREACH t IN ARRAY ARRAY['log', 'evidence', 'history'] LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = format('kt.%I', t)::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname NOT IN ('login', 'recorded_at');
        EXECUTE format('GRANT INSERT (%s) ON kt.%I TO %I', cols, t, officer);
    END LOOP;

    -- Editors: every record, except that a row never changes plan, id or login.
    FOREACH t IN ARRAY ARRAY['inspections', 'focus_areas', 'owners', 'recommendations', 'actions', 'log', 'evidence',
                             'visits', 'kpis', 'kpi_values', 'boards', 'interventions', 'partners'] LOOP
        -- (owners.login is the owner's link to a login, which editors set; elsewhere
        -- login says who wrote the row, which only the database sets.)
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = format('kt.%I', t)::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND (a.attname <> 'login' OR t = 'owners');
        EXECUTE format('GRANT INSERT (%s) ON kt.%I TO %I', cols, t, editor);
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = format('kt.%I', t)::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname NOT IN ('plan_id', 'id') AND (a.attname <> 'login' OR t = 'owners');
        EXECUTE format('GRANT UPDATE (%s), DELETE ON kt.%I TO %I', cols, t, editor);
    END LOOP;
    EXECUTE format('GRANT INSERT (plan_id, name, snapshot, saved_at) ON kt.snapshots TO %I', editor);

    -- Admins: settings and the plan's own name.
    EXECUTE format('GRANT INSERT, UPDATE (value), DELETE ON kt.settings TO %I', admin);
    EXECUTE format('GRANT UPDATE (authority, created_at) ON kt.plans TO %I', admin);

    -- auth: what the definer functions and the id trigger do.
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON kt.plans, kt.access, kt.counters TO %I', auth);
    EXECUTE format('GRANT SELECT ON kt.role_groups TO %I', auth);

    -- The definer functions run as auth (it needs CREATE on the schema to own them,
    -- and the installer needs to be a member for a moment to give them away).
    EXECUTE format('GRANT %I TO %I', auth, current_user);
    EXECUTE format('GRANT CREATE ON SCHEMA kt TO %I', auth);
    FOREACH t IN ARRAY ARRAY['kt.assign_id()', 'kt.sync_groups(text)', 'kt.create_plan(text, text, timestamptz)',
                             'kt.admin_plan(text, text)', 'kt.grant_access(text, text, kt.role)',
                             'kt.revoke_access(text, text)', 'kt.last_admin(integer, text)', 'kt.list_access(text)',
                             'kt.raise_counter(integer, text, integer)'] LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', t, auth);
    END LOOP;
    EXECUTE format('REVOKE CREATE ON SCHEMA kt FROM %I', auth);
    EXECUTE format('REVOKE %I FROM %I', auth, current_user);
END $$;

-- ---------------------------------------------------------------------------
-- Row-level security

-- Tables without plan data: readable by every kt login, kept by the installer.
ALTER TABLE kt.schema_version ENABLE ROW LEVEL SECURITY;
CREATE POLICY schema_version_read ON kt.schema_version FOR SELECT USING (true);
ALTER TABLE kt.role_groups ENABLE ROW LEVEL SECURITY;
CREATE POLICY role_groups_read ON kt.role_groups FOR SELECT USING (true);

DO $$
DECLARE
    auth text := kt.group_role('auth');
    t text;
BEGIN
    -- Every table with plan data: on, and forced on the tables' owner too.
    FOREACH t IN ARRAY ARRAY['plans', 'access', 'counters', 'settings', 'history', 'snapshots',
                             'inspections', 'focus_areas', 'owners', 'recommendations', 'actions', 'log', 'evidence',
                             'visits', 'kpis', 'kpi_values', 'boards', 'interventions', 'partners'] LOOP
        EXECUTE format('ALTER TABLE kt.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE kt.%I FORCE ROW LEVEL SECURITY', t);
    END LOOP;

    -- Reading: the plans where the login holds any role.
    FOREACH t IN ARRAY ARRAY['counters', 'settings', 'history', 'snapshots',
                             'inspections', 'focus_areas', 'owners', 'recommendations', 'actions', 'log', 'evidence',
                             'visits', 'kpis', 'kpi_values', 'boards', 'interventions', 'partners'] LOOP
        EXECUTE format('CREATE POLICY %I ON kt.%I FOR SELECT USING (plan_id = ANY ((SELECT kt.plans_with(''reader''))::integer[]))',
                       t || '_read', t);
    END LOOP;

    -- Editors change every record of their plans.
    FOREACH t IN ARRAY ARRAY['inspections', 'focus_areas', 'owners', 'recommendations', 'actions', 'log', 'evidence',
                             'visits', 'kpis', 'kpi_values', 'boards', 'interventions', 'partners'] LOOP
        EXECUTE format('CREATE POLICY %I ON kt.%I FOR ALL USING (plan_id = ANY ((SELECT kt.plans_with(''editor''))::integer[]))'
                       ' WITH CHECK (plan_id = ANY ((SELECT kt.plans_with(''editor''))::integer[]))', t || '_edit', t);
    END LOOP;

    -- Rows that say who wrote them must say it truly, whoever writes them.
    FOREACH t IN ARRAY ARRAY['history', 'snapshots', 'log', 'evidence', 'kpi_values'] LOOP
        EXECUTE format('CREATE POLICY %I ON kt.%I AS RESTRICTIVE FOR INSERT WITH CHECK (login = session_user)',
                       t || '_login_is_session_user', t);
    END LOOP;

    -- auth (the definer functions and the id trigger) sees and keeps plans, access and counters.
    FOREACH t IN ARRAY ARRAY['plans', 'access', 'counters'] LOOP
        EXECUTE format('CREATE POLICY %I ON kt.%I FOR ALL TO %I USING (true) WITH CHECK (true)', t || '_auth', t, auth);
    END LOOP;
END $$;

CREATE POLICY plans_read ON kt.plans FOR SELECT USING (id = ANY ((SELECT kt.plans_with('reader'))::integer[]));
CREATE POLICY plans_admin ON kt.plans FOR UPDATE
    USING (id = ANY ((SELECT kt.plans_with('admin'))::integer[])) WITH CHECK (id = ANY ((SELECT kt.plans_with('admin'))::integer[]));

-- A login sees its own grants (what kt.my_role reads); admins list the rest through kt.list_access.
CREATE POLICY access_own ON kt.access FOR SELECT USING (login = session_user);

CREATE POLICY settings_admin ON kt.settings FOR ALL
    USING (plan_id = ANY ((SELECT kt.plans_with('admin'))::integer[])) WITH CHECK (plan_id = ANY ((SELECT kt.plans_with('admin'))::integer[]));

-- Every command that changes a plan records itself; nobody changes what is recorded.
CREATE POLICY history_write ON kt.history FOR INSERT WITH CHECK (plan_id = ANY ((SELECT kt.plans_with('officer'))::integer[]));
CREATE POLICY snapshots_write ON kt.snapshots FOR INSERT WITH CHECK (plan_id = ANY ((SELECT kt.plans_with('editor'))::integer[]));

-- Officers: progress on the actions they own.
CREATE POLICY actions_officer ON kt.actions FOR UPDATE
    USING (plan_id = ANY ((SELECT kt.plans_with('officer'))::integer[]) AND kt.owns_action(plan_id, id))
    WITH CHECK (plan_id = ANY ((SELECT kt.plans_with('officer'))::integer[]) AND kt.owns_action(plan_id, id));
CREATE POLICY log_officer ON kt.log FOR INSERT
    WITH CHECK (plan_id = ANY ((SELECT kt.plans_with('officer'))::integer[]) AND kt.owns_action(plan_id, action_id));
CREATE POLICY evidence_officer ON kt.evidence FOR INSERT
    WITH CHECK (plan_id = ANY ((SELECT kt.plans_with('officer'))::integer[]) AND kt.owns_action(plan_id, action_id));
