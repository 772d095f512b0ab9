"""kt plan and kt access: the plans in a PostgreSQL database, and who may do what on them.

Also ``kt init`` on a server (called from :mod:`.setup`). Nothing here is imported
by a file-store command: the PostgreSQL modules load psycopg.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from knowsley_tracker.cli._context import (
    AppContext,
    JsonOption,
    ServerStoreError,
    WideOption,
    app_context,
    print_json,
    print_table,
    say,
)
from knowsley_tracker.render.text import Column, TableView, safe

if TYPE_CHECKING:
    from knowsley_tracker.pgstore.access import Plan
    from knowsley_tracker.pgstore.database import Database

plan_app = typer.Typer(add_completion=False, no_args_is_help=True)
access_app = typer.Typer(add_completion=False, no_args_is_help=True)


@plan_app.callback()
def plan_group() -> None:
    """The plans in a PostgreSQL database."""


@access_app.callback()
def access_group() -> None:
    """Who may read or change a plan on a PostgreSQL server."""


PlanOption = Annotated[
    str | None,
    typer.Option(
        "--plan",
        metavar="KEY",
        help="The plan (default: kt --plan, $KNOWSLEY_TRACKER_PLAN, else the only one your login can see).",
        show_default=False,
    ),
]

ROLES_HELP = "reader (board members), officer (their own actions), editor (the whole plan) or admin (and access)."


@contextmanager
def database(app: AppContext, command: str) -> Iterator[Database]:
    """The server's database, for the plan-level commands (a file store has one plan, no logins)."""
    if app.server is None:
        raise ServerStoreError(
            f"{command} is for a PostgreSQL store (--db postgresql://... or service=NAME); a store file holds one plan."
        )
    from knowsley_tracker.pgstore.database import Database

    with Database.open(app.server) as db:
        yield db


def init_on_server(app: AppContext, authority: str, key: str | None) -> None:
    """``kt init`` on a server: the schema on first use, then the plan."""
    from knowsley_tracker.service import access

    chosen = key or app.plan
    if chosen is None:
        raise ServerStoreError("kt init on a PostgreSQL server needs --plan KEY (e.g. --plan knowsley-2025).")
    with database(app, "kt init --plan") as db:
        created = access.create_plan(db, chosen, authority, created_at=app.get_clock().now())
        where = db.location
    if created.schema_versions:
        say(f"Created the knowsley-tracker schema (version {created.schema_versions[-1]}) in {safe(where)}.")
    say(f"Created the plan {created.plan.key} for {safe(created.plan.authority)} in {safe(where)}; you are its admin.")
    say(f"Next: kt access grant LOGIN officer --plan {created.plan.key}, then kt inspection add, kt action add.")


def _role_text(plan: Plan) -> str:
    return plan.role.value if plan.role is not None else "(none)"


@plan_app.command("list")
def plan_list(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """Show the plans your login can see in the database, with your role on each.

    Example:

        kt --db service=improvement plan list
    """
    from knowsley_tracker.service import access

    with database(app_context(ctx), "kt plan list") as db:
        plans = access.list_plans(db)
    if as_json:
        print_json(
            [
                {"key": p.key, "authority": p.authority, "created_at": p.created_at.isoformat(), "role": _role_text(p)}
                for p in plans
            ]
        )
        return
    table = TableView(
        [Column("Plan", no_wrap=True), Column("Authority"), Column("Created", no_wrap=True), Column("Your role")],
        title="Plans",
        empty="Your login holds no role on any plan here: ask a plan's admin (kt access grant).",
    )
    for p in plans:
        table.add([p.key, p.authority, p.created_at.strftime("%-d %b %Y"), _role_text(p)])
    if not plans:
        say(table.empty)
        return
    print_table(table, wide=wide)


@access_app.command("grant")
def access_grant(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="The database login, e.g. jlee.")],
    role: Annotated[str, typer.Argument(help=ROLES_HELP)],
    plan: PlanOption = None,
) -> None:
    """Give a login a role on the plan, replacing the role it had (the plan's admin only).

    Example:

        kt access grant jlee officer --plan knowsley-2025
    """
    from knowsley_tracker.pgstore.access import Role
    from knowsley_tracker.service import access

    app = app_context(ctx)
    chosen = Role.parse(role, "role")
    with database(app, "kt access grant") as db:
        change = access.grant(db, login, chosen, plan or app.plan)
    done = "now holds" if change.changed else "already held"
    say(f"{safe(change.login)} {done} the {chosen.value} role on plan {change.plan.key}.")


@access_app.command("revoke")
def access_revoke(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="The database login, e.g. jlee.")],
    plan: PlanOption = None,
) -> None:
    """Take away a login's role on the plan (the plan's admin only).

    Example:

        kt access revoke jlee --plan knowsley-2025
    """
    from knowsley_tracker.service import access

    app = app_context(ctx)
    with database(app, "kt access revoke") as db:
        change = access.revoke(db, login, plan or app.plan)
    if change.changed:
        say(f"{safe(change.login)} no longer holds a role on plan {change.plan.key}.")
    else:
        say(f"{safe(change.login)} held no role on plan {change.plan.key}; nothing changed.")


@access_app.command("list")
def access_list(
    ctx: typer.Context, plan: PlanOption = None, as_json: JsonOption = False, wide: WideOption = False
) -> None:
    """Show who holds which role on the plan (the plan's admin only).

    Example:

        kt access list --plan knowsley-2025
    """
    from knowsley_tracker.service import access

    app = app_context(ctx)
    with database(app, "kt access list") as db:
        shown, grants = access.list_access(db, plan or app.plan)
    if as_json:
        print_json(
            {
                "plan": shown.key,
                "access": [
                    {"login": g.login, "role": g.role.value, "granted_by": g.granted_by,
                     "granted_at": g.granted_at.isoformat()}
                    for g in grants
                ],
            }
        )  # fmt: skip
        return
    table = TableView(
        [Column("Login", no_wrap=True), Column("Role", no_wrap=True), Column("Granted by"), Column("Granted")],
        title=f"Access to plan {shown.key}",
    )
    for g in grants:
        table.add([g.login, g.role.value, g.granted_by, g.granted_at.strftime("%-d %b %Y %H:%M")])
    print_table(table, wide=wide)
