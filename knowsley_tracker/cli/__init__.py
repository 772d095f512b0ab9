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
    """Run the command tree; map every expected failure to a line on stderr and an exit code.

    Standard output is guarded for the command (outputs.GuardedStdout) and flushed here,
    so that output which could not be written is an error, never a silent success. Once a
    change has been saved (commit_point), nothing can turn the exit code into "nothing
    was saved": a failure to show the confirmation, or to close the lock file, is exit 12.
    """
    from knowsley_tracker import commit_point
    from knowsley_tracker.outputs import GuardedStdout

    real_out, real_err = sys.stdout, sys.stderr
    guarded = real_out if isinstance(real_out, GuardedStdout) else GuardedStdout(real_out)
    sys.stdout = guarded
    if sys.stderr is None:  # started with standard error closed
        sys.stderr = _Sink()
    try:
        with commit_point.command():
            code, failure = _invoke(invoke)
            return _finish(code, failure, guarded)
    finally:
        sys.stdout, sys.stderr = real_out, real_err


class _Sink:
    """Where messages go when standard error is closed."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _invoke(invoke: Any) -> tuple[int, Any]:
    from knowsley_tracker.outputs import StdoutWriteError

    try:
        result = invoke()
    except StdoutWriteError as exc:
        return 0, exc
    except TrackerError as exc:
        from knowsley_tracker.render.messages import error_message

        _say_error(f"Error: {safe(error_message(exc))}")
        return exc.exit_code, None
    except typer.Abort:
        _say_error("Aborted.")
        return 1, None
    except typer.TyperException as exc:
        return _usage_error(exc), None
    return (result if isinstance(result, int) else 0), None


def _finish(code: int, failure: Any, guarded: Any) -> int:
    """Flush standard output, then say what happened to a saved change if anything went wrong after it."""
    from knowsley_tracker import commit_point
    from knowsley_tracker.errors import SAVED_BUT_EXIT
    from knowsley_tracker.outputs import StdoutWriteError

    if failure is None:
        try:
            guarded.flush()
        except StdoutWriteError as exc:
            failure = exc
    saved = commit_point.commits()
    if failure is not None:
        if saved:
            _say_error(
                f"Saved as txn {saved[-1]}, but the confirmation could not be shown: standard output "
                f"failed ({failure.reason}). kt history shows what was saved."
            )
            return SAVED_BUT_EXIT
        _say_error(f"Error: {safe(failure.message)}")
        return int(failure.exit_code)
    if code == 130:
        if saved:  # cannot happen while Ctrl-C is held after a save; kept true all the same
            _say_error(f"Saved as txn {saved[-1]}, but interrupted before the command finished.")
            return SAVED_BUT_EXIT
        _say_error("Interrupted: nothing was saved.")
        return code
    notes = commit_point.notes()
    for note in notes:
        _say_error(f"Warning: saved as txn {saved[-1] if saved else '?'}, but {safe(note)}.")
    return SAVED_BUT_EXIT if notes and code == 0 else code


def _say_error(line: str) -> None:
    try:
        emit(line, err=True)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # standard error is gone too: the exit code still tells


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
    from knowsley_tracker import commit_point

    # Ctrl-C stays held to the very end once a change is saved: the process leaves by
    # os._exit, with no unwinding for an interrupt to land in.
    with commit_point.command(restore=False):
        try:
            code = app(standalone_mode=False)
        except SystemExit as exc:  # raised on paths Typer handles itself
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except KeyboardInterrupt:  # Ctrl-C outside a command (while Typer starts): nothing was saved
            code = _finish(130, None, sys.stdout)
        except Exception as exc:
            if not _caused_by_interrupt(exc):
                raise
            code = _finish(130, None, sys.stdout)  # Ctrl-C inside an import, wrapped by Python
        _exit_now(code if isinstance(code, int) else 0)


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _exit_now(code: int) -> NoReturn:
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # already reported by the boundary (or the reader went away: kt action list | head)
    atexit._run_exitfuncs()
    os._exit(code)
