"""kt remind on a PostgreSQL server, end to end: the same plan as tests/test_remind.py,
built through kt on a real server (tests/helpers/pg_server.py), digests sent to a real
SMTP server on localhost (aiosmtpd), and what was sent recorded on the server, so that
no login on any machine sends it again. Also what must never happen: a login that may
not record reminders sending mail it cannot record (which every later run would send
again), and a command the server broke off after sending being run again, or losing the
record of what it sent (either would send it twice).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from helpers.pg_server import PgDatabase
from test_cli_server import uri
from test_remind import (
    ALL_RECORDS,
    CARE,
    CARE_TEXT,
    HOST,
    LEAD,
    SAM,
    SAM_TEXT,
    Mailbox,
    Server,
    by_to,
    configure,
    sent_refs,
    start,
)
from test_remind import reminders as reminders  # noqa: F401  # the fixture, built here on the server
from test_remind import server as server  # noqa: F401  # the fixture: an SMTP server on localhost

from knowsley_tracker.errors import MailError, PermissionDeniedError

PLAN_KEY = "test-plan"


@dataclass
class OnServer:
    """The plan's database, and logins by role (the admin built the plan)."""

    db: PgDatabase
    logins: dict[str, str]

    def env(self, who: str) -> dict[str, str]:
        login = self.logins[who]
        return {
            "KNOWSLEY_TRACKER_DB": uri(self.db.server, self.db.name, login),
            "PGPASSWORD": self.db.server.passwords[login],
        }

    def records(self) -> list[tuple[int, str, str, str]]:
        """The reminders recorded on the server, read through SQL as the plan's admin."""
        with self.db.connect(self.logins["admin"], autocommit=True) as conn:
            rows = conn.execute(
                'SELECT r.action_id, r.kind, r.level, r."to" FROM kt.reminders r JOIN kt.plans p ON p.id = r.plan_id '
                "WHERE p.key = %s ORDER BY 1, 2, 3",
                (PLAN_KEY,),
            ).fetchall()
        return [(int(a), str(k), str(level), str(to)) for a, k, level, to in rows]


@pytest.fixture
def on_server(pg_db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> OnServer:
    """Point kt at a new database on the test server, as a planner login, before the
    conftest ``plan`` (and test_remind's ``reminders``) build the plan through kt."""
    place = OnServer(pg_db, {"admin": pg_db.planner(), **{r: pg_db.login() for r in ("editor", "officer", "reader")}})
    for name, value in place.env("admin").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KNOWSLEY_TRACKER_PLAN", PLAN_KEY)
    return place


@pytest.fixture
def council(on_server: OnServer, reminders: Any) -> Iterator[tuple[OnServer, Any]]:  # noqa: F811
    """test_remind's plan on the server, with an editor, an officer (owner O1) and a reader."""
    for role in ("editor", "officer", "reader"):
        granted = reminders("access", "grant", on_server.logins[role], role)
        assert granted.exit_code == 0, granted.stderr
    linked = reminders("owner", "edit", "O1", "--login", on_server.logins["officer"])
    assert linked.exit_code == 0, linked.stderr
    yield on_server, reminders


def test_remind_on_the_server_sends_each_digest_once_and_records_it_there(
    council: tuple[OnServer, Any],
    server: Server,  # noqa: F811
) -> None:
    place, kt = council
    configure(kt, server.port)
    result = kt("remind")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Sent to {SAM}, cc {LEAD}: A1, A7.",
        f"Sent to {CARE}, cc {LEAD}, dcs.office@test.gov.uk: A6, A5.",
        "Sent 2 of 2 reminders.",
    ]
    mails = by_to(server.mailbox)
    assert sorted(mails) == ["care.leavers@test.gov.uk", "sam.carter@test.gov.uk"]
    care = mails["care.leavers@test.gov.uk"].message
    assert sorted(mails["care.leavers@test.gov.uk"].rcpt_tos) == [
        "care.leavers@test.gov.uk",
        "dcs.office@test.gov.uk",
        "qa.director@test.gov.uk",
    ]
    assert str(care["Subject"]) == "Escalated: Test Council improvement plan: 2 actions need your attention, 1 overdue"
    care_text = care.get_body(preferencelist=("plain",))
    assert care_text is not None and care_text.get_content().replace("\r\n", "\n") == CARE_TEXT
    sam_text = mails["sam.carter@test.gov.uk"].message.get_body(preferencelist=("plain",))
    assert sam_text is not None and sam_text.get_content().replace("\r\n", "\n") == SAM_TEXT

    # What was sent is stored on the server, with each message's Message-ID and the send time.
    assert place.records() == ALL_RECORDS
    with place.db.connect(place.logins["admin"], autocommit=True) as conn:
        stored = conn.execute("SELECT DISTINCT message_id, sent_at::text FROM kt.reminders").fetchall()
    assert sorted(m for m, _ in stored) == sorted(str(m.message["Message-ID"]) for m in server.mailbox.received)
    assert {at for _, at in stored} == {"2025-11-30 09:00:00+00"}
    history = json.loads(kt("history", "--json", "-n", "1").stdout)[0]
    assert (history["what"], history["by"]) == ("remind", place.logins["admin"])

    # Never sent again, whoever runs it from wherever: the editor's kt (another login,
    # as on another machine) reads what was sent from the server.
    again = kt("remind", env=place.env("editor"))
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""
    dry = kt("remind", "--dry-run", env=place.env("editor"))
    assert dry.stdout.splitlines() == [
        "7 reminders sent within the last 7 days left out (--force sends them again).",
        "Dry run: nothing to send.",
    ]
    assert len(server.mailbox.received) == 2
    assert place.records() == ALL_RECORDS


def test_a_dropped_connection_on_the_server_records_only_what_was_accepted(council: tuple[OnServer, Any]) -> None:
    place, kt = council
    running = start(Mailbox(drop_on=2))
    try:
        configure(kt, running.port)
        result = kt("remind")
        assert result.exit_code == MailError.exit_code, result.stderr
        assert result.stdout.splitlines()[0] == f"Sent to {SAM}, cc {LEAD}: A1, A7."
        assert result.stdout.splitlines()[-1] == (
            f"The mail server {HOST}:{running.port} dropped the connection: 1 of 2 reminders sent."
        )
        assert sent_refs(running.mailbox) == ["A1, A7"]
        assert place.records() == [r for r in ALL_RECORDS if r[0] in (1, 7)]
    finally:
        running.controller.stop()
    back = start(Mailbox())
    try:
        configure(kt, back.port)
        assert kt("remind").exit_code == 0
        assert sent_refs(back.mailbox) == ["A6, A5"]  # what was not sent, and only that
        assert place.records() == ALL_RECORDS
    finally:
        back.controller.stop()


@pytest.mark.parametrize("role", ["reader", "officer"])
def test_a_login_that_may_not_record_reminders_sends_none(
    council: tuple[OnServer, Any],
    server: Server,  # noqa: F811
    role: str,
) -> None:
    """Recording a reminder needs the editor role. A reader may not write at all; an
    officer may take the plan's writer lock (to log its own actions) but not record
    reminders: were it to send first, the server would refuse the record, and every
    later run would send the same mail again. So neither sends anything."""
    place, kt = council
    configure(kt, server.port)
    refused = kt("remind", env=place.env(role))
    assert refused.exit_code == PermissionDeniedError.exit_code, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1
    assert "editor" in refused.stderr
    assert server.mailbox.received == []
    assert place.records() == []
    # The dry run is a read: anyone who may read the plan may preview the digests.
    dry = kt("remind", "--dry-run", env=place.env(role))
    assert dry.exit_code == 0, dry.stderr
    assert server.mailbox.received == []


def test_remind_broken_off_after_sending_records_what_was_sent(
    council: tuple[OnServer, Any],
    server: Server,  # noqa: F811
) -> None:
    """Another client (here the superuser, through SQL) holds kt.reminders and then asks
    for the plan's writer lock, which kt holds while it waits to record the first digest
    it sent: a deadlock, and kt waited first, so the server breaks kt off, and the record
    goes with the broken-off transaction. Running the command again would send that
    digest twice: kt does not; it records what the mail server accepted in a transaction
    of its own, with the message's id and the time it was accepted, and reports the run
    as stopped part-way (exit 16, as when the mail server stops), so the next run sends
    only the rest."""
    place, kt = council
    configure(kt, server.port)
    with place.db.deadlock_kt_on("reminders", PLAN_KEY):  # kt sent the first digest and waits to record it
        result = kt("remind")
    assert result.exit_code == MailError.exit_code, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Sent to {SAM}, cc {LEAD}: A1, A7."
    assert lines[1] == f"Not sent to {CARE} (A6, A5): the session had stopped."
    assert lines[-1] == "The database server broke the run off (deadlock detected): 1 of 2 reminders sent."
    assert result.stderr == (
        "Error: 1 reminder not sent, or not to every recipient; what was sent is recorded, and kt remind sends "
        "the rest next time.\n"
    )
    assert sent_refs(server.mailbox) == ["A1, A7"]  # once, not again
    assert place.records() == [r for r in ALL_RECORDS if r[0] in (1, 7)]
    with place.db.connect(place.logins["admin"], autocommit=True) as conn:
        kept = conn.execute("SELECT DISTINCT message_id, sent_at FROM kt.reminders").fetchall()
    assert [m for m, _ in kept] == [str(server.mailbox.received[0].message["Message-ID"])]
    assert [at.isoformat() for _, at in kept] == ["2025-11-30T09:00:00+00:00"]  # kt's clock, fixed here
    again = kt("remind")
    assert again.exit_code == 0, again.stderr
    assert sent_refs(server.mailbox) == ["A1, A7", "A6, A5"]  # the rest, and only the rest
    assert place.records() == ALL_RECORDS
