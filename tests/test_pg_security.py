"""Attacks on the PostgreSQL store in raw SQL: psycopg connections as different
logins, bypassing kt entirely. What is refused here is refused by the database
(grants, row-level security, triggers), so it holds for anyone with psql."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers.pg_data import PLAN_TABLES, Plans, count_rows, make_plans
from helpers.pg_server import INSTALLER, PgDatabase
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.types.json import Jsonb

from knowsley_tracker.errors import PermissionDeniedError
from knowsley_tracker.pgstore import access
from knowsley_tracker.pgstore.access import Role

REFUSED = pg_errors.InsufficientPrivilege


@pytest.fixture
def plans(pg_db: PgDatabase) -> Plans:
    return make_plans(pg_db)


@pytest.fixture
def as_login(plans: Plans) -> Iterator[Any]:
    """Open autocommit connections as a login (by role name on plan A, or a login name)."""
    opened: list[Any] = []

    def connect(who: str) -> Any:
        conn = plans.connect(plans.logins.get(who, who))
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


def snapshot(conn: Any, plans: Plans) -> dict[str, list[Any]]:
    """Every row of every plan table, read as the plan-A admin (to show nothing changed)."""
    out: dict[str, list[Any]] = {}
    for table in PLAN_TABLES:
        out[table] = conn.execute(sql.SQL("SELECT * FROM kt.{} ORDER BY 1").format(sql.Identifier(table))).fetchall()
    return out


# ---------------------------------------------------------------------------
# Readers


def test_a_readers_insert_update_and_delete_fail_in_the_database(plans: Plans, as_login: Any) -> None:
    reader = as_login("reader")
    admin = as_login("admin")
    before = snapshot(admin, plans)
    attempts = [
        ("INSERT INTO kt.focus_areas (plan_id, key, name) VALUES (%s, 'NEW', 'New area')", (plans.a,)),
        ("INSERT INTO kt.log (plan_id, action_id, at, note) VALUES (%s, 1, now(), 'reader was here')", (plans.a,)),
        ("INSERT INTO kt.history (plan_id, at, what) VALUES (%s, now(), 'forged command')", (plans.a,)),
        ("INSERT INTO kt.settings (plan_id, name, value) VALUES (%s, 'backups', '3')", (plans.a,)),
        ("INSERT INTO kt.snapshots (plan_id, name, snapshot) VALUES (%s, 'fake', '{}')", (plans.a,)),
        ("INSERT INTO kt.counters (plan_id, kind, last) VALUES (%s, 'visits', 99)", (plans.a,)),
        ("INSERT INTO kt.access (plan_id, login, role) VALUES (%s, session_user, 'admin')", (plans.a,)),
        ("UPDATE kt.actions SET progress = 100 WHERE plan_id = %s", (plans.a,)),
        ("UPDATE kt.actions SET title = 'Renamed' WHERE plan_id = %s", (plans.a,)),
        ("UPDATE kt.settings SET value = '1' WHERE plan_id = %s", (plans.a,)),
        ("UPDATE kt.counters SET last = 1 WHERE plan_id = %s", (plans.a,)),
        ("UPDATE kt.plans SET authority = 'Hijacked' WHERE id = %s", (plans.a,)),
        ("UPDATE kt.access SET role = 'admin' WHERE plan_id = %s", (plans.a,)),
        ("SELECT kt.raise_counter(%s, 'actions', 1000)", (plans.a,)),
    ]
    attempts += [
        (f"DELETE FROM kt.{table} WHERE plan_id = %s", (plans.a,)) for table in PLAN_TABLES if table != "plans"
    ]
    attempts.append(("DELETE FROM kt.plans WHERE id = %s", (plans.a,)))
    for statement, params in attempts:
        with pytest.raises(REFUSED):
            reader.execute(statement, params)
    assert snapshot(admin, plans) == before


def test_a_reader_holds_no_write_privilege_at_all(plans: Plans, as_login: Any) -> None:
    """The GRANT layer: a login that is only ever a reader has no INSERT, UPDATE or
    DELETE privilege on any kt table, whatever row-level security would say."""
    reader = as_login("reader")
    rows = reader.execute(
        "SELECT c.relname, p.privilege FROM pg_class c, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE']) p(privilege) "
        "WHERE c.relnamespace = 'kt'::regnamespace AND c.relkind = 'r' "
        "AND (has_table_privilege(c.oid, p.privilege) "
        "     OR (p.privilege <> 'DELETE' AND has_any_column_privilege(c.oid, p.privilege)))"
    ).fetchall()
    assert rows == []
    tables = reader.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'kt'::regnamespace AND relkind = 'r'")
    assert tables.fetchone()[0] == len(PLAN_TABLES) + 2  # plus schema_version and role_groups


# ---------------------------------------------------------------------------
# Plans apart


@pytest.mark.parametrize("role", ["reader", "officer", "editor", "admin"])
def test_a_plan_a_login_sees_no_row_of_plan_b_in_any_table(plans: Plans, as_login: Any, role: str) -> None:
    conn = as_login(role)
    tables = {
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'kt'::regnamespace AND c.relkind = 'r'"
        ).fetchall()
    }
    assert tables - set(PLAN_TABLES) == {"schema_version", "role_groups"}  # no plan data in those two
    b_admin = as_login(plans.b_admin)
    for table, column in PLAN_TABLES.items():
        assert count_rows(b_admin, table, column, plans.b) > 0, table  # plan B has rows there...
        assert count_rows(conn, table, column, plans.b) == 0, table  # ...that the plan-A login cannot see
        if table != "access" or role == "admin":
            assert count_rows(conn, table, column, plans.a) > 0, table  # while its own plan's rows show
    # Not even through the functions that run with more rights.
    with pytest.raises(REFUSED, match="needs the admin role"):
        conn.execute("SELECT * FROM kt.list_access('plan-b')")


def test_the_isolation_check_sees_a_leak_when_a_policy_lets_one_in(plans: Plans, as_login: Any) -> None:
    """A control for the test above: with one permissive policy too many (what a careless
    DBA might add), plan B's rows show to a plan-A login, and kt doctor says so."""
    from knowsley_tracker.pgstore import schema

    reader = as_login("reader")
    assert count_rows(reader, "actions", "plan_id", plans.b) == 0
    with plans.db.connect(INSTALLER, autocommit=True) as owner:
        owner.execute("CREATE POLICY leak ON kt.actions FOR SELECT USING (true)")
        problems = [p.message for p in schema.schema_problems(owner)]
    assert count_rows(reader, "actions", "plan_id", plans.b) == 2
    assert problems == ["The policy actions.leak was not made by kt's migrations."]


def test_a_login_with_no_role_reads_nothing(plans: Plans) -> None:
    """Any login of the database may see that kt is installed, and nothing of any plan."""
    with plans.connect(plans.db.login()) as stranger:
        assert stranger.execute("SELECT max(version) FROM kt.schema_version").fetchone() is not None
        for table, column in PLAN_TABLES.items():
            with pytest.raises(REFUSED):
                count_rows(stranger, table, column, plans.a)
        assert access.visible_plans(stranger) == []
        for call in (
            "SELECT kt.my_role(1)",
            "SELECT kt.plans_with('reader')",
            "SELECT * FROM kt.list_access('plan-a')",
        ):
            with pytest.raises(REFUSED):
                stranger.execute(call)


def test_an_editor_of_plan_a_cannot_write_plan_b_where_it_is_less(plans: Plans, as_login: Any) -> None:
    """The editor group's grants apply on every plan; row-level security limits them to plan A.
    As a reader of plan B the id trigger stops an insert first; as an officer of plan B
    (past the trigger, within the grants) row-level security stops it."""
    editor = plans.logins["editor"]
    conn = as_login("editor")
    with plans.connect(plans.b_admin) as b_admin:
        access.grant_access(b_admin, "plan-b", editor, Role.READER)
    assert count_rows(conn, "actions", "plan_id", plans.b) == 2
    with pytest.raises(REFUSED, match="Adding to this plan needs the officer role or higher on it"):
        conn.execute("INSERT INTO kt.focus_areas (plan_id, key, name) VALUES (%s, 'X', 'X')", (plans.b,))
    with plans.connect(plans.b_admin) as b_admin:
        access.grant_access(b_admin, "plan-b", editor, Role.OFFICER)
    with pytest.raises(REFUSED, match="row-level security"):
        conn.execute("INSERT INTO kt.focus_areas (plan_id, key, name) VALUES (%s, 'X', 'X')", (plans.b,))
    with pytest.raises(REFUSED, match="row-level security"):  # B's action A1 is not the editor's
        conn.execute("INSERT INTO kt.log (plan_id, action_id, at) VALUES (%s, 1, now())", (plans.b,))
    assert conn.execute("UPDATE kt.actions SET title = 'Moved' WHERE plan_id = %s", (plans.b,)).rowcount == 0
    assert conn.execute("DELETE FROM kt.evidence WHERE plan_id = %s", (plans.b,)).rowcount == 0
    with pytest.raises(REFUSED):  # no moving a row into the other plan either
        conn.execute("UPDATE kt.visits SET plan_id = %s WHERE plan_id = %s", (plans.b, plans.a))
    b_admin = as_login(plans.b_admin)
    assert count_rows(b_admin, "evidence", "plan_id", plans.b) == 1
    assert count_rows(b_admin, "focus_areas", "plan_id", plans.b) == 1
    assert count_rows(b_admin, "log", "plan_id", plans.b) == 1


def test_the_tables_owner_is_bound_by_row_level_security_too(plans: Plans) -> None:
    """FORCE ROW LEVEL SECURITY: the installer owns every table and still sees no plan."""
    with plans.db.connect(INSTALLER, autocommit=True) as owner:
        for table, column in PLAN_TABLES.items():
            assert count_rows(owner, table, column, plans.a) == 0, table
        with pytest.raises(REFUSED):
            owner.execute("INSERT INTO kt.focus_areas (plan_id, key, name) VALUES (%s, 'X', 'X')", (plans.a,))


# ---------------------------------------------------------------------------
# Officers


def test_an_officer_logs_and_adds_evidence_only_on_the_actions_they_own(plans: Plans, as_login: Any) -> None:
    officer = as_login("officer")
    with officer.transaction():
        entry = officer.execute(
            "INSERT INTO kt.log (plan_id, action_id, at, note, changes) "
            "VALUES (%s, 1, now(), 'Third adviser started', '{\"progress\": [50, 75]}') RETURNING id, login",
            (plans.a,),
        ).fetchone()
        officer.execute(
            "UPDATE kt.actions SET progress = 75, last_note = 'Third adviser started', last_logged_at = now() "
            "WHERE plan_id = %s AND id = 1",
            (plans.a,),
        )
        officer.execute(
            "INSERT INTO kt.evidence (plan_id, action_id, title, date) VALUES (%s, 1, 'Offer letters', '2025-11-20')",
            (plans.a,),
        )
        txn = officer.execute(
            "INSERT INTO kt.history (plan_id, at, what) VALUES (%s, now(), 'log A1') RETURNING txn, login", (plans.a,)
        ).fetchone()
    assert entry == (2, plans.logins["officer"])
    assert txn == (2, plans.logins["officer"])
    # kt done on their own action: status, progress and completion date.
    officer.execute(
        "UPDATE kt.actions SET status = 'complete', progress = 100, completed_on = '2025-11-30' "
        "WHERE plan_id = %s AND id = 1",
        (plans.a,),
    )

    # A2's owner is not linked to the officer's login.
    with pytest.raises(REFUSED, match="row-level security"):
        officer.execute("INSERT INTO kt.log (plan_id, action_id, at, note) VALUES (%s, 2, now(), 'x')", (plans.a,))
    with pytest.raises(REFUSED, match="row-level security"):
        officer.execute(
            "INSERT INTO kt.evidence (plan_id, action_id, title, date) VALUES (%s, 2, 'x', '2025-11-20')", (plans.a,)
        )
    assert (
        officer.execute("UPDATE kt.actions SET progress = 90 WHERE plan_id = %s AND id = 2", (plans.a,)).rowcount == 0
    )
    # Plan B: the same login is named as O1's login there, but holds no role on plan B.
    with pytest.raises(REFUSED):
        officer.execute("INSERT INTO kt.log (plan_id, action_id, at, note) VALUES (%s, 1, now(), 'x')", (plans.b,))
    assert officer.execute("UPDATE kt.actions SET progress = 90 WHERE plan_id = %s", (plans.b,)).rowcount == 0
    a_admin = as_login("admin")
    progress = a_admin.execute("SELECT id, progress FROM kt.actions WHERE plan_id = %s ORDER BY id", (plans.a,))
    assert progress.fetchall() == [(1, 100), (2, 0)]


def test_an_officer_cannot_change_history_counters_access_or_the_plan(plans: Plans, as_login: Any) -> None:
    officer = as_login("officer")
    admin = as_login("admin")
    before = snapshot(admin, plans)
    for statement in [
        "UPDATE kt.history SET what = 'nothing happened' WHERE plan_id = %s",
        "DELETE FROM kt.history WHERE plan_id = %s",
        "UPDATE kt.counters SET last = 1 WHERE plan_id = %s",
        "DELETE FROM kt.counters WHERE plan_id = %s",
        "INSERT INTO kt.access (plan_id, login, role) VALUES (%s, session_user, 'admin')",
        "UPDATE kt.access SET role = 'admin' WHERE plan_id = %s",
        "DELETE FROM kt.log WHERE plan_id = %s",
        "DELETE FROM kt.actions WHERE plan_id = %s",
        "UPDATE kt.log SET note = 'rewritten' WHERE plan_id = %s",
        "UPDATE kt.owners SET login = session_user WHERE plan_id = %s",  # claiming someone else's actions
        "INSERT INTO kt.owners (plan_id, role, login) VALUES (%s, 'Made up', session_user)",
        "INSERT INTO kt.settings (plan_id, name, value) VALUES (%s, 'backups', '1')",
        "UPDATE kt.plans SET authority = 'Renamed' WHERE id = %s",
        "SELECT kt.raise_counter(%s, 'log', 500)",
    ]:
        with pytest.raises(REFUSED):
            officer.execute(statement, (plans.a,))
    with pytest.raises(REFUSED, match="needs the admin role"):
        officer.execute("SELECT kt.grant_access('plan-a', session_user::text, 'admin')")
    with pytest.raises(REFUSED, match="editor role"):  # no choosing ids (that would reuse one)
        officer.execute("INSERT INTO kt.log (plan_id, id, action_id, at) VALUES (%s, 1, 1, now())", (plans.a,))
    assert snapshot(admin, plans) == before


def test_an_officer_records_in_the_history_only_what_an_officer_did(plans: Plans, as_login: Any) -> None:
    """kt undo reverses what a history entry lists: an officer's forged entry must not be
    able to steer an editor's undo into changing what the officer may not touch."""
    officer = as_login("officer")
    with officer.transaction():
        own = officer.execute(
            "INSERT INTO kt.log (plan_id, action_id, at, note) VALUES (%s, 1, now(), 'mine') RETURNING id", (plans.a,)
        ).fetchone()[0]
    honest = [
        ["create", "log", own, None],
        ["update", "actions", 1, {"progress": [0, 40], "last_note": ["", "mine"]}],
    ]
    officer.execute(
        "INSERT INTO kt.history (plan_id, at, what, changes) VALUES (%s, now(), 'log A1', %s)", (plans.a, Jsonb(honest))
    )
    forged: list[tuple[list[Any], dict[str, Any]]] = [
        ([["create", "actions", 2, {"title": "Review fostering sufficiency"}]], {}),  # undo would delete A2
        ([["delete", "focus_areas", 1, {"key": "CL", "name": "x"}]], {}),
        ([["create", "log", 1, None]], {}),  # L1 is the admin's entry
        ([["create", "evidence", 1, None]], {}),  # so is E1
        ([["update", "actions", 2, {"progress": [0, 10]}]], {}),  # A2 is not the officer's
        ([["update", "actions", 1, {"title": ["a", "b"]}]], {}),  # not the progress side
        ([["update", "settings", 1, {}]], {}),
        (["not a change"], {}),
        ([["update", "actions", 1, {"status": None}]], {}),  # not an [old, new] pair: undo could not replay it
        ([["update", "actions", 1, {"progress": [0, 10, 20]}]], {}),
        ([["create", "log", own]], {}),  # three items, not four
        ([["create", "log", own, None]], {"restore": "backup"}),  # an undo barrier
        ([["create", "log", own, None]], {"undo": 1}),
    ]
    for changes, extra in forged:
        with pytest.raises(REFUSED, match="row-level security"):
            officer.execute(
                "INSERT INTO kt.history (plan_id, at, what, changes, extra) VALUES (%s, now(), 'log A1', %s, %s)",
                (plans.a, Jsonb(changes), Jsonb(extra)),
            )
    # Editors change every record anyway: their entries are not limited.
    as_login("editor").execute(
        "INSERT INTO kt.history (plan_id, at, what, changes) VALUES (%s, now(), 'x', %s)",
        (plans.a, Jsonb(forged[0][0])),
    )


def test_an_officer_here_and_editor_elsewhere_still_changes_only_progress_here(plans: Plans, as_login: Any) -> None:
    """Membership of the editor group (from plan B) gives the column privileges; the
    trigger holds the officer to the progress side of plan A's actions."""
    officer = plans.logins["officer"]
    with plans.connect(plans.b_admin) as conn:
        access.grant_access(conn, "plan-b", officer, Role.EDITOR)
    conn = as_login("officer")
    conn.execute("UPDATE kt.actions SET title = 'Edited in B' WHERE plan_id = %s AND id = 1", (plans.b,))
    with pytest.raises(REFUSED, match="needs the editor role"):
        conn.execute("UPDATE kt.actions SET title = 'Edited in A' WHERE plan_id = %s AND id = 1", (plans.a,))
    with pytest.raises(REFUSED, match="needs the editor role"):
        conn.execute("UPDATE kt.actions SET due = '2030-01-01' WHERE plan_id = %s AND id = 1", (plans.a,))
    conn.execute("UPDATE kt.actions SET progress = 60 WHERE plan_id = %s AND id = 1", (plans.a,))
    assert conn.execute("DELETE FROM kt.focus_areas WHERE plan_id = %s", (plans.a,)).rowcount == 0


# ---------------------------------------------------------------------------
# Access is the admin's


def test_only_a_plans_admin_can_grant_revoke_or_list(plans: Plans, as_login: Any) -> None:
    stranger = plans.db.login()
    for role in ("reader", "officer", "editor"):
        conn = as_login(role)
        for call in (
            "SELECT kt.grant_access('plan-a', %s, 'reader')",
            "SELECT kt.revoke_access('plan-a', %s)",
        ):
            with pytest.raises(REFUSED, match="needs the admin role"):
                conn.execute(call, (stranger,))
        with pytest.raises(REFUSED, match="needs the admin role"):
            conn.execute("SELECT * FROM kt.list_access('plan-a')")
        # Only their own grant is visible to them.
        assert conn.execute("SELECT login, role::text FROM kt.access").fetchall() == [(plans.logins[role], role)]
        with pytest.raises(PermissionDeniedError, match="admin role") as caught:
            access.grant_access(conn, "plan-a", stranger, Role.ADMIN)
        assert caught.value.exit_code == 14
    # The refusal is the same for a plan that does not exist: nothing learnt about other plans.
    with pytest.raises(REFUSED, match="Granting access on plan no-such-plan needs the admin role there"):
        as_login("editor").execute("SELECT kt.grant_access('no-such-plan', %s, 'reader')", (stranger,))
    with pytest.raises(REFUSED, match="Granting access on plan plan-b needs the admin role there"):
        as_login("admin").execute("SELECT kt.grant_access('plan-b', %s, 'reader')", (stranger,))
    # Nobody executes the internal functions.
    for call in ("SELECT kt.sync_groups(session_user::text)", "SELECT kt.last_admin(1, 'x')"):
        with pytest.raises(REFUSED, match="permission denied for function"):
            as_login("admin").execute(call)


# ---------------------------------------------------------------------------
# Identity


def test_forged_identity_is_refused(plans: Plans, as_login: Any) -> None:
    editor = as_login("editor")
    victim = plans.logins["reader"]
    attempts: list[tuple[str, tuple[Any, ...]]] = [
        ("INSERT INTO kt.log (plan_id, action_id, at, note, login) VALUES (%s, 1, now(), 'x', %s)", (plans.a, victim)),
        (
            "INSERT INTO kt.evidence (plan_id, action_id, title, date, login) VALUES (%s, 1, 'x', '2025-11-30', %s)",
            (plans.a, victim),
        ),
        (
            "INSERT INTO kt.kpi_values (plan_id, kpi_id, period, period_end, value, login) "
            "VALUES (%s, 1, '2025-11', '2025-11-30', 1, %s)",
            (plans.a, victim),
        ),
        ("INSERT INTO kt.history (plan_id, at, what, login) VALUES (%s, now(), 'x', %s)", (plans.a, victim)),
        ("INSERT INTO kt.snapshots (plan_id, name, snapshot, login) VALUES (%s, 'x', '{}', %s)", (plans.a, victim)),
        # The server's own moment of a command cannot be back-dated either.
        (
            "INSERT INTO kt.history (plan_id, at, what, recorded_at) VALUES (%s, now(), 'x', now() - interval '1 year')",
            (plans.a,),
        ),
        ("UPDATE kt.log SET login = %s WHERE plan_id = %s", (victim, plans.a)),
        ("UPDATE kt.history SET login = %s WHERE plan_id = %s", (victim, plans.a)),
    ]
    for statement, params in attempts:
        with pytest.raises(REFUSED):
            editor.execute(statement, params)
    with pytest.raises(REFUSED):
        editor.execute(sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(victim)))
    with pytest.raises(REFUSED):
        editor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(victim)))
    # Whatever the client does, the row carries the login it connected as.
    row = editor.execute(
        "INSERT INTO kt.log (plan_id, action_id, at, note) VALUES (%s, 1, now(), 'mine') RETURNING login", (plans.a,)
    ).fetchone()
    assert row == (plans.logins["editor"],)


def test_the_tables_owner_cannot_forge_a_login_either(plans: Plans) -> None:
    """The restrictive policy binds the owner too (with a role on the plan, so the
    permissive policies would let the row in)."""
    with plans.connect(plans.a_admin) as conn:
        access.grant_access(conn, "plan-a", INSTALLER, Role.EDITOR)
    with plans.db.connect(INSTALLER, autocommit=True) as owner:
        with pytest.raises(REFUSED, match="row-level security"):
            owner.execute(
                "INSERT INTO kt.log (plan_id, action_id, at, note, login) VALUES (%s, 1, now(), 'x', 'someone')",
                (plans.a,),
            )
        row = owner.execute(
            "INSERT INTO kt.log (plan_id, action_id, at, note) VALUES (%s, 1, now(), 'x') RETURNING login", (plans.a,)
        ).fetchone()
        assert row == (INSTALLER,)


# ---------------------------------------------------------------------------
# Ids


def test_ids_come_from_the_plans_counters_and_are_never_reused(plans: Plans, as_login: Any) -> None:
    editor = as_login("editor")

    def add_visit(plan: int) -> int:
        row = editor.execute(
            "INSERT INTO kt.visits (plan_id, date) VALUES (%s, '2026-05-01') RETURNING id", (plan,)
        ).fetchone()
        return int(row[0])

    assert add_visit(plans.a) == 2  # plan A already has V1
    editor.execute("DELETE FROM kt.visits WHERE plan_id = %s AND id = 2", (plans.a,))
    assert add_visit(plans.a) == 3  # V2 is gone and stays unused
    # An editor may put a record back under its own id (undo, import): the counter moves past it.
    editor.execute("INSERT INTO kt.visits (plan_id, id, date) VALUES (%s, 7, '2026-06-01')", (plans.a,))
    assert add_visit(plans.a) == 8
    with pytest.raises(pg_errors.UniqueViolation):
        editor.execute("INSERT INTO kt.visits (plan_id, id, date) VALUES (%s, 3, '2026-06-01')", (plans.a,))
    counter = editor.execute("SELECT last FROM kt.counters WHERE plan_id = %s AND kind = 'visits'", (plans.a,))
    assert counter.fetchone() == (8,)
    # Plan B counts for itself.
    assert count_rows(as_login(plans.b_admin), "visits", "plan_id", plans.b) == 1
    b_admin = as_login(plans.b_admin)
    assert b_admin.execute(
        "INSERT INTO kt.visits (plan_id, date) VALUES (%s, '2026-05-01') RETURNING id", (plans.b,)
    ).fetchone() == (2,)


# ---------------------------------------------------------------------------
# The schema's own checks


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("UPDATE kt.actions SET progress = 101 WHERE plan_id = %s AND id = 1", pg_errors.CheckViolation),
        ("UPDATE kt.actions SET progress = -1 WHERE plan_id = %s AND id = 1", pg_errors.CheckViolation),
        ("UPDATE kt.actions SET status = 'finished' WHERE plan_id = %s AND id = 1", pg_errors.CheckViolation),
        ("UPDATE kt.actions SET rag_override = 'blue' WHERE plan_id = %s AND id = 1", pg_errors.CheckViolation),
        ("UPDATE kt.actions SET status = 'dropped' WHERE plan_id = %s AND id = 1", pg_errors.CheckViolation),
        ("UPDATE kt.actions SET due = '31/10/2025' WHERE plan_id = %s AND id = 1", pg_errors.DatetimeFieldOverflow),
        ("UPDATE kt.inspections SET \"end\" = '2020-01-01' WHERE plan_id = %s", pg_errors.CheckViolation),
        ("UPDATE kt.inspections SET type = 'jtai' WHERE plan_id = %s", pg_errors.CheckViolation),
        ("UPDATE kt.kpis SET target = 'NaN' WHERE plan_id = %s", pg_errors.CheckViolation),
        # Figures of at most 15 digits before the point, as kt takes (0008_kpi_figure_range.sql).
        ("UPDATE kt.kpis SET target = -1e15 WHERE plan_id = %s", pg_errors.CheckViolation),
        ("UPDATE kt.kpis SET tolerance = 1e300 WHERE plan_id = %s", pg_errors.CheckViolation),
        ("UPDATE kt.kpi_values SET value = 1e308 WHERE plan_id = %s", pg_errors.CheckViolation),
        (
            'UPDATE kt.kpis SET comparators = \'[{"kind": "england", "value": -1e300, "period": "2024-25"}]\' '
            "WHERE plan_id = %s",
            pg_errors.CheckViolation,
        ),
        ("UPDATE kt.kpi_values SET denominator = 0 WHERE plan_id = %s", pg_errors.CheckViolation),
        (
            "INSERT INTO kt.focus_areas (plan_id, key, name) VALUES (%s, 'CL', 'Duplicate key')",
            pg_errors.UniqueViolation,
        ),
        ("INSERT INTO kt.focus_areas (plan_id, key, name) VALUES (%s, 'cl', 'Lower case')", pg_errors.CheckViolation),
        (
            "INSERT INTO kt.kpis (plan_id, key, name, target) VALUES (%s, 'PA-CASELOAD', 'Dup', 1)",
            pg_errors.UniqueViolation,
        ),
    ],
)
def test_the_schema_refuses_values_the_model_refuses(plans: Plans, as_login: Any, statement: str, error: type) -> None:
    with pytest.raises(error):
        as_login("editor").execute(statement, (plans.a,))


def test_the_figure_checks_take_every_figure_kt_writes(plans: Plans, as_login: Any) -> None:
    """The checks of 0008_kpi_figure_range.sql refuse only what kt refuses: 15 digits either
    side of zero pass, and so does a comparator of another shape (kt reads that as damage)."""
    editor = as_login("editor")
    kpis = editor.execute(
        "UPDATE kt.kpis SET target = -999999999999999, tolerance = 999999999999999 WHERE plan_id = %s", (plans.a,)
    )
    values = editor.execute("UPDATE kt.kpi_values SET value = 999999999999999 WHERE plan_id = %s", (plans.a,))
    assert kpis.rowcount > 0 and values.rowcount > 0
    assert editor.execute(
        "SELECT DISTINCT target, tolerance FROM kt.kpis WHERE plan_id = %s", (plans.a,)
    ).fetchall() == [(-999999999999999.0, 999999999999999.0)]
    for comparators in (
        '[{"kind": "england", "value": 82, "period": "2024-25"}, {"kind": "regional", "value": -0.5, "period": "2024"}]',
        '[{"kind": "england", "value": "82", "period": "2024-25"}]',
        "[]",
    ):
        changed = editor.execute("UPDATE kt.kpis SET comparators = %s WHERE plan_id = %s", (comparators, plans.a))
        assert changed.rowcount == kpis.rowcount, comparators


def test_references_are_checked_within_the_plan_when_the_command_commits(plans: Plans, as_login: Any) -> None:
    editor = as_login("editor")
    # Plan B has recommendation R1, but an action of plan A can only refer to plan A's.
    editor.execute("DELETE FROM kt.actions WHERE plan_id = %s AND id = 2", (plans.a,))
    with pytest.raises(pg_errors.ForeignKeyViolation), editor.transaction():
        editor.execute(
            "INSERT INTO kt.actions (plan_id, rec_id, title, due) VALUES (%s, 9, 'Orphan', '2026-01-01')", (plans.a,)
        )
    # Deferred: within one transaction the order of changes does not matter...
    with editor.transaction():
        editor.execute(
            "INSERT INTO kt.actions (plan_id, rec_id, title, due) VALUES (%s, 2, 'Early', '2026-01-01')", (plans.a,)
        )
        editor.execute(
            "INSERT INTO kt.recommendations (plan_id, text) VALUES (%s, 'Second recommendation')", (plans.a,)
        )
    # ...but what is still dangling at commit is refused, and nothing of the command is kept.
    with pytest.raises(pg_errors.ForeignKeyViolation), editor.transaction():
        editor.execute("DELETE FROM kt.recommendations WHERE plan_id = %s AND id = 2", (plans.a,))
    assert count_rows(editor, "recommendations", "plan_id", plans.a) == 2


# ---------------------------------------------------------------------------
# Logging in with a password


def test_a_login_by_password_works_through_libpq_with_nothing_on_the_command_line(plans: Plans, tmp_path: Path) -> None:
    db = plans.db
    login = plans.logins["reader"]
    with db.server.connect("postgres") as su:
        method = su.execute("SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'local'").fetchall()
        stored = su.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (login,)).fetchone()
    assert method == [("scram-sha-256",)]
    assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")

    script = (
        "import psycopg\n"
        "with psycopg.connect() as c:\n"
        "    print(c.execute('SELECT session_user, count(*) FROM kt.plans').fetchone())\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    base.update(PGHOST=db.server.socket_dir, PGPORT=str(db.server.port), PGDATABASE=db.name, PGUSER=login)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{db.server.socket_dir}:{db.server.port}:{db.name}:{login}:{db.server.passwords[login]}\n")
    pgpass.chmod(0o600)
    for extra in ({"PGPASSFILE": str(pgpass)}, {"PGPASSWORD": db.server.passwords[login]}):
        done = subprocess.run(
            [sys.executable, "-c", script], env={**base, **extra}, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"('{login}', 1)"
    # And without the password, or with a wrong one, the server refuses.
    for extra in ({"PGPASSFILE": str(tmp_path / "none")}, {"PGPASSWORD": "wrong"}):
        done = subprocess.run(
            [sys.executable, "-c", script], env={**base, **extra}, capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0
        assert "password" in done.stderr


def test_the_refusals_map_to_exit_14_naming_the_role(plans: Plans, as_login: Any) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        access.create_plan(as_login("editor"), "plan-c", "Council C")
    assert caught.value.exit_code == 14
    assert str(caught.value).startswith("Creating a plan needs the planner role")


def test_psycopg_errors_are_what_the_server_said(plans: Plans, as_login: Any) -> None:
    """A guard against testing the wrong thing: the refusals above are the server's."""
    with pytest.raises(psycopg.Error) as caught:
        as_login("reader").execute("DELETE FROM kt.log")
    assert caught.value.sqlstate == "42501"
