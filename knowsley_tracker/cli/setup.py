"""kt init and kt config: create a store and tune the plan's settings."""

from typing import Annotated

import typer

from knowsley_tracker.cli._context import JsonOption, WideOption, app_context, print_json, print_table, say
from knowsley_tracker.errors import PersonalDataError, ValidationError
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
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            metavar="KEY",
            help="On a PostgreSQL server: the new plan's key (the schema is created on first use).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a new, empty store (never overwrites an existing one).

    On a PostgreSQL server (--db postgresql://... or service=NAME), create the plan
    KEY in the database instead, and the schema the first time.

    Example:

        kt --db plan.json init --authority "Knowsley Metropolitan Borough Council"
    """
    app = app_context(ctx)
    name = authority.strip()
    if not name:
        raise ValidationError("The authority's name cannot be empty.")
    if find_personal_data(name):
        raise PersonalDataError(f"The authority's name looks like {describe(find_personal_data(name))}.")
    if app.server is not None:
        from knowsley_tracker.cli.plans import init_on_server

        init_on_server(app, name, plan)
        return
    if plan is not None:
        raise ValidationError("--plan is for a PostgreSQL server; a store file holds one plan.")
    store = Store.create(app.db, authority=name, now=app.get_clock().now(), lock_timeout=app.lock_timeout)
    store.close()
    say(f"Created a store for {safe(name)} at {safe(app.db)}.")
    say("Next: kt inspection add, kt focus add, kt owner add, kt rec add, kt action add (see kt --help).")


def _accepted_list() -> str:
    return " ".join(f"{name}: {setting.kind.accepted}." for name, setting in settings_service.SETTINGS.items())


@config_app.command("list")
def config_list(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """Show every setting with its value.

    Example:

        kt config list
    """
    with app_context(ctx).reading() as s:
        rows = settings_service.list_settings(s)
    if as_json:
        print_json({row.setting.name: row.value for row in rows})
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
    for row in rows:
        meaning = row.setting.help
        if row.problem is not None:
            meaning = f"Not usable ({row.problem}): fix it with kt config set or kt config unset. {meaning}"
        table.add([row.setting.name, row.shown, row.setting.kind.show(row.setting.default), meaning])
    print_table(table, wide=wide)


@config_app.command("get")
def config_get(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The setting, e.g. backups.")]) -> None:
    """Print one setting's value (its default when unset), for scripts.

    Example:

        kt config get rag.amber_days
    """
    with app_context(ctx).reading() as s:
        row = settings_service.get_setting(s, name)
    say(safe(row.shown))


# A value may start with a dash (a negative number): it reaches the setting's own check
# instead of being taken for an option Click does not know.
@config_app.command(
    "set", epilog="Accepted values: " + _accepted_list(), context_settings={"ignore_unknown_options": True}
)
def config_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The setting, e.g. rag.amber_days.")],
    value: Annotated[
        str,
        typer.Argument(
            help="Its new value (kt config list shows each setting's meaning and what it takes); "
            "paper.logo takes a PNG or JPEG file."
        ),
    ],
) -> None:
    """Change a setting for everyone using this plan.

    Example:

        kt config set paper.marking OFFICIAL-SENSITIVE
    """
    with app_context(ctx).writing(f"config set {name}") as s:
        setting, typed = settings_service.set_setting(s, name, value)
    shown = setting.kind.show(typed)
    say(f"{setting.name} is now {safe(shown)}." if shown else f"{setting.name} is now empty (none).")


@config_app.command("unset")
def config_unset(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The setting to reset.")]) -> None:
    """Put a setting back to its default.

    Example:

        kt config unset rag.amber_days
    """
    with app_context(ctx).writing(f"config unset {name}") as s:
        setting = settings_service.unset_setting(s, name)
    if isinstance(setting, str):
        say(f"Removed the setting {safe(setting)}, which this knowsley-tracker does not know.")
    else:
        say(f"{setting.name} is back to its default, {setting.kind.show(setting.default)}.")
