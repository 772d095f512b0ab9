"""kt export and kt import: the plan as a spreadsheet (CSV), a calendar (ICS) or a
whole-store JSON document, and back again.

Each format's code (csv, icalendar) is imported only when that format is used.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from knowsley_tracker.cli._context import AllowPersonalData, AppContext, ByOption, app_context, say
from knowsley_tracker.errors import NotFoundError, TrackerError, ValidationError
from knowsley_tracker.render.text import emit, is_terminal, safe
from knowsley_tracker.service.exchange import ImportRejectedError
from knowsley_tracker.service.session import Session

export_app = typer.Typer(add_completion=False)
import_app = typer.Typer(add_completion=False)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    ICS = "ics"


class ImportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _format_from(path: Path | None, given: str | None, choices: type[StrEnum], option: str) -> str:
    if given is not None:
        return given
    suffix = path.suffix.lower().lstrip(".") if path is not None else ""
    if suffix in {c.value for c in choices}:
        return suffix
    names = ", ".join(c.value for c in choices)
    where = f"{path.name} does not end in .{' or .'.join(c.value for c in choices)}" if path else "no file name"
    raise ValidationError(f"Which format? {where}: give {option} ({names}).")


def _refuse_store(app: AppContext, output: Path) -> None:
    target = output.resolve()
    store = app.db.resolve()
    aux = store.with_name(store.name + ".d")
    if target == store or aux in target.parents:
        raise ValidationError(f"{output} is the store itself (or inside its folder): write the export elsewhere.")


def _write(payload: bytes, output: Path | None) -> None:
    """Write to standard output, or to ``output`` via a temporary file so a
    failed write never leaves half a file behind."""
    if output is None:
        if is_terminal():
            # A file or a pipe gets the text exactly as stored; a terminal gets control
            # characters as visible escapes, so no stored text can act on the screen.
            text = payload.decode("utf-8-sig", "surrogateescape").replace("\r\n", "\n")
            payload = safe(text, keep_newlines=True).encode("utf-8", "backslashreplace")
        sys.stdout.flush()
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TrackerError(f"Could not write {output} ({exc.strerror or exc}).") from None


@export_app.command("export")
def export(
    ctx: typer.Context,
    format: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="csv: one row per action, for spreadsheets; ics: visits and due dates, for calendars; "
            "json: the whole store. Default: from the -o file's extension.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open-only", help="ics only: leave out complete and dropped actions.")
    ] = False,
) -> None:
    """Export the plan as a spreadsheet (csv), a calendar (ics) or a whole-store backup (json).

    Example:

        kt export --format csv -o plan.csv
    """
    fmt = _format_from(output, format.value if format else None, ExportFormat, "--format")
    if open_only and fmt != ExportFormat.ICS:
        raise ValidationError("--open-only goes with --format ics.")
    app = app_context(ctx)
    if output is not None:
        _refuse_store(app, output)
    with app.reading() as s:
        payload, what = _export(s, fmt, open_only)
    _write(payload, output)
    if output is not None:
        say(f"Wrote {what} to {safe(output)}.")


def _export(s: Session, fmt: str, open_only: bool) -> tuple[bytes, str]:
    if fmt == ExportFormat.CSV:
        from knowsley_tracker.render.csv_out import to_csv
        from knowsley_tracker.service.plan_sheet import export_rows

        rows = export_rows(s)
        return to_csv(rows), f"{len(rows) - 1} row{'' if len(rows) == 2 else 's'}"
    if fmt == ExportFormat.JSON:
        from knowsley_tracker.service.json_exchange import export_store
        from knowsley_tracker.storage import encode

        document = export_store(s)
        count = sum(len(rows) for rows in document["records"].values())
        return encode(document), f"the whole plan ({count} record{'' if count == 1 else 's'})"
    from knowsley_tracker.render.ics import to_ics
    from knowsley_tracker.service.exchange import calendar_data

    data = calendar_data(s, open_only=open_only)
    events = len(data.visits) + len(data.actions)
    return to_ics(data), f"{events} calendar event{'' if events == 1 else 's'}"


IMPORT_HELP = (
    "CSV: the first row names the columns, matched ignoring case, spaces and underscores: rec_ref, "
    "recommendation, focus_area, action, owner and due are required; action_id, status, progress, rag and "
    "latest_update are optional. Dates are day-first (30/09/2025). Rows whose recommendation cells are empty "
    "belong to the recommendation above (merged cells). Nothing is saved unless every row is valid, and rows "
    "already in the plan are left as they are, so importing a file twice changes nothing. "
    "JSON: an export from kt export --format json, restored only into an empty store (kt init first)."
)


@import_app.command("import", epilog=IMPORT_HELP)
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A spreadsheet saved as CSV, or a JSON export; - reads standard input.")],
    format: Annotated[
        ImportFormat | None,
        typer.Option("--format", "-f", case_sensitive=False, help="csv or json. Default: from the file's extension."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Check the file and show what would be created; save nothing.")
    ] = False,
    by: ByOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Import a plan from a spreadsheet (CSV), or restore a JSON export into an empty store.

    Example:

        kt import improvement-plan.csv --dry-run
    """
    from_stdin = str(file) == "-"
    fmt = _format_from(None if from_stdin else file, format.value if format else None, ImportFormat, "--format")
    source = "standard input" if from_stdin else str(file)
    raw = sys.stdin.buffer.read() if from_stdin else _read(file)
    app = app_context(ctx)
    try:
        if dry_run:
            if allow_personal_data is not None and not allow_personal_data.strip():
                raise ValidationError("--allow-personal-data needs a reason.")
            with app.reading() as s:
                s.allow_personal_data = allow_personal_data
                lines = _import(s, fmt, raw, source, dry_run=True)
        else:
            what = f"import {source if from_stdin else file.name}"
            with app.writing(what, by=by, allow_personal_data=allow_personal_data) as s:
                lines = _import(s, fmt, raw, source, dry_run=False)
    except ImportRejectedError as exc:
        emit(f"Error: {safe(exc.message)}", err=True)
        for problem in exc.problems:
            emit(f"  {safe(str(problem))}", err=True)
        raise typer.Exit(exc.exit_code) from None
    for line in lines:
        say(line)


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"No file {file}.") from None
    except IsADirectoryError:
        raise ValidationError(f"{file} is a folder, not a file.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {file} ({exc.strerror or exc}).") from None


def _import(s: Session, fmt: str, raw: bytes, source: str, *, dry_run: bool) -> list[str]:
    if fmt == ImportFormat.CSV:
        from knowsley_tracker.render.csv_out import import_report
        from knowsley_tracker.service.import_applying import import_csv

        return import_report(import_csv(s, raw, source, dry_run=dry_run), dry_run=dry_run)
    from knowsley_tracker.dates import format_timestamp
    from knowsley_tracker.service.json_exchange import count_label, import_store

    summary = import_store(s, raw, source, dry_run=dry_run)
    held = ", ".join(count_label(table, n) for table, n in summary.counts.items() if n) or "no records"
    settings = f" and {summary.settings} setting{'' if summary.settings == 1 else 's'}" if summary.settings else ""
    try:
        exported = f", exported {format_timestamp(summary.exported_at)}" if summary.exported_at else ""
    except ValueError:  # not a timestamp: show it as written
        exported = f", exported {safe(summary.exported_at)}"
    plan = f"{safe(summary.authority)}'s plan from {safe(source)}{exported}"
    if dry_run:
        return [f"Dry run: would restore {plan}: {held}{settings}. Nothing was saved."]
    return [f"Restored {plan}: {held}{settings}."]
