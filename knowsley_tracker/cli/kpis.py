"""kt kpi: key performance indicators, their targets and the values reported each period."""

from __future__ import annotations

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
from knowsley_tracker.render import report_kpis as views
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
