-- knowsley-tracker schema, version 7: an officer's history entries have the shape kt reads.
--
-- Version 3 checked what an officer's history entry may list, but not its shape: an
-- officer could insert, through SQL, an update whose values were not [old, new] pairs
-- ({"status": null}) or a change of three items. kt could not replay such an entry, and
-- as history rows are never changed or deleted, one planted row made kt history and
-- kt undo fail for everyone on the plan. Now each change is exactly [operation, table,
-- id, values] and each updated field an [old, new] pair (each tested in a CASE, in order,
-- as a length is only asked of an array). (kt itself reads a malformed
-- entry from anyone else, an editor, as damage: one line and exit 9.)

CREATE OR REPLACE FUNCTION kt.officer_history_ok(p_plan integer, p_changes jsonb, p_extra jsonb) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT jsonb_typeof(p_changes) = 'array'
           AND NOT (p_extra ?| ARRAY['undo', 'restore', 'migrate'])
           AND coalesce((
                SELECT bool_and(CASE
                    WHEN jsonb_typeof(c) <> 'array' THEN false
                    WHEN jsonb_array_length(c) <> 4 THEN false
                    WHEN jsonb_typeof(c->2) <> 'number' THEN false
                    WHEN c->>0 = 'create' AND c->>1 = 'log' THEN EXISTS (
                        SELECT 1 FROM kt.log l
                        WHERE l.plan_id = p_plan AND l.id = (c->>2)::integer AND l.login = session_user)
                    WHEN c->>0 = 'create' AND c->>1 = 'evidence' THEN EXISTS (
                        SELECT 1 FROM kt.evidence e
                        WHERE e.plan_id = p_plan AND e.id = (c->>2)::integer AND e.login = session_user)
                    WHEN c->>0 = 'update' AND c->>1 = 'actions' AND jsonb_typeof(c->3) = 'object' THEN
                        kt.owns_action(p_plan, (c->>2)::integer)
                        AND NOT EXISTS (
                            SELECT 1 FROM jsonb_each(c->3) f
                            WHERE f.key NOT IN ('status', 'progress', 'completed_on', 'dropped_reason',
                                                'rag_override', 'rag_reason', 'last_logged_at', 'last_note')
                               OR CASE WHEN jsonb_typeof(f.value) <> 'array' THEN true
                                       ELSE jsonb_array_length(f.value) <> 2 END)
                    ELSE false
                END)
                FROM jsonb_array_elements(p_changes) c
           ), true)
    $$;
