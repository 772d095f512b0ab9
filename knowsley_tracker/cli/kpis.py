"""kt kpi: key performance indicators, their targets and the values reported each period."""

from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import (
    AllowPersonalData,
    ByOption,
    JsonOption,
    WideOption,
    app_context,
    output,
    print_json,
    say,
)
from knowsley_tracker.dates import format_date
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.render import report_kpis as views
from knowsley_tracker.render.report_common import target_text
from knowsley_tracker.render.report_json import kpi_json
from knowsley_tracker.render.text import safe
from knowsley_tracker.render.views import record_json
from knowsley_tracker.service import kpis as service

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="KPIs: targets, the value each period, and the scorecard."
)


@app.command("add")
def add(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="A short key, e.g. HP-01.")],
    name: Annotated[str, typer.Argument(help="What it measures.")],
    target: Annotated[str, typer.Option("--target", "-t", help="The target value, e.g. 90.")],
    unit: Annotated[str, typer.Option("--unit", "-u", help="%, count, days, young people per PA...")] = "",
    lower_is_better: Annotated[
        bool, typer.Option("--lower-is-better", help="Lower values are better (re-referrals, caseloads).")
    ] = False,
    focus: Annotated[
        str | None, typer.Option("--focus", "-f", help="Its focus area (key).", autocompletion=_complete.focus_areas)
    ] = None,
    rec: Annotated[
        list[str] | None, typer.Option("--rec", "-r", help="A recommendation it evidences; repeat for each.")
    ] = None,
    target_date: Annotated[str | None, typer.Option("--target-date", help="When the target should be met.")] = None,
    as_json: JsonOption = False,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Add a KPI with its target.

    Example:

        kt kpi add HP-01 "Assessments completed within 45 working days" --target 90 --unit % --focus HP --rec R4
    """
    with app_context(ctx).writing(f"kpi add {key}", allow_personal_data=allow_personal_data) as s:
        status = service.add_kpi(
            s,
            key,
            name,
            target=target,
            unit=unit,
            lower_is_better=lower_is_better,
            focus=focus,
            recs=rec,
            target_date=target_date,
        )
    if as_json:
        print_json(record_json(status.kpi))
        return
    direction = ", lower is better" if status.kpi.lower_is_better else ""
    by = f" by {format_date(status.kpi.target_date)}" if status.kpi.target_date else ""
    say(f"Added KPI {status.kpi.key}: {safe(status.kpi.name)} (target {status.target.text}{by}{direction}).")


@app.command("record")
def record(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The KPI, e.g. HP-01.")],
    period: Annotated[
        str, typer.Option("--period", "-p", help="A month (2025-06, Jun 2025), a quarter (2025-Q2) or a date.")
    ],
    value: Annotated[
        str | None, typer.Argument(help="The value for the period (leave out to work it out from -n and -d).")
    ] = None,
    numerator: Annotated[int | None, typer.Option("--numerator", "-n", min=0, help="How many met the measure.")] = None,
    denominator: Annotated[int | None, typer.Option("--denominator", "-d", min=1, help="Out of how many.")] = None,
    note: Annotated[str, typer.Option("--note", help="Context for the board (no personal data).")] = "",
    replace: Annotated[
        bool, typer.Option("--replace", help="Correct a value already recorded for the period.")
    ] = False,
    by: ByOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Record a KPI's value for a month, quarter or day.

    Example:

        kt kpi record HP-01 81 --period 2025-10 --numerator 162 --denominator 200
    """
    with app_context(ctx).writing(f"kpi record {key}", by=by, allow_personal_data=allow_personal_data) as s:
        done = service.record_value(
            s,
            key,
            value,
            period=period,
            numerator=numerator,
            denominator=denominator,
            note=note,
            replace_existing=replace,
        )
    say(views.recorded_message(done))


@app.command("list")
def list_(
    ctx: typer.Context,
    focus: Annotated[
        str | None,
        typer.Option("--focus", "-f", help="Only this focus area's KPIs.", autocompletion=_complete.focus_areas),
    ] = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show the KPI scorecard: latest value, target, met or not, and trend.

    Example:

        kt kpi list --focus CL
    """
    with app_context(ctx).reading() as s:
        items = service.list_kpis(s, focus)
    output(as_json, lambda: [kpi_json(st) for st in items], lambda: views.scorecard_table(items), wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The KPI, e.g. HP-01.")],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show one KPI with every value reported.

    Example:

        kt kpi show HP-01
    """
    with app_context(ctx).reading() as s:
        status = service.show_kpi(s, key)
    output(as_json, lambda: views.kpi_detail_json(status), lambda: views.kpi_detail(status), wide=wide)


@app.command("edit")
def edit(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The KPI, e.g. HP-01.")],
    name: Annotated[str | None, typer.Option("--name", help="What it measures.")] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="The target value.")] = None,
    tolerance: Annotated[
        str | None,
        typer.Option(
            "--tolerance",
            help="Within this much of the target (in the KPI's unit) a value is amber, not red; none removes it.",
        ),
    ] = None,
    england: Annotated[str | None, typer.Option("--england", help="The England figure; none removes it.")] = None,
    neighbours: Annotated[
        str | None, typer.Option("--neighbours", help="The statistical neighbours' figure; none removes it.")
    ] = None,
    regional: Annotated[str | None, typer.Option("--regional", help="The regional figure; none removes it.")] = None,
    comparator_period: Annotated[
        str | None,
        typer.Option("--comparator-period", help="The period the comparators given describe: 2024-25, 2024, Mar 2025."),
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="%, count, days...")] = None,
    lower_is_better: Annotated[
        bool | None,
        typer.Option("--lower-is-better/--higher-is-better", help="Which way is better.", show_default=False),
    ] = None,
    focus: Annotated[str | None, typer.Option("--focus", "-f", help="Its focus area (key); none removes it.")] = None,
    rec: Annotated[
        list[str] | None,
        typer.Option("--rec", "-r", help="A recommendation it evidences; repeat for each (replaces the links)."),
    ] = None,
    no_recs: Annotated[bool, typer.Option("--no-recs", help="Unlink it from every recommendation.")] = False,
    target_date: Annotated[
        str | None, typer.Option("--target-date", help="When the target should be met; none removes it.")
    ] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Change a KPI: its target and tolerance, comparators, unit, direction or links.

    Example:

        kt kpi edit HP-01 --tolerance 5 --england 82 --neighbours 80 --comparator-period 2024-25
    """
    if rec and no_recs:
        raise ValidationError("Give --rec or --no-recs, not both.")
    comparators = {
        kind: value
        for kind, value in (("england", england), ("neighbours", neighbours), ("regional", regional))
        if value is not None
    }
    with app_context(ctx).writing(f"kpi edit {key}", allow_personal_data=allow_personal_data) as s:
        status, changed = service.edit_kpi(
            s,
            key,
            name=name,
            target=target,
            unit=unit,
            lower_is_better=lower_is_better,
            focus=focus,
            recs=list(rec) if rec else ([] if no_recs else None),
            target_date=target_date,
            tolerance=tolerance,
            comparators=comparators or None,
            comparator_period_text=comparator_period,
        )
    if not changed:
        say(f"{status.kpi.key} already says that: nothing changed.")
        return
    words = {
        "name": "name",
        "unit": "unit",
        "target": "target",
        "lower_is_better": "direction",
        "focus_id": "focus area",
        "rec_ids": "recommendations",
        "target_date": "target date",
        "tolerance": "tolerance",
        "comparators": "comparators",
    }
    target_shown = target_text(status)
    say(f"Updated KPI {status.kpi.key}: {', '.join(words[c] for c in changed)} (target {target_shown}).")


@app.command("remove")
def remove(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The KPI, e.g. HP-01.")],
    clear: Annotated[
        bool, typer.Option("--clear", help="Also remove its recorded values and its links to recommendations.")
    ] = False,
) -> None:
    """Remove a KPI (refused while it has values or readiness links, unless --clear).

    Example:

        kt kpi remove HP-09 --clear
    """
    with app_context(ctx).writing(f"kpi remove {key}") as s:
        kpi, values = service.remove_kpi(s, key, clear=clear)
    extra = f" and its {values} recorded value{'s' if values != 1 else ''}" if values else ""
    say(f"Removed KPI {kpi.key}{extra}: {safe(kpi.name)}. kt undo puts it back.")
