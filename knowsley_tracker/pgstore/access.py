"""Plans in the database, and who may do what on them.

Every function here runs what the database itself allows the login to do: the
checks that matter are in the schema (``0002_access.sql``). Plans and access
are changed only through its SECURITY DEFINER functions (``kt.create_plan``,
``kt.grant_access``, ``kt.revoke_access``, ``kt.list_access``), which check that
the caller is the plan's admin (or, to create a plan, a member of the planner
group). A refusal is a ``PermissionDeniedError`` (exit 14) naming the role it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from knowsley_tracker.errors import ConflictError, NotFoundError, ValidationError
from knowsley_tracker.models import Vocabulary
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.pgstore.connection import server_error

PLAN_KEY = LazyPattern(r"[a-z0-9][a-z0-9-]{0,39}")


class Role(Vocabulary):
    """A login's role on one plan, weakest first."""

    READER = "reader"
    OFFICER = "officer"
    EDITOR = "editor"
    ADMIN = "admin"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"read": "reader", "board": "reader", "edit": "editor", "performance": "editor"}

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Plan:
    """A plan the login can see, with the login's role on it (None for a superuser
    who holds none)."""

    id: int
    key: str
    authority: str
    created_at: datetime
    role: Role | None


@dataclass(frozen=True)
class Grant:
    login: str
    role: Role
    granted_by: str
    granted_at: datetime


def check_plan_key(key: str) -> str:
    """A plan key as the schema accepts it: 1-40 lower-case letters, digits or hyphens."""
    text = key.strip().lower()
    if not PLAN_KEY.fullmatch(text):
        raise ValidationError(
            f"Plan key {key!r} must be 1-40 lower-case letters, digits or hyphens, starting with a letter or digit "
            "(e.g. knowsley-2025)."
        )
    return text


def create_plan(conn: psycopg.Connection[Any], key: str, authority: str, *, created_at: datetime | None = None) -> Plan:
    """Create a plan; its creator becomes its admin. Needs the planner group."""
    key = check_plan_key(key)
    authority = authority.strip()
    if not authority:
        raise ValidationError("The authority's name cannot be empty.")
    try:
        with conn.transaction():
            if created_at is None:
                row = conn.execute("SELECT kt.create_plan(%s, %s)", (key, authority)).fetchone()
            else:
                row = conn.execute("SELECT kt.create_plan(%s, %s, %s)", (key, authority, created_at)).fetchone()
    except psycopg.errors.UniqueViolation:
        raise ConflictError(
            f"A plan with the key {key} exists already in this database; it has not been changed."
        ) from None
    except psycopg.Error as exc:
        raise server_error(exc, needs="creating a plan needs the planner role") from None
    assert row is not None
    return get_plan(conn, key)


def visible_plans(conn: psycopg.Connection[Any]) -> list[Plan]:
    """The plans the login can see (row-level security decides), by key."""
    try:
        rows = conn.execute(
            "SELECT p.id, p.key, p.authority, p.created_at, a.role::text FROM kt.plans p "
            "LEFT JOIN kt.access a ON a.plan_id = p.id AND a.login = session_user ORDER BY p.key"
        ).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return []  # a login in no kt group at all may not even read the tables: it sees no plan
    except psycopg.Error as exc:
        raise server_error(exc) from None
    return [Plan(r[0], r[1], r[2], r[3], None if r[4] is None else Role(r[4])) for r in rows]


def get_plan(conn: psycopg.Connection[Any], key: str) -> Plan:
    """The plan with this key, when the login can see it (``NotFoundError`` otherwise,
    whether or not it exists)."""
    key = check_plan_key(key)
    for plan in visible_plans(conn):
        if plan.key == key:
            return plan
    raise NotFoundError(f"No plan {key} that {_login(conn)} can see in this database (kt plan list shows them).")


def choose_plan(conn: psycopg.Connection[Any], key: str | None) -> Plan:
    """The plan named by ``--plan``, or when none is named the only plan the login can see."""
    if key is not None:
        return get_plan(conn, key)
    plans = visible_plans(conn)
    if len(plans) == 1:
        return plans[0]
    login = _login(conn)
    if not plans:
        raise NotFoundError(
            f"{login} holds no role on any plan in this database: ask a plan's admin "
            f"(kt access grant {login} reader --plan KEY), or create one with kt init --plan KEY."
        )
    keys = ", ".join(p.key for p in plans)
    raise ValidationError(f"{login} can see {len(plans)} plans ({keys}): choose one with --plan KEY.")


def grant_access(conn: psycopg.Connection[Any], plan_key: str, login: str, role: Role) -> None:
    """Give ``login`` ``role`` on the plan (replacing the role it had). Needs admin."""
    plan_key = check_plan_key(plan_key)
    try:
        with conn.transaction():
            conn.execute("SELECT kt.grant_access(%s, %s, %s::kt.role)", (plan_key, login, role.value))
    except psycopg.Error as exc:
        raise server_error(exc, needs=f"granting access on plan {plan_key} needs the admin role there") from None


def revoke_access(conn: psycopg.Connection[Any], plan_key: str, login: str) -> bool:
    """Take away the login's role on the plan; False when it held none. Needs admin."""
    plan_key = check_plan_key(plan_key)
    try:
        with conn.transaction():
            row = conn.execute("SELECT kt.revoke_access(%s, %s)", (plan_key, login)).fetchone()
    except psycopg.Error as exc:
        raise server_error(exc, needs=f"revoking access on plan {plan_key} needs the admin role there") from None
    return bool(row and row[0])


def list_access(conn: psycopg.Connection[Any], plan_key: str) -> list[Grant]:
    """Who holds which role on the plan, strongest first. Needs admin."""
    plan_key = check_plan_key(plan_key)
    try:
        rows = conn.execute(
            "SELECT login, role::text, granted_by, granted_at FROM kt.list_access(%s)", (plan_key,)
        ).fetchall()
    except psycopg.Error as exc:
        raise server_error(exc, needs=f"listing access on plan {plan_key} needs the admin role there") from None
    return [Grant(r[0], Role(r[1]), r[2], r[3]) for r in rows]


def _login(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT session_user").fetchone()
    return str(row[0]) if row else "this login"
