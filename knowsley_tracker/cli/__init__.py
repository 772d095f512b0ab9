"""The ``kt`` command line: a root callback, and the command groups it loads on demand.

Each noun (``action``, ``visit``...) lives in its own module with its own
``typer.Typer``. Only the group a user invokes is imported and built, so a
quick ``kt log`` does not pay for the whole command tree; ``--help`` and shell
completion still list every command. :class:`RootGroup` is also the single
error boundary: tracker errors and usage errors become one line on stderr and
a documented exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from knowsley_tracker import __version__
from knowsley_tracker.cli._context import AppContext, default_db_path
from knowsley_tracker.errors import TrackerError
from knowsley_tracker.render.text import emit, safe

# name -> (module under knowsley_tracker.cli, Typer attribute, help panel)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "log": ("progress", "log_app", "Every day"),
    "done": ("progress", "done_app", "Every day"),
    "action": ("actions", "app", "Every day"),
    "evidence": ("evidence", "app", "Every day"),
    "init": ("setup", "init_app", "The plan"),
    "inspection": ("inspections", "app", "The plan"),
    "focus": ("focus_areas", "app", "The plan"),
    "owner": ("owners", "app", "The plan"),
    "rec": ("recommendations", "app", "The plan"),
    "visit": ("visits", "app", "The plan"),
    "intervention": ("governance", "intervention_app", "The plan"),
    "partner": ("governance", "partner_app", "The plan"),
    "config": ("setup", "config_app", "The plan"),
    "report": ("reports", "report_app", "Board and reports"),
    "kpi": ("kpis", "app", "Board and reports"),
    "board": ("boards", "app", "Board and reports"),
    "check": ("check", "check_app", "Cron and data"),
    "remind": ("remind", "remind_app", "Cron and data"),
    "export": ("exchange", "export_app", "Cron and data"),
    "import": ("exchange", "import_app", "Cron and data"),
    "history": ("safety", "history_app", "Safety"),
    "undo": ("safety", "undo_app", "Safety"),
    "backup": ("safety", "backup_app", "Safety"),
    "restore": ("safety", "restore_app", "Safety"),
    "doctor": ("safety", "doctor_app", "Safety"),
}

ALIASES: dict[str, str] = {
    "actions": "action",
    "inspections": "inspection",
    "focus-area": "focus",
    "focus-areas": "focus",
    "owners": "owner",
    "recs": "rec",
    "recommendation": "rec",
    "recommendations": "rec",
    "visits": "visit",
    "kpis": "kpi",
    "boards": "board",
    "backups": "backup",
    "interventions": "intervention",
    "partners": "partner",
}


def _load(name: str) -> Any:
    module_name, attribute, panel = COMMANDS[name]
    module = importlib.import_module(f"knowsley_tracker.cli.{module_name}")
    command = typer.main.get_command(getattr(module, attribute))
    command.name = name
    command.rich_help_panel = panel  # type: ignore[attr-defined]
    return command


class RootGroup(TyperGroup):
    """Loads command groups lazily and turns every error into one line on stderr."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        name = ALIASES.get(cmd_name, cmd_name)
        command = self.commands.get(name)
        if command is None and name in COMMANDS:
            command = self.commands[name] = _load(name)
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:
            from difflib import get_close_matches  # only on a mistyped command

            matches = get_close_matches(args[0], list(COMMANDS) + list(ALIASES)) if args else []
            if matches and hasattr(exc, "message"):
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {matches[0]!r}?"
            raise

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = run_with_errors(lambda: super(RootGroup, self).main(args, prog_name, complete_var, False, **extra))
        if standalone_mode:
            sys.exit(code)
        return code


def run_with_errors(invoke: Any) -> int:
    """Run the command tree; map every expected failure to a line on stderr and an exit code."""
    try:
        result = invoke()
    except TrackerError as exc:
        emit(f"Error: {safe(exc.message)}", err=True)
        return exc.exit_code
    except typer.Abort:
        emit("Aborted.", err=True)
        return 1
    except typer.TyperException as exc:
        return _usage_error(exc)
    return result if isinstance(result, int) else 0


def _usage_error(exc: typer.TyperException) -> int:
    ctx = getattr(exc, "ctx", None)
    code = int(getattr(exc, "exit_code", 2))
    if type(exc).__name__ == "NoArgsIsHelpError":
        message = exc.format_message()
        if message:
            emit(message)
        return code
    hint = f" See '{ctx.command_path} --help'." if ctx is not None else ""
    message = " ".join(safe(exc.format_message()).split())
    emit(f"Error: {message}{hint}", err=True)
    return code


app = typer.Typer(
    cls=RootGroup,
    name="kt",
    no_args_is_help=True,
    suggest_commands=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        emit(f"knowsley-tracker {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="KNOWSLEY_TRACKER_DB",
            # The store reports unreadable files itself, with advice; Typer's
            # own check would stop first with a usage error.
            readable=False,
            help="The store file. Default: plan.json in your application folder.",
            show_default=False,
        ),
    ] = None,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            envvar="KNOWSLEY_TRACKER_LOCK_TIMEOUT",
            min=0,
            help="Seconds to wait for another kt command to finish writing before giving up.",
        ),
    ] = 10.0,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Track a children's services improvement plan after an Ofsted inspection.

    Recommendations, focus areas, actions with owners and due dates, an
    append-only progress log, evidence, monitoring visits and KPIs, in one
    store that several officers and cron jobs can share safely.

    Example:

        kt init --authority "Knowsley" && kt log A12 "Audit complete" --progress 60
    """
    ctx.obj = AppContext(db=db if db is not None else default_db_path(), lock_timeout=lock_timeout)


def main() -> NoReturn:
    """Console-script entry point for ``kt`` and ``knowsley-tracker``: run the app, then
    leave without tearing the interpreter down.

    Tearing down the modules and objects of a finished command took about 40 ms
    (a fifth of a quick command's time), and every command runs as a new
    process. By the time the app returns, every store has been closed and its
    lock released, so only output buffers and exit handlers are left to flush.
    """
    try:
        code = app(standalone_mode=False)
    except SystemExit as exc:  # raised on paths Typer handles itself (a broken pipe)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    _exit_now(code if isinstance(code, int) else 0)


def _exit_now(code: int) -> NoReturn:
    import atexit

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass  # the reader went away (kt action list | head): nothing more to say
    atexit._run_exitfuncs()
    os._exit(code)
