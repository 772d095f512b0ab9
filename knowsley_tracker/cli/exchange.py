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
    XLSX = "xlsx"
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


def _import_help() -> str:
    from knowsley_tracker.service.council_values import NO_DUE_WORDS, SHEET_STATUSES
    from knowsley_tracker.service.plan_sheet import HEADER_SYNONYMS

    headers = "; ".join(f"{column}: {', '.join(names)}" for column, names in HEADER_SYNONYMS.items())
    return (
        "A spreadsheet (CSV or .xlsx): the header row may sit below a title block. Columns are matched ignoring "
        "case, spaces and punctuation: rec_ref, recommendation, focus_area, action, owner and due are required; "
        f"action_id, status, progress, rag and latest_update are optional. Headers recognised: {headers}. "
        'Name any other with --map "Lead officer=owner". '
        f"Dates are day-first (30/09/2025); {', '.join(NO_DUE_WORDS)} or empty mean no due date; "
        "'Sept 2025' is the last day of that month and 'Q3 2025/26' of that financial quarter. "
        f"Statuses: {', '.join(SHEET_STATUSES)}. A RAG column is only a proposal: --accept-rag REASON makes "
        "it an override. Rows whose recommendation cells are empty belong to the recommendation above (merged "
        "cells). Nothing is saved unless every row is valid, and rows already in the plan are left as they are, "
        "so importing a file twice changes nothing; --dry-run shows how every cell was read. "
        "JSON: an export from kt export --format json, restored only into an empty store (kt init first)."
    )


def _map_pair(text: str) -> tuple[str, str]:
    header, sep, column = text.rpartition("=")
    if not sep or not header.strip() or not column.strip():
        raise ValidationError(f'--map takes "Header=column", e.g. --map "Lead officer=owner", not {text!r}.')
    return header.strip(), column.strip()


@import_app.command("import", epilog=_import_help())
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A spreadsheet (CSV or .xlsx), or a JSON export; - reads standard input.")
    ],
    format: Annotated[
        ImportFormat | None,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="csv, xlsx or json. Default: from the file's extension."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", "-n", help="Check the file and show what would be created and how; save nothing."),
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="HEADER=COLUMN",
            help='Read a header kt does not know as a column: --map "Lead officer=owner".',
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="CSV only: the file's encoding, e.g. cp1252 (default UTF-8).")
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help=".xlsx only: the sheet to read (default the first).")
    ] = None,
    accept_rag: Annotated[
        str | None,
        typer.Option(
            "--accept-rag",
            metavar="REASON",
            help="Take the sheet's RAG column as overrides where it differs from the rules, with this reason.",
        ),
    ] = None,
    by: ByOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Import a plan from a spreadsheet (CSV or .xlsx), or restore a JSON export into an empty store.

    Example:

        kt import improvement-plan.xlsx --map "Lead officer=owner" --dry-run
    """
    from_stdin = str(file) == "-"
    fmt = _format_from(None if from_stdin else file, format.value if format else None, ImportFormat, "--format")
    source = "standard input" if from_stdin else str(file)
    pairs = tuple(_map_pair(m) for m in mapping or [])
    if fmt == ImportFormat.JSON and (pairs or encoding or sheet or accept_rag is not None):
        raise ValidationError("--map, --encoding, --sheet and --accept-rag are for spreadsheets, not JSON exports.")
    app = app_context(ctx)

    def run(s: Session, dry: bool) -> list[str]:
        if fmt == ImportFormat.JSON:
            raw = sys.stdin.buffer.read() if from_stdin else _read(file)
            return _restore_json(s, raw, source, dry_run=dry)
        from knowsley_tracker.render.import_report import import_report
        from knowsley_tracker.service.import_applying import import_sheet
        from knowsley_tracker.service.sheet_reading import ReadOptions, SheetFile

        options = ReadOptions(mapping=pairs, encoding=encoding, sheet=sheet)
        where = SheetFile(source, None if from_stdin else file)
        plan = import_sheet(s, where, fmt, options, accept_rag=accept_rag, dry_run=dry)
        return import_report(plan, dry_run=dry)

    try:
        if dry_run:
            if allow_personal_data is not None and not allow_personal_data.strip():
                raise ValidationError("--allow-personal-data needs a reason.")
            with app.reading() as s:
                s.allow_personal_data = allow_personal_data
                lines = run(s, True)
        else:
            what = f"import {source if from_stdin else file.name}"
            with app.writing(what, by=by, allow_personal_data=allow_personal_data) as s:
                lines = run(s, False)
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


def _restore_json(s: Session, raw: bytes, source: str, *, dry_run: bool) -> list[str]:
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
