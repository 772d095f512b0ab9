"""Plans and access on the PostgreSQL store, through the service functions kt's
plan and access commands will call, and the exit codes of their refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.pg_server import INSTALLER, PgDatabase, PgServer, start_server, stop_server

from knowsley_tracker.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ServerUnreachableError,
    StoreMissingError,
    TrackerError,
    ValidationError,
)
from knowsley_tracker.pgstore import schema
from knowsley_tracker.pgstore.access import Role
from knowsley_tracker.pgstore.database import Database
from knowsley_tracker.service import access as service


def open_db(server: PgServer, dbname: str, login: str) -> Database:
    return Database.open(server.conninfo(dbname, login, password=False), password=server.passwords[login])


def groups_of(db: PgDatabase, login: str) -> list[str]:
    """The kt group roles the login is a direct member of."""
    with db.server.connect(db.name) as conn:
        rows = conn.execute(
            "SELECT g.role FROM pg_auth_members m JOIN kt.role_groups g ON g.rolname = m.roleid::regrole::text "
            "WHERE m.member = %s::regrole ORDER BY g.role",
            (login,),
        ).fetchall()
    return [r[0] for r in rows]


def test_the_first_kt_init_creates_the_schema_then_the_plan(
    pg_server: PgServer, pg_empty_db: Callable[[], str]
) -> None:
    name = pg_empty_db()
    with open_db(pg_server, name, INSTALLER) as db:
        created = service.create_plan(db, "Knowsley-2025", "Knowsley", created_at=datetime(2025, 11, 30, 9, tzinfo=UTC))
        assert created.schema_versions == list(range(1, schema.latest_version() + 1))
        assert (created.plan.key, created.plan.authority, created.plan.role) == (
            "knowsley-2025",
            "Knowsley",
            Role.ADMIN,
        )
        assert created.plan.created_at == datetime(2025, 11, 30, 9, tzinfo=UTC)
        again = service.create_plan(db, "region", "North West region")
        assert again.schema_versions == []
        assert [(p.key, p.role) for p in service.list_plans(db)] == [
            ("knowsley-2025", Role.ADMIN),
            ("region", Role.ADMIN),
        ]
        with pytest.raises(ConflictError, match="A plan with the key region exists already") as caught:
            service.create_plan(db, "region", "Another")
        assert caught.value.exit_code == 5


@pytest.mark.parametrize("key", ["", "Has Space", "-leading", "x" * 41, "émigré"])
def test_a_plan_key_is_checked_before_the_server_sees_it(pg_db: PgDatabase, key: str) -> None:
    with open_db(pg_db.server, pg_db.name, pg_db.planner()) as db, pytest.raises(ValidationError, match="Plan key"):
        service.create_plan(db, key, "Council")


def test_creating_a_plan_needs_the_planner_role(pg_db: PgDatabase) -> None:
    login = pg_db.login()
    with open_db(pg_db.server, pg_db.name, login) as db:
        with pytest.raises(PermissionDeniedError) as caught:
            service.create_plan(db, "mine", "Council")
        assert caught.value.exit_code == 14
        assert str(caught.value) == (
            "Creating a plan needs the planner role (kt_kt_template_planner). "
            f"Ask the database administrator: GRANT kt_kt_template_planner TO {login};"
        )
        assert service.list_plans(db) == []


def test_grant_revoke_and_list(pg_db: PgDatabase) -> None:
    admin, officer = pg_db.planner(), pg_db.login()
    with open_db(pg_db.server, pg_db.name, admin) as db:
        service.create_plan(db, "knowsley", "Knowsley")
        change = service.grant(db, officer, Role.OFFICER)  # the only plan the admin can see
        assert (change.plan.key, change.login, change.role, change.changed) == ("knowsley", officer, Role.OFFICER, True)
        assert service.grant(db, officer, Role.OFFICER).changed is False
        plan, grants = service.list_access(db)
        assert plan.key == "knowsley"
        assert [(g.login, g.role, g.granted_by) for g in grants] == [
            (admin, Role.ADMIN, admin),
            (officer, Role.OFFICER, admin),
        ]
    assert groups_of(pg_db, officer) == ["officer"]
    with open_db(pg_db.server, pg_db.name, officer) as db:
        assert [(p.key, p.role) for p in service.list_plans(db)] == [("knowsley", Role.OFFICER)]
        with pytest.raises(PermissionDeniedError, match="needs the admin role") as caught:
            service.list_access(db)
        assert caught.value.exit_code == 14
    with open_db(pg_db.server, pg_db.name, admin) as db:
        service.grant(db, officer, Role.EDITOR, plan="knowsley")
        assert groups_of(pg_db, officer) == ["editor"]
        assert service.revoke(db, officer, plan="knowsley").changed is True
        assert service.revoke(db, officer, plan="knowsley").changed is False
    assert groups_of(pg_db, officer) == []
    with open_db(pg_db.server, pg_db.name, officer) as db:
        assert service.list_plans(db) == []
        with pytest.raises(NotFoundError, match=f"{officer} holds no role on any plan in this database") as missing:
            service.list_access(db)
        assert missing.value.exit_code == 3


def test_group_membership_follows_the_highest_role_on_any_plan(pg_db: PgDatabase) -> None:
    a_admin, b_admin, login = pg_db.planner(), pg_db.planner(), pg_db.login()
    with open_db(pg_db.server, pg_db.name, a_admin) as a, open_db(pg_db.server, pg_db.name, b_admin) as b:
        service.create_plan(a, "plan-a", "A")
        service.create_plan(b, "plan-b", "B")
        service.grant(a, login, Role.READER)
        service.grant(b, login, Role.EDITOR)
        assert groups_of(pg_db, login) == ["editor"]
        service.revoke(b, login)
        assert groups_of(pg_db, login) == ["reader"]
        service.revoke(a, login)
        assert groups_of(pg_db, login) == []


def test_a_plan_keeps_an_admin(pg_db: PgDatabase) -> None:
    admin, other = pg_db.planner(), pg_db.login()
    with open_db(pg_db.server, pg_db.name, admin) as db:
        service.create_plan(db, "knowsley", "Knowsley")
        with pytest.raises(ConflictError, match=f"{admin} is the only admin of plan knowsley") as caught:
            service.revoke(db, admin)
        assert caught.value.exit_code == 5
        with pytest.raises(ConflictError, match=f"{admin} is the only admin of plan knowsley"):
            service.grant(db, admin, Role.EDITOR)
        service.grant(db, other, Role.ADMIN)
        service.grant(db, admin, Role.READER)  # now allowed: another admin remains
        assert [(p.key, p.role) for p in service.list_plans(db)] == [("knowsley", Role.READER)]


def test_granting_to_a_login_that_does_not_exist(pg_db: PgDatabase) -> None:
    with open_db(pg_db.server, pg_db.name, pg_db.planner()) as db:
        service.create_plan(db, "knowsley", "Knowsley")
        with pytest.raises(NotFoundError, match="There is no database login nobody_here") as caught:
            service.grant(db, "nobody_here", Role.READER)
        assert caught.value.exit_code == 3
        group = db.conn.execute("SELECT kt.group_role('reader')").fetchone()
        assert group is not None
        with pytest.raises(NotFoundError, match="There is no database login"):  # a group is not a login
            service.grant(db, str(group[0]), Role.READER)
        with pytest.raises(ValidationError, match="is not a database login name"):
            service.grant(db, "bad\nname", Role.READER)


def test_choosing_among_several_plans(pg_db: PgDatabase) -> None:
    admin = pg_db.planner()
    with open_db(pg_db.server, pg_db.name, admin) as db:
        service.create_plan(db, "knowsley", "Knowsley")
        service.create_plan(db, "sefton", "Sefton")
        with pytest.raises(ValidationError, match=r"can see 2 plans \(knowsley, sefton\): choose one with --plan KEY"):
            service.list_access(db)
        assert service.list_access(db, plan="sefton")[0].authority == "Sefton"
        with pytest.raises(NotFoundError, match="No plan wirral that"):
            service.list_access(db, plan="wirral")


# ---------------------------------------------------------------------------
# Connecting


def test_an_unreachable_server_is_exit_15(tmp_path: Path) -> None:
    with pytest.raises(ServerUnreachableError, match="Cannot reach the database server at") as caught:
        Database.open(f"postgresql:///improvement?host={tmp_path}")
    assert caught.value.exit_code == 15
    assert str(tmp_path) in str(caught.value)


def test_a_refused_login_is_exit_14(pg_db: PgDatabase) -> None:
    login = pg_db.login()
    with pytest.raises(PermissionDeniedError, match="refused the login: password authentication failed") as caught:
        Database.open(pg_db.conninfo(login, password=False), password="wrong")
    assert caught.value.exit_code == 14


def test_a_database_that_does_not_exist_is_exit_8(pg_db: PgDatabase) -> None:
    login = pg_db.login()
    with pytest.raises(StoreMissingError, match="There is no such database") as caught:
        Database.open(
            pg_db.server.conninfo("no_such_db", login, password=False), password=pg_db.server.passwords[login]
        )
    assert caught.value.exit_code == 8


def test_a_password_in_the_connection_string_is_refused(tmp_path: Path) -> None:
    for target in (f"postgresql://jlee:secret@/improvement?host={tmp_path}", f"host={tmp_path} password=secret"):
        with pytest.raises(ValidationError, match="not in the connection string"):
            Database.open(target)


def test_losing_the_server_mid_command_is_exit_15() -> None:
    server = start_server()
    try:
        with Database.open(
            server.conninfo("postgres", "kt_test_super", password=False),
            password=server.passwords["kt_test_super"],
        ) as db:
            stop_server(server)
            with pytest.raises(TrackerError) as caught:
                db.plans()
            assert caught.value.exit_code == 15
    finally:
        stop_server(server)
