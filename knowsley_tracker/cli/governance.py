"""kt intervention and kt partner: DfE intervention and the improvement partners engaged."""

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
from knowsley_tracker.render import views
from knowsley_tracker.render.text import safe
from knowsley_tracker.service import governance as service

intervention_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="DfE intervention: improvement notices and statutory directions."
)
partner_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Improvement partners: SLIPs, specialists and advisers."
)

PersonOption = Annotated[
    list[str] | None,
    typer.Option(
        "--person",
        help='Someone in a role, as ROLE=NAME (e.g. "Improvement adviser=Jo Example"); repeat for each.',
    ),
]
RevisedOption = Annotated[list[str] | None, typer.Option("--revised", help="A date it was revised; repeat for each.")]


@intervention_app.command("add")
def intervention_add(
    ctx: typer.Context,
    type: Annotated[str, typer.Argument(help="improvement-notice or statutory-direction.")],
    issued: Annotated[str, typer.Option("--issued", help="When it was issued.")],
    revised: RevisedOption = None,
    lifted: Annotated[str | None, typer.Option("--lifted", help="When it was lifted.")] = None,
    person: PersonOption = None,
    note: Annotated[str, typer.Option("--note", help="Anything else worth keeping.")] = "",
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Record a DfE improvement notice or statutory direction.

    Example:

        kt intervention add improvement-notice --issued 15/09/2014 --lifted 31/07/2017 --person "Independent board chair=Jo Example"
    """
    with app_context(ctx).writing("intervention add", allow_personal_data=allow_personal_data) as s:
        item = service.add_intervention(
            s, type, issued=issued, revised=revised, lifted=lifted, people=person, note=note
        )
    say(f"Added {item.ref}: {item.type.label.lower()} issued {format_date(item.issued)}.")


@intervention_app.command("list")
def intervention_list(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List DfE interventions, oldest first, with how long each was in force.

    Example:

        kt intervention list
    """
    with app_context(ctx).reading() as s:
        items = service.list_interventions(s)
    output(
        as_json,
        lambda: [views.intervention_json(v) for v in items],
        lambda: views.interventions_table(items),
        wide=wide,
    )


@intervention_app.command("edit")
def intervention_edit(
    ctx: typer.Context,
    intervention: Annotated[str, typer.Argument(help="The intervention, e.g. N2.")],
    type: Annotated[str | None, typer.Option("--type", help="improvement-notice or statutory-direction.")] = None,
    issued: Annotated[str | None, typer.Option("--issued", help="Correct the date it was issued.")] = None,
    revised: RevisedOption = None,
    lifted: Annotated[str | None, typer.Option("--lifted", help="When it was lifted.")] = None,
    person: PersonOption = None,
    note: Annotated[str | None, typer.Option("--note", help="A new note.")] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Revise or lift an intervention, or update who is involved (a role given again gets the new name).

    Example:

        kt intervention edit N2 --revised 14/02/2026 --person "Commissioner=Lee Example"
    """
    if all(v is None for v in (type, issued, revised, lifted, person, note)):
        raise ValidationError("Nothing to change: give --type, --issued, --revised, --lifted, --person or --note.")
    with app_context(ctx).writing(f"intervention edit {intervention}", allow_personal_data=allow_personal_data) as s:
        updated, changes = service.edit_intervention(
            s, intervention, type=type, issued=issued, revised=revised, lifted=lifted, people=person, note=note
        )
    say(updated_message(updated, changes))


RecOption = Annotated[list[str] | None, typer.Option("--rec", help="A recommendation it addresses; repeat for each.")]
FocusOption = Annotated[list[str] | None, typer.Option("--focus", help="A focus area it addresses; repeat for each.")]


@partner_app.command("add")
def partner_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The partner: an organisation or a named specialist.")],
    purpose: Annotated[str, typer.Option("--purpose", help="What they are engaged for.")],
    start: Annotated[str, typer.Option("--from", help="When the engagement starts.")],
    end: Annotated[str | None, typer.Option("--to", help="When it ends.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="slip, specialist, adviser or other.")] = "specialist",
    rec: RecOption = None,
    focus: FocusOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Record an improvement partner and the work they were engaged for.

    Example:

        kt partner add "Neighbouring council (SLIP)" --kind slip --purpose "Case audit moderation" --from 01/09/2025 --to 31/03/2026 --focus QA
    """
    with app_context(ctx).writing("partner add", allow_personal_data=allow_personal_data) as s:
        partner = service.add_partner(s, name, purpose=purpose, start=start, end=end, kind=kind, recs=rec, focus=focus)
    until = f" to {format_date(partner.end)}" if partner.end else ""
    say(f"Added {partner.ref}: {safe(partner.name)}, from {format_date(partner.start)}{until}.")


@partner_app.command("list")
def partner_list(
    ctx: typer.Context,
    active: Annotated[bool, typer.Option("--active", help="Only engagements running today.")] = False,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List improvement partners and what they address.

    Example:

        kt partner list --active
    """
    with app_context(ctx).reading() as s:
        items = service.list_partners(s, active_only=active)
    output(as_json, lambda: [views.partner_json(v) for v in items], lambda: views.partners_table(items), wide=wide)


@partner_app.command("edit")
def partner_edit(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="The partner, e.g. P1.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="What they are engaged for.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="When the engagement starts.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="When it ends.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="slip, specialist, adviser or other.")] = None,
    rec: RecOption = None,
    focus: FocusOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Change an engagement: extend or end it, or change what it addresses.

    Example:

        kt partner edit P1 --to 30/06/2026
    """
    if all(v is None for v in (name, purpose, start, end, kind, rec, focus)):
        raise ValidationError("Nothing to change: give --name, --purpose, --from, --to, --kind, --rec or --focus.")
    with app_context(ctx).writing(f"partner edit {partner}", allow_personal_data=allow_personal_data) as s:
        updated, changes = service.edit_partner(
            s, partner, name=name, purpose=purpose, start=start, end=end, kind=kind, recs=rec, focus=focus
        )
    say(updated_message(updated, changes))
