"""kt visit: monitoring visits, with days to go for the ones coming up."""

from typing import Annotated

import typer

from knowsley_tracker.cli._context import (
    AllowPersonalData,
    JsonOption,
    WideOption,
    app_context,
    output,
    say,
    updated_message,
)
from knowsley_tracker.dates import format_date
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Visit, parse_ref
from knowsley_tracker.render import views
from knowsley_tracker.service import visits as service

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Ofsted monitoring visits and other visits.")

ThemesOption = Annotated[
    list[str] | None, typer.Option("--theme", help="A focus area the visit looks at (key); repeat for each.")
]


@app.command("add")
def add(
    ctx: typer.Context,
    date: Annotated[str, typer.Argument(help="The visit date, e.g. 10/02/2026.")],
    type: Annotated[
        str, typer.Option("--type", "-t", help="monitoring-visit (default), focused-visit, jtai...")
    ] = "monitoring-visit",
    theme: ThemesOption = None,
    status: Annotated[str, typer.Option("--status", help="expected (default), confirmed or done.")] = "expected",
    outcome: Annotated[str, typer.Option("--outcome", help="What the visit found.")] = "",
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Record a visit.

    Example:

        kt visit add 10/02/2026 --theme DIS --theme LEAD --status confirmed
    """
    with app_context(ctx).writing("visit add", allow_personal_data=allow_personal_data) as s:
        visit = service.add_visit(s, date, type=type, themes=theme, status=status, outcome=outcome)
    say(f"Added {visit.ref}: {visit.type.label.lower()} on {format_date(visit.date)} ({visit.status.value}).")


@app.command("list")
def list_(
    ctx: typer.Context,
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Only visits still to come.")] = False,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List visits in date order, with days to go for those still to come.

    Example:

        kt visit list --upcoming
    """
    with app_context(ctx).reading() as s:
        items = service.list_visits(s, upcoming_only=upcoming)
    output(as_json, lambda: [views.visit_json(v) for v in items], lambda: views.visits_table(items), wide=wide)


@app.command("edit")
def edit(
    ctx: typer.Context,
    visit: Annotated[str, typer.Argument(help="The visit, e.g. V2.")],
    date: Annotated[str | None, typer.Option("--date", help="A new date.")] = None,
    type: Annotated[str | None, typer.Option("--type", "-t", help="A new type.")] = None,
    theme: ThemesOption = None,
    status: Annotated[str | None, typer.Option("--status", help="expected, confirmed or done.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="What the visit found.")] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Change a visit: confirm its date, mark it done, record the outcome.

    Example:

        kt visit edit V2 --status done --outcome "Letter received: progress in early help"
    """
    if all(v is None for v in (date, type, theme, status, outcome)):
        raise ValidationError("Nothing to change: give --date, --type, --theme, --status or --outcome.")
    with app_context(ctx).writing(f"visit edit {visit}", allow_personal_data=allow_personal_data) as s:
        updated, changes = service.edit_visit(
            s, visit, when=date, type=type, themes=theme, status=status, outcome=outcome
        )
    say(updated_message(updated, changes))


@app.command("project")
def project(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--count", "-n", help="How many visits to pencil in.")] = 3,
    every: Annotated[
        int | None,
        typer.Option("--every", metavar="MONTHS", help="Months apart (default: the visit_interval_months setting, 5)."),
    ] = None,
) -> None:
    """Pencil in the next monitoring visits, spaced from the last one; they stay 'projected' until confirmed.

    Example:

        kt visit project --count 3 --every 4
    """
    with app_context(ctx).writing("visit project") as s:
        made = service.project_visits(s, count=count, every_months=every)
    dates = ", ".join(f"{v.ref} {format_date(v.date)}" for v in made)
    say(f"Projected {len(made)} monitoring visit{'s' if len(made) != 1 else ''}: {dates}.")
    say("Confirm one when Ofsted gives the date: kt visit edit V.. --status confirmed --date DATE")


@app.command("remove")
def remove(ctx: typer.Context, visit: Annotated[str, typer.Argument(help="The visit, e.g. V2.")]) -> None:
    """Remove a visit recorded by mistake.

    Example:

        kt visit remove V5
    """
    with app_context(ctx).writing(f"visit remove {visit}") as s:
        removed = service.remove_visit(s, parse_ref(visit, Visit)).record
    say(f"Removed {removed.ref}.")
