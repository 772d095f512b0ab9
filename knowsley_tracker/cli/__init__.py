"""The ``kt`` command line: a root callback, and the command groups it loads on demand.

Each noun (``action``, ``visit``...) lives in its own module with its own
``typer.Typer``. Only the group a user invokes is imported and built, so a
quick ``kt log`` does not pay for the whole command tree; ``--help`` and shell
completion still list every command. :class:`RootGroup` is also the single
error boundary: tracker errors and usage errors become one line on stderr and
a documented exit code, never a traceback.

The command modules do not use ``from __future__ import annotations``: Typer reads
each command's annotations when it builds the command, and text annotations cost
it an ``eval`` and a compile apiece (about 1 ms a command; 21M instructions off
``kt check``). Written as expressions, they are already compiled in the module's
bytecode. ``plans`` keeps text annotations, for its psycopg types.
"""

import copy
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from knowsley_tracker import __version__
from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import app_context_for
from knowsley_tracker.errors import TrackerError
from knowsley_tracker.patterns import LazyPattern
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
    "plan": ("plans", "plan_app", "On a server"),
    "access": ("plans", "access_app", "On a server"),
    "portfolio": ("portfolio", "portfolio_app", "On a server"),
}

_KEEP_EXAMPLES = LazyPattern(r"\n\n( {4}\S[^\n]*(?:\n {4}[^\n]*)*)")

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
    "plans": "plan",
}


# Each command's one-line summary, for kt --help without importing every command
# group (tests/test_docs.py checks each against the command's own help).
SUMMARIES: dict[str, str] = {
    "log": "Add a progress note to an action, optionally updating its progress or status.",
    "done": "Mark an action complete (progress 100%), with an optional closing note.",
    "action": "Actions: what will be done, by whom, by when.",
    "evidence": "Evidence attached to actions.",
    "init": "Create a new, empty store (never overwrites an existing one).",
    "inspection": "Inspections, focused visits and their judgements.",
    "focus": "Focus areas and their leads.",
    "owner": "Action owners, named by role so the plan survives staff changes.",
    "rec": "The inspection report's recommendations.",
    "visit": "Ofsted monitoring visits and other visits.",
    "intervention": "DfE intervention: improvement notices and statutory directions.",
    "partner": "Improvement partners: SLIPs, specialists and advisers.",
    "config": "Show and change the plan's settings.",
    "report": "Print the board status report, or write it as a board paper (Word, PDF, HTML, Markdown).",
    "kpi": "KPIs: targets, the value each period, and the scorecard.",
    "board": "Improvement board meetings and their frozen snapshots.",
    "check": "Report statutory deadlines, overdue actions, actions due soon, visits coming up and stale actions.",
    "remind": "E-mail each owner one digest of their overdue, due-soon and stale actions, copying leads when long overdue.",
    "export": "Export the plan as a spreadsheet (csv, xlsx), owners' returns (xlsx), a calendar (ics) or a backup (json).",
    "import": "Import a plan from a spreadsheet (CSV or .xlsx), an owner's return, or restore a JSON export.",
    "history": "Show who changed what and when: every field's old and new value.",
    "undo": "Reverse your last command; run it again to go one more step back.",
    "backup": "The previous versions of the store kept beside it (kt restore brings one back).",
    "restore": "Bring back a backup; what it replaces (even a damaged file) is kept too.",
    "doctor": "Check the store and say how to fix each problem; exit 0 when it is healthy.",
    "plan": "The plans in a PostgreSQL database.",
    "access": "Who may read or change a plan on a PostgreSQL server.",
    "portfolio": "One line per plan you can see: judgement, intervention, RAG, overdue, KPIs, next visit.",
}


def _load(name: str, sub: str | None = None) -> Any:
    module_name, attribute, panel = COMMANDS[name]
    module = importlib.import_module(f"knowsley_tracker.cli.{module_name}")
    group = getattr(module, attribute)
    command: Any = _only(group, sub) if sub else None
    if command is None:
        command = typer.main.get_command(group)
    command.name = name
    command.rich_help_panel = panel
    _plain_help(command)
    return command


def _only(group: typer.Typer, sub: str) -> Any:
    """The group holding just ``sub``, the subcommand about to run (``kt action list``), or
    None when ``sub`` names none of its commands (help, a typo: the whole group is built then).
    Typer builds every command of a group, inspecting each function's signature: the five of
    ``kt action`` cost about 5 ms, a tenth of a quick command."""
    if group.registered_groups or len(group.registered_commands) < 2:
        return None
    wanted = [
        info
        for info in group.registered_commands
        if info.callback is not None and (info.name or typer.main.get_command_name(info.callback.__name__)) == sub
    ]
    if len(wanted) != 1:
        return None
    only = copy.copy(group)
    only.registered_commands = wanted
    return typer.main.get_group(only)


def _plain_help(command: Any) -> None:
    """Help in plain text, as Click writes it, not through Rich: Typer's Rich help
    imported rich.markdown and markdown_it, a third of kt --help's time. An example
    (an indented paragraph) is kept on its own lines, as written, not re-wrapped."""
    command.rich_markup_mode = None
    if command.help:
        command.help = _KEEP_EXAMPLES.sub("\n\n\b\n\\1", command.help)
    for sub in getattr(command, "commands", {}).values():
        if sub is not command:
            _plain_help(sub)


class RootGroup(TyperGroup):
    """Loads command groups lazily and turns every error into one line on stderr."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        name = ALIASES.get(cmd_name, cmd_name)
        command = self.commands.get(name)
        if command is None and name in COMMANDS:
            sub = getattr(self, "_sub", None)
            if sub is not None:  # a group built for one subcommand is kept apart from the whole one
                command = self._partial.get((name, sub))
                if command is None:
                    command = self._partial[(name, sub)] = _load(name, sub)
                return command
            command = self.commands[name] = _load(name)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands in their groups (Every day, The plan...), from SUMMARIES."""
        width = max(len(name) for name in COMMANDS)
        panels: dict[str, list[tuple[str, str]]] = {}
        for name, (_, _, panel) in COMMANDS.items():
            panels.setdefault(panel, []).append((name.ljust(width), SUMMARIES[name]))
        for panel, rows in panels.items():
            with formatter.section(panel):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # The word after the command (``list`` in ``kt action list``): a group is then
        # built with that subcommand alone (see _only).
        self._sub = args[1] if len(args) > 1 and not args[1].startswith("-") else None
        if not hasattr(self, "_partial"):
            self._partial: dict[tuple[str, str], Any] = {}
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
        _complete.prepare(prog_name or _prog_name())
        args = _complete.default_shell(list(sys.argv[1:] if args is None else args))
        code = run_with_errors(lambda: super(RootGroup, self).main(args, prog_name, complete_var, False, **extra))
        if standalone_mode:
            sys.exit(code)
        return code


def _prog_name() -> str:
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] and not sys.argv[0].endswith(".py") else "kt"


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
        result = _retrying_when_busy(invoke)
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


def _retrying_when_busy(invoke: Any) -> Any:
    """Run the command; when a PostgreSQL server broke its transaction off (a
    serialisation failure or a deadlock with another client), run the whole command
    again, a bounded number of times (then busy, 7), unless it had already done what a
    second run would repeat (saved, sent e-mail, written a file, printed: then busy at
    once). Standard input is kept for a second run (commit_point.standard_input)."""
    try:
        return invoke()
    except TrackerError as exc:
        if not getattr(exc, "retry_whole_command", False):
            raise
        broken = exc
    from knowsley_tracker import commit_point
    from knowsley_tracker.pgstore.connection import ServerBusyError  # loaded already: the error came from it
    from knowsley_tracker.pgstore.writing import retrying

    assert isinstance(broken, ServerBusyError)

    def done() -> list[str]:
        saved = [f"saved txn {txn}" for txn in commit_point.commits()[-1:]]
        return saved + commit_point.outside()

    return retrying(invoke, broken=broken, done=done)


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
    quoted = _quote_hint(ctx, message) if ctx is not None else ""
    if quoted:
        hint = f" If they belong to the text, put it in quotes: {safe(quoted)}"
    if not message.endswith((".", "?", "!")):
        message += "."
    emit(f"Error: {message}{hint}", err=True)
    return code


def _quote_hint(ctx: Any, message: str) -> str:
    """For words left over after the last argument (``kt log A1 Audit complete``), the
    command as it was meant, with the text in quotes."""
    import re
    import shlex

    found = re.search(r"unexpected extra argument(?:s|\(s\))? \((.*)\)", message)
    arguments = [p for p in ctx.command.params if p.param_type_name == "argument"]
    if found is None or not arguments:
        return ""
    values = [ctx.params.get(p.name) for p in arguments]
    if not all(isinstance(v, str) and v for v in values):
        return ""
    text = f"{values[-1]} {found[1]}"
    quoted = f'"{text}"' if not re.search(r'["$`\\!]', text) else shlex.quote(text)
    options = []
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if param.param_type_name != "option" or source is None or source.name != "COMMANDLINE":
            continue
        value = ctx.params.get(param.name)
        options.append(param.opts[0] if param.is_flag else f"{param.opts[0]} {shlex.quote(str(value))}")
    return " ".join([ctx.command_path, *(shlex.quote(str(v)) for v in values[:-1]), quoted, *options])


app = typer.Typer(
    cls=RootGroup,
    name="kt",
    no_args_is_help=True,
    add_completion=False,  # our own --show-completion/--install-completion take the shell's name
    rich_markup_mode=None,  # plain help: see _plain_help
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
        str | None,
        typer.Option(
            "--db",
            envvar="KNOWSLEY_TRACKER_DB",
            metavar="FILE|URI",
            help="The store: a file (default: plan.json in your application folder), or a PostgreSQL "
            "server as a libpq URI (postgresql://jlee@db.council.local/improvement) or service=NAME.",
            show_default=False,
        ),
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            envvar="KNOWSLEY_TRACKER_PLAN",
            metavar="KEY",
            help="On a server: the plan to use (default: the only one your login can see; kt plan list).",
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
    show_completion: Annotated[
        str | None,
        typer.Option(
            "--show-completion",
            metavar="[SHELL]",
            callback=_complete.show_completion,
            is_eager=True,
            expose_value=False,
            help="Print the completion script for SHELL (bash, zsh or fish; default: the shell running kt).",
        ),
    ] = None,
    install_completion: Annotated[
        str | None,
        typer.Option(
            "--install-completion",
            metavar="[SHELL]",
            callback=_complete.install_completion,
            is_eager=True,
            expose_value=False,
            help="Install completion for SHELL (bash, zsh or fish; default: the shell running kt).",
        ),
    ] = None,
) -> None:
    """Track a children's services improvement plan after an Ofsted inspection.

    Recommendations, focus areas, actions with owners and due dates, an
    append-only progress log, evidence, monitoring visits and KPIs, in one
    store that several officers and cron jobs can share safely.

    Example:

        kt init --authority "Knowsley" && kt log A12 "Audit complete" --progress 60
    """
    from_env = getattr(ctx.get_parameter_source("plan"), "name", "") == "ENVIRONMENT"  # not --plan
    ctx.obj = app_context_for(db, plan, lock_timeout, plan_from_env=from_env)


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
