"""kt export and kt import: the plan as a spreadsheet (CSV), a calendar (ICS) or a
whole-store JSON document, and back again.

Each format's code (csv, icalendar) is imported only when that format is used.
"""

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from knowsley_tracker.cli._context import AllowPersonalData, AppContext, ByOption, app_context, format_from_suffix, say
from knowsley_tracker.errors import NotFoundError, TrackerError, ValidationError
from knowsley_tracker.outputs import write_output, write_stdout
from knowsley_tracker.render.text import emit, is_terminal, safe
from knowsley_tracker.service.exchange import ImportLimit, ImportRejectedError
from knowsley_tracker.service.session import Session

export_app = typer.Typer(add_completion=False)
import_app = typer.Typer(add_completion=False)


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    ICS = "ics"


class ImportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
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


def _check_name(output: Path | None, fmt: str) -> None:
    """Refuse a file whose name would lie about what it holds: no suffix at all, or the
    suffix of another export format (a CSV written as plan.xlsx)."""
    if output is None:
        return
    suffix = output.suffix.lower()
    if not suffix:
        raise ValidationError(
            f"{output.name} has no suffix to say what it holds: name it {output.name}.{fmt}, "
            "or give -o - for standard output."
        )
    named = format_from_suffix(output, {f".{c.value}": c.value for c in ExportFormat})
    if named is not None and named != fmt:
        raise ValidationError(
            f"{output.name} ends in {suffix}, but {fmt} was asked for: end the name in .{fmt} or leave out --format."
        )


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
            help="csv or xlsx: one row per action, for spreadsheets (xlsx with --owner: an owner's return); "
            "ics: visits, boards, deadlines and due dates, for calendars; json: the whole store. "
            "Default: from the -o file's extension.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file; without -o, or with -o -, to standard output."),
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open-only", help="ics only: leave out complete and dropped actions.")
    ] = False,
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="xlsx only: the return for this owner (id, role or name): their open actions."),
    ] = None,
    all_owners: Annotated[
        bool, typer.Option("--all-owners", help="xlsx only: a return for every owner with open actions (with --dir).")
    ] = False,
    folder: Annotated[
        Path | None, typer.Option("--dir", help="With --all-owners: the folder the returns are written to.")
    ] = None,
) -> None:
    """Export the plan as a spreadsheet (csv, xlsx), owners' returns (xlsx), a calendar (ics) or a backup (json).

    Example:

        kt export --format xlsx --owner O3 -o return-O3.xlsx
    """
    if output is not None and str(output) == "-":
        output = None  # standard output, as without -o
    if all_owners:
        fmt = format.value if format else ExportFormat.XLSX
    else:
        fmt = _format_from(output, format.value if format else None, ExportFormat, "--format")
        _check_name(output, fmt)
    if open_only and fmt != ExportFormat.ICS:
        raise ValidationError("--open-only goes with --format ics.")
    if (owner or all_owners) and fmt != ExportFormat.XLSX:
        raise ValidationError("--owner and --all-owners make owners' returns: they go with --format xlsx.")
    if owner and all_owners:
        raise ValidationError("Give --owner for one return or --all-owners for all, not both.")
    if all_owners != (folder is not None):
        raise ValidationError("--all-owners writes one file per owner into --dir FOLDER: give both.")
    if all_owners and output is not None:
        raise ValidationError("--all-owners writes into --dir FOLDER, not -o.")
    app = app_context(ctx)
    if folder is not None:
        _export_returns(app, folder)
        return
    if fmt == ExportFormat.XLSX and output is None and is_terminal():
        raise ValidationError("An .xlsx workbook is not for the terminal: give -o FILE.xlsx, or redirect it.")
    with app.reading() as s:
        payload, what = _export(s, fmt, open_only, owner)
    _write(payload, output, app.db)
    if output is not None:
        say(f"Wrote {what} to {safe(output)}.")


def _export_returns(app: AppContext, folder: Path) -> None:
    from knowsley_tracker.outputs import open_output_folder, write_output_in
    from knowsley_tracker.render.xlsx_out import return_workbook
    from knowsley_tracker.service.owner_returns import all_owner_returns

    with app.reading() as s:
        returns, without = all_owner_returns(s)
        files = [(folder / r.file_name, return_workbook(r), r) for r in returns]
    # Refused (the store's folder, also through a link) before anything is made; the missing
    # folders are made without following a link, and the returns written inside the open folder.
    with open_output_folder(folder, store=app.db) as opened:
        for path, payload, ret in files:
            write_output_in(opened, path.name, payload, store=app.db)
            count = len(ret.rows)
            say(f"Wrote {safe(path)}: {count} open action{'' if count == 1 else 's'} for {safe(ret.owner.display)}.")
    for owner in without:
        say(f"No return for {owner.ref} {safe(owner.display)}: no open actions.")
    if not files:
        say("No owner has open actions: no returns written.")


def _export(s: Session, fmt: str, open_only: bool, owner: str | None = None) -> tuple[bytes, str]:
    if fmt == ExportFormat.XLSX and owner is not None:
        from knowsley_tracker.render.xlsx_out import return_workbook
        from knowsley_tracker.service.owner_returns import owner_return

        ret = owner_return(s, owner)
        count = len(ret.rows)
        return return_workbook(ret), f"{ret.owner.ref}'s return ({count} open action{'' if count == 1 else 's'})"
    if fmt == ExportFormat.XLSX:
        from knowsley_tracker.render.xlsx_out import plan_workbook
        from knowsley_tracker.service.plan_sheet import export_rows

        rows = export_rows(s)
        return plan_workbook(rows, s.store.authority), f"{len(rows) - 1} row{'' if len(rows) == 2 else 's'}"
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
    events = len(data.visits) + len(data.actions) + len(data.boards) + len(data.deadlines)
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
        "JSON: an export from kt export --format json, restored only into an empty store (kt init first). "
        "A refused file lists every problem; exit 6 when any is text that looks like personal data about a child, "
        "else 5 when any row of a return is about an action changed since the return was exported, else 4."
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
    updates: Annotated[
        bool,
        typer.Option(
            "--updates",
            help="The file is an owner's return (kt export --format xlsx --owner): log each filled-in row as "
            "that owner's update.",
        ),
    ] = False,
    by: ByOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Import a plan from a spreadsheet (CSV or .xlsx), an owner's return, or restore a JSON export.

    Example:

        kt import improvement-plan.xlsx --map "Lead officer=owner" --dry-run
    """
    from_stdin = str(file) == "-"
    fmt = _format_from(None if from_stdin else file, format.value if format else None, ImportFormat, "--format")
    source = "standard input" if from_stdin else str(file)
    pairs = tuple(_map_pair(m) for m in mapping or [])
    if fmt == ImportFormat.JSON and (pairs or encoding or sheet or accept_rag is not None or updates):
        raise ValidationError(
            "--map, --encoding, --sheet, --accept-rag and --updates are for spreadsheets, not JSON exports."
        )
    if updates and accept_rag is not None:
        raise ValidationError("--accept-rag is for plan sheets: a return carries no RAG.")
    app = app_context(ctx)
    if updates:
        _import_return(app, file, source, fmt, pairs, encoding, sheet, dry_run=dry_run, by=by, pd=allow_personal_data)
        return

    def run(s: Session, dry: bool) -> list[str]:
        if fmt == ImportFormat.JSON:
            from knowsley_tracker.service.json_exchange import import_limit

            raw = _read_bounded(None if from_stdin else file, source, import_limit(s))
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


class _DryRunDone(Exception):
    """Raised inside a dry run's transaction so that everything it did is discarded."""


def _import_return(
    app: AppContext,
    file: Path,
    source: str,
    fmt: str,
    pairs: tuple[tuple[str, str], ...],
    encoding: str | None,
    sheet: str | None,
    *,
    dry_run: bool,
    by: str | None,
    pd: str | None,
) -> None:
    """Apply an owner's return; a dry run applies it to a transaction that is then thrown away,
    so it runs exactly the checks a real import runs."""
    from knowsley_tracker.render.import_report import return_report
    from knowsley_tracker.service.owner_returns import import_return
    from knowsley_tracker.service.sheet_reading import ReadOptions, SheetFile

    where = SheetFile(source, None if source == "standard input" else file)
    options = ReadOptions(mapping=pairs, encoding=encoding, sheet=sheet)
    lines: list[str] = []
    what = f"import {file.name if where.path else source} --updates"
    try:
        with app.writing(what, by=by, allow_personal_data=pd) as s:
            lines = return_report(import_return(s, where, fmt, options), dry_run=dry_run)
            if dry_run:
                raise _DryRunDone
    except _DryRunDone:
        pass
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
    one before reading it all: by its size first, then never more than one byte past the limit.
    Standard input is read once per command (commit_point.standard_input): a command that a
    server broke off is run again with the same bytes."""
    if file is None:
        from knowsley_tracker.commit_point import standard_input

        try:
            raw = standard_input(limit.max_bytes + 1)
        except OSError as exc:
            raise TrackerError(f"Could not read {source} ({exc.strerror or exc}).") from None
        if len(raw) > limit.max_bytes:
            raise ValidationError(limit.refusal(source, None))
        return raw
    try:
        stream = open(file, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise NotFoundError(f"No file {file}.") from None
    except IsADirectoryError:
        raise ValidationError(f"{file} is a folder, not a file.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {file} ({exc.strerror or exc}).") from None
    try:
        size = os.fstat(stream.fileno()).st_size
        if size > limit.max_bytes:
            raise ValidationError(limit.refusal(source, size))
        raw = stream.read(limit.max_bytes + 1)
    except OSError as exc:
        raise TrackerError(f"Could not read {source} ({exc.strerror or exc}).") from None
    finally:
        stream.close()
    if len(raw) > limit.max_bytes:
        raise ValidationError(limit.refusal(source, None))
    return raw


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
    lines = [f"Dry run: would restore {plan}: {held}{settings}. Nothing was saved."] if dry_run else []
    lines += [] if dry_run else [f"Restored {plan}: {held}{settings}."]
    if summary.breaking_rules:
        refs = ", ".join(summary.breaking_rules)
        lines.append(
            f"{refs} {'breaks' if len(summary.breaking_rules) == 1 else 'break'} the status rules (for example, "
            "complete at under 100%): kept as exported; kt doctor shows how, and kt doctor --fix repairs them."
        )
    return lines
