"""kt doctor on a PostgreSQL server: the schema's version and its constraints.

The database keeps the records consistent itself (types, checks, foreign keys,
row-level security); what can go wrong is the schema: older or newer than this
kt, or a constraint, policy or trigger changed or dropped by hand since the
migrations made it (pgstore/schema.py compares it with what they recorded).
"""

from __future__ import annotations

from knowsley_tracker.cli._context import AppContext, print_json, say
from knowsley_tracker.render.text import safe


def doctor_on_server(app: AppContext, *, as_json: bool) -> int:
    """Check the server's schema and the plan; 0 when healthy, 1 when there are problems."""
    from knowsley_tracker.pgstore.database import Database
    from knowsley_tracker.pgstore.schema import latest_version

    assert app.server is not None
    with Database.open(app.server) as db:
        problems = db.schema_problems()
        version = db.schema_version()
        where = db.location
        plan = None if problems else db.plan(app.plan)
    if as_json:
        print_json(
            {
                "store": where,
                "plan": plan.key if plan else None,
                "healthy": not problems,
                "schema_version": version,
                "schema_version_expected": latest_version(),
                "problems": [{"severity": "problem", "message": p.message, "fix": p.fix} for p in problems],
            }
        )
        return 1 if problems else 0
    say(f"Checked {safe(where)}: schema version {version} (this kt needs {latest_version()}).")
    for problem in problems:
        say(f"Problem: {safe(problem.message)}")
        say(f"  Fix: {safe(problem.fix)}")
    if not problems:
        assert plan is not None
        say(f"Healthy: the schema, its constraints, policies and triggers are as the migrations made them; "
            f"plan {plan.key} is open to you as {plan.role.value if plan.role else 'no role'}.")  # fmt: skip
    return 1 if problems else 0
