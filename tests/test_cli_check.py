"""kt check: the cron contract (exit codes, silence, exact digest) on fixed clocks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.dates import Clock
from knowsley_tracker.errors import CorruptStoreError, StoreMissingError, ValidationError
from knowsley_tracker.models import Action
from knowsley_tracker.service.check import CheckOptions, run_check
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store

LATER = "2026-01-05T09:00:00+00:00"


@pytest.fixture
def visits(plan: Any) -> Any:
    """The conftest plan plus a confirmed visit on 10 Dec 2025, one on 20 Jan 2026 and one done."""
    for args in (
        ["visit", "add", "10/12/2025", "--status", "confirmed"],
        ["visit", "add", "20/01/2026"],
        ["visit", "add", "01/09/2025", "--status", "done"],
    ):
        result = plan(*args)
        assert result.exit_code == 0, result.stderr
    return plan


def test_empty_plan_is_silent_and_exit_0(kt: Any) -> None:
    assert kt("init", "--authority", "Test Council").exit_code == 0
    result = kt("check")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_empty_plan_json_is_still_printed(kt: Any) -> None:
    kt("init", "--authority", "Test Council")
    result = kt("check", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "authority": "Test Council",
        "checks": {
            "deadline_within": 30,
            "due_within": 7,
            "overdue": True,
            "owner": None,
            "stale": 30,
            "visit_within": 30,
        },
        "count": 0,
        "date": "2025-11-30",
        "items": [],
        "needs_attention": False,
        "version": 1,
    }


def test_digest_on_fixed_clock(visits: Any) -> None:
    result = visits("check")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert result.stdout == (
        "Test Council improvement plan: 2 items need attention on 30 Nov 2025.\n"
        "\n"
        "Overdue actions (1)\n"
        "  A1  due 15 Nov 2025, 15 days overdue: Audit open disabled children's cases "
        "[Head of Service, Disabled Children (Sam Carter)]\n"
        "\n"
        "Visits coming up (1)\n"
        "  V1  Monitoring visit on 10 Dec 2025, in 10 days (confirmed)\n"
    )


def test_digest_later_groups_most_urgent_first(visits: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", LATER)
    result = visits("check", "--due-within", "14")
    assert result.exit_code == 1
    assert result.stdout == (
        "Test Council improvement plan: 4 items need attention on 5 Jan 2026.\n"
        "\n"
        "Overdue actions (2)\n"
        "  A1  due 15 Nov 2025, 51 days overdue: Audit open disabled children's cases "
        "[Head of Service, Disabled Children (Sam Carter)]\n"
        "  A2  due 10 Dec 2025, 26 days overdue: Publish a plan for the disabled children's service "
        "[Head of Service, Disabled Children (Sam Carter)]\n"
        "\n"
        "Visits coming up (1)\n"
        "  V2  Monitoring visit on 20 Jan 2026, in 15 days (expected)\n"
        "\n"
        "Actions with no recent update (1)\n"
        "  A3  no update since it was added on 30 Nov 2025, 36 days ago: Recruit two more personal advisers "
        "[Head of Service, Care Leavers]\n"
    )


def test_imminent_visit_outranks_overdue_group_only_on_urgency_ties(
    visits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On 8 Dec the visit is 2 days away (high) and A1 is overdue (high): equal urgency,
    # so the fixed kind order puts overdue first; due-soon (medium) comes after both.
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-12-08T09:00:00+00:00")
    result = visits("check", "--json")
    items = json.loads(result.stdout)["items"]
    assert [(i["kind"], i["ref"], i["urgency"], i["days"]) for i in items] == [
        ("overdue", "A1", "high", -23),
        ("visit", "V1", "high", 2),
        ("due", "A2", "medium", 2),
    ]


def test_each_check_can_be_switched_off(visits: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", LATER)

    def kinds(*args: str) -> list[str]:
        result = visits("check", "--json", *args)
        assert result.exit_code in (0, 1), result.stderr
        return [f"{i['kind']}:{i['ref']}" for i in json.loads(result.stdout)["items"]]

    assert kinds() == ["overdue:A1", "overdue:A2", "visit:V2", "stale:A3"]
    assert kinds("--no-overdue") == ["visit:V2", "stale:A1", "stale:A2", "stale:A3"]
    assert kinds("--no-visits", "--no-stale") == ["overdue:A1", "overdue:A2"]
    assert kinds("--no-overdue", "--no-visits", "--no-stale") == []
    everything_off = visits("check", "--no-overdue", "--no-due", "--no-visits", "--no-stale")
    assert (everything_off.exit_code, everything_off.stdout) == (0, "")


def test_windows_are_inclusive(visits: Any) -> None:
    def refs(*args: str) -> list[str]:
        return [i["ref"] for i in json.loads(visits("check", "--json", "--no-overdue", *args).stdout)["items"]]

    # A2 is due in 10 days and V1 is in 10 days.
    assert refs("--due-within", "10", "--visit-within", "10") == ["V1", "A2"]
    assert refs("--due-within", "9", "--visit-within", "9") == []


def test_stale_uses_last_log_entry(plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A1 was last logged on 30 Nov 2025: 29 days later it is fresh, 30 days later stale.
    def stale_refs(now: str) -> list[str]:
        monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", now)
        out = plan("check", "--json", "--no-overdue", "--no-due", "--no-visits", "--stale", "30").stdout
        return [i["ref"] for i in json.loads(out)["items"]]

    assert "A1" not in stale_refs("2025-12-29T09:00:00+00:00")
    assert "A1" in stale_refs("2025-12-30T09:00:00+00:00")
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-12-30T09:00:00+00:00")
    item = json.loads(plan("check", "--json", "--no-overdue").stdout)["items"][0]
    assert item == {
        "date": "2025-11-30",
        "days": -30,
        "kind": "stale",
        "message": "last update 30 Nov 2025, 30 days ago: Audit open disabled children's cases "
        "[Head of Service, Disabled Children (Sam Carter)]",
        "owner": "Head of Service, Disabled Children (Sam Carter)",
        "owner_email": None,
        "owner_id": "O1",
        "ref": "A1",
        "subject": "Audit open disabled children's cases",
        "urgency": "low",
    }


def test_owner_filter_and_owner_fields_in_json(visits: Any) -> None:
    assert visits("owner", "edit", "O2", "--email", "care.leavers@test.gov.uk").exit_code == 0
    everything = json.loads(visits("check", "--json", "--due-within", "200").stdout)
    assert {i["kind"] for i in everything["items"]} >= {"visit", "overdue", "due"}
    mine = visits("check", "--owner", "Head of Service, Care Leavers", "--due-within", "200")
    assert mine.exit_code == 1
    assert mine.stdout == (
        "Test Council improvement plan: 1 item needs attention on 30 Nov 2025.\n"
        "\n"
        "Actions due soon (1)\n"
        "  A3  due 31 Mar 2026, in 121 days: Recruit two more personal advisers [Head of Service, Care Leavers]\n"
    )
    data = json.loads(visits("check", "--json", "--owner", "o2", "--due-within", "200").stdout)
    assert data["checks"]["owner"] == "o2"
    assert [(i["ref"], i["owner"], i["owner_id"], i["owner_email"]) for i in data["items"]] == [
        ("A3", "Head of Service, Care Leavers", "O2", "care.leavers@test.gov.uk")
    ]
    nobody = visits("check", "--owner", "O9")
    assert (nobody.exit_code, nobody.stderr) == (
        3,
        "Error: No owner 'O9'. Add one with: kt owner add O9 (see kt owner list).\n",
    )


def test_due_today_is_high_and_closed_actions_are_ignored(plan: Any) -> None:
    assert plan("action", "add", "R2", "Due today", "--due", "today").exit_code == 0
    assert plan("action", "add", "R2", "Dropped", "--due", "01/01/2025").exit_code == 0
    assert plan("log", "A6", "No longer needed", "--status", "dropped").exit_code == 0
    items = json.loads(plan("check", "--json").stdout)["items"]
    assert [(i["ref"], i["kind"], i["urgency"], i["message"]) for i in items] == [
        ("A1", "overdue", "high", "due 15 Nov 2025, 15 days overdue: Audit open disabled children's cases "
         "[Head of Service, Disabled Children (Sam Carter)]"),
        ("A5", "due", "high", "due 30 Nov 2025, today: Due today [no owner]"),
    ]  # fmt: skip


def test_user_text_is_escaped_in_the_digest(plan: Any) -> None:
    assert plan("action", "add", "R1", "Bad \x1b[31mred\x1b[0m title", "--due", "01/11/2025").exit_code == 0
    out = plan("check", "--no-stale").stdout
    assert "\x1b" not in out
    assert "due 1 Nov 2025, 29 days overdue: Bad \\x1b[31mred\\x1b[0m title [no owner]" in out


def test_store_errors_have_distinct_exit_codes(kt: Any, db: Path, tmp_path: Path) -> None:
    missing = kt("check")
    assert missing.exit_code == StoreMissingError.exit_code == 8
    assert missing.stdout == ""
    assert missing.stderr.startswith(f"Error: No store at {db}.")
    db.write_text('{"_meta": ')
    corrupt = kt("check")
    assert corrupt.exit_code == CorruptStoreError.exit_code == 9
    assert corrupt.stderr.startswith(f"Error: The store {db} is damaged")


def test_usage_errors_exit_2(plan: Any) -> None:
    result = plan("check", "--due-within", "-1")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Invalid value for '--due-within': -1 is not in the range x>=0. See 'kt check --help'.\n"
    )
    assert plan("check", "--bogus").exit_code == 2


def test_help_documents_exit_codes(kt: Any) -> None:
    result = kt("check", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "Exit status: 0 nothing needs attention" in text
    assert "1 something needs attention" in text
    assert "2 usage error" in text
    assert "8 no store at that path; 9 store unreadable" in text


def test_check_never_reads_the_log_or_evidence(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(db)
    read: list[str] = []
    real_rows = store.rows

    def spy(table: str, since_id: int = 0) -> Any:
        read.append(table)
        return real_rows(table, since_id)

    real_all = store.all

    def spy_all(cls: Any) -> Any:  # a whole table is read without going through rows()
        read.append(cls.TABLE)
        return real_all(cls)

    monkeypatch.setattr(store, "rows", spy)
    monkeypatch.setattr(store, "all", spy_all)
    monkeypatch.setattr(store, "rows_newest_first", lambda table: pytest.fail("read the log newest-first"))
    result = run_check(Session(store, Clock.at(LATER), "cron"), CheckOptions())
    assert [i.ref for i in result.items] == ["A1", "A2", "A3"]
    assert sorted(set(read)) == ["actions", "inspections", "owners", "visits"]


def test_plain_check_imports_nothing_heavy(plan: Any, db: Path) -> None:
    # A fresh interpreter: report which heavy modules kt check loaded.
    code = (
        "import atexit, sys\n"
        "heavy = ('rich', 'dateutil', 'icalendar', 'csv', 'filelock', 'holidays')\n"
        "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)), file=sys.stderr))\n"
        "sys.argv = ['kt', 'check']\n"
        "from knowsley_tracker.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("Test Council improvement plan: 1 item needs attention")
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_projected_visit_is_listed_but_never_high(plan: Any) -> None:
    assert plan("visit", "add", "03/12/2025", "--status", "projected").exit_code == 0
    assert plan("visit", "add", "04/12/2025", "--status", "expected").exit_code == 0
    items = json.loads(plan("check", "--json", "--no-overdue").stdout)["items"]
    assert [(i["ref"], i["urgency"], i["message"]) for i in items] == [
        ("V2", "high", "Monitoring visit on 4 Dec 2025, in 4 days (expected)"),
        ("V1", "medium", "Monitoring visit on 3 Dec 2025, in 3 days (projected)"),
    ]


def test_service_refuses_negative_windows(session: Session) -> None:
    with pytest.raises(ValidationError) as caught:
        run_check(session, CheckOptions(stale=-5))
    assert caught.value.message == "--stale takes a number of days, 0 or more."
    assert run_check(session, CheckOptions()).items == []


def test_runs_in_crons_bare_environment(plan: Any, db: Path) -> None:
    # cron gives a command little more than PATH: no HOME, LANG or TZ.
    assert plan("action", "add", "R1", "Café réunion – ‘plan’", "--due", "01/11/2025").exit_code == 0
    kt = str(Path(sys.executable).with_name("kt"))
    env = {"PATH": "/usr/bin:/bin", "KNOWSLEY_TRACKER_DB": str(db), "KNOWSLEY_TRACKER_NOW": "2025-11-30"}
    busy = subprocess.run([kt, "check", "--no-stale"], capture_output=True, env=env, check=False)
    assert busy.returncode == 1, busy.stderr
    assert busy.stderr == b""
    assert "  A5  due 1 Nov 2025, 29 days overdue: Café réunion – ‘plan’ [no owner]\n".encode() in busy.stdout
    quiet = subprocess.run([kt, "check", "--no-overdue", "--no-stale"], capture_output=True, env=env, check=False)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"", b"")
    env["KNOWSLEY_TRACKER_DB"] = str(db.with_name("missing.json"))
    missing = subprocess.run([kt, "check"], capture_output=True, env=env, check=False)
    assert missing.returncode == 8
    assert missing.stderr.startswith(b"Error: No store at ")


def test_an_unreadable_timestamp_is_a_damaged_store(plan: Any, db: Path) -> None:
    """A hand-edited moment kt never writes: once read as "no update", so kt check and kt
    doctor disagreed about the same record; now every reader refuses it, naming it (exit 9)."""
    store = Store.open(db, write=True)
    with store.transaction(by="Test Officer", what="damage a timestamp"):
        action = store.get(Action, 3)
        action.created_at = "last Tuesday"
        store.save(action)
    store.close()
    result = plan("check", "--json", "--no-overdue")
    assert (result.exit_code, result.stdout) == (9, "")
    assert result.stderr.startswith(
        "Error: A3 (in the store's actions table) cannot be read (its created at 'last Tuesday' is not an ISO 8601"
    )


def test_statutory_action_plan_deadline(kt: Any) -> None:
    kt("init", "--authority", "Knowsley")
    kt("inspection", "add", "18/11/2024", "--end", "29/11/2024", "--published", "20/01/2025", "-j", "inadequate")
    early = kt("check", env={"KNOWSLEY_TRACKER_NOW": "2025-03-01T09:00:00+00:00"})
    assert (early.exit_code, early.stdout) == (0, "")  # 60 days to go: not yet
    soon = kt("check", env={"KNOWSLEY_TRACKER_NOW": "2025-04-10T09:00:00+00:00"})
    assert soon.exit_code == 1
    assert soon.stdout == (
        "Knowsley improvement plan: 1 item needs attention on 10 Apr 2025.\n"
        "\n"
        "Statutory deadlines (1)\n"
        "  I1  action plan to Ofsted due 30 Apr 2025, in 20 days "
        "(record it with kt inspection edit I1 --action-plan-sent DATE)\n"
    )
    late = json.loads(kt("check", "--json", env={"KNOWSLEY_TRACKER_NOW": "2025-05-02T09:00:00+00:00"}).stdout)
    assert [(i["kind"], i["ref"], i["days"], i["urgency"]) for i in late["items"]] == [("deadline", "I1", -2, "high")]
    assert kt("check", "--no-deadlines", env={"KNOWSLEY_TRACKER_NOW": "2025-05-02T09:00:00+00:00"}).exit_code == 0
    kt("inspection", "edit", "I1", "--action-plan-sent", "29/04/2025")
    assert kt("check", env={"KNOWSLEY_TRACKER_NOW": "2025-05-02T09:00:00+00:00"}).exit_code == 0


def test_a_today_near_year_9999_is_refused_never_exit_1(plan: Any, db: Path) -> None:
    """Issue 10: a "today" near 9999 crashed kt check with exit 1, which cron reads as "needs attention"."""
    kt = str(Path(sys.executable).with_name("kt"))
    for now in ("9999-12-30", "9999-12-31T12:00:00+00:00", "3000-01-01", "0999-06-01"):
        env = {"PATH": "/usr/bin:/bin", "KNOWSLEY_TRACKER_DB": str(db), "KNOWSLEY_TRACKER_NOW": now}
        done = subprocess.run([kt, "check"], capture_output=True, env=env, check=False)
        assert (done.returncode, done.stdout) == (ValidationError.exit_code, b""), now
        assert (
            done.stderr
            == (
                f"Error: KNOWSLEY_TRACKER_NOW={now!r} is outside the dates kt handles: use one from 1 Jan 1900 to "
                "31 Dec 2999.\n"
            ).encode()
        )


def test_a_fault_inside_kt_check_is_never_exit_1(plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(s: Session, options: CheckOptions) -> None:
        raise KeyError("rag")

    monkeypatch.setattr("knowsley_tracker.cli.check.run_check", broken)
    for args in (["check"], ["check", "--json"]):
        result = plan(*args)
        assert (result.exit_code, result.stdout) == (10, "")
        assert result.stderr == (
            "Error: kt check could not finish (KeyError: 'rag'), so it cannot say whether anything needs attention; "
            "run kt doctor, and report this to whoever supports knowsley-tracker.\n"
        )
