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

from knowsley_tracker.cli._context import AllowPersonalData, ByOption, app_context, format_from_suffix, say
from knowsley_tracker.errors import NotFoundError, TrackerError, ValidationError
from knowsley_tracker.outputs import write_output, write_stdout
from knowsley_tracker.render.text import emit, is_terminal, safe
from knowsley_tracker.service.exchange import ImportLimit, ImportRejectedError
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
    found = format_from_suffix(path, {f".{c.value}": c.value for c in choices})
    if found is not None:
        return found
    names = ", ".join(c.value for c in choices)
    where = f"{path.name} does not end in .{' or .'.join(c.value for c in choices)}" if path else "no file name"
    raise ValidationError(f"Which format? {where}: give {option} ({names}).")


def _write(payload: bytes, output: Path | None, store: Path) -> None:
    """Write to standard output in full, or to ``output`` whole or not at all."""
    if output is not None:
        write_output(output, payload, store=store)
        return
    if is_terminal():
        # A file or a pipe gets the text exactly as stored; a terminal gets control
        # characters as visible escapes, so no stored text can act on the screen.
        text = payload.decode("utf-8-sig", "surrogateescape").replace("\r\n", "\n")
        payload = safe(text, keep_newlines=True).encode("utf-8", "backslashreplace")
    write_stdout(payload)


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
    with app.reading() as s:
        payload, what = _export(s, fmt, open_only)
    _write(payload, output, app.db)
    if output is not None:
        say(f"Wrote {what} to {safe(output)}.")


def _export(s: Session, fmt: str, open_only: bool) -> tuple[bytes, str]:
    if fmt == ExportFormat.CSV:
        from knowsley_tracker.render.csv_out import to_csv
        from knowsley_tracker.service.csv_exchange import export_rows

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
    "JSON: an export from kt export --format json, restored only into an empty store (kt init first); a file "
    "over the import.json_max_mb setting (default 100 MB) is refused before it is read."
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
    app = app_context(ctx)
    if fmt == ImportFormat.JSON:
        from knowsley_tracker.service.json_exchange import import_limit

        with app.reading() as s:
            limit = import_limit(s)
        raw = _read_bounded(None if from_stdin else file, source, limit)
    else:
        raw = sys.stdin.buffer.read() if from_stdin else _read(file)
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


def _read_bounded(file: Path | None, source: str, limit: ImportLimit) -> bytes:
    """Read a file (standard input when None) of at most ``limit.max_bytes``, refusing a larger
    one before reading it all: by its size first, then never more than one byte past the limit."""
    try:
        stream = sys.stdin.buffer if file is None else open(file, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise NotFoundError(f"No file {file}.") from None
    except IsADirectoryError:
        raise ValidationError(f"{file} is a folder, not a file.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {file} ({exc.strerror or exc}).") from None
    try:
        size = os.fstat(stream.fileno()).st_size if file is not None else 0
        if size > limit.max_bytes:
            raise ValidationError(limit.refusal(source, size))
        raw = stream.read(limit.max_bytes + 1)
    except OSError as exc:
        raise TrackerError(f"Could not read {source} ({exc.strerror or exc}).") from None
    finally:
        if file is not None:
            stream.close()
    if len(raw) > limit.max_bytes:
        raise ValidationError(limit.refusal(source, None))
    return raw


def _import(s: Session, fmt: str, raw: bytes, source: str, *, dry_run: bool) -> list[str]:
    if fmt == ImportFormat.CSV:
        from knowsley_tracker.render.csv_out import import_report
        from knowsley_tracker.service.csv_exchange import import_csv

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
    lines = [f"Dry run: would restore {plan}: {held}{settings}. Nothing was saved."] if dry_run else []
    lines += [] if dry_run else [f"Restored {plan}: {held}{settings}."]
    if summary.breaking_rules:
        refs = ", ".join(summary.breaking_rules)
        lines.append(
            f"{refs} {'breaks' if len(summary.breaking_rules) == 1 else 'break'} the status rules (for example, "
            "complete at under 100%): kept as exported; kt doctor shows how, and kt doctor --fix repairs them."
        )
    return lines
