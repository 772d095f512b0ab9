"""kt doctor on a PostgreSQL server: the schema's version and its constraints.

The database keeps the records consistent itself (types, checks, foreign keys,
row-level security); what can go wrong is the schema: older or newer than this
kt, or a constraint, policy or trigger changed or dropped by hand since the
migrations made it (pgstore/schema.py compares it with what they recorded).
"""

from knowsley_tracker.cli._context import AppContext, print_json, say
from knowsley_tracker.render.text import safe


def doctor_on_server(app: AppContext, *, as_json: bool, fix: bool = False, personal_data: bool = False) -> int:
    """Check the server's schema and the plan (and, with ``personal_data``, scan its
    text); 0 when healthy, 1 when there are problems or personal data."""
    from knowsley_tracker.pgstore.database import Database
    from knowsley_tracker.pgstore.schema import latest_version
    from knowsley_tracker.render import audit_views
    from knowsley_tracker.service import audit

    assert app.server is not None
    with Database.open(app.server) as db:
        problems = db.schema_problems()
        version = db.schema_version()
        where = db.location
        plan = None if problems else db.plan(app.plan)
    hits: list[audit.PersonalDataHit] = []
    if personal_data and plan is not None:
        with app.reading() as session:
            hits = audit.scan_personal_data(session)
    code = 1 if problems or hits else 0
    if as_json:
        print_json(
            {
                "store": where,
                "plan": plan.key if plan else None,
                "healthy": not problems,
                "schema_version": version,
                "schema_version_expected": latest_version(),
                "problems": [{"severity": "problem", "message": p.message, "fix": p.fix} for p in problems],
                **({"personal_data": audit_views.personal_data_json(hits)} if personal_data else {}),
            }
        )
        return code
    say(f"Checked {safe(where)}: schema version {version} (this kt needs {latest_version()}).")
    for problem in problems:
        say(f"Problem: {safe(problem.message)}")
        say(f"  Fix: {safe(problem.fix)}")
    if fix and problems:
        say("kt doctor --fix repairs store files; a server's schema is put right by its owner, as each Fix says.")
    if not problems:
        assert plan is not None
        say(f"Healthy: the schema, its constraints, policies and triggers are as the migrations made them; "
            f"plan {plan.key} is open to you as {plan.role.value if plan.role else 'no role'}.")  # fmt: skip
    if personal_data and plan is not None:
        for line in audit_views.personal_data_lines(hits):
            say(line)
    return code
