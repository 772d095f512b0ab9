"""kt owner: the people and roles who own actions."""

from collections import Counter
from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import (
    AllowPersonalData,
    JsonOption,
    WideOption,
    app_context,
    output,
    say,
    updated_message,
)
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Action
from knowsley_tracker.render import views
from knowsley_tracker.render.text import safe
from knowsley_tracker.service import plan as service

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Action owners, named by role so the plan survives staff changes."
)


@app.command("add")
def add(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help='The owner\'s role, e.g. "Head of Service, Care Leavers".')],
    name: Annotated[str, typer.Option("--name", help="The person in the role (optional).")] = "",
    email: Annotated[str, typer.Option("--email", help="Their work email (optional).")] = "",
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Add an owner.

    Example:

        kt owner add "Principal Social Worker" --name "Alex Morgan" --email alex.morgan@example.gov.uk
    """
    with app_context(ctx).writing("owner add", allow_personal_data=allow_personal_data) as s:
        owner = service.add_owner(s, role, name, email)
    say(f"Added owner {owner.ref}: {safe(owner.display)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    active: Annotated[bool, typer.Option("--active", help="Only owners still in post.")] = False,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List owners and how many open actions each has.

    Example:

        kt owner list --active
    """
    with app_context(ctx).reading() as s:
        owners = service.list_owners(s, include_inactive=not active)
        owned = Counter(a.owner_id for a in s.store.all(Action) if a.owner_id and a.status.is_open)
    output(
        as_json,
        lambda: [views.record_json(o, open_actions=owned.get(o.id, 0)) for o in owners],
        lambda: views.owners_table(owners, dict(owned)),
        wide=wide,
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    owner: Annotated[str, typer.Argument(help="The owner: id (O2), role or name.", autocompletion=_complete.owners)],
    role: Annotated[str | None, typer.Option("--role", help="A new role.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The person now in the role.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="A new email.")] = None,
    inactive: Annotated[
        bool | None, typer.Option("--inactive/--active", help="Mark as left (or back in) post.")
    ] = None,
    login: Annotated[
        str | None,
        typer.Option(
            "--login",
            help="On a PostgreSQL server: the database login of the officer in the role, who may then log "
            'progress on its actions ("" unlinks).',
        ),
    ] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Change an owner, e.g. when someone new takes the role.

    Example:

        kt owner edit O3 --name "Jordan Lee" --login jlee
    """
    if all(v is None for v in (role, name, email, inactive, login)):
        raise ValidationError("Nothing to change: give --role, --name, --email, --login, --inactive or --active.")
    app = app_context(ctx)
    if login is not None and app.server is None:
        raise ValidationError("--login links an owner to a database login: it is for a PostgreSQL store.")
    with app.writing(f"owner edit {owner}", allow_personal_data=allow_personal_data) as s:
        updated, changes = service.edit_owner(
            s,
            owner,
            role=role,
            name=name,
            email=email,
            active=None if inactive is None else not inactive,
            login=login,
        )
    say(updated_message(updated, changes))


@app.command("remove")
def remove(
    ctx: typer.Context,
    owner: Annotated[str, typer.Argument(help="The owner: id, role or name.", autocompletion=_complete.owners)],
) -> None:
    """Remove an owner who owns no actions (otherwise mark them --inactive).

    Example:

        kt owner remove O7
    """
    with app_context(ctx).writing(f"owner remove {owner}") as s:
        removed = service.remove_owner(s, s.owner(owner).id).record
    say(f"Removed owner {removed.ref}: {safe(removed.display)}")
