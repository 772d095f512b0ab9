-- knowsley-tracker schema, version 8: KPI figures within the range kt takes.
--
-- kt takes KPI figures of at most 15 digits before the point (a float holds those
-- exactly, and a chart's range, the highest less the lowest, cannot overflow:
-- models/kpi_records.py). Version 1 refused only NaN and the infinities, so a figure
-- written through SQL could be 1e308, which every kt command reading the KPIs then
-- met as damage (exit 9). Now the database refuses it, as the model does. (Counts,
-- the numerator and denominator, are integer columns already: kt takes up to
-- 2,147,483,647, as they hold.) A database already holding such a figure cannot
-- take this version: the error names the constraint, and the row is to be put right
-- (or the database restored) before upgrading.

ALTER TABLE kt.kpis
    ADD CONSTRAINT kpis_target_size CHECK (abs(target) < 1e15),
    ADD CONSTRAINT kpis_tolerance_size CHECK (tolerance < 1e15),
    -- A comparator's figure too (kt checks the rest of a comparator's shape when it reads it).
    ADD CONSTRAINT kpis_comparators_size
        CHECK (NOT jsonb_path_exists(comparators, '$[*].value ? (@.type() == "number" && @.abs() >= 1e15)'));

ALTER TABLE kt.kpi_values
    ADD CONSTRAINT kpi_values_value_size CHECK (abs(value) < 1e15);
