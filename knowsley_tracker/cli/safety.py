"""kt history, undo, backup, restore and doctor: see, reverse and repair what was saved.

restore, backup list and doctor read the store's files directly, so they work
when plan.json itself is damaged.
"""

from typing import Annotated

import typer

from knowsley_tracker.cli._context import (
    ByOption,
    JsonOption,
    WideOption,
    app_context,
    current_user,
    output,
    print_json,
    say,
)
from knowsley_tracker.render import audit_views
from knowsley_tracker.render.text import is_terminal
from knowsley_tracker.service import audit

history_app = typer.Typer(add_completion=False)
undo_app = typer.Typer(add_completion=False)
backup_app = typer.Typer(add_completion=False, no_args_is_help=True)
restore_app = typer.Typer(add_completion=False)
doctor_app = typer.Typer(add_completion=False)


@history_app.command("history")
def history(
    ctx: typer.Context,
    record: Annotated[
        str | None, typer.Argument(help="One record, e.g. A12, L40, R3; or t15 for one command.", show_default=False)
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only commands on or after this date: 1/11/2025, -7d, today...")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", help="Only the last N commands (default 20 when no RECORD or --since)."),
    ] = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show who changed what and when: every field's old and new value.

    A listed command with more than 50 changes (an import) shows its first 50;
    kt history tN shows all of them.

    Example:

        kt history A12 --since 1/11/2025
    """
    with app_context(ctx).reading() as s:
        entries = audit.history(s, record, since=since, limit=limit)
    words = is_terminal()  # a pipe gets the stored names and values, for scripts
    output(
        as_json,
        lambda: audit_views.history_json(entries),
        lambda: audit_views.history_table(entries, words=words),
        wide=wide,
    )


@undo_app.command("undo")
def undo(
    ctx: typer.Context,
    txn: Annotated[
        int | None, typer.Option("--txn", help="Undo this command (its txn in kt history) instead of your last one.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Reverse your last command; run it again to go one more step back.

    Example:

        kt undo
    """
    with app_context(ctx).writing("undo") as s:
        result = audit.undo(s, txn)
    if as_json:
        print_json(audit_views.undo_json(result, s.store.txn))
        return
    for line in audit_views.undo_lines(result, s.store.txn):
        say(line)


@backup_app.callback()
def backup() -> None:
    """The previous versions of the store kept beside it (kt restore brings one back)."""


@backup_app.command("list")
def backup_list(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List the store's backups, newest first, and whether each can be restored.

    Example:

        kt backup list
    """
    listing = audit.backups(app_context(ctx).require_file("kt backup"))
    output(as_json, lambda: audit_views.backups_json(listing), lambda: audit_views.backups_table(listing), wide=wide)


@restore_app.command("restore")
def restore(
    ctx: typer.Context,
    backup: Annotated[
        str | None,
        typer.Argument(
            help="A backup's name from kt backup list, or the txn it holds (default: the newest good backup).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="Restore even though it undoes commands other people saved after the backup "
            "(without it, kt restore says what it would undo and stops).",
        ),
    ] = False,
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bring back a backup; what it replaces (even a damaged file) is kept too.

    Commands saved after the backup are undone (kt history keeps them); kt restore says how
    many and who made them, and needs --yes when anyone else made one.

    Example:

        kt restore plan-t000041-20251128T163000Z.json
    """
    app = app_context(ctx)
    result = audit.restore(
        app.require_file("kt restore"),
        backup,
        by=(by or "").strip() or current_user(),
        lock_timeout=app.lock_timeout,
        yes=yes,
    )
    if as_json:
        print_json(audit_views.restore_json(result))
        return
    for line in audit_views.restore_lines(result):
        say(line)


@doctor_app.command("doctor")
def doctor(
    ctx: typer.Context,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair what can be repaired safely (the rest is explained).")
    ] = False,
    personal_data: Annotated[
        bool,
        typer.Option(
            "--personal-data",
            help="Also scan every free-text field, and the history, for what looks like personal data "
            "about a child; says where (record and field), never what.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the store and say how to fix each problem; exit 0 when it is healthy.

    Example:

        kt doctor --fix --personal-data
    """
    app = app_context(ctx)
    if app.server is not None:
        from knowsley_tracker.cli.server_doctor import doctor_on_server

        raise typer.Exit(doctor_on_server(app, as_json=as_json, fix=fix, personal_data=personal_data))
    report = audit.diagnose(app.db)
    fixed: list[str] = []
    if fix and report.fixable:
        with app.writing("doctor --fix") as s:
            fixed = audit.repair(s)
        report = audit.diagnose(app.db)
    hits: list[audit.PersonalDataHit] = []
    if personal_data and report.error is None:
        with app.reading() as s:
            hits = audit.scan_personal_data(s)
    if as_json:
        data = audit_views.doctor_json(report, fixed)
        if personal_data:
            data["personal_data"] = audit_views.personal_data_json(hits)
        print_json(data)
    else:
        for line in audit_views.doctor_lines(report, fixed):
            say(line)
        if personal_data and report.error is None:
            for line in audit_views.personal_data_lines(hits):
                say(line)
    raise typer.Exit(report.exit_code or (1 if hits else 0))
