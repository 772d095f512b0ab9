"""kt init and kt config: create a store and tune the plan's settings."""

from __future__ import annotations

from typing import Annotated

import typer

from knowsley_tracker.cli._context import JsonOption, app_context, print_json, print_table, say
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.guard import describe, find_personal_data
from knowsley_tracker.render.text import Column, TableView, safe
from knowsley_tracker.service import settings as settings_service
from knowsley_tracker.storage import Store

init_app = typer.Typer(add_completion=False)
config_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Show and change the plan's settings.")


@init_app.command("init")
def init(
    ctx: typer.Context,
    authority: Annotated[str, typer.Option("--authority", "-a", help="The council, e.g. Knowsley.")],
) -> None:
    """Create a new, empty store (never overwrites an existing one).

    Example:

        kt --db plan.json init --authority "Knowsley Metropolitan Borough Council"
    """
    app = app_context(ctx)
    name = authority.strip()
    if not name:
        raise ValidationError("The authority's name cannot be empty.")
    if find_personal_data(name):
        raise ValidationError(f"The authority's name looks like {describe(find_personal_data(name))}.")
    store = Store.create(app.db, authority=name, now=app.get_clock().now(), lock_timeout=app.lock_timeout)
    store.close()
    say(f"Created a store for {safe(name)} at {safe(app.db)}.")
    say("Next: kt inspection add, kt focus add, kt owner add, kt rec add, kt action add (see kt --help).")


@config_app.command("list")
def config_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show every setting with its value.

    Example:

        kt config list
    """
    with app_context(ctx).reading() as s:
        rows = settings_service.list_settings(s)
    if as_json:
        print_json({setting.name: value for setting, value in rows})
        return
    table = TableView(
        [
            Column("Setting", no_wrap=True),
            Column("Value", justify="right", max_width=24),
            Column("Default", justify="right", max_width=18),
            Column("Meaning"),
        ],
        title="Settings",
    )
    for setting, value in rows:
        table.add([setting.name, value, setting.default, setting.help])
    print_table(table)


@config_app.command("set")
def config_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The setting, e.g. rag.amber_days.")],
    value: Annotated[str, typer.Argument(help="Its new value (a whole number, or text for addresses and hosts).")],
) -> None:
    """Change a setting for everyone using this plan.

    Example:

        kt config set rag.amber_days 21
    """
    with app_context(ctx).writing(f"config set {name}") as s:
        setting, number = settings_service.set_setting(s, name, value)
    say(f"{setting.name} is now {safe(number) if number != '' else 'empty'}.")


@config_app.command("unset")
def config_unset(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The setting to reset.")]) -> None:
    """Put a setting back to its default.

    Example:

        kt config unset rag.amber_days
    """
    with app_context(ctx).writing(f"config unset {name}") as s:
        setting = settings_service.unset_setting(s, name)
    say(f"{setting.name} is back to its default, {safe(setting.default) if setting.default != '' else 'empty'}.")
