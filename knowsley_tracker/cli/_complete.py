"""Shell completion: the scripts for bash, zsh and fish, and argument values from the store.

``kt --show-completion zsh`` prints the script for the shell named (Typer's own
option printed the script of whichever shell ran kt); ``--install-completion``
installs it. Pressing Tab then runs kt with ``_KT_COMPLETE`` set: ids, keys,
owners and statuses are offered from the store (read once, without the lock),
each with a short description where the shell shows one. Nothing here runs
unless a completion is asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def complete_var(prog_name: str) -> str:
    return f"_{prog_name.replace('-', '_').upper()}_COMPLETE"


def _shell(value: str) -> str:
    if value:
        if value.lower() not in SHELLS:
            from knowsley_tracker.errors import ValidationError

            raise ValidationError(f"Unknown shell {value!r}: choose bash, zsh, fish or powershell.")
        return value.lower()
    try:
        import shellingham  # type: ignore[import-untyped]

        return str(shellingham.detect_shell()[0]).lower()
    except Exception:  # no parent shell to see (cron, an IDE): fall back on $SHELL
        return Path(os.environ.get("SHELL", "bash")).name.lower() or "bash"


def show_completion(ctx: typer.Context, param: Any, value: str | None) -> None:
    """--show-completion [SHELL]: print the script (for the shell named, else the one running kt)."""
    if value is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import get_completion_script

    prog_name = ctx.find_root().info_name or "kt"
    shell = _shell(value)
    typer.echo(get_completion_script(prog_name=prog_name, complete_var=complete_var(prog_name), shell=shell))
    raise typer.Exit()


def install_completion(ctx: typer.Context, param: Any, value: str | None) -> None:
    """--install-completion [SHELL]: add the script to the shell's start-up files."""
    if value is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import install

    prog_name = ctx.find_root().info_name or "kt"
    shell, path = install(shell=_shell(value), prog_name=prog_name, complete_var=complete_var(prog_name))
    typer.echo(f"Installed {shell} completion for {prog_name} in {path}; it works in new terminals.")
    raise typer.Exit()


def default_shell(args: list[str]) -> list[str]:
    """``kt --show-completion`` with no shell named: the shell running kt (Typer's options
    take no optional value, so the name is filled in before the arguments are parsed)."""
    from knowsley_tracker.cli import ALIASES, COMMANDS

    for at, arg in enumerate(args):
        if arg == "--" or arg in COMMANDS or arg in ALIASES:
            break  # past the root options: a note may say anything
        if arg in ("--show-completion", "--install-completion") and (at + 1 == len(args) or args[at + 1][:1] == "-"):
            return [*args[: at + 1], _shell(""), *args[at + 1 :]]
    return args


def prepare(prog_name: str) -> None:
    """Called before the command tree runs: when the shell asks for completions, register
    Typer's completion classes (whose scripts --show-completion prints)."""
    if os.environ.get(complete_var(prog_name)):
        from typer._completion_classes import completion_init

        completion_init()


# -- values from the store ---------------------------------------------------------------
# The same answers knowsley_tracker.completing gives before the tree loads; Typer asks
# these when that fast path stands aside (a shell it does not speak, no default folder).


def _ask(ctx: typer.Context, kind: str, incomplete: str) -> list[tuple[str, str]]:
    from knowsley_tracker.cli._context import default_db_path
    from knowsley_tracker.completing import candidates

    db = ctx.find_root().params.get("db") or os.environ.get("KNOWSLEY_TRACKER_DB") or default_db_path()
    return candidates(kind, Path(db), incomplete)


def actions(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _ask(ctx, "action", incomplete)


def recommendations(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _ask(ctx, "rec", incomplete)


def owners(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _ask(ctx, "owner", incomplete)


def focus_areas(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _ask(ctx, "focus", incomplete)


def statuses(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _ask(ctx, "status", incomplete)


def rags(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _ask(ctx, "rag", incomplete)
