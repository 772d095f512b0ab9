"""Plans on the test server, filled through raw SQL, and the logins that use them.

``make_plans`` creates two plans (A and B) in one database, each made by its own
planner (who becomes its admin), grants a reader, an officer and an editor on
plan A, and fills both plans so that every table holds rows of both. The
officer's login is linked to owner O1 of plan A, who owns action A1 (not A2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from helpers.pg_server import PgDatabase
from knowsley_tracker.pgstore import access
from knowsley_tracker.pgstore.access import Role

# Tables holding plan data, and the column naming the plan.
PLAN_TABLES = {
    "plans": "id",
    "access": "plan_id",
    "counters": "plan_id",
    "settings": "plan_id",
    "history": "plan_id",
    "snapshots": "plan_id",
    "inspections": "plan_id",
    "focus_areas": "plan_id",
    "owners": "plan_id",
    "recommendations": "plan_id",
    "actions": "plan_id",
    "log": "plan_id",
    "evidence": "plan_id",
    "visits": "plan_id",
    "kpis": "plan_id",
    "kpi_values": "plan_id",
    "boards": "plan_id",
    "interventions": "plan_id",
    "partners": "plan_id",
    "reminders": "plan_id",
    "writers": "plan_id",
}
RECORD_TABLES = (
    "inspections",
    "focus_areas",
    "owners",
    "recommendations",
    "actions",
    "log",
    "evidence",
    "visits",
    "kpis",
    "kpi_values",
    "boards",
    "interventions",
    "partners",
    "reminders",
)


@dataclass
class Plans:
    db: PgDatabase
    a: int
    b: int
    a_admin: str
    b_admin: str
    logins: dict[str, str] = field(default_factory=dict)  # role name on plan A -> login

    def connect(self, login: str) -> Any:
        return self.db.connect(login, autocommit=True)


def fill_plan(conn: Any, plan: int, officer: str | None) -> None:
    """One row or more in every record table of the plan, plus a setting, a snapshot
    and a history entry (as a command would leave them)."""
    with conn.transaction():
        ex = conn.execute
        ex("SELECT kt.lock_plan(%s)", (plan,))  # as a writing command does
        ex(
            'INSERT INTO kt.inspections (plan_id, start, "end", published, judgement, areas) '
            "VALUES (%s, '2024-11-18', '2024-11-29', '2025-01-20', 'inadequate', '{\"leaders\": \"inadequate\"}')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.focus_areas (plan_id, key, name) VALUES (%s, 'CL', 'Care-experienced young people')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.owners (plan_id, role, name, login) VALUES (%s, 'Head of Service, Care Leavers', '', %s)",
            (plan, officer),
        )
        ex("INSERT INTO kt.owners (plan_id, role) VALUES (%s, 'Service Manager, Fostering')", (plan,))
        ex(
            "INSERT INTO kt.recommendations (plan_id, text, focus_id, inspection_id) "
            "VALUES (%s, 'The caseloads of personal advisers.', 1, 1)",
            (plan,),
        )
        ex(
            "INSERT INTO kt.actions (plan_id, rec_id, title, due, owner_id, original_due) "
            "VALUES (%s, 1, 'Recruit four more personal advisers', '2025-10-31', 1, '2025-10-31')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.actions (plan_id, rec_id, title, due, owner_id, original_due) "
            "VALUES (%s, 1, 'Review fostering sufficiency', '2026-01-31', 2, '2026-01-31')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.log (plan_id, action_id, at, by, note, changes) "
            "VALUES (%s, 1, '2025-11-01T09:00:00Z', 'Performance team', 'Two advisers appointed', '{\"progress\": [0, 50]}')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.evidence (plan_id, action_id, title, date, kind) "
            "VALUES (%s, 1, 'Recruitment panel notes', '2025-11-01', 'minutes')",
            (plan,),
        )
        ex("INSERT INTO kt.visits (plan_id, date, themes) VALUES (%s, '2026-02-10', '{1}')", (plan,))
        ex(
            "INSERT INTO kt.kpis (plan_id, key, name, target, unit, focus_id, rec_ids) "
            "VALUES (%s, 'PA-CASELOAD', 'Average PA caseload', 25, 'count', 1, '{1}')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.kpi_values (plan_id, kpi_id, period, period_end, value) "
            "VALUES (%s, 1, '2025-10', '2025-10-31', 31)",
            (plan,),
        )
        ex("INSERT INTO kt.boards (plan_id, date, note) VALUES (%s, '2025-12-04', 'December board')", (plan,))
        ex(
            "INSERT INTO kt.interventions (plan_id, type, issued) VALUES (%s, 'improvement-notice', '2025-02-14')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.partners (plan_id, name, purpose, start, kind, rec_ids) "
            "VALUES (%s, 'Neighbouring council', 'Sector-led support for care leavers', '2025-03-01', 'slip', '{1}')",
            (plan,),
        )
        ex(
            'INSERT INTO kt.reminders (plan_id, action_id, kind, level, "to", sent_at) '
            "VALUES (%s, 1, 'overdue', 'owner', 'head.of.service@example.gov.uk', '2025-11-03T07:00:00Z')",
            (plan,),
        )
        ex("INSERT INTO kt.settings (plan_id, name, value) VALUES (%s, 'rag.amber_days', '14')", (plan,))
        ex(
            "INSERT INTO kt.snapshots (plan_id, name, snapshot) VALUES (%s, 'board-2025-12-04', '{\"actions\": []}')",
            (plan,),
        )
        ex(
            "INSERT INTO kt.history (plan_id, at, what, changes) "
            "VALUES (%s, '2025-11-01T09:00:00Z', 'fill the plan', '[]')",
            (plan,),
        )


def make_plans(db: PgDatabase) -> Plans:
    a_admin, b_admin = db.planner(), db.planner()
    with db.connect(a_admin, autocommit=True) as conn:
        a = access.create_plan(conn, "plan-a", "Council A").id
    with db.connect(b_admin, autocommit=True) as conn:
        b = access.create_plan(conn, "plan-b", "Council B").id
    plans = Plans(db=db, a=a, b=b, a_admin=a_admin, b_admin=b_admin)
    for role in (Role.READER, Role.OFFICER, Role.EDITOR):
        login = db.login()
        plans.logins[role.value] = login
        with db.connect(a_admin, autocommit=True) as conn:
            access.grant_access(conn, "plan-a", login, role)
    plans.logins["admin"] = a_admin
    with db.connect(a_admin, autocommit=True) as conn:
        fill_plan(conn, a, plans.logins["officer"])
    with db.connect(b_admin, autocommit=True) as conn:
        fill_plan(conn, b, plans.logins["officer"])  # the same login named as owner in B: still no role there
    return plans


def count_rows(conn: Any, table: str, column: str, plan: int) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM kt.{} WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(column)),
        (plan,),
    ).fetchone()
    return int(row[0])
