-- knowsley-tracker schema, version 6: the monthly loop.
--
-- An action imported from a council's sheet with "TBC" or "Ongoing" has no due
-- date yet, so actions.due may be empty. kt remind keeps, per action, reason
-- (overdue, due, stale) and level (owner, lead, escalation), the latest reminder
-- it sent, so the same reminder is not sent again too soon. kt remind writes
-- them: it runs as a login with the editor role on the plan.

ALTER TABLE kt.actions ALTER COLUMN due DROP NOT NULL;

ALTER TABLE kt.counters DROP CONSTRAINT counters_kind_known;
ALTER TABLE kt.counters ADD CONSTRAINT counters_kind_known CHECK (kind IN (
    'inspections', 'focus_areas', 'owners', 'recommendations', 'actions', 'log', 'evidence',
    'visits', 'kpis', 'kpi_values', 'boards', 'interventions', 'partners', 'reminders', 'history'));

CREATE TABLE kt.reminders (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT reminders_id_positive CHECK (id > 0),
    action_id integer NOT NULL,
    kind text NOT NULL CONSTRAINT reminders_kind_known CHECK (kind IN ('overdue', 'due', 'stale')),
    level text NOT NULL CONSTRAINT reminders_level_known CHECK (level IN ('owner', 'lead', 'escalation')),
    "to" text NOT NULL CONSTRAINT reminders_to_given CHECK (btrim("to") <> ''),
    sent_at timestamptz NOT NULL,
    message_id text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, id),
    CONSTRAINT reminders_one_per_reason UNIQUE (plan_id, action_id, kind, level) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT reminders_action_fk FOREIGN KEY (plan_id, action_id)
        REFERENCES kt.actions (plan_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX reminders_action ON kt.reminders (plan_id, action_id);
-- Ids come from the plan's counter, as for every record (kt.assign_id runs as auth:
-- the installer joins auth for a moment to attach it, as 0002_access.sql explains).
DO $$
DECLARE
    auth text := kt.group_role('auth');
BEGIN
    EXECUTE format('GRANT %I TO %I', auth, current_user);
    CREATE TRIGGER assign_id BEFORE INSERT ON kt.reminders FOR EACH ROW EXECUTE FUNCTION kt.assign_id();
    EXECUTE format('REVOKE %I FROM %I', auth, current_user);
END $$;

ALTER TABLE kt.reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE kt.reminders FORCE ROW LEVEL SECURITY;
CREATE POLICY reminders_read ON kt.reminders FOR SELECT
    USING (plan_id = ANY ((SELECT kt.plans_with('reader'))::integer[]));
CREATE POLICY reminders_edit ON kt.reminders FOR ALL
    USING (plan_id = ANY ((SELECT kt.plans_with('editor'))::integer[]))
    WITH CHECK (plan_id = ANY ((SELECT kt.plans_with('editor'))::integer[]));

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON kt.reminders TO %I', kt.group_role('reader'));
    EXECUTE format('GRANT INSERT (plan_id, id, action_id, kind, level, "to", sent_at, message_id), '
                   'UPDATE (action_id, kind, level, "to", sent_at, message_id), DELETE ON kt.reminders TO %I',
                   kt.group_role('editor'));
END $$;
