-- knowsley-tracker schema, version 5: what a board paper needs.
--
-- KPIs gain a tolerance (within it of the target a value is amber, not red) and
-- published comparators (England, statistical neighbours, region, each with the
-- period it describes). A board meeting gains the board's own number for it, the
-- Director's narrative (Markdown) and the decisions or asks put to the board.

ALTER TABLE kt.kpis
    ADD COLUMN tolerance double precision
        CONSTRAINT kpis_tolerance_range CHECK (tolerance >= 0 AND tolerance NOT IN ('NaN', 'Infinity')),
    ADD COLUMN comparators jsonb NOT NULL DEFAULT '[]'
        CONSTRAINT kpis_comparators_array CHECK (jsonb_typeof(comparators) = 'array');

ALTER TABLE kt.boards
    ADD COLUMN number integer CONSTRAINT boards_number_positive CHECK (number > 0),
    ADD COLUMN narrative text NOT NULL DEFAULT '',
    ADD COLUMN decisions text[] NOT NULL DEFAULT '{}'
        CONSTRAINT boards_decisions_given CHECK (array_position(decisions, NULL) IS NULL);

-- Editors write every record's columns (0002_access.sql grants them column by column).
DO $$
DECLARE
    editor text := kt.group_role('editor');
BEGIN
    EXECUTE format('GRANT INSERT (tolerance, comparators), UPDATE (tolerance, comparators) ON kt.kpis TO %I', editor);
    EXECUTE format('GRANT INSERT (number, narrative, decisions), UPDATE (number, narrative, decisions) ON kt.boards TO %I',
                   editor);
END $$;
