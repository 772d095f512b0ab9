"""kt inspection: the inspections and visits the plan answers to, with their judgements."""

from typing import Annotated

import typer

from knowsley_tracker.cli._context import (
    AllowPersonalData,
    JsonOption,
    WideOption,
    app_context,
    output,
    print_json,
    say,
    updated_message,
)
from knowsley_tracker.dates import format_date
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.render import views
from knowsley_tracker.service import plan as service

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspections, focused visits and their judgements.")


@app.command("add")
def add(
    ctx: typer.Context,
    start: Annotated[str, typer.Argument(help="First day on site, e.g. 18/11/2024.")],
    type: Annotated[
        str, typer.Option("--type", "-t", help="standard, short, focused-visit, jtai or monitoring-visit.")
    ] = "standard",
    end: Annotated[str | None, typer.Option("--end", help="Last day on site.")] = None,
    published: Annotated[str | None, typer.Option("--published", help="Date the report was published.")] = None,
    framework: Annotated[
        str | None,
        typer.Option("--framework", help="ilacs-2023, ilacs-2018 or sif (default: the one in force on START)."),
    ] = None,
    judgement: Annotated[
        str | None,
        typer.Option(
            "--judgement", "-j", help="Overall effectiveness: outstanding, good, requires-improvement, inadequate."
        ),
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option(
            "--area",
            help="An area judgement as AREA=JUDGEMENT; repeat for each. ILACS 2023 areas: leaders, help-protection, "
            "children-in-care, care-leavers. ILACS 2018: leaders, help-protection, children-in-care. SIF: "
            "help-protection, looked-after, adoption, care-leavers, leadership.",
        ),
    ] = None,
    title: Annotated[str, typer.Option("--title", help="A short title.")] = "",
    report_url: Annotated[str, typer.Option("--report", help="Link to the published report.")] = "",
    notes: Annotated[str, typer.Option("--notes", help="Anything else worth keeping.")] = "",
    action_plan_sent: Annotated[
        str | None,
        typer.Option("--action-plan-sent", help="After an inadequate judgement: when the action plan went to Ofsted."),
    ] = None,
    as_json: JsonOption = False,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Record an inspection or visit and, for graded inspections, its judgements.

    Example:

        kt inspection add 18/11/2024 --end 29/11/2024 --published 20/01/2025 -j inadequate --area leaders=inadequate --area help-protection=inadequate --area children-in-care=requires-improvement --area care-leavers=inadequate
    """
    with app_context(ctx).writing("inspection add", allow_personal_data=allow_personal_data) as s:
        inspection = service.add_inspection(
            s,
            start=start,
            type=type,
            end=end,
            published=published,
            framework=framework,
            judgement=judgement,
            areas=area,
            title=title,
            report_url=report_url,
            notes=notes,
            action_plan_sent=action_plan_sent,
        )
    if as_json:
        print_json(views.record_json(inspection))
        return
    graded = f", judged {inspection.judgement.label.lower()}" if inspection.judgement else ""
    say(f"Added {inspection.ref}: {inspection.type.label.lower()} from {format_date(inspection.start)}{graded}.")


@app.command("edit")
def edit(
    ctx: typer.Context,
    inspection: Annotated[str, typer.Argument(help="The inspection, e.g. I2.")],
    end: Annotated[str | None, typer.Option("--end", help="Last day on site.")] = None,
    published: Annotated[str | None, typer.Option("--published", help="Date the report was published.")] = None,
    judgement: Annotated[str | None, typer.Option("--judgement", "-j", help="Overall effectiveness.")] = None,
    area: Annotated[list[str] | None, typer.Option("--area", help="An area judgement as AREA=JUDGEMENT.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="A short title.")] = None,
    report_url: Annotated[str | None, typer.Option("--report", help="Link to the published report.")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Anything else worth keeping.")] = None,
    action_plan_due: Annotated[
        str | None, typer.Option("--action-plan-due", help="Override the computed action-plan deadline.")
    ] = None,
    action_plan_sent: Annotated[
        str | None, typer.Option("--action-plan-sent", help="When the action plan was sent to Ofsted.")
    ] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Correct an inspection, or record when its action plan was sent to Ofsted.

    Example:

        kt inspection edit I2 --action-plan-sent 25/04/2025
    """
    values = (end, published, judgement, area, title, report_url, notes, action_plan_due, action_plan_sent)
    if all(v is None for v in values):
        raise ValidationError("Nothing to change: see kt inspection edit --help for the options.")
    with app_context(ctx).writing(f"inspection edit {inspection}", allow_personal_data=allow_personal_data) as s:
        updated, changes = service.edit_inspection(
            s,
            inspection,
            end=end,
            published=published,
            judgement=judgement,
            areas=area,
            title=title,
            report_url=report_url,
            notes=notes,
            action_plan_due=action_plan_due,
            action_plan_sent=action_plan_sent,
        )
    say(updated_message(updated, changes))


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List inspections and visits, oldest first.

    Example:

        kt inspection list
    """
    with app_context(ctx).reading() as s:
        items = service.list_inspections(s)
    output(as_json, lambda: [views.record_json(i) for i in items], lambda: views.inspections_table(items), wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    inspection: Annotated[str, typer.Argument(help="The inspection, e.g. I2.")],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show an inspection with each area's judgement.

    Example:

        kt inspection show I2
    """
    with app_context(ctx).reading() as s:
        item = service.get_inspection(s, inspection)
    output(as_json, lambda: views.record_json(item), lambda: views.inspection_detail(item), wide=wide)
