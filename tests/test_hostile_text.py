"""Hostile text: any title or note is stored, shown and exported literally, never interpreted.

Rich markup ([bold], [/]), ANSI and OSC escapes, control characters, bidi
overrides, lone surrogates (what undecodable command-line bytes become) and
very long strings must round-trip through the store, print in every output
format without a crash, and reach a terminal only as visible escapes.

To cover a new output command, add an ``Output`` to ``OUTPUTS``: the command
(``{ref}`` is the action holding the text) and how to read what it printed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.fault_counts import add as count
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from knowsley_tracker.cli import COMMANDS
from knowsley_tracker.dates import Clock
from knowsley_tracker.models import Action, LogEntry, Recommendation
from knowsley_tracker.render import audit_views, terminal, views
from knowsley_tracker.render.text import detail_lines, safe, tsv
from knowsley_tracker.service import actions as action_service
from knowsley_tracker.service import audit
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store, decode, encode

NOW = "2025-11-30T09:00:00+00:00"
CLOCK = Clock.at(NOW)

FRAGMENTS = [
    "[bold]",
    "[/]",
    "[/bold]",
    "[link=https://example.invalid]click[/link]",
    ":warning:",
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[2J",
    "\x1b]0;window title\x07",
    "\x1b]8;;https://example.invalid\x1b\\",
    "\r",
    "\b",
    "\t",
    "\n",
    "\x00",
    "\x7f",
    "\x85",
    "\x9b",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u200d",
    "\u2060",
    "\u2064",
    "\ufeff",
    "\u3164",
    "\U000e0041",
    "\ud800",
    "\udcff",
    '=HYPERLINK("http://x")',
    "+cmd",
    "@SUM(A1)",
    '"quoted", comma',
    "%s %d {0}",
    "<script>alert(1)</script>",
    "ǅ ß İ ﬁ",
    "👩‍👩‍👧 🇬🇧",
    "गु",
]

CHARACTERS = st.one_of(
    st.characters(),  # every code point but surrogates, controls included
    st.characters(categories=["Cs"]),  # lone surrogates
    st.characters(max_codepoint=0x9F, categories=["Cc"]),
)
HOSTILE = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=60),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARACTERS, max_size=8)), min_size=1, max_size=8).map(
        "".join
    ),
    st.text(CHARACTERS, min_size=1, max_size=30).map(lambda t: t * (3000 // len(t) + 1)),  # very long
)
SAMPLES = [
    "[bold]Hostile[/] \x1b[31mred\x1b[0m =cmd()",
    "[/]",
    "\x1b]0;pwned\x07 title \x1b[2J",
    "caseload \udcff\udcfe review",
    "\ud800 lone high surrogate",
    "\u202etxet desrever",
    "Sam\u200bCarter \u2060\ufeff(a lookalike)",
    "line one\nline two\r\nline three\ttabbed",
    "nul\x00byte",
    '=HYPERLINK("http://example.invalid","click")',
    "x" * 5000,
]


def stored_form(text: str) -> str:
    """What the store keeps: titles and notes are trimmed."""
    return text.strip()


# -- what may reach a terminal -------------------------------------------------------------

_BOX = {chr(c) for c in range(0x2500, 0x2580)}


# Characters that print as nothing, or act on the terminal, by Unicode category: controls,
# format characters (zero-width spaces and joiners, word joiner, BOM, bidi controls...),
# lone surrogates, line and paragraph separators; and letters that are blank by design.
HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
BLANK_LETTERS = {"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u3164", "\uffa0"}
INVISIBLE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2060",
    "\u2061",
    "\u2062",
    "\u2063",
    "\u2064",
    "\ufeff",
]


def assert_terminal_safe(out: str, *, tabs: bool = False) -> None:
    """No control character, invisible character, escape or lone surrogate reaches a terminal
    (bar the line breaks, and the tabs of tab-separated output, that the tool writes itself)."""
    allowed = {"\n", "\t"} if tabs else {"\n"}
    bad = sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in out
            if ch not in allowed and (unicodedata.category(ch) in HIDDEN_CATEGORIES or ch in BLANK_LETTERS)
        }
    )
    assert not bad, f"raw control or invisible characters in terminal output: {bad}"


def squash(text: str) -> str:
    """Text without white space or table borders, to find a value a table wrapped over lines."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in _BOX)


def assert_shown_literally(out: str, text: str) -> None:
    """The escaped text appears as it is: markup is neither applied nor dropped."""
    assert squash(safe(stored_form(text))) in squash(out)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


# -- the outputs under test ----------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One way the plan is printed or exported; ``check`` reads what it printed."""

    name: str
    argv: tuple[str, ...]
    check: Callable[[str, str], None]  # (output, the hostile text)
    terminal: bool = False  # print as on a terminal (fitted, coloured)

    @property
    def command(self) -> str:
        return self.argv[0]


def plain(out: str, text: str) -> None:
    assert_terminal_safe(out, tabs=True)
    assert safe(stored_form(text)) in out


_SGR = re.compile(r"\x1b\[[0-9;]*m")


def on_terminal(out: str, text: str) -> None:
    """On a terminal kt adds its own colour codes (SGR); anything else is the user's."""
    out = _SGR.sub("", out)
    assert_terminal_safe(out)
    assert_shown_literally(out, text)


def tsv_rows(out: str, text: str) -> None:
    plain(out, text)
    width = len(out.split("\n")[0].split("\t"))
    assert all(len(line.split("\t")) == width for line in out.rstrip("\n").split("\n"))


def json_exact(out: str, text: str) -> None:
    assert stored_form(text) in set(strings(json.loads(out)))


def text_report(out: str, text: str) -> None:
    assert_terminal_safe(_SGR.sub("", out), tabs=True)


def csv_export(out: str, text: str) -> None:
    rows = list(csv.reader(io.StringIO(out)))
    assert len({len(row) for row in rows}) == 1, "a value broke the CSV's columns"


def ics_export(out: str, text: str) -> None:
    assert out.startswith("BEGIN:VCALENDAR") and out.rstrip().endswith("END:VCALENDAR")


OUTPUTS: list[Output] = [
    Output("action list (piped)", ("action", "list"), tsv_rows),
    Output("action list (terminal)", ("action", "list", "--wide"), on_terminal, terminal=True),
    Output("action list --json", ("action", "list", "--json"), json_exact),
    Output("action show (piped)", ("action", "show", "{ref}"), plain),
    Output("action show (terminal)", ("action", "show", "{ref}"), on_terminal, terminal=True),
    Output("action show --json", ("action", "show", "{ref}", "--json"), json_exact),
    Output("history (piped)", ("history", "{ref}"), tsv_rows),
    Output("history (terminal)", ("history", "{ref}", "--wide"), on_terminal, terminal=True),
    Output("history --json", ("history", "{ref}", "--json"), json_exact),
    Output("report (text)", ("report",), text_report),
    Output("report (terminal)", ("report",), text_report, terminal=True),
    Output("report --json", ("report", "--json"), lambda out, text: json.loads(out) and None),
    Output("report markdown", ("report", "--format", "markdown"), lambda out, text: None),
    Output("report html", ("report", "--format", "html"), lambda out, text: None),
    Output("export json", ("export", "--format", "json"), json_exact),
    Output("export csv", ("export", "--format", "csv"), csv_export),
    Output("export ics", ("export", "--format", "ics"), ics_export),
]
AVAILABLE = [o for o in OUTPUTS if o.command in COMMANDS]


def run_outputs(kt: Any, db: Path, ref: str, text: str, monkeypatch: Any) -> None:
    for output in AVAILABLE:
        monkeypatch.setenv("TTY_COMPATIBLE", "1" if output.terminal else "0")
        monkeypatch.setenv("COLUMNS", "250")
        argv = [a.replace("{ref}", ref) for a in output.argv]
        result = kt("--db", str(db), *argv)
        assert (result.exit_code, result.stderr) == (0, ""), (output.name, result.stderr)
        output.check(result.stdout, text)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")


# -- the store ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
@example("\udcff")
@example("\x00\x1b[0m[/]")
@example("\ud800\udc00")
def test_any_text_round_trips_through_the_stored_json(text: str) -> None:
    data = {"log": {"1": {"note": text, "changes": {"title": [text, text[::-1]]}}}}
    # JSON writes a character beyond U+FFFF as a surrogate pair, so a high and a
    # low surrogate side by side are read back as the one character they encode;
    # everything else, lone surrogates included, comes back exactly.
    assert decode(encode(data)) == json_canonical(data)
    count("hostile texts")


def json_canonical(value: object) -> object:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    if isinstance(value, dict):
        return {k: json_canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_canonical(v) for v in value]
    return value


# -- the renderers, on a recording console ------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=HOSTILE)
@example(text=SAMPLES[0])
@example(text=SAMPLES[3])
def test_tables_and_detail_views_show_any_text_literally(tmp_path: Path, text: str) -> None:
    stored = stored_form(text)
    assume(stored)
    shown = check_renderers(Path(tempfile.mkdtemp(dir=tmp_path)), stored)
    assert squash(safe(stored)) in squash(shown)
    count("hostile texts")


def check_renderers(folder: Path, text: str) -> str:
    """Store ``text`` as a title, a note and a name; every table and detail view shows it literally.
    Returns what the terminal would show."""
    store = Store.create(folder / "plan.json", authority="Test Council", now=CLOCK.now())
    session = Session(store=store, clock=CLOCK, user="Test Officer")
    with session.transaction("setup"):
        rec = store.add(Recommendation(text="A recommendation"))
        action = store.add(Action(rec_id=rec.id, title=text, due=session.today, created_at=session.stamp()))
        entry = store.add(LogEntry(action_id=action.id, at=session.stamp(), by=text, note=text))
    assert store.get(Action, action.id).title == text
    assert store.get(LogEntry, entry.id).note == text
    found = [v for v in action_service.list_actions(session) if v.action.id == action.id]
    detail = views.action_detail(action_service.show_action(session, action.ref))
    history = audit.history(session, action.ref)
    tables = [views.actions_table(found), views.log_table([store.get(LogEntry, entry.id)])]
    tables.append(audit_views.history_table(history))
    for table in tables:
        out = tsv(table)
        assert_terminal_safe(out, tabs=True)
        assert len({len(line.split("\t")) for line in out.split("\n")}) == 1
    lines = detail_lines(detail.fields)
    assert_terminal_safe(lines)
    assert safe(text) in lines
    styled_lines = terminal.detail_lines(
        detail.title, detail.fields, detail.tables, 200, terminal.Painter(colour=True), title_style=detail.rag
    )
    for table in tables:
        styled_lines += terminal.table_lines(table, 200, terminal.Painter(colour=True), wide=True)
    styled = "\n".join(styled_lines)
    assert not re.search(r"\x1b(?!\[[0-9;]*m)", styled), "an escape that is not a style reached the terminal"
    shown = _SGR.sub("", styled)
    assert_terminal_safe(shown)
    assert squash(safe(text)) in squash(shown)
    store.close()
    return shown


# -- the whole CLI ------------------------------------------------------------------------------


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=HOSTILE)
@example(text=SAMPLES[0])
@example(text=SAMPLES[1])
@example(text=SAMPLES[2])
@example(text=SAMPLES[3])
@example(text=SAMPLES[4])
@example(text=SAMPLES[5])
@example(text=SAMPLES[6])
@example(text=SAMPLES[7])
@example(text=SAMPLES[8])
@example(text=SAMPLES[9])
@example(text=SAMPLES[10])
def test_any_title_or_note_is_stored_shown_and_exported_literally(
    kt: Any, tmp_path: Path, monkeypatch: Any, text: str
) -> None:
    assume(stored_form(text))  # empty titles are refused, as tested elsewhere
    db = new_store(kt, tmp_path)
    why = ("--allow-personal-data", "property-based test text")
    added = kt("--db", str(db), "action", "add", "R1", "--due", "+2w", *why, "--", text)
    assert (added.exit_code, added.stderr) == (0, ""), added.stderr
    assert added.stdout.startswith("Added A1, due 14 Dec 2025: ")
    assert_terminal_safe(added.stdout)
    logged = kt("--db", str(db), "log", "A1", *why, "--", text)
    assert (logged.exit_code, logged.stderr) == (0, "")
    shown = json.loads(kt("--db", str(db), "action", "show", "A1", "--json").stdout)
    assert (shown["title"], shown["log"][-1]["note"], shown["last_note"]) == (stored_form(text),) * 3
    run_outputs(kt, db, "A1", text, monkeypatch)
    count("hostile texts")


def new_store(kt: Any, tmp_path: Path) -> Path:
    """A small store of its own for each example, so no example sees another's text."""
    folder = tmp_path / f"example{len(list(tmp_path.iterdir()))}"
    db = folder / "plan.json"
    for step in (["init", "--authority", "Test Council"], ["rec", "add", "A recommendation"]):
        assert kt("--db", str(db), *step).exit_code == 0
    return db


def test_ics_export_of_undecodable_bytes(kt: Any, tmp_path: Path) -> None:
    """Found by this file: icalendar could not encode lone surrogates (fixed in render/ics.py)."""
    db = new_store(kt, tmp_path)
    assert kt("--db", str(db), "action", "add", "R1", "--due", "+2w", "--", SAMPLES[3]).exit_code == 0
    result = kt("--db", str(db), "export", "--format", "ics")
    assert result.exit_code == 0
    ics_export(result.stdout, SAMPLES[3])


def test_undecodable_command_line_bytes_are_kept_and_shown(kt: Any, db: Path) -> None:
    for step in (["init", "--authority", "Test Council"], ["rec", "add", "Recommendation"]):
        assert kt(*step).exit_code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNOWSLEY_TRACKER_")}
    env.update(
        KNOWSLEY_TRACKER_DB=str(db), KNOWSLEY_TRACKER_NOW=NOW, KNOWSLEY_TRACKER_USER="Test Officer", TZ="UTC",
        LC_ALL="C.UTF-8",
    )  # fmt: skip
    script = Path(sys.executable).parent / "kt"
    kt_cmd = [str(script)] if script.exists() else [sys.executable, "-m", "knowsley_tracker"]
    title = b"Caseload review \xff\xfe (typed on a Latin-1 terminal)"
    added = subprocess.run(
        [*kt_cmd, "action", "add", "R1", title, "--due", "+2w"], capture_output=True, env=env, check=False
    )
    assert (added.returncode, added.stderr) == (0, b"")
    assert added.stdout == b"Added A1, due 14 Dec 2025: Caseload review \\udcff\\udcfe (typed on a Latin-1 terminal)\n"
    assert b"\\udcff\\udcfe" in db.read_bytes()  # the standard-library fallback wrote it
    shown = subprocess.run([*kt_cmd, "action", "show", "A1", "--json"], capture_output=True, env=env, check=False)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["title"] == os.fsdecode(title)
    listed = subprocess.run([*kt_cmd, "action", "list"], capture_output=True, env=env, check=False)
    assert b"Caseload review \\udcff\\udcfe (typed" in listed.stdout
    for output in AVAILABLE:
        if output.terminal:
            continue
        argv = [a.replace("{ref}", "A1") for a in output.argv]
        done = subprocess.run([*kt_cmd, *argv], capture_output=True, env=env, check=False)
        assert (done.returncode, done.stderr.decode(errors="replace")) == (0, ""), output.name
    count("hostile texts")


# -- dates kt cannot handle ---------------------------------------------------------------------

# Dates outside 1 Jan 1900 to 31 Dec 2999, typed every way kt reads a date.
FAR_DATES = ["31/12/9999", "9999-12-31", "31/12/1899", "0999-06-01", "1 Jan 3000", "+9999y", "+1000y"]


def store_files(db: Path) -> dict[str, bytes]:
    """The store and every file in its folder, byte for byte (the lock aside)."""
    aux = db.with_name(db.name + ".d")
    files = {
        str(p.relative_to(aux)): p.read_bytes() for p in sorted(aux.rglob("*")) if p.is_file() and p.name != "lock"
    }
    return {db.name: db.read_bytes(), **files}


def test_far_dates_are_refused_wherever_a_date_is_typed(kt: Any, tmp_path: Path) -> None:
    """Issue 10: --due 31/12/9999 was accepted, then crashed ICS export, visit project and inspection add."""
    db = new_store(kt, tmp_path)
    assert kt("--db", str(db), "action", "add", "R1", "An action", "--due", "+2w").exit_code == 0
    assert kt("--db", str(db), "kpi", "add", "K1", "A measure", "--target", "90").exit_code == 0
    before = store_files(db)
    ways_in = [
        ["action", "add", "R1", "Title", "--due", "{d}"],
        ["action", "edit", "A1", "--due", "{d}", "--reason", "Moved"],
        ["inspection", "add", "{d}", "--judgement", "inadequate"],
        ["inspection", "add", "18/11/2024", "--published", "{d}", "--judgement", "inadequate"],
        ["visit", "add", "{d}"],
        ["board", "add", "{d}"],
        ["evidence", "add", "A1", "Minutes", "--date", "{d}"],
        ["intervention", "add", "improvement-notice", "--issued", "{d}"],
        ["partner", "add", "A partner", "--purpose", "Audit", "--from", "{d}"],
        ["kpi", "record", "K1", "80", "--period", "{d}"],
        ["report", "--since", "{d}"],
        ["history", "--since", "{d}"],
    ]
    refused = 0
    for far in FAR_DATES:
        for way in ways_in:
            argv = [far if a == "{d}" else a for a in way]
            result = kt("--db", str(db), *argv)
            assert result.exit_code == 4, (argv, result.stdout, result.stderr)
            assert "outside the dates kt handles" in result.stderr, (argv, result.stderr)
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
            refused += 1
    assert store_files(db) == before
    for command in (["export", "--format", "ics"], ["report"], ["check"]):
        assert kt("--db", str(db), *command).exit_code in (0, 1)
    count("out-of-range dates refused", refused)


def test_date_arithmetic_cannot_leave_the_range(kt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    db = new_store(kt, tmp_path)
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2999-12-25")
    before = store_files(db)
    cases = {
        ("action", "add", "R1", "Title", "--due", "+2w"): "Error: The date '+2w' (8 Jan 3000) is outside the "
        "dates kt handles: use one from 1 Jan 1900 to 31 Dec 2999.\n",
        ("inspection", "add", "01/12/2999", "--published", "31/12/2999", "--judgement", "inadequate"): (
            "Error: I1's action plan due would be 8 Apr 3000, outside the dates kt handles "
            "(1 Jan 1900 to 31 Dec 2999).\n"
        ),
    }
    for argv, message in cases.items():
        result = kt("--db", str(db), *argv)
        assert (result.exit_code, result.stderr) == (4, message)
    assert store_files(db) == before
    assert kt("--db", str(db), "visit", "add", "31/12/2999").exit_code == 0
    with_visit = store_files(db)
    projected = kt("--db", str(db), "visit", "project")
    assert (projected.exit_code, projected.stderr) == (
        4,
        "Error: V2's date would be 31 May 3000, outside the dates kt handles (1 Jan 1900 to 31 Dec 2999).\n",
    )
    assert store_files(db) == with_visit
    assert kt("--db", str(db), "action", "add", "R1", "Due before the visit", "--due", "visit-2w").exit_code == 0
    anchored = kt("--db", str(db), "action", "add", "R1", "Title", "--due", "visit+1d")
    assert (anchored.exit_code, "(1 Jan 3000)" in anchored.stderr) == (4, True)
    assert kt("--db", str(db), "export", "--format", "ics").exit_code == 0
    count("out-of-range dates refused", 4)


def test_imported_dates_and_times_outside_the_range_are_refused(kt: Any, tmp_path: Path) -> None:
    db = new_store(kt, tmp_path)
    assert kt("--db", str(db), "action", "add", "R1", "An action", "--due", "+2w").exit_code == 0
    assert kt("--db", str(db), "log", "A1", "A note").exit_code == 0
    document = json.loads(kt("--db", str(db), "export", "--format", "json").stdout)
    document["records"]["actions"][0]["due"] = "9999-12-31"
    document["records"]["log"][0]["at"] = "9999-12-31T23:30:00+00:00"
    document["records"]["actions"][0]["created_at"] = "not a time"
    crafted = tmp_path / "far.json"
    crafted.write_text(json.dumps(document))
    target = tmp_path / "target" / "plan.json"
    assert kt("--db", str(target), "init", "--authority", "Test Council").exit_code == 0
    before = store_files(target)
    result = kt("--db", str(target), "import", str(crafted))
    assert result.exit_code == 4
    assert result.stderr == (
        f"Error: {crafted} has 2 problems; nothing was imported.\n"
        "  records.actions[0] (A1): The due date 31 Dec 9999 is outside the dates kt handles: use one from "
        "1 Jan 1900 to 31 Dec 2999.\n"
        "  records.log[0] (L1): The at time 9999-12-31T23:30:00+00:00 is outside the dates kt handles: use one "
        "from 1 Jan 1900 to 31 Dec 2999.\n"
    )
    document["records"]["actions"][0]["due"] = "2026-01-01"
    document["records"]["log"][0]["at"] = "2025-11-30T09:00:00+00:00"
    crafted.write_text(json.dumps(document))
    bad_time = kt("--db", str(target), "import", str(crafted))
    assert bad_time.stderr.splitlines()[1:] == [
        "  records.actions[0] (A1): The created_at time 'not a time' is not an ISO 8601 date and time.",
        "  records.log[0] (L1), action_id: refers to A1, which is not in records.actions.",
    ]
    spreadsheet = tmp_path / "far.csv"
    spreadsheet.write_text(
        "rec_ref,recommendation,focus_area,action,owner,due\n"
        "1,A recommendation,Focus,Title,Head of Service,31/12/9999\n"
    )
    csv_result = kt("--db", str(target), "import", str(spreadsheet))
    assert csv_result.exit_code == 4
    assert "row 2, due: The date '31/12/9999' (31 Dec 9999) is outside the dates kt handles" in csv_result.stderr
    assert store_files(target) == before
    count("out-of-range dates refused", 3)


# -- invisible characters --------------------------------------------------------------------


def test_lookalike_owners_can_be_told_apart_in_every_terminal_view(kt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """Issue 10: zero-width and other invisible characters are shown as escapes, as bidi controls are,
    so "Sam Carter" and "Sam<U+200B>Carter" never look the same on a terminal."""
    db = tmp_path / "plan.json"
    steps = [
        ["init", "--authority", "Test Council"],
        ["focus", "add", "LA", "Look\u2060alike focus", "--lead", "Sam\u200bCarter"],
        ["owner", "add", "Team Manager", "--name", "Sam Carter"],
        ["owner", "add", "Team\ufeffManager", "--name", "Sam\u200bCarter"],
        ["rec", "add", "A recommendation\u2063 text", "--focus", "LA"],
        ["action", "add", "R1", "Audit\u200d cases", "--owner", "O2", "--due", "+3d"],
        ["log", "A1", "A note\u2064 with an invisible plus"],
    ]
    for step in steps:
        result = kt("--db", str(db), *step)
        assert result.exit_code == 0, (step, result.stderr)
        assert_terminal_safe(result.stdout)
    views = {
        ("owner", "list"): ["Sam\\u200bCarter", "Team\\ufeffManager", "SamCarter"],
        ("action", "list"): ["Sam\\u200bCarter", "Audit\\u200dcases"],
        ("action", "show", "A1"): ["Sam\\u200bCarter", "Audit\\u200dcases", "note\\u2064"],
        ("rec", "show", "R1"): ["recommendation\\u2063"],
        ("focus", "list"): ["Look\\u2060alike", "Sam\\u200bCarter"],
        ("report",): ["Sam\\u200bCarter", "Audit\\u200dcases"],
        ("check",): ["Sam\\u200bCarter", "Audit\\u200dcases"],
        ("history", "A1"): ["Audit\\u200dcases"],
        ("export", "--format", "csv"): ["Sam\\u200bCarter"],
    }
    shown = 0
    for on_terminal in ("1", "0"):
        monkeypatch.setenv("TTY_COMPATIBLE", on_terminal)
        monkeypatch.setenv("COLUMNS", "250")
        for argv, expected in views.items():
            if argv[0] == "export" and on_terminal == "0":
                continue  # a file or a pipe gets the export exactly as stored
            result = kt("--db", str(db), *argv)
            assert result.exit_code in (0, 1), (argv, result.stderr)
            out = _SGR.sub("", result.stdout)
            assert_terminal_safe(out, tabs=on_terminal == "0")
            for piece in expected:
                assert piece in squash(out), (argv, on_terminal, piece)
            shown += 1
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    missing = kt("--db", str(db), "action", "list", "--owner", "Sam\u2060Carter")
    assert missing.exit_code == 3
    assert missing.stderr == "Error: No owner 'Sam\\u2060Carter'; did you mean 'Sam\\u200bCarter' (O2)?\n"
    exported = json.loads(kt("--db", str(db), "action", "show", "A1", "--json").stdout)
    assert exported["title"] == "Audit\u200d cases"  # stored and exported exactly; only terminals see escapes
    count("hostile texts", shown)


# -- file names in an import ------------------------------------------------------------------

TRAVERSALS = [
    "../../../../tmp/x/evil.json",
    "/etc/passwd",
    "..",
    "../lock",
    "../backups/plan-t000001-20251130T090000Z.json",
    "snapshots/../../plan.json",
    "board-2025-11-01-B1-t000001.json/../../x.json",
    "..\\..\\evil.json",
    "board-2025-11-01-B1-t000001.json\x00",
    "board-2025-11-01-B1-t000001.json\n",
    "\u202eboard-2025-11-01-B1-t000001.json",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.one_of(st.sampled_from(TRAVERSALS), HOSTILE, st.lists(st.sampled_from(TRAVERSALS + ["x"])).map("/".join))
)
@example(name="../../../../tmp/x/evil.json")
def test_an_import_cannot_name_a_file_outside_the_store(kt: Any, tmp_path: Path, name: str) -> None:
    """A crafted export's board snapshot name is a name kt writes, or the import is refused and nothing is written."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    source = folder / "source.json"
    for step in (["init", "--authority", "Test Council"], ["board", "add", "01/11/2025"]):
        assert kt("--db", str(source), *step).exit_code == 0
    document = json.loads(kt("--db", str(source), "export", "--format", "json").stdout)
    (snapshot,) = document["snapshots"].values()
    document["records"]["boards"][0]["snapshot_file"] = name
    document["snapshots"] = {name: snapshot}
    crafted = folder / "crafted.json"
    crafted.write_text(json.dumps(document), encoding="utf-8", errors="surrogatepass")
    victim = folder / "victim" / "plan.json"
    assert kt("--db", str(victim), "init", "--authority", "Test Council").exit_code == 0
    before = store_files(victim)
    outside = sorted(p for p in folder.rglob("*") if "victim" not in p.parts)
    result = kt("--db", str(victim), "import", str(crafted))
    if re.fullmatch(r"board-\d{4}-\d{2}-\d{2}-B[1-9]\d*-t\d{6,}\.json", name):
        assert result.exit_code == 0  # a name kt itself writes
    else:
        assert result.exit_code == 4, result.stderr
        if name:
            assert "records.boards[0] (B1), snapshot_file: " in result.stderr
        else:  # no snapshot named: a meeting still to come, but "" is no file name for the snapshot given
            assert "  snapshots: '' is not a file name" in result.stderr
        assert_terminal_safe(result.stderr)
        assert store_files(victim) == before
    assert sorted(p for p in folder.rglob("*") if "victim" not in p.parts) == outside
    assert not list(tmp_path.rglob("evil*"))  # ../../../../tmp/x/ from the victim lands in tmp_path
    assert not Path("/tmp/x/evil.json").exists()
    count("traversal imports refused")
