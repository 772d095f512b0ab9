-- knowsley-tracker schema, version 3: an officer's history says only what an officer did.
--
-- kt undo reverses what a history entry lists. Version 2 let an officer record
-- any list of changes under their own login; an editor's undo could then be
-- steered into removing records the officer may not touch (a forged "create
-- A5" entry, undone, deletes A5). From here an officer's history entry may list
-- only what officers may do, each checked against the rows as they are:
--   - creating a log entry or an evidence item that the officer's login wrote;
--   - updating the progress side of an action the officer owns;
-- and may not mark itself an undo, a restore or a migration (undo's barriers).
-- Editors and admins, who may change every record anyway, are not limited.

CREATE FUNCTION kt.officer_history_ok(p_plan integer, p_changes jsonb, p_extra jsonb) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT jsonb_typeof(p_changes) = 'array'
           AND NOT (p_extra ?| ARRAY['undo', 'restore', 'migrate'])
           AND coalesce((
                SELECT bool_and(CASE
                    WHEN jsonb_typeof(c) <> 'array' THEN false
                    WHEN c->>0 = 'create' AND c->>1 = 'log' THEN EXISTS (
                        SELECT 1 FROM kt.log l
                        WHERE l.plan_id = p_plan AND l.id = (c->>2)::integer AND l.login = session_user)
                    WHEN c->>0 = 'create' AND c->>1 = 'evidence' THEN EXISTS (
                        SELECT 1 FROM kt.evidence e
                        WHERE e.plan_id = p_plan AND e.id = (c->>2)::integer AND e.login = session_user)
                    WHEN c->>0 = 'update' AND c->>1 = 'actions' AND jsonb_typeof(c->3) = 'object' THEN
                        kt.owns_action(p_plan, (c->>2)::integer)
                        AND NOT EXISTS (
                            SELECT 1 FROM jsonb_object_keys(c->3) k
                            WHERE k NOT IN ('status', 'progress', 'completed_on', 'dropped_reason', 'rag_override',
                                            'rag_reason', 'last_logged_at', 'last_note'))
                    ELSE false
                END)
                FROM jsonb_array_elements(p_changes) c
           ), true)
    $$;

REVOKE ALL ON FUNCTION kt.officer_history_ok(integer, jsonb, jsonb) FROM PUBLIC;

DO $$
BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION kt.officer_history_ok(integer, jsonb, jsonb) TO %I',
                   kt.group_role('reader'));
END $$;

DROP POLICY history_write ON kt.history;
CREATE POLICY history_write ON kt.history FOR INSERT WITH CHECK (
    plan_id = ANY ((SELECT kt.plans_with('editor'))::integer[])
    OR (plan_id = ANY ((SELECT kt.plans_with('officer'))::integer[])
        AND kt.officer_history_ok(plan_id, changes, extra))
);
