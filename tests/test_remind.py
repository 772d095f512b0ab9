"""kt remind against a real SMTP server on localhost (aiosmtpd), which receives and parses
every message: a digest per owner, escalation copies, de-duplication over runs, a server that
refuses or drops the connection part-way (nothing recorded as sent that was not), STARTTLS
and implicit TLS with a test certificate, AUTH with the password from the environment or a
file, the domain fence, the personal-data guard and hostile text in headers."""

from __future__ import annotations

import datetime as dt
import errno
import ipaddress
import json
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from knowsley_tracker.errors import MailError, PersonalDataError, StoreWriteError, ValidationError

HOST = "127.0.0.1"
SENDER = "improvement.plan@test.gov.uk"


# -- the server ----------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """An aiosmtpd handler that parses and keeps every message; it can refuse addresses,
    or drop the connection while receiving the Nth message."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    drop_on: int = 0  # 1-based: drop the connection instead of accepting this message
    seen: int = 0

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.casefold() in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.seen += 1
        if self.seen == self.drop_on:
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    mailbox: Mailbox
    port: int
    controller: Controller


def start(mailbox: Mailbox, **kwargs: Any) -> Server:
    port = free_port()
    controller = Controller(mailbox, hostname=HOST, port=port, **kwargs)
    controller.start()
    return Server(mailbox, port, controller)


@pytest.fixture
def server() -> Iterator[Server]:
    running = start(Mailbox())
    yield running
    running.controller.stop()


# -- a test certificate ----------------------------------------------------------------------


@dataclass
class Certs:
    ca_file: Path
    server_context: ssl.SSLContext


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    folder = tmp_path_factory.mktemp("certs")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kt test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return Certs(ca_file, context)


# -- the plan ------------------------------------------------------------------------------


def configure(kt: Any, port: int, security: str = "none", **more: str) -> None:
    settings = {
        "smtp.host": HOST,
        "smtp.port": str(port),
        "smtp.security": security,
        "smtp.from": SENDER,
        "remind.domains": "*.gov.uk",
        "remind.escalation_to": "dcs.office@test.gov.uk",
        **more,
    }
    for name, value in settings.items():
        result = kt("config", "set", name, value)
        assert result.exit_code == 0, (name, result.stderr)


@pytest.fixture
def reminders(plan: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The conftest plan on 30 Nov 2025, with e-mail addresses. O1 owns A1 (15 days overdue) and
    A7 (due in 3 days); O2 owns A5 (no update since 1 Oct) and A6 (60 days overdue). Both focus
    areas are led by O3, the Director of Quality Assurance."""
    steps = [
        ["owner", "edit", "O1", "--email", "sam.carter@test.gov.uk"],
        ["owner", "edit", "O2", "--email", "care.leavers@test.gov.uk"],
        ["owner", "add", "Director of Quality Assurance", "--email", "qa.director@test.gov.uk"],
        ["focus", "edit", "CL", "--lead", "Director of Quality Assurance"],
        ["focus", "edit", "DIS", "--lead", "Director of Quality Assurance"],
    ]
    for step in steps:
        result = plan(*step)
        assert result.exit_code == 0, (step, result.stderr)
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-10-01T09:00:00+00:00")
    assert plan("action", "add", "R2", "Map care leavers' accommodation", "--owner", "O2",
                "--due", "31/03/2026").exit_code == 0  # fmt: skip
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-11-30T09:00:00+00:00")
    assert plan("action", "add", "R2", "Review PA supervision", "--owner", "O2", "--due", "01/10/2025").exit_code == 0
    assert plan("action", "add", "R1", "Brief the board", "--owner", "O1", "--due", "03/12/2025").exit_code == 0
    return plan


def by_to(mailbox: Mailbox) -> dict[str, Received]:
    return {str(r.message["To"].addresses[0].addr_spec): r for r in mailbox.received}


def reminder_records(kt: Any, db: Path) -> dict[str, Any]:
    data = json.loads(db.read_text())
    return {f"M{k}": v for k, v in data.get("reminders", {}).items()}


# -- digests and escalation ------------------------------------------------------------------

SAM = '"Head of Service, Disabled Children (Sam Carter)" <sam.carter@test.gov.uk>'
CARE = '"Head of Service, Care Leavers" <care.leavers@test.gov.uk>'
LEAD = "Director of Quality Assurance <qa.director@test.gov.uk>"
FOOTER = (
    'Record progress with kt log (e.g. kt log A12 "..."), or reply to the improvement team. Please include no '
    "personal data about children.\n"
    "\n"
    "-- kt remind, Test Council improvement plan\n"
)
CARE_TEXT = (
    "Dear Head of Service, Care Leavers,\n"
    "\n"
    "These actions in the Test Council improvement plan need your attention on 30 Nov 2025.\n"
    "\n"
    "Overdue (1)\n"
    "  A6  Review PA supervision\n"
    "       due 1 Oct 2025, 60 days overdue; 0% done, not started\n"
    "       Focus area: CL Care-experienced young people\n"
    '       To record progress: kt log A6 "what has happened" --progress N\n'
    "\n"
    "No recent update (1)\n"
    "  A5  Map care leavers' accommodation\n"
    "       no update since 1 Oct 2025 (60 days); 0% done, not started\n"
    "       Focus area: CL Care-experienced young people\n"
    '       To record progress: kt log A5 "what has happened" --progress N\n'
    "\n"
    "Copied to Director of Quality Assurance, the focus area lead, because A6 is more than 14 days overdue.\n"
    "Copied to dcs.office@test.gov.uk (escalation) because A6 is more than 28 days overdue.\n"
    "\n" + FOOTER
)
SAM_TEXT = (
    "Dear Head of Service, Disabled Children (Sam Carter),\n"
    "\n"
    "These actions in the Test Council improvement plan need your attention on 30 Nov 2025.\n"
    "\n"
    "Overdue (1)\n"
    "  A1  Audit open disabled children's cases\n"
    "       due 15 Nov 2025, 15 days overdue; 40% done, in progress\n"
    "       Focus area: DIS Children with disabilities\n"
    "       Latest update: Audit tool agreed\n"
    '       To record progress: kt log A1 "what has happened" --progress N\n'
    "\n"
    "Due soon (1)\n"
    "  A7  Brief the board\n"
    "       due 3 Dec 2025, in 3 days; 0% done, not started\n"
    "       Focus area: DIS Children with disabilities\n"
    '       To record progress: kt log A7 "what has happened" --progress N\n'
    "\n"
    "Copied to Director of Quality Assurance, the focus area lead, because A1 is more than 14 days overdue.\n"
    "\n" + FOOTER
)
ALL_RECORDS = [
    (1, "overdue", "lead", "qa.director@test.gov.uk"),
    (1, "overdue", "owner", "sam.carter@test.gov.uk"),
    (5, "stale", "owner", "care.leavers@test.gov.uk"),
    (6, "overdue", "escalation", "dcs.office@test.gov.uk"),
    (6, "overdue", "lead", "qa.director@test.gov.uk"),
    (6, "overdue", "owner", "care.leavers@test.gov.uk"),
    (7, "due", "owner", "sam.carter@test.gov.uk"),
]


def records(db: Path) -> list[tuple[int, str, str, str]]:
    rows = json.loads(db.read_text()).get("reminders", {}).values()
    return sorted((r["action_id"], r["kind"], r["level"], r["to"]) for r in rows)


def sent_refs(mailbox: Mailbox) -> list[str]:
    return [str(r.message["X-Kt-Actions"]) for r in mailbox.received]


def test_one_digest_per_owner_with_escalation_copies(reminders: Any, server: Server, db: Path) -> None:
    configure(reminders, server.port)
    result = reminders("remind")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Sent to {SAM}, cc {LEAD}: A1, A7.",
        f"Sent to {CARE}, cc {LEAD}, dcs.office@test.gov.uk: A6, A5.",
        "Sent 2 of 2 reminders.",
    ]
    mails = by_to(server.mailbox)
    assert sorted(mails) == ["care.leavers@test.gov.uk", "sam.carter@test.gov.uk"]

    care = mails["care.leavers@test.gov.uk"]
    # A6 is 60 days overdue: copied to the focus area's lead (over 14 days) and escalated (over 28).
    assert care.mail_from == SENDER
    assert sorted(care.rcpt_tos) == ["care.leavers@test.gov.uk", "dcs.office@test.gov.uk", "qa.director@test.gov.uk"]
    msg = care.message
    assert str(msg["From"]) == f"Test Council improvement plan <{SENDER}>"
    assert str(msg["To"]) == CARE
    assert str(msg["Cc"]) == f"{LEAD}, dcs.office@test.gov.uk"
    assert str(msg["Subject"]) == "Escalated: Test Council improvement plan: 2 actions need your attention, 1 overdue"
    assert str(msg["Date"]) == "Sun, 30 Nov 2025 09:00:00 +0000"
    assert str(msg["Message-ID"]).endswith(".kt-remind@test.gov.uk>")
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == CARE_TEXT
    page = html.get_content()
    assert "<p>These actions in the <strong>Test Council</strong> improvement plan need your attention" in page
    assert (
        "<tr><td><strong>A6</strong></td><td>Review PA supervision</td><td>due 1 Oct 2025, 60 days overdue</td>"
        '<td>0%, not started</td><td>-</td><td><code>kt log A6 "..."</code></td></tr>' in page
    )
    assert "<td>Map care leavers&#x27; accommodation</td>" in page

    sam = mails["sam.carter@test.gov.uk"]
    # A1 is 15 days overdue: copied to the lead only; A7 is due in 3 days.
    assert sorted(sam.rcpt_tos) == ["qa.director@test.gov.uk", "sam.carter@test.gov.uk"]
    assert str(sam.message["Subject"]) == "Test Council improvement plan: 2 actions need your attention, 1 overdue"
    sam_text = sam.message.get_body(preferencelist=("plain",))
    assert sam_text is not None and sam_text.get_content().replace("\r\n", "\n") == SAM_TEXT

    assert records(db) == ALL_RECORDS
    stored = json.loads(db.read_text())["reminders"]
    assert {r["sent_at"] for r in stored.values()} == {"2025-11-30T09:00:00+00:00"}
    assert {r["message_id"] for r in stored.values()} == {str(m.message["Message-ID"]) for m in server.mailbox.received}
    history = json.loads(reminders("history", "--json", "-n", "1").stdout)[0]
    assert (history["what"], history["by"]) == ("remind", "Test Officer")


def test_the_same_reminder_is_not_repeated_within_the_window(
    reminders: Any, server: Server, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(reminders, server.port)
    assert reminders("remind").exit_code == 0
    assert sent_refs(server.mailbox) == ["A1, A7", "A6, A5"]
    before = db.read_bytes()
    again = reminders("remind")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""  # nothing to send and nobody to report: silent, so cron mails nothing
    dry = reminders("remind", "--dry-run")
    assert dry.stdout.splitlines() == [
        "7 reminders sent within the last 7 days left out (--force sends them again).",
        "Dry run: nothing to send.",
    ]
    assert len(server.mailbox.received) == 2
    assert db.read_bytes() == before  # nothing sent, nothing recorded, nothing saved
    # Six days on, A1 has crossed 20 days overdue (no new level) and nothing is due again yet.
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-12-06T09:00:00+00:00")
    six = json.loads(reminders("remind", "--json").stdout)
    # New reasons only: A7 fell overdue on 4 Dec (it was reminded as due), and A2 (due 10 Dec) is
    # now due within 7 days. A1, now 21 days overdue, has no new level, so it is not repeated.
    assert [(m["owner"], m["actions"], m["status"]) for m in six["messages"]] == [
        ("O1", [{"ref": "A7", "kind": "overdue", "days": -3}, {"ref": "A2", "kind": "due", "days": 4}], "sent")
    ]
    assert sent_refs(server.mailbox)[2:] == ["A7, A2"]
    # On the seventh day the first reminders are due again.
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-12-07T09:00:00+00:00")
    assert reminders("remind").exit_code == 0
    assert sent_refs(server.mailbox)[3:] == ["A1", "A6, A5"]
    forced = reminders("remind", "--force")
    assert forced.exit_code == 0
    assert sent_refs(server.mailbox)[5:] == ["A1, A7, A2", "A6, A5"]


# A copy that cannot be made is handled once, not tried (with the owner's digest sent again) on every run.
UNDELIVERABLE = {
    # The owners lead their own focus areas: no lead copy is wanted; A6 is still escalated.
    "the owner is the lead": (
        [["focus", "edit", "DIS", "--lead", "Head of Service, Disabled Children"],
         ["focus", "edit", "CL", "--lead", "Head of Service, Care Leavers"]],
        [f"Sent to {SAM}: A1, A7.", f"Sent to {CARE}, cc dcs.office@test.gov.uk: A6, A5.", "Sent 2 of 2 reminders."],
        [],
        [],
    ),
    "the lead has no address": (
        [["owner", "edit", "O3", "--email", ""]],
        [f"Sent to {SAM}: A1, A7.", f"Sent to {CARE}, cc dcs.office@test.gov.uk: A6, A5.",
         "Note: A6 is 60 days overdue, but the lead of focus area CL (O3 Director of Quality Assurance) has no "
         "e-mail address: not copied (kt owner edit O3 --email ADDRESS).",
 "Note: A1 is 15 days overdue, but the lead of focus area DIS (O3 Director of Quality Assurance) has no "
         "e-mail address: not copied (kt owner edit O3 --email ADDRESS).",
         "Sent 2 of 2 reminders."],
        [["owner", "edit", "O3", "--email", "qa.director@test.gov.uk"]],
        [("sam.carter@test.gov.uk", "A1", ["qa.director@test.gov.uk", "sam.carter@test.gov.uk"]),
         ("care.leavers@test.gov.uk", "A6", ["care.leavers@test.gov.uk", "qa.director@test.gov.uk"])],
    ),
    "the lead is outside the domains": (
        [["owner", "edit", "O3", "--email", "qa.director@consultancy.example"]],
        [f"Sent to {SAM}: A1, A7.", f"Sent to {CARE}, cc dcs.office@test.gov.uk: A6, A5.",
         "Note: A6: the lead of focus area CL (qa.director@consultancy.example) is outside remind.domains "
         "(*.gov.uk): not copied (--allow-external sends there).",
 "Note: A1: the lead of focus area DIS (qa.director@consultancy.example) is outside remind.domains "
         "(*.gov.uk): not copied (--allow-external sends there).",
         "Sent 2 of 2 reminders."],
        [["owner", "edit", "O3", "--email", "qa.director@test.gov.uk"]],
        [("sam.carter@test.gov.uk", "A1", ["qa.director@test.gov.uk", "sam.carter@test.gov.uk"]),
         ("care.leavers@test.gov.uk", "A6", ["care.leavers@test.gov.uk", "qa.director@test.gov.uk"])],
    ),
    "no escalation address is set (the default)": (
        [["config", "unset", "remind.escalation_to"]],
        [f"Sent to {SAM}, cc {LEAD}: A1, A7.", f"Sent to {CARE}, cc {LEAD}: A6, A5.",
         "Note: A6 is 60 days overdue, but remind.escalation_to is not set: not escalated "
         "(kt config set remind.escalation_to ADDRESS).",
         "Sent 2 of 2 reminders."],
        [["config", "set", "remind.escalation_to", "dcs.office@test.gov.uk"]],
        [("care.leavers@test.gov.uk", "A6", ["care.leavers@test.gov.uk", "dcs.office@test.gov.uk"])],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", UNDELIVERABLE)
def test_a_copy_that_cannot_be_made_is_not_sent_again_on_every_run(
    reminders: Any, server: Server, db: Path, case: str
) -> None:
    setup, first_lines, fix, after_fix = UNDELIVERABLE[case]
    configure(reminders, server.port)
    for step in setup:
        assert reminders(*step).exit_code == 0, step
    first = reminders("remind")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines() == first_lines
    assert sent_refs(server.mailbox) == ["A1, A7", "A6, A5"]
    before = db.read_bytes()
    for _ in range(2):  # cron's next runs: nothing sent, nothing said, nothing saved
        again = reminders("remind")
        assert (again.exit_code, again.stdout, again.stderr) == (0, "", "")
        assert len(server.mailbox.received) == 2
        assert db.read_bytes() == before
    # Once the copy can be made, it is made on the next run (with the owner's digest it belongs to).
    for step in fix:
        assert reminders(*step).exit_code == 0, step
    fixed = reminders("remind")
    assert fixed.exit_code == 0, fixed.stderr
    assert [(str(r.message["To"].addresses[0].addr_spec), str(r.message["X-Kt-Actions"]), sorted(r.rcpt_tos))
            for r in server.mailbox.received[2:]] == after_fix  # fmt: skip
    assert reminders("remind").stdout == ""
    assert len(server.mailbox.received) == 2 + len(after_fix)


# -- a server that refuses or drops ----------------------------------------------------------


def test_a_refused_recipient_is_not_recorded_and_is_sent_next_time(reminders: Any, db: Path) -> None:
    running = start(Mailbox(refuse={"care.leavers@test.gov.uk"}))
    try:
        configure(reminders, running.port)
        result = reminders("remind")
        assert result.exit_code == MailError.exit_code
        assert result.stdout.splitlines() == [
            f"Sent to {SAM}, cc {LEAD}: A1, A7.",
            f"Sent to {CARE}, cc {LEAD}, dcs.office@test.gov.uk: A6, A5.",
            "The server refused care.leavers@test.gov.uk (550 5.1.1 Mailbox unavailable): not recorded as sent.",
            "Sent 2 of 2 reminders.",
        ]
        assert result.stderr == (
            "Error: 1 reminder not sent, or not to every recipient; what was sent is recorded, and kt remind sends "
            "the rest next time.\n"
        )
        # The lead and the escalation address got the copy; the owner did not, and is not recorded.
        assert records(db) == [r for r in ALL_RECORDS if r[3] != "care.leavers@test.gov.uk"]
        running.mailbox.refuse.clear()
        again = reminders("remind")
        assert again.exit_code == 0, again.stderr
        assert again.stdout.splitlines()[0] == f"Sent to {CARE}: A6, A5."
        assert records(db) == ALL_RECORDS
    finally:
        running.controller.stop()


def test_a_server_refusing_every_recipient_records_nothing_for_that_message(reminders: Any, db: Path) -> None:
    everyone = {"care.leavers@test.gov.uk", "qa.director@test.gov.uk", "dcs.office@test.gov.uk"}
    running = start(Mailbox(refuse=everyone))
    try:
        configure(reminders, running.port)
        result = reminders("remind", "--json")
        assert result.exit_code == MailError.exit_code
        report = json.loads(result.stdout)
        assert [(m["owner"], m["status"], m["error"]) for m in report["messages"]] == [
            ("O1", "partly sent", ""),
            ("O2", "failed", "every recipient was refused"),
        ]
        assert records(db) == [
            (1, "overdue", "owner", "sam.carter@test.gov.uk"),
            (7, "due", "owner", "sam.carter@test.gov.uk"),
        ]
    finally:
        running.controller.stop()


def test_a_dropped_connection_records_only_what_was_accepted(reminders: Any, db: Path) -> None:
    running = start(Mailbox(drop_on=2))
    try:
        configure(reminders, running.port)
        result = reminders("remind")
        assert result.exit_code == MailError.exit_code
        assert result.stdout.splitlines()[0] == f"Sent to {SAM}, cc {LEAD}: A1, A7."
        assert result.stdout.splitlines()[1].startswith(
            f"Not sent to {CARE}, cc {LEAD}, dcs.office@test.gov.uk (A6, A5): the connection was lost ("
        )
        assert result.stdout.splitlines()[-1] == (
            f"The mail server {HOST}:{running.port} dropped the connection: 1 of 2 reminders sent."
        )
        assert sent_refs(running.mailbox) == ["A1, A7"]
        assert records(db) == [r for r in ALL_RECORDS if r[0] in (1, 7)]
    finally:
        running.controller.stop()
    # The next run, with a server back, sends what was not sent, and only that.
    back = start(Mailbox())
    try:
        configure(reminders, back.port)
        assert reminders("remind").exit_code == 0
        assert sent_refs(back.mailbox) == ["A6, A5"]
        assert records(db) == ALL_RECORDS
    finally:
        back.controller.stop()


def test_no_server_sends_nothing_and_records_nothing(reminders: Any, db: Path) -> None:
    port = free_port()  # nothing listens there
    configure(reminders, port)
    result = reminders("remind")
    assert result.exit_code == MailError.exit_code
    assert result.stdout.splitlines() == [
        f"Not sent to {SAM} (A1, A7): the session had stopped.",
        f"Not sent to {CARE} (A6, A5): the session had stopped.",
        f"Could not connect to the mail server {HOST}:{port} (Connection refused): 0 of 2 reminders sent.",
    ]
    assert records(db) == []


# -- TLS and AUTH ------------------------------------------------------------------------------


class Passwords:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.logins: list[str] = []

    def __call__(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode()) if isinstance(auth_data, LoginPassword) else ()
        ok = given == (self.user, self.password)
        if ok:
            self.logins.append(self.user)
        # handled=False: aiosmtpd itself answers 535 to a failed login.
        return AuthResult(success=ok, handled=False)


def test_starttls_with_a_test_certificate_and_a_password_from_the_environment(
    reminders: Any, certs: Certs, monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    passwords = Passwords("kt-reminders", "s3cret pass")
    running = start(Mailbox(), tls_context=certs.server_context, require_starttls=True, authenticator=passwords)
    try:
        configure(reminders, running.port, "starttls", **{"smtp.user": "kt-reminders"})
        missing = reminders("remind")
        assert (missing.exit_code, missing.stderr) == (
            ValidationError.exit_code,
            "Error: smtp.user is set but there is no password: set KT_SMTP_PASSWORD in the environment, or name a "
            "file with kt config set smtp.password_file PATH.\n",
        )
        monkeypatch.setenv("KT_SMTP_PASSWORD", "wrong")
        # The test CA is not one the system trusts: refused until smtp.ca_file names it.
        untrusted = reminders("remind")
        assert untrusted.exit_code == MailError.exit_code
        assert "(TLS failed: [SSL: CERTIFICATE_VERIFY_FAILED]" in untrusted.stdout
        assert reminders("config", "set", "smtp.ca_file", str(certs.ca_file)).exit_code == 0
        wrong = reminders("remind")
        assert wrong.exit_code == MailError.exit_code
        assert "(535 5.7.8 Authentication credentials invalid): 0 of 2 reminders sent." in wrong.stdout
        assert records(db) == [] and running.mailbox.received == []
        monkeypatch.setenv("KT_SMTP_PASSWORD", "s3cret pass")
        result = reminders("remind")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert passwords.logins == ["kt-reminders"]
        assert sent_refs(running.mailbox) == ["A1, A7", "A6, A5"]
        assert records(db) == ALL_RECORDS
        assert "s3cret" not in db.read_text()  # the password is never in the store
    finally:
        running.controller.stop()


def test_implicit_tls_and_a_password_file(reminders: Any, certs: Certs, tmp_path: Path, db: Path) -> None:
    passwords = Passwords("kt-reminders", "from a file")
    # aiosmtpd only counts STARTTLS as TLS when it decides whether to offer AUTH; this session is TLS throughout.
    running = start(Mailbox(), ssl_context=certs.server_context, authenticator=passwords, auth_require_tls=False)
    try:
        secret = tmp_path / "smtp-password"
        secret.write_text("from a file\n")
        secret.chmod(0o644)
        configure(
            reminders, running.port, "tls",
            **{"smtp.user": "kt-reminders", "smtp.password_file": str(secret), "smtp.ca_file": str(certs.ca_file)},
        )  # fmt: skip
        open_file = reminders("remind")
        assert (open_file.exit_code, open_file.stderr) == (
            ValidationError.exit_code,
            f"Error: {secret} (smtp.password_file) can be read by others: chmod 600 {secret}, then try again.\n",
        )
        secret.chmod(0o600)
        result = reminders("remind")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert passwords.logins == ["kt-reminders"]
        assert sent_refs(running.mailbox) == ["A1, A7", "A6, A5"]
    finally:
        running.controller.stop()


# -- who is reached, and what never goes out ----------------------------------------------


def test_owners_without_email_outside_the_domains_or_without_a_lead_are_listed(
    reminders: Any, server: Server, db: Path
) -> None:
    configure(reminders, server.port)
    assert reminders("owner", "edit", "O2", "--email", "care.leavers@gmail.com").exit_code == 0
    assert reminders("owner", "add", "Head of Early Help").exit_code == 0
    assert reminders("action", "add", "R1", "Map early help", "--owner", "O4", "--due", "01/12/2025").exit_code == 0
    assert reminders("action", "add", "R1", "Nobody's action", "--due", "02/12/2025").exit_code == 0
    assert reminders("owner", "edit", "O3", "--email", "qa.director@consultancy.example").exit_code == 0
    dry = reminders("remind", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines()[-6:] == [
        "-----",
        "No e-mail address for O4 Head of Early Help: A8 not reminded (kt owner edit O4 --email ADDRESS).",
        "No owner for A9: not reminded (kt action edit A9 --owner O1).",
        "Not sent to O2 Head of Service, Care Leavers <care.leavers@gmail.com>: outside remind.domains (*.gov.uk); "
        "--allow-external sends there (A6, A5).",
        "Note: A1: the lead of focus area DIS (qa.director@consultancy.example) is outside remind.domains "
        "(*.gov.uk): not copied (--allow-external sends there).",
        "Dry run: would send 1 reminder (2 actions). Nothing was sent.",
    ]
    assert server.mailbox.received == []
    result = reminders("remind", "--allow-external")
    assert result.exit_code == 0, result.stderr
    assert sorted(by_to(server.mailbox)) == ["care.leavers@gmail.com", "sam.carter@test.gov.uk"]
    assert sorted(server.mailbox.received[0].rcpt_tos) == ["qa.director@consultancy.example", "sam.carter@test.gov.uk"]
    # Not set at all: nothing counts as inside.
    assert reminders("config", "unset", "remind.domains").exit_code == 0
    unset = reminders("remind", "--dry-run", "--force")
    assert "outside remind.domains (none set)" in unset.stdout


def test_dry_run_prints_every_message_with_headers_and_sends_nothing(reminders: Any, server: Server, db: Path) -> None:
    configure(reminders, server.port)
    before = db.read_bytes()
    dry = reminders("remind", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[:10] == [
        "----- message 1 of 2 -----",
        f"From: Test Council improvement plan <{SENDER}>",
        f"To: {SAM}",
        f"Cc: {LEAD}",
        "Subject: Test Council improvement plan: 2 actions need your attention, 1 overdue",
        "Date: Sun, 30 Nov 2025 09:00:00 +0000",
        lines[6],
        "Auto-Submitted: auto-generated",
        "X-Kt-Actions: A1, A7",
        "",
    ]
    assert lines[6].startswith("Message-ID: <") and lines[6].endswith(".kt-remind@test.gov.uk>")
    assert "----- message 2 of 2 -----" in lines
    assert lines[-1] == "Dry run: would send 2 reminders (4 actions). Nothing was sent."
    assert server.mailbox.received == []
    assert db.read_bytes() == before
    as_json = json.loads(reminders("remind", "--dry-run", "--json").stdout)
    assert [(m["owner"], m["to"], m["status"], [a["ref"] for a in m["actions"]]) for m in as_json["messages"]] == [
        ("O1", "sam.carter@test.gov.uk", "would send", ["A1", "A7"]),
        ("O2", "care.leavers@test.gov.uk", "would send", ["A6", "A5"]),
    ]
    assert as_json["messages"][1]["cc"] == [
        {"address": "qa.director@test.gov.uk", "level": "lead", "actions": ["A6"]},
        {"address": "dcs.office@test.gov.uk", "level": "escalation", "actions": ["A6"]},
    ]
    assert (as_json["dry_run"], as_json["without_email"], as_json["left_out_recent"]) == (True, [], 0)
    # The HTML part is not printed: it is named, with its true size (that of the message kt remind sends).
    assert reminders("remind").exit_code == 0
    html = server.mailbox.received[0].message.get_body(preferencelist=("html",))
    assert html is not None and html.get_content_type() == "text/html"
    size = len(html.get_content().replace("\r\n", "\n").encode("utf-8"))  # as kt made it, before SMTP's CRLF
    assert size > 1000
    assert "\n".join(lines[10:]).startswith(
        SAM_TEXT.rstrip("\n") + f"\n\n[Also an HTML part (text/html, {size:,} bytes): the same actions as a table.]\n"
    )


def test_a_digest_the_guard_flags_is_withheld(reminders: Any, server: Server, db: Path) -> None:
    configure(reminders, server.port)
    logged = reminders("log", "A6", "Met the young person at L36 9YU", "--allow-personal-data", "Testing the guard")
    assert logged.exit_code == 0
    result = reminders("remind")
    assert result.exit_code == PersonalDataError.exit_code
    assert result.stdout.splitlines() == [
        f"Sent to {SAM}, cc {LEAD}: A1, A7.",
        "Not sent to O2 Head of Service, Care Leavers: the text of A6, A5 looks like it contains a UK postcode "
        "(the personal-data guard).",
        "Sent 1 of 1 reminder.",
    ]
    assert result.stderr == (
        "Error: A reminder was withheld because its text looks like personal data about a child: correct the "
        "action (kt action edit, kt log), then run kt remind again.\n"
    )
    assert sent_refs(server.mailbox) == ["A1, A7"]  # the others still went
    assert all("L36" not in r.message.as_string() for r in server.mailbox.received)


def test_hostile_text_cannot_add_headers_or_recipients(reminders: Any, server: Server) -> None:
    configure(reminders, server.port)
    assert reminders("owner", "edit", "O1", "--role", "Head\r\nBcc: attacker@evil.example").exit_code == 0
    assert reminders("action", "edit", "A1", "--title", "<script>alert(1)</script> \x1b[2J [bold]x[/]").exit_code == 0
    assert reminders("remind").exit_code == 0
    sam = by_to(server.mailbox)["sam.carter@test.gov.uk"]
    assert sorted(sam.rcpt_tos) == ["qa.director@test.gov.uk", "sam.carter@test.gov.uk"]
    assert sam.message["Bcc"] is None
    assert (
        str(sam.message["To"]) == '"Head\\\\x0d\\\\x0aBcc: attacker@evil.example (Sam Carter)" <sam.carter@test.gov.uk>'
    )
    html = sam.message.get_body(preferencelist=("html",))
    text = sam.message.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.get_content() and "<script>" not in html.get_content()
    # Control characters are shown as in the text part, not sent raw in the HTML part.
    assert "\x1b" not in html.get_content()
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt; \\x1b[2J [bold]x[/]</td>" in html.get_content()
    assert "\x1b" not in text.get_content() and "  A1  <script>alert(1)</script> \\x1b[2J [bold]x[/]\r\n" in (
        text.get_content()
    )


def test_settings_are_checked(reminders: Any) -> None:
    for name, value, message in [
        ("smtp.security", "ssl", "smtp.security takes one of starttls, tls, none, not 'ssl'."),
        ("smtp.from", "not an address", "smtp.from takes an e-mail address, e.g. improvement.plan@knowsley.gov.uk (empty for none), not 'not an address'."),
        ("remind.domains", "*.gov.uk, bad domain", "remind.domains takes mail domains separated by commas, e.g. *.gov.uk,knowsley.gov.uk (empty for none), not '*.gov.uk, bad domain'."),
        ("remind.domains", ",,,", "remind.domains takes mail domains separated by commas, e.g. *.gov.uk,knowsley.gov.uk (empty for none), not ',,,'."),
        ("remind.domains", " , ", "remind.domains takes mail domains separated by commas, e.g. *.gov.uk,knowsley.gov.uk (empty for none), not ' , '."),
        ("rag.amber_days", "-5", "rag.amber_days takes a whole number from 0 to 365, not '-5'."),
        ("smtp.password_env", "1X", "smtp.password_env takes an environment variable name, e.g. KT_SMTP_PASSWORD, not '1X'."),
    ]:  # fmt: skip
        result = reminders("config", "set", name, value)
        assert (result.exit_code, result.stderr) == (ValidationError.exit_code, f"Error: {message}\n")
    # Empty is none: said so, never "is now ."
    cleared = reminders("config", "set", "remind.domains", "")
    assert (cleared.exit_code, cleared.stdout) == (0, "remind.domains is now empty (none).\n")
    no_sender = reminders("remind", "--dry-run")
    assert no_sender.stderr == (
        "Error: Reminders need a From address: kt config set smtp.from improvement.plan@example.gov.uk\n"
    )


def test_recording_after_a_break_records_what_was_accepted_and_skips_deleted_actions(reminders: Any, db: Path) -> None:
    """What kt remind does when a database server broke its transaction off after sending
    (tests/test_remind_server.py runs the break itself): the digests the mail server
    accepted are recorded in a new transaction, each reminder to an accepted address; an
    action deleted meanwhile is not recorded, as there is nothing left to remind about."""
    from knowsley_tracker.dates import Clock
    from knowsley_tracker.models import Action
    from knowsley_tracker.service.reminders import Sent, plan_reminders, record_after_break
    from knowsley_tracker.service.session import Session
    from knowsley_tracker.storage.file_store import Store

    configure(reminders, 25)  # nothing is sent here
    store = Store.open(db, write=True)
    try:
        s = Session(store=store, clock=Clock.at(dt.datetime(2025, 11, 30, 9, tzinfo=dt.UTC)), user="Test Officer")
        with s.transaction("remind"):
            plan = plan_reminders(s)
            assert [d.refs for d in plan.digests] == [["A1", "A7"], ["A6", "A5"]]
            sam, care = plan.digests
            sent = [
                Sent(sam, {"sam.carter@test.gov.uk"}, "<one@test>", "2025-11-30T08:01:00+00:00"),  # not the lead
                Sent(
                    care,
                    {"care.leavers@test.gov.uk", "qa.director@test.gov.uk"},
                    "<two@test>",
                    "2025-11-30T08:02:00+00:00",
                ),
            ]
            store.delete(Action, 6)
            assert record_after_break(s, sent) == 3
    finally:
        store.close()
    assert records(db) == [
        (1, "overdue", "owner", "sam.carter@test.gov.uk"),
        (5, "stale", "owner", "care.leavers@test.gov.uk"),
        (7, "due", "owner", "sam.carter@test.gov.uk"),
    ]
    kept = json.loads(db.read_text())["reminders"].values()
    assert sorted((r["action_id"], r["message_id"], r["sent_at"]) for r in kept) == [
        (1, "<one@test>", "2025-11-30T08:01:00+00:00"),  # when each was accepted, not when recorded
        (5, "<two@test>", "2025-11-30T08:02:00+00:00"),
        (7, "<one@test>", "2025-11-30T08:01:00+00:00"),
    ]


def _disk_full(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """The store's save fails with ENOSPC at its commit point (the rename of the new plan.json)
    ``times`` times, then works again; returns a list that grows by one per failure."""
    from knowsley_tracker.storage import folders

    real = folders._os_replace
    failed: list[str] = []

    def replace(*args: Any, **kwargs: Any) -> Any:
        if len(failed) < times:
            failed.append(str(args[1]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "_os_replace", replace)
    return failed


def test_a_run_whose_save_fails_after_sending_records_what_was_sent_in_a_save_of_its_own(
    reminders: Any, server: Server, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk was full when kt remind saved the records of what it had sent: the records
    are saved again in a transaction of their own once there is room, so the next run
    does not send the same digests again. Everything was sent and recorded: exit 0."""
    configure(reminders, server.port)
    failed = _disk_full(monkeypatch, times=1)
    result = reminders("remind")
    assert failed == ["plan.json"]  # the commit point, relative to the store's folder
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Sent 2 of 2 reminders."
    assert records(db) == ALL_RECORDS
    assert reminders("remind").exit_code == 0
    assert sent_refs(server.mailbox) == ["A1, A7", "A6, A5"]  # not again


def test_a_run_that_cannot_record_what_it_sent_says_the_next_run_sends_it_again(
    reminders: Any, server: Server, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk stays full: neither the run's save nor the save of what it sent lands.
    kt says what went out and that the next run will send it again, on one line, with
    the store's exit code; the store is unchanged."""
    configure(reminders, server.port)
    before = db.read_bytes()
    failed = _disk_full(monkeypatch, times=2)
    result = reminders("remind")
    assert failed == ["plan.json", "plan.json"]
    assert result.exit_code == StoreWriteError.exit_code
    assert result.stdout.splitlines()[:2] == [
        f"Sent to {SAM}, cc {LEAD}: A1, A7.",
        f"Sent to {CARE}, cc {LEAD}, dcs.office@test.gov.uk: A6, A5.",
    ]
    assert result.stderr == (
        f"Error: 2 reminders went out but could not be recorded (could not save {db} (No space left on device), "
        "and again when recording them): the next kt remind will send them again.\n"
    )
    assert db.read_bytes() == before


def _ctrl_c_on_the_second_message(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Make the second message kt sends meet Ctrl-C, as kt's own handler raises it (the first
    goes out); returns the real ``send_message``, to put back."""
    import signal
    import smtplib

    from knowsley_tracker import commit_point

    real = smtplib.SMTP.send_message
    calls: list[int] = []

    def send_message(self: smtplib.SMTP, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            commit_point.interrupted(signal.SIGINT, None)  # what kt's Ctrl-C handler does
        return real(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "send_message", send_message)
    return real


def test_ctrl_c_while_sending_stops_but_records_what_went_out(
    reminders: Any, server: Server, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the first digest went out: kt sends no more, but records what went out
    (otherwise the next run would send it again) and says the run was interrupted part-way
    (exit 16); the next run sends the rest, and only that."""
    import smtplib

    configure(reminders, server.port)
    real = _ctrl_c_on_the_second_message(monkeypatch)
    result = reminders("remind")
    assert result.exit_code == MailError.exit_code, result.stderr
    assert result.stdout.splitlines() == [
        f"Sent to {SAM}, cc {LEAD}: A1, A7.",
        f"Not sent to {CARE} (A6, A5): the session had stopped.",
        "Interrupted (Ctrl-C): 1 of 2 reminders sent.",
    ]
    assert result.stderr == (
        "Error: 1 reminder not sent, or not to every recipient; what was sent is recorded, and kt remind sends "
        "the rest next time.\n"
    )
    assert sent_refs(server.mailbox) == ["A1, A7"]
    assert records(db) == [r for r in ALL_RECORDS if r[0] in (1, 7)]
    monkeypatch.setattr(smtplib.SMTP, "send_message", real)
    assert reminders("remind").exit_code == 0
    assert sent_refs(server.mailbox) == ["A1, A7", "A6, A5"]
    assert records(db) == ALL_RECORDS


def test_ctrl_c_again_while_recording_warns_that_the_next_run_sends_it_again(
    reminders: Any, server: Server, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the first digest went out, and again while kt records it: kt leaves
    (exit 130, nothing saved), but says first that the next run will send it again."""
    import signal

    from knowsley_tracker import commit_point
    from knowsley_tracker.cli import remind

    configure(reminders, server.port)
    _ctrl_c_on_the_second_message(monkeypatch)

    def record_after_break(*args: Any) -> int:
        commit_point.interrupted(signal.SIGINT, None)  # the second Ctrl-C
        return 0

    monkeypatch.setattr(remind, "record_after_break", record_after_break)
    before = db.read_bytes()
    result = reminders("remind")
    assert result.exit_code == 130
    assert result.stdout.splitlines()[-1] == "Interrupted (Ctrl-C): 1 of 2 reminders sent."
    assert result.stderr == (
        "Warning: 1 reminder went out but was not recorded: the next kt remind will send it again.\n"
        "Interrupted: nothing was saved.\n"
    )
    assert db.read_bytes() == before
