"""kt export --format ics: parsed back with icalendar, stable UIDs, all-day events, escaping."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

NOW = "2025-11-30T09:00:00+00:00"  # the conftest clock


def identity(authority: str = "Test Council", created_at: str = NOW) -> str:
    return hashlib.sha256(f"{authority}\n{created_at}".encode()).hexdigest()[:16]


@pytest.fixture
def calendar_plan(plan: Any) -> Any:
    for args in (
        ["visit", "add", "10/12/2025", "--status", "confirmed"],
        ["visit", "add", "10/05/2026", "--status", "projected"],
        ["visit", "add", "01/09/2025", "--type", "focused-visit", "--status", "done", "--theme", "DIS",
         "--outcome", "Letter: progress in early help"],
    ):  # fmt: skip
        result = plan(*args)
        assert result.exit_code == 0, result.stderr
    return plan


def export(kt: Any, *args: str) -> tuple[bytes, icalendar.Calendar]:
    result = kt("export", "--format", "ics", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes, icalendar.Calendar.from_ical(result.stdout_bytes)


def events(cal: icalendar.Calendar) -> dict[str, Any]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_calendar_parses_back_with_every_visit_and_due_date(calendar_plan: Any) -> None:
    raw, cal = export(calendar_plan)
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert str(cal["version"]) == "2.0"
    assert str(cal["prodid"]).startswith("-//knowsley-tracker//kt export")
    assert str(cal["x-wr-calname"]) == "Test Council improvement plan"
    ident = identity()
    found = events(cal)
    summaries = {uid: str(e["summary"]) for uid, e in found.items()}
    assert summaries == {
        f"v1-{ident}@knowsley-tracker": "Ofsted monitoring visit 1",
        f"v2-{ident}@knowsley-tracker": "Ofsted monitoring visit 2 (projected)",
        f"v3-{ident}@knowsley-tracker": "Ofsted focused visit",
        f"a1-{ident}@knowsley-tracker": "A1 due: Audit open disabled children's cases",
        f"a2-{ident}@knowsley-tracker": "A2 due: Publish a plan for the disabled children's service",
        f"a3-{ident}@knowsley-tracker": "A3 due: Recruit two more personal advisers",
        f"a4-{ident}@knowsley-tracker": "A4 due: Agree a PA caseload cap (complete)",
        f"i1-action-plan-{ident}@knowsley-tracker": "Action plan to Ofsted due (sent 25 Apr 2025)",
    }
    starts = {uid: e.decoded("dtstart") for uid, e in found.items()}
    assert starts[f"v1-{ident}@knowsley-tracker"] == date(2025, 12, 10)
    assert starts[f"a1-{ident}@knowsley-tracker"] == date(2025, 11, 15)
    for event in found.values():
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert type(start) is date and type(end) is date  # all-day, not timed
        assert end - start == timedelta(days=1)
        assert event.decoded("dtstamp").isoformat() == NOW
    statuses = {uid.split("-")[0]: str(e["status"]) for uid, e in found.items() if not uid.startswith("i1")}
    assert statuses == {
        "v1": "CONFIRMED",
        "v2": "TENTATIVE",
        "v3": "CONFIRMED",
        "a1": "CONFIRMED",
        "a2": "CONFIRMED",
        "a3": "CONFIRMED",
        "a4": "CONFIRMED",
    }
    a1 = found[f"a1-{ident}@knowsley-tracker"]
    assert str(a1["description"]) == (
        "A1, Test Council improvement plan.\n"
        "Recommendation: R1 Disabled children: practice and oversight\n"
        "Focus area: DIS Children with disabilities\n"
        "Owner: Head of Service, Disabled Children (Sam Carter)\n"
        "Status: In progress, 40% done, RAG Red\n"
        "Latest update: Audit tool agreed"
    )
    v3 = found[f"v3-{ident}@knowsley-tracker"]
    assert str(v3["description"]) == (
        "V3, Test Council improvement plan.\nStatus: done\nThemes: DIS Children with disabilities\n"
        "Outcome: Letter: progress in early help"
    )


def test_open_only_leaves_out_closed_actions_and_dropped_is_cancelled(calendar_plan: Any) -> None:
    assert calendar_plan("log", "A3", "Post no longer funded", "--status", "dropped").exit_code == 0
    _, cal = export(calendar_plan, "--open-only")
    refs = sorted(uid.split("-")[0] for uid in events(cal))
    assert refs == ["a1", "a2", "i1", "v1", "v2", "v3"]
    _, everything = export(calendar_plan)
    a3 = events(everything)[f"a3-{identity()}@knowsley-tracker"]
    assert (str(a3["status"]), str(a3["summary"])) == (
        "CANCELLED",
        "A3 due: Recruit two more personal advisers (dropped)",
    )


def test_uids_are_stable_and_sequence_grows(calendar_plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, first = export(calendar_plan)
    assert calendar_plan("log", "A2", "Draft shared", "--progress", "20").exit_code == 0
    assert calendar_plan("action", "edit", "A2", "--due", "20/12/2025", "--reason", "Board moved").exit_code == 0
    _, second = export(calendar_plan)
    before, after = events(first), events(second)
    assert set(before) == set(after)
    a2 = f"a2-{identity()}@knowsley-tracker"
    assert after[a2].decoded("dtstart") == date(2025, 12, 20)
    assert int(after[a2]["sequence"]) > int(before[a2]["sequence"])


def test_another_plan_gets_other_uids(kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kt("init", "--authority", "Test Council")
    kt("visit", "add", "10/12/2025")
    _, ours = export(kt)
    monkeypatch.setenv("KNOWSLEY_TRACKER_DB", str(db.with_name("other.json")))
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-11-30T09:00:01+00:00")
    kt("init", "--authority", "Test Council")
    kt("visit", "add", "10/12/2025")
    _, theirs = export(kt)
    assert list(events(ours)) == [f"v1-{identity()}@knowsley-tracker"]
    assert list(events(theirs)) == [f"v1-{identity(created_at='2025-11-30T09:00:01+00:00')}@knowsley-tracker"]


def test_user_text_is_escaped_and_read_back_literally(plan: Any) -> None:
    title = 'Agree "thresholds"; review, then re-audit\\ni.e. line two\nCafé – ‘Ysgol’ ✓ ' + "x" * 80
    assert plan("action", "add", "R1", title, "--due", "24/12/2025").exit_code == 0
    raw, cal = export(plan)
    event = events(cal)[f"a5-{identity()}@knowsley-tracker"]
    assert str(event["summary"]) == f"A5 due: {title}"
    assert b'Agree "thresholds"\\; review\\, then re-audit\\\\ni.e. line two\\nCaf' in raw.replace(b"\r\n ", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded as RFC 5545 asks


def test_restored_plan_keeps_its_calendar_uids(
    calendar_plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, before = export(calendar_plan)
    dump = tmp_path / "plan-export.json"
    assert calendar_plan("export", "-o", str(dump)).exit_code == 0
    monkeypatch.setenv("KNOWSLEY_TRACKER_DB", str(db.with_name("restored.json")))
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2026-01-02T10:00:00+00:00")
    assert calendar_plan("init", "--authority", "Somewhere else").exit_code == 0
    assert calendar_plan("import", str(dump)).exit_code == 0
    _, after = export(calendar_plan)
    assert set(events(after)) == set(events(before))


def test_export_to_file_reports_event_count(calendar_plan: Any, tmp_path: Path) -> None:
    out = tmp_path / "plan.ics"
    result = calendar_plan("export", "-o", str(out), "--open-only")
    assert (result.exit_code, result.stdout) == (0, f"Wrote 7 calendar events to {out}.\n")
    assert len(list(icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT"))) == 7


def test_icalendar_is_loaded_only_for_ics(plan: Any) -> None:
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('icalendar' in sys.modules, 'csv' in sys.modules, file=sys.stderr))\n"
        "sys.argv = ['kt', 'export', '--format', sys.argv[1]]\n"
        "from knowsley_tracker.cli import main\n"
        "main()\n"
    )
    loaded = {}
    for fmt in ("csv", "ics", "json"):
        done = subprocess.run([sys.executable, "-c", code, fmt], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        loaded[fmt] = done.stderr.strip().splitlines()[-1]
    assert loaded == {"csv": "False True", "ics": "True False", "json": "False False"}
    assert re.match(r"BEGIN:VCALENDAR", subprocess.run(
        [sys.executable, "-m", "knowsley_tracker", "export", "--format", "ics"], capture_output=True, text=True, check=False
    ).stdout)  # fmt: skip


def test_text_a_calendar_cannot_hold_becomes_visible_escapes(plan: Any) -> None:
    # Lone surrogates (undecodable command-line bytes), control and bidi characters.
    title = "caseload \udcff\udcfe review \x1b[31mred\x1b[0m \u202etxet nul\x00 line\r\nnext"
    assert plan("action", "add", "R1", title, "--due", "24/12/2025").exit_code == 0
    raw, cal = export(plan)
    assert b"\x1b" not in raw and b"\x00" not in raw
    event = events(cal)[f"a5-{identity()}@knowsley-tracker"]
    assert str(event["summary"]) == (
        "A5 due: caseload \\udcff\\udcfe review \\x1b[31mred\\x1b[0m \\u202etxet nul\\x00 line\\x0d\nnext"
    )


def alarms(event: Any) -> list[tuple[str, timedelta, str]]:
    return [(str(a["action"]), a.decoded("trigger"), str(a["description"])) for a in event.walk("VALARM")]


def test_boards_deadlines_and_visits_carry_reminders(kt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = [
        ["init", "--authority", "Test Council"],
        ["inspection", "add", "18/11/2024", "--end", "29/11/2024", "--published", "20/10/2025", "-j", "inadequate"],
        ["visit", "add", "10/02/2026", "--status", "confirmed"],
        ["board", "add", "14/01/2026", "--note", "Board 6"],
    ]
    for step in steps:
        assert kt(*step).exit_code == 0, step
    _, cal = export(kt)
    found = events(cal)
    ident = identity()
    board = found[f"b1-{ident}@knowsley-tracker"]
    assert (str(board["summary"]), board.decoded("dtstart")) == ("Improvement board: Board 6", date(2026, 1, 14))
    assert alarms(board) == [("DISPLAY", timedelta(days=-1), "Improvement board in 1 day")]
    deadline = found[f"i1-action-plan-{ident}@knowsley-tracker"]
    assert str(deadline["summary"]) == "Action plan to Ofsted due"
    assert deadline.decoded("dtstart") == date(2026, 1, 29)  # 70 working days after 20 Oct 2025, bank holidays out
    assert str(deadline["description"]).endswith(
        "Record it as sent with: kt inspection edit I1 --action-plan-sent DATE"
    )
    assert alarms(deadline) == [("DISPLAY", timedelta(days=-7), "Action plan to Ofsted due in 7 days")]
    visit = found[f"v1-{ident}@knowsley-tracker"]
    assert alarms(visit) == [("DISPLAY", timedelta(days=-7), "Ofsted monitoring visit 1 in 7 days")]
    # Lead times are settings; UIDs stay the same.
    for name, days in (("ics.board_alarm_days", "2"), ("ics.visit_alarm_days", "14"), ("ics.deadline_alarm_days", "0")):
        assert kt("config", "set", name, days).exit_code == 0
    _, again = export(kt)
    later = events(again)
    assert set(later) == set(found)
    assert alarms(later[f"b1-{ident}@knowsley-tracker"])[0][1] == timedelta(days=-2)
    assert alarms(later[f"v1-{ident}@knowsley-tracker"])[0][1] == timedelta(days=-14)
    assert alarms(later[f"i1-action-plan-{ident}@knowsley-tracker"])[0][1:] == (
        timedelta(0),
        "Action plan to Ofsted due today",
    )
    # Once sent, the deadline stays in the calendar, marked sent, with no reminder.
    assert kt("inspection", "edit", "I1", "--action-plan-sent", "20/01/2026").exit_code == 0
    _, sent = export(kt)
    event = events(sent)[f"i1-action-plan-{ident}@knowsley-tracker"]
    assert (str(event["summary"]), alarms(event)) == ("Action plan to Ofsted due (sent 20 Jan 2026)", [])
