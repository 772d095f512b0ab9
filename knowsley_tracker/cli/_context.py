"""What every command shares: the app context on ``ctx.obj``, options, and output.

Commands stay thin: open a session (``reading`` or ``writing``), call one
service function, hand the result to one of the ``print_*`` helpers here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from knowsley_tracker.dates import Clock
from knowsley_tracker.errors import TrackerError, ValidationError
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.render.text import TableView, detail_lines, emit, is_terminal, safe, tsv
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import DEFAULT_LOCK_TIMEOUT, Store
from knowsley_tracker.store_interface import PlanStore

APP_NAME = "knowsley-tracker"

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON: stable field names, ISO dates.")]
WideOption = Annotated[
    bool,
    typer.Option("--wide", help="On a terminal, show every column and all of each text, however wide."),
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is making the entry (default: $KNOWSLEY_TRACKER_USER, else your login name)."),
]
AllowPersonalData = Annotated[
    str | None,
    typer.Option(
        "--allow-personal-data",
        metavar="REASON",
        help="Save text the personal-data guard flags, giving the reason it is not personal data (logged).",
    ),
]


def default_db_path() -> Path:
    return Path(typer.get_app_dir(APP_NAME)) / "plan.json"


# A libpq connection URI or a pg_service.conf entry: the store is a database server.
# (Checked here, not in pgstore, so that a file-store command never imports it.)
_SERVER_TARGET = LazyPattern(r"\s*(postgres(ql)?://|service\s*=)", re.IGNORECASE)
# What can begin one, ignoring case as the pattern does ("\u017f", the long s, is an s):
# a path starting with anything else (/srv/..., ~/..., ./...) is told apart uncompiled.
_SERVER_STARTS = frozenset("pPsS\u017f")


def is_server_target(target: str) -> bool:
    """True when ``--db`` names a PostgreSQL server (``postgresql://...``, ``postgres://...``,
    ``service=NAME``, in any case, after any white space); anything else is a file path."""
    return target.lstrip()[:1] in _SERVER_STARTS and _SERVER_TARGET.match(target) is not None


class ServerStoreError(TrackerError):
    """A file-store command asked of a server store (kt backup, kt restore): the
    engine's own tools do it. Usage (exit 2): the command does not apply."""

    exit_code = 2


def format_from_suffix(path: Path | None, formats: Mapping[str, str]) -> str | None:
    """The format a file's name asks for, by its suffix (``.md`` -> ``markdown``), or None."""
    return None if path is None else formats.get(path.suffix.lower())


def current_user() -> str:
    user = os.environ.get("KNOWSLEY_TRACKER_USER", "").strip()
    if user:
        return user
    import getpass  # only when KNOWSLEY_TRACKER_USER is not set

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class AppContext:
    """Set by the root callback; reached by commands through ``ctx.obj``.

    ``server`` is the libpq connection string when the store is a PostgreSQL server (then
    ``db`` is unused but for keeping -o away from the default file store), ``plan`` the
    --plan key. (A plain class, not a dataclass: see render.text.Column.)"""

    def __init__(
        self,
        db: Path,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        clock: Clock | None = None,
        server: str | None = None,
        plan: str | None = None,
    ) -> None:
        self.db = db
        self.lock_timeout = lock_timeout
        self.clock = clock
        self.server = server
        self.plan = plan

    def for_plan(self, plan: str) -> AppContext:
        """The same context with another plan chosen (``kt portfolio`` reads each in turn)."""
        return AppContext(self.db, self.lock_timeout, self.clock, self.server, plan)

    def get_clock(self) -> Clock:
        if self.clock is None:
            try:
                self.clock = Clock.from_env()
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        return self.clock

    def _open(self, *, write: bool, needs: tuple[str, str] | None = None) -> PlanStore:
        if self.server is None:
            return Store.open(self.db, write=write, lock_timeout=self.lock_timeout)
        from knowsley_tracker.pgstore.access import Role  # psycopg only for a server
        from knowsley_tracker.pgstore.store import PgStore

        role = None if needs is None else (Role(needs[0]), needs[1])
        return PgStore.open(self.server, self.plan, write=write, lock_timeout=self.lock_timeout, needs=role)

    def _user(self, store: PlanStore, by: str | None) -> str:
        """Who the session acts as. On a server it is the database login; ``--by``
        names whom the login acts for, recorded beside the login, never instead of it."""
        named = (by or "").strip()
        login = getattr(store, "login", None)
        if login is None:
            return named or current_user()
        return login if not named or named == login else f"{named} (by {login})"

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session over the committed store, without taking the lock."""
        store = self._open(write=False)
        try:
            yield Session(store=store, clock=self.get_clock(), user=self._user(store, None))
        finally:
            store.close()

    @contextmanager
    def writing(
        self,
        what: str,
        *,
        by: str | None = None,
        allow_personal_data: str | None = None,
        needs: str | None = None,
    ) -> Iterator[Session]:
        """A locked session whose changes are saved together when the block ends.

        ``needs``: on a server, the role the whole command needs on the plan (``editor``),
        checked before anything is done; for a command that does something outside the
        store before its changes reach the database (kt remind sends, then records)."""
        if allow_personal_data is not None and not allow_personal_data.strip():
            raise ValidationError("--allow-personal-data needs a reason.")
        clock = self.get_clock()
        store = self._open(write=True, needs=None if needs is None else (needs, f"kt {what}"))
        try:
            session = Session(
                store=store,
                clock=clock,
                user=self._user(store, by),
                allow_personal_data=allow_personal_data,
            )
            with session.transaction(what):
                yield session
        except BaseException:
            if isinstance(store, Store):
                store.close(quiet=True)  # the error on its way says what happened
            else:
                store.close()
            raise
        store.close()

    def require_file(self, command: str) -> Path:
        """The store file, for the commands that work on files (``kt backup``, ``kt
        restore``); on a server, one line giving the engine's own command instead."""
        if self.server is not None:
            import shlex

            target = shlex.quote(self.server)
            instead = (
                f"pg_restore --clean --if-exists -d {target} kt-backup.dump"
                if command == "kt restore"
                else f"pg_dump -Fc -d {target} -f kt-backup.dump"
            )
            raise ServerStoreError(
                f"{command} works on a store file; a PostgreSQL database is backed up and restored with the "
                f"server's own tools: {instead}"
            )
        return self.db


def app_context_for(
    db: str | None, plan: str | None, lock_timeout: float, *, plan_from_env: bool = False
) -> AppContext:
    """The context for ``--db``, ``--plan`` and ``--lock-timeout`` as given.

    ``plan_from_env``: the plan came from ``KNOWSLEY_TRACKER_PLAN``, not ``--plan``. A
    file store holds one plan, so ``--plan`` with a file is refused; the variable is
    ignored there, so that one exported in a shell profile for the council's server
    does not lock its user out of a local file."""
    plan = (plan or "").strip() or None
    if db is not None and is_server_target(db):
        return AppContext(db=default_db_path(), lock_timeout=lock_timeout, server=db.strip(), plan=plan)
    if plan is not None and not plan_from_env:
        raise ValidationError("--plan chooses a plan on a PostgreSQL server; a store file holds one plan.")
    return AppContext(db=Path(db) if db else default_db_path(), lock_timeout=lock_timeout)


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj


# -- output ----------------------------------------------------------------------


def print_json(data: Any) -> None:
    """``data`` as kt's JSON (render.json_out) on standard output. Written as bytes when the
    output is UTF-8, as it almost always is; otherwise as text in the stream's encoding."""
    import codecs
    import sys

    from knowsley_tracker.outputs import GuardedStdout
    from knowsley_tracker.render.json_out import dumps, dumps_ascii, dumps_utf8

    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        utf8 = False
    if utf8 and isinstance(sys.stdout, GuardedStdout):
        sys.stdout.write_bytes(dumps_utf8(data))
        return
    text = dumps(data)
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):  # an output that cannot take it: \u escapes, still the same JSON
        text = dumps_ascii(data)
    emit(text)


def print_table(view: TableView, *, wide: bool = False) -> None:
    """A table fitted to the terminal; tab-separated text, complete, when piped."""
    if is_terminal():
        from knowsley_tracker.render import terminal

        terminal.write_lines(terminal.table_lines(view, terminal.terminal_width(), terminal.Painter(), wide=wide))
    elif view.rows:
        emit(tsv(view))


def print_detail(
    title: str,
    fields: list[tuple[str, str]],
    tables: Sequence[TableView] = (),
    title_style: str = "",
    *,
    wide: bool = False,
) -> None:
    if is_terminal():
        from knowsley_tracker.render import terminal

        width = terminal.terminal_width()
        lines = terminal.detail_lines(
            title, fields, tables, width, terminal.Painter(), title_style=title_style, wide=wide
        )
        terminal.write_lines(lines)
        return
    emit(safe(title))
    emit(detail_lines(fields))
    for view in tables:
        emit()
        emit(f"# {view.title}")
        emit(tsv(view) if view.rows else view.empty)


class DetailLike(Protocol):
    """A record shown as labelled fields and tables (render.views.DetailView)."""

    title: str
    fields: list[tuple[str, str]]
    tables: list[TableView]
    rag: str


def print_view(view: TableView | DetailLike, *, wide: bool = False) -> None:
    """A table or a detail view, for a terminal or a pipe."""
    if isinstance(view, TableView):
        print_table(view, wide=wide)
    else:
        print_detail(view.title, view.fields, view.tables, title_style=view.rag, wide=wide)


def output(
    as_json: bool, data: Callable[[], Any], view: Callable[[], TableView | DetailLike], *, wide: bool = False
) -> None:
    """What every list and show command ends with: JSON for --json, else the table or
    detail view (``wide``: every column, on a terminal). Each side is built only when it
    is the one printed."""
    if as_json:
        print_json(data())
    else:
        print_view(view(), wide=wide)


def updated_message(record: Any, changes: dict[str, list[Any]], *, name: str = "", logged: str = "") -> str:
    """``Updated A3: due date 31 Oct 2025 -> 3 Apr 2026 (reason logged).``: what an edit changed, in words."""
    from knowsley_tracker.render.words import describe_update

    what = describe_update(record, changes)
    label = name or record.ref
    return f"Updated {safe(label)}: {what}{logged}." if what else f"{safe(label)} already had those values."


def say(message: str) -> None:
    """A one-line confirmation on stdout (user text inside is escaped by the caller)."""
    emit(message)
