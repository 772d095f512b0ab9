"""The plan-level use-cases of a database store: creating a plan, listing plans,
and who may do what on them (``kt init --plan``, ``kt plan list``, ``kt access
grant|revoke|list``).

They take typed values (a :class:`Role`, a plan key or None) and a
:class:`~knowsley_tracker.pgstore.database.Database`; the database enforces every
rule itself, and these functions only choose the plan and say what happened.
``plan=None`` means the one plan the login can see. Nothing here is imported by a
JSON-file command (the PostgreSQL modules load psycopg).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from knowsley_tracker.errors import ValidationError

if TYPE_CHECKING:
    from knowsley_tracker.pgstore.access import Grant, Plan, Role
    from knowsley_tracker.pgstore.database import Database


@dataclass(frozen=True)
class Created:
    plan: Plan
    schema_versions: list[int]  # migrations applied on the way (empty when the schema was there)


@dataclass(frozen=True)
class AccessChange:
    plan: Plan
    login: str
    role: Role | None  # the role now held; None after a revoke
    changed: bool


def create_plan(db: Database, key: str, authority: str, *, created_at: datetime | None = None) -> Created:
    """Create the schema on first use, then the plan, whose admin the login becomes."""
    applied = db.install() if db.schema_version() == 0 else []
    return Created(plan=db.create_plan(key, authority, created_at=created_at), schema_versions=applied)


def list_plans(db: Database) -> list[Plan]:
    """The plans the login can see, with its role on each."""
    return db.plans()


def grant(db: Database, login: str, role: Role, plan: str | None = None) -> AccessChange:
    """Give ``login`` ``role`` on the plan (the admin's right)."""
    chosen = db.plan(plan)
    login = _login_name(login)
    before = _role_of(db, chosen, login)
    db.grant(chosen.key, login, role)
    return AccessChange(plan=chosen, login=login, role=role, changed=before is not role)


def revoke(db: Database, login: str, plan: str | None = None) -> AccessChange:
    """Take away ``login``'s role on the plan (the admin's right)."""
    chosen = db.plan(plan)
    login = _login_name(login)
    changed = db.revoke(chosen.key, login)
    return AccessChange(plan=chosen, login=login, role=None, changed=changed)


def list_access(db: Database, plan: str | None = None) -> tuple[Plan, list[Grant]]:
    """Who holds which role on the plan (the admin's right)."""
    chosen = db.plan(plan)
    return chosen, db.grants(chosen.key)


def _login_name(text: str) -> str:
    login = text.strip()
    if not login or len(login.encode()) > 63 or any(ord(c) < 32 for c in login):
        raise ValidationError(f"{text!r} is not a database login name.")
    return login


def _role_of(db: Database, plan: Plan, login: str) -> Role | None:
    for held in db.grants(plan.key):
        if held.login == login:
            return held.role
    return None
