"""kt portfolio: one line per plan the login can see on a PostgreSQL server."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from knowsley_tracker.cli._context import JsonOption, WideOption, app_context, print_json, print_table, say
from knowsley_tracker.dates import format_date
from knowsley_tracker.render.text import emit, safe

portfolio_app = typer.Typer(add_completion=False)


class PortfolioFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


@portfolio_app.command("portfolio")
def portfolio(
    ctx: typer.Context,
    fmt: Annotated[
        PortfolioFormat, typer.Option("--format", "-f", help="table, json, markdown or html.")
    ] = PortfolioFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of the screen.", dir_okay=False)
    ] = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """One line per plan you can see: judgement, intervention, RAG, overdue, KPIs, next visit.

    For a regional or DfE adviser following several plans on one PostgreSQL server.

    Example:

        kt --db service=region portfolio --format html -o portfolio.html
    """
    from knowsley_tracker.cli.plans import database
    from knowsley_tracker.render import portfolio_out
    from knowsley_tracker.service.portfolio import plan_line

    app = app_context(ctx)
    with database(app, "kt portfolio") as db:
        keys = [p.key for p in db.plans()]
    lines = []
    for key in keys:
        with app.for_plan(key).reading() as s:
            lines.append(plan_line(s, key))
    chosen = PortfolioFormat.JSON if as_json else fmt
    as_of = format_date(app.get_clock().today())
    if chosen is PortfolioFormat.TABLE and output is None:
        print_table(portfolio_out.portfolio_table(lines), wide=wide)
        return
    if chosen is PortfolioFormat.JSON and output is None:
        print_json(portfolio_out.portfolio_json(lines))
        return
    if chosen is PortfolioFormat.MARKDOWN:
        text = portfolio_out.portfolio_markdown(lines, as_of)
    elif chosen is PortfolioFormat.HTML:
        text = portfolio_out.portfolio_html(lines, as_of)
    elif chosen is PortfolioFormat.JSON:
        from knowsley_tracker.render.json_out import dumps

        text = dumps(portfolio_out.portfolio_json(lines)) + "\n"
    else:
        from knowsley_tracker.render.text import tsv

        text = tsv(portfolio_out.portfolio_table(lines)) + "\n"
    if output is None:
        emit(text.rstrip("\n"))
        return
    from knowsley_tracker.outputs import write_output

    write_output(output, text.encode(), store=app.db)
    say(f"Wrote the portfolio of {len(lines)} plans to {safe(output)}.")
