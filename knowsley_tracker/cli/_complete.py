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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
HELP_WIDTH = 60


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


def _rows(ctx: typer.Context, table: str) -> list[tuple[int, dict[str, Any]]]:
    from knowsley_tracker.cli._context import default_db_path
    from knowsley_tracker.errors import TrackerError
    from knowsley_tracker.storage import Store

    db = ctx.find_root().params.get("db") or os.environ.get("KNOWSLEY_TRACKER_DB") or default_db_path()
    try:
        return list(Store.open(Path(db), write=False).rows(table))
    except (TrackerError, OSError):
        return []  # no store (yet), or one kt cannot read: offer nothing, say nothing


def _help(text: object) -> str:
    from knowsley_tracker.render.text import safe

    shown = " ".join(safe(text).split())
    return shown if len(shown) <= HELP_WIDTH else shown[: HELP_WIDTH - 1].rstrip() + "\u2026"


def _refs(ctx: typer.Context, table: str, prefix: str, incomplete: str, about: str) -> list[tuple[str, str]]:
    """``A12``-style ids starting as typed (``a1`` offers ``a12``), each with its title."""
    typed_prefix = incomplete[: len(prefix)] if incomplete[: len(prefix)].upper() == prefix else prefix
    digits = incomplete[len(prefix) :] if incomplete.upper().startswith(prefix) else incomplete
    if digits and not digits.isdigit():
        return []
    return [
        (f"{typed_prefix}{record_id}", _help(row.get(about, "")))
        for record_id, row in _rows(ctx, table)
        if str(record_id).startswith(digits)
    ]


def actions(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _refs(ctx, "actions", "A", incomplete, "title")


def recommendations(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    rows = _refs(ctx, "recommendations", "R", incomplete, "summary")
    texts = {f"R{i}": row for i, row in _rows(ctx, "recommendations")} if any(not h for _, h in rows) else {}
    return [(ref, about or _help(texts.get(ref.upper(), {}).get("text", ""))) for ref, about in rows]


def owners(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Owner ids (``O3``), or the role itself when a role is being typed."""
    rows = [(i, row) for i, row in _rows(ctx, "owners") if row.get("active", True)]
    if incomplete[:1].upper() == "O" and (len(incomplete) == 1 or incomplete[1:].isdigit()):
        described = {f"O{i}": _owner(row) for i, row in rows}
        return [
            (incomplete[:1] + ref[1:], about) for ref, about in described.items() if ref.startswith(incomplete.upper())
        ]
    wanted = incomplete.casefold()
    return [
        (str(row["role"]), _owner(row)) for _, row in rows if str(row.get("role", "")).casefold().startswith(wanted)
    ]


def _owner(row: dict[str, Any]) -> str:
    role, name = row.get("role", ""), row.get("name", "")
    return _help(f"{role} ({name})" if name else role)


def focus_areas(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    wanted = incomplete.upper()
    return [
        (str(row["key"]), _help(row.get("name", "")))
        for _, row in _rows(ctx, "focus_areas")
        if str(row.get("key", "")).startswith(wanted)
    ]


def _words(values: Iterable[str], incomplete: str) -> list[str]:
    return [v for v in values if v.startswith(incomplete.lower())]


def statuses(incomplete: str) -> list[str]:
    from knowsley_tracker.models import Status

    return _words((s.value for s in Status), incomplete)


def rags(incomplete: str) -> list[str]:
    from knowsley_tracker.models import Rag

    return _words((r.value for r in Rag if r is not Rag.DROPPED), incomplete)
