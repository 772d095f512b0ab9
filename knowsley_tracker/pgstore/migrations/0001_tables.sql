-- knowsley-tracker schema, version 1: the tables.
--
-- Several plans live in one database, one per authority or inspection cycle.
-- Every record table is keyed (plan_id, id): the id is the number after the
-- prefix a user types (A12 is actions.id 12), unique within its plan and never
-- reused, because ids come from kt.counters (see 0002_access.sql). Columns
-- follow the fields of knowsley_tracker/models.py, with real types: dates are
-- date, moments are timestamptz, vocabularies are text checked against their
-- values. Empty optional text is '' (as in the file store); a missing
-- timestamp is NULL. References between records are composite foreign keys
-- within the plan, deferred to the end of the command's transaction so that a
-- command (or an undo) may change records in any order.
--
-- This file runs once, inside the migration transaction, under its advisory
-- lock (knowsley_tracker/pgstore/schema.py). Never edit it after release:
-- add a new numbered file.

CREATE SCHEMA kt;
COMMENT ON SCHEMA kt IS 'knowsley-tracker: children''s services improvement plans';

CREATE TABLE kt.schema_version (
    version integer PRIMARY KEY CONSTRAINT schema_version_positive CHECK (version > 0),
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT session_user,
    -- The constraints, policies and triggers as this migration left them, for kt doctor.
    catalog jsonb
);

-- ---------------------------------------------------------------------------
-- Plans and their own values

CREATE TABLE kt.plans (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL CONSTRAINT plans_key_unique UNIQUE
        CONSTRAINT plans_key_format CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    authority text NOT NULL CONSTRAINT plans_authority_given CHECK (btrim(authority) <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT session_user
);

CREATE TABLE kt.counters (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    kind text NOT NULL CONSTRAINT counters_kind_known CHECK (kind IN (
        'inspections', 'focus_areas', 'owners', 'recommendations', 'actions', 'log', 'evidence',
        'visits', 'kpis', 'kpi_values', 'boards', 'interventions', 'partners', 'history')),
    last integer NOT NULL CONSTRAINT counters_last_positive CHECK (last > 0),
    PRIMARY KEY (plan_id, kind)
);

CREATE TABLE kt.settings (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    name text NOT NULL CONSTRAINT settings_name_format CHECK (name ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    value jsonb NOT NULL CONSTRAINT settings_value_not_null CHECK (value <> 'null'::jsonb),
    PRIMARY KEY (plan_id, name)
);

-- One row per committed command: what the file store keeps in its history table.
CREATE TABLE kt.history (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    txn integer NOT NULL CONSTRAINT history_txn_positive CHECK (txn > 0),
    at timestamptz NOT NULL,
    -- Who made it: the database login, never a name the client chose.
    login text NOT NULL DEFAULT session_user,
    -- Whom the login acted for (kt --by on the server), beside the login, never instead.
    on_behalf_of text CONSTRAINT history_on_behalf_of_given CHECK (btrim(on_behalf_of) <> ''),
    what text NOT NULL,
    changes jsonb NOT NULL DEFAULT '[]' CONSTRAINT history_changes_array CHECK (jsonb_typeof(changes) = 'array'),
    extra jsonb NOT NULL DEFAULT '{}' CONSTRAINT history_extra_object CHECK (jsonb_typeof(extra) = 'object'),
    -- When the server committed it ("at" is the command's own clock, which a client sets).
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, txn)
);
CREATE INDEX history_at ON kt.history (plan_id, at);

-- Board snapshots: immutable once written (no UPDATE or DELETE is granted).
CREATE TABLE kt.snapshots (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    name text NOT NULL CONSTRAINT snapshots_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    snapshot jsonb NOT NULL CONSTRAINT snapshots_object CHECK (jsonb_typeof(snapshot) = 'object'),
    saved_at timestamptz NOT NULL DEFAULT now(),
    login text NOT NULL DEFAULT session_user,
    PRIMARY KEY (plan_id, name)
);

-- ---------------------------------------------------------------------------
-- Records, one table per kind (models.RECORD_TYPES)

CREATE TABLE kt.inspections (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT inspections_id_positive CHECK (id > 0),
    start date NOT NULL,
    type text NOT NULL DEFAULT 'standard' CONSTRAINT inspections_type_known
        CHECK (type IN ('standard', 'short', 'focused-visit', 'jtai', 'monitoring-visit')),
    framework text CONSTRAINT inspections_framework_known CHECK (framework IN ('ilacs-2023', 'ilacs-2018', 'sif')),
    "end" date CONSTRAINT inspections_end_after_start CHECK ("end" >= start),
    published date CONSTRAINT inspections_published_after_start CHECK (published >= start),
    judgement text CONSTRAINT inspections_judgement_known
        CHECK (judgement IN ('outstanding', 'good', 'requires-improvement', 'inadequate')),
    -- Judgement per area: {"leaders": "inadequate", ...}.
    areas jsonb NOT NULL DEFAULT '{}' CONSTRAINT inspections_areas_object CHECK (jsonb_typeof(areas) = 'object'),
    title text NOT NULL DEFAULT '',
    report_url text NOT NULL DEFAULT '',
    notes text NOT NULL DEFAULT '',
    action_plan_due date,
    action_plan_sent date,
    PRIMARY KEY (plan_id, id),
    -- Only full inspections are graded.
    CONSTRAINT inspections_graded_types CHECK (type IN ('standard', 'short') OR (judgement IS NULL AND areas = '{}'))
);

CREATE TABLE kt.focus_areas (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT focus_areas_id_positive CHECK (id > 0),
    key text NOT NULL CONSTRAINT focus_areas_key_format CHECK (key ~ '^[A-Z0-9][A-Z0-9-]{0,23}$'),
    name text NOT NULL CONSTRAINT focus_areas_name_given CHECK (btrim(name) <> ''),
    lead_role text NOT NULL DEFAULT '',
    lead_name text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, id),
    CONSTRAINT focus_areas_key_unique UNIQUE (plan_id, key)
);

CREATE TABLE kt.owners (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT owners_id_positive CHECK (id > 0),
    role text NOT NULL CONSTRAINT owners_role_given CHECK (btrim(role) <> ''),
    name text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    -- The database login of the officer who holds this role (kt owner edit O3 --login jlee):
    -- an officer may log progress on the actions of the owners linked to their login.
    login text CONSTRAINT owners_login_given CHECK (btrim(login) <> ''),
    PRIMARY KEY (plan_id, id)
);
CREATE INDEX owners_login ON kt.owners (plan_id, login) WHERE login IS NOT NULL;

CREATE TABLE kt.recommendations (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT recommendations_id_positive CHECK (id > 0),
    text text NOT NULL CONSTRAINT recommendations_text_given CHECK (btrim(text) <> ''),
    focus_id integer,
    inspection_id integer,
    report_ref text NOT NULL DEFAULT '',
    summary text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, id),
    CONSTRAINT recommendations_focus_fk FOREIGN KEY (plan_id, focus_id)
        REFERENCES kt.focus_areas (plan_id, id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT recommendations_inspection_fk FOREIGN KEY (plan_id, inspection_id)
        REFERENCES kt.inspections (plan_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX recommendations_focus ON kt.recommendations (plan_id, focus_id);
CREATE INDEX recommendations_inspection ON kt.recommendations (plan_id, inspection_id);

CREATE TABLE kt.actions (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT actions_id_positive CHECK (id > 0),
    rec_id integer NOT NULL,
    title text NOT NULL CONSTRAINT actions_title_given CHECK (btrim(title) <> ''),
    due date NOT NULL,
    owner_id integer,
    original_due date,
    status text NOT NULL DEFAULT 'not-started' CONSTRAINT actions_status_known
        CHECK (status IN ('not-started', 'in-progress', 'blocked', 'complete', 'dropped')),
    progress integer NOT NULL DEFAULT 0 CONSTRAINT actions_progress_range CHECK (progress BETWEEN 0 AND 100),
    success_measure text NOT NULL DEFAULT '',
    dropped_reason text NOT NULL DEFAULT '',
    rag_override text CONSTRAINT actions_rag_override_known CHECK (rag_override IN ('red', 'amber', 'green')),
    rag_reason text NOT NULL DEFAULT '',
    completed_on date,
    created_at timestamptz,
    last_logged_at timestamptz,
    last_note text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, id),
    CONSTRAINT actions_dropped_has_reason CHECK (status <> 'dropped' OR btrim(dropped_reason) <> ''),
    CONSTRAINT actions_rec_fk FOREIGN KEY (plan_id, rec_id)
        REFERENCES kt.recommendations (plan_id, id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT actions_owner_fk FOREIGN KEY (plan_id, owner_id)
        REFERENCES kt.owners (plan_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX actions_rec ON kt.actions (plan_id, rec_id);
CREATE INDEX actions_owner ON kt.actions (plan_id, owner_id);

-- The progress log: append-only. "by" is the name kt showed (KNOWSLEY_TRACKER_USER,
-- --by); login is who made the entry, filled by the database.
CREATE TABLE kt.log (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT log_id_positive CHECK (id > 0),
    action_id integer NOT NULL,
    at timestamptz NOT NULL,
    by text NOT NULL DEFAULT '',
    note text NOT NULL DEFAULT '',
    changes jsonb NOT NULL DEFAULT '{}' CONSTRAINT log_changes_object CHECK (jsonb_typeof(changes) = 'object'),
    login text NOT NULL DEFAULT session_user,
    PRIMARY KEY (plan_id, id),
    CONSTRAINT log_action_fk FOREIGN KEY (plan_id, action_id)
        REFERENCES kt.actions (plan_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX log_action ON kt.log (plan_id, action_id);

CREATE TABLE kt.evidence (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT evidence_id_positive CHECK (id > 0),
    action_id integer NOT NULL,
    title text NOT NULL CONSTRAINT evidence_title_given CHECK (btrim(title) <> ''),
    date date NOT NULL,
    kind text NOT NULL DEFAULT 'document' CONSTRAINT evidence_kind_known
        CHECK (kind IN ('document', 'audit', 'data', 'minutes', 'feedback', 'training', 'policy', 'other')),
    link text NOT NULL DEFAULT '',
    added_at timestamptz,
    by text NOT NULL DEFAULT '',
    login text NOT NULL DEFAULT session_user,
    PRIMARY KEY (plan_id, id),
    CONSTRAINT evidence_action_fk FOREIGN KEY (plan_id, action_id)
        REFERENCES kt.actions (plan_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX evidence_action ON kt.evidence (plan_id, action_id);

CREATE TABLE kt.visits (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT visits_id_positive CHECK (id > 0),
    date date NOT NULL,
    type text NOT NULL DEFAULT 'monitoring-visit' CONSTRAINT visits_type_known
        CHECK (type IN ('standard', 'short', 'focused-visit', 'jtai', 'monitoring-visit')),
    status text NOT NULL DEFAULT 'expected' CONSTRAINT visits_status_known
        CHECK (status IN ('projected', 'expected', 'confirmed', 'done')),
    -- Focus area ids (an array cannot carry a foreign key: kt doctor checks them).
    themes integer[] NOT NULL DEFAULT '{}',
    outcome text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, id)
);

CREATE TABLE kt.kpis (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT kpis_id_positive CHECK (id > 0),
    key text NOT NULL CONSTRAINT kpis_key_format CHECK (key ~ '^[A-Z0-9][A-Z0-9_.-]{0,31}$'),
    name text NOT NULL CONSTRAINT kpis_name_given CHECK (btrim(name) <> ''),
    target double precision NOT NULL CONSTRAINT kpis_target_finite CHECK (target NOT IN ('NaN', 'Infinity', '-Infinity')),
    unit text NOT NULL DEFAULT '',
    lower_is_better boolean NOT NULL DEFAULT false,
    focus_id integer,
    rec_ids integer[] NOT NULL DEFAULT '{}',
    target_date date,
    created_at timestamptz,
    PRIMARY KEY (plan_id, id),
    CONSTRAINT kpis_key_unique UNIQUE (plan_id, key),
    CONSTRAINT kpis_focus_fk FOREIGN KEY (plan_id, focus_id)
        REFERENCES kt.focus_areas (plan_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX kpis_focus ON kt.kpis (plan_id, focus_id);

CREATE TABLE kt.kpi_values (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT kpi_values_id_positive CHECK (id > 0),
    kpi_id integer NOT NULL,
    period text NOT NULL,
    period_end date NOT NULL,
    value double precision NOT NULL CONSTRAINT kpi_values_value_finite CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    numerator integer CONSTRAINT kpi_values_numerator_range CHECK (numerator >= 0),
    denominator integer CONSTRAINT kpi_values_denominator_range CHECK (denominator > 0),
    note text NOT NULL DEFAULT '',
    recorded_at timestamptz,
    by text NOT NULL DEFAULT '',
    login text NOT NULL DEFAULT session_user,
    PRIMARY KEY (plan_id, id),
    CONSTRAINT kpi_values_kpi_fk FOREIGN KEY (plan_id, kpi_id)
        REFERENCES kt.kpis (plan_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX kpi_values_kpi ON kt.kpi_values (plan_id, kpi_id);

CREATE TABLE kt.boards (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT boards_id_positive CHECK (id > 0),
    date date NOT NULL,
    note text NOT NULL DEFAULT '',
    -- The name of the meeting's snapshot in kt.snapshots ('' until frozen).
    snapshot_file text NOT NULL DEFAULT '',
    snapshot_method text NOT NULL DEFAULT '' CONSTRAINT boards_snapshot_method_known
        CHECK (snapshot_method IN ('', 'current', 'reconstructed')),
    frozen_at timestamptz,
    rag_counts jsonb NOT NULL DEFAULT '{}' CONSTRAINT boards_rag_counts_object CHECK (jsonb_typeof(rag_counts) = 'object'),
    created_at timestamptz,
    PRIMARY KEY (plan_id, id)
);

CREATE TABLE kt.interventions (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT interventions_id_positive CHECK (id > 0),
    type text NOT NULL CONSTRAINT interventions_type_known
        CHECK (type IN ('improvement-notice', 'statutory-direction')),
    issued date NOT NULL,
    revised date[] NOT NULL DEFAULT '{}',
    lifted date CONSTRAINT interventions_lifted_after_issued CHECK (lifted >= issued),
    people jsonb NOT NULL DEFAULT '[]' CONSTRAINT interventions_people_array CHECK (jsonb_typeof(people) = 'array'),
    note text NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, id)
);

CREATE TABLE kt.partners (
    plan_id integer NOT NULL REFERENCES kt.plans (id),
    id integer NOT NULL CONSTRAINT partners_id_positive CHECK (id > 0),
    name text NOT NULL CONSTRAINT partners_name_given CHECK (btrim(name) <> ''),
    purpose text NOT NULL CONSTRAINT partners_purpose_given CHECK (btrim(purpose) <> ''),
    start date NOT NULL,
    kind text NOT NULL DEFAULT 'specialist' CONSTRAINT partners_kind_known
        CHECK (kind IN ('slip', 'specialist', 'adviser', 'other')),
    "end" date CONSTRAINT partners_end_after_start CHECK ("end" >= start),
    -- Recommendation and focus area ids (kt doctor checks them).
    rec_ids integer[] NOT NULL DEFAULT '{}',
    focus_ids integer[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (plan_id, id)
);
