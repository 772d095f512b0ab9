"""Plan-wide settings, stored in the plan so every officer and cron job agrees."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.rag import DEFAULT_AMBER_DAYS, DEFAULT_AMBER_PROGRESS
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import DEFAULT_BACKUPS


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | str
    low: int
    high: int
    help: str
    # A text setting (an address, a host) is checked and normalised by this instead of low/high.
    check: Callable[[str], str] | None = None


def _pattern(what: str, regex: str, example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = value.strip()
        if text and not re.fullmatch(regex, text):
            raise ValidationError(f"{text!r} is not {what}, e.g. {example}.")
        return text

    return check


_EMAIL = r"[^@\s,;<>\"]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+"
_DOMAIN = r"(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?"


def _security(value: str) -> str:
    text = value.strip().lower()
    if text not in ("starttls", "tls", "none"):
        raise ValidationError(f"smtp.security is starttls, tls (implicit TLS, port 465) or none, not {value!r}.")
    return text


def _domains(value: str) -> str:
    parts = [p.strip().lower() for p in value.split(",") if p.strip()]
    for part in parts:
        if not re.fullmatch(_DOMAIN, part):
            raise ValidationError(f"{part!r} is not a mail domain pattern, e.g. *.gov.uk or knowsley.gov.uk.")
    return ",".join(parts)


def _path(value: str) -> str:
    text = value.strip()
    if any(ord(ch) < 32 for ch in text):
        raise ValidationError("A file name cannot hold control characters.")
    return text


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("rag.amber_days", DEFAULT_AMBER_DAYS, 0, 365, "Amber when due within this many days..."),
        Setting("rag.amber_progress", DEFAULT_AMBER_PROGRESS, 0, 100, "...and progress is under this percentage."),
        Setting("backups", DEFAULT_BACKUPS, 1, 1000, "How many previous versions of the store to keep."),
        Setting("small_numbers", 5, 0, 1000, "Counts below this are suppressed in reports (shown as 'c')."),
        Setting("visit_interval_months", 5, 1, 24, "Months between projected monitoring visits."),
        Setting("import.max_rows", 20_000, 1, 1_000_000, "kt import refuses a spreadsheet with more rows."),
        Setting("import.max_mb", 50, 1, 2_000, "kt import refuses a spreadsheet larger than this (MB)."),
        Setting("ics.visit_alarm_days", 7, 0, 90, "Calendar reminder this many days before a monitoring visit."),
        Setting("ics.deadline_alarm_days", 7, 0, 90, "...before the statutory action-plan deadline."),
        Setting("ics.board_alarm_days", 1, 0, 90, "...before a board meeting."),
        Setting("remind.due_within", 7, 0, 365, "kt remind: actions due within this many days..."),
        Setting("remind.stale_days", 30, 1, 365, "...and open actions with no update for this many days."),
        Setting("remind.lead_after_days", 14, 0, 365, "Overdue by more than this: copied to the focus area's lead."),
        Setting("remind.escalate_after_days", 28, 0, 730, "Overdue by more than this: also to remind.escalation_to."),
        Setting("remind.repeat_days", 7, 0, 365, "The same reminder is not sent again within this many days."),
        Setting(
            "remind.escalation_to",
            "",
            0,
            0,
            "Escalation address, e.g. the Director's office.",
            _pattern("an e-mail address", _EMAIL, "dcs.office@knowsley.gov.uk"),
        ),
        Setting(
            "remind.domains",
            "",
            0,
            0,
            "Domains reminders may go to, e.g. *.gov.uk (others need --allow-external).",
            _domains,
        ),
        Setting(
            "smtp.host",
            "localhost",
            0,
            0,
            "The mail server.",
            _pattern("a host name", r"[A-Za-z0-9](?:[A-Za-z0-9\-.:\[\]]*[A-Za-z0-9\]])?", "smtp.knowsley.gov.uk"),
        ),
        Setting("smtp.port", 587, 1, 65535, "Its port (587 for STARTTLS, 465 for implicit TLS)."),
        Setting("smtp.security", "starttls", 0, 0, "starttls, tls (implicit) or none.", _security),
        Setting(
            "smtp.user",
            "",
            0,
            0,
            "The login, if the server needs one.",
            _pattern("a user name", r"[^\s\x00-\x1f]+", "kt-reminders"),
        ),
        Setting(
            "smtp.from",
            "",
            0,
            0,
            "The From address of reminders.",
            _pattern("an e-mail address", _EMAIL, "improvement.plan@knowsley.gov.uk"),
        ),
        Setting(
            "smtp.password_env",
            "KT_SMTP_PASSWORD",
            0,
            0,
            "The environment variable holding the password...",
            _pattern("an environment variable name", r"[A-Za-z_][A-Za-z0-9_]*", "KT_SMTP_PASSWORD"),
        ),
        Setting("smtp.password_file", "", 0, 0, "...or a file holding it (never the store).", _path),
        Setting("smtp.ca_file", "", 0, 0, "Certificates to trust besides the system's (a PEM file).", _path),
        Setting("smtp.timeout", 30, 1, 600, "Seconds to wait for the mail server."),
    )
}


def _setting(name: str) -> Setting:
    found = SETTINGS.get(name.strip().lower())
    if found is None:
        raise ValidationError(f"Unknown setting {name!r}: use {', '.join(SETTINGS)}.")
    return found


def list_settings(s: Session) -> list[tuple[Setting, Any]]:
    return [(setting, s.store.setting(setting.name, setting.default)) for setting in SETTINGS.values()]


def set_setting(s: Session, name: str, value: str) -> tuple[Setting, Any]:
    setting = _setting(name)
    if setting.check is not None:
        text = setting.check(value)
        s.store.set_setting(setting.name, text)
        return setting, text
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(f"{setting.name} takes a whole number, not {value!r}.") from None
    if not setting.low <= number <= setting.high:
        raise ValidationError(f"{setting.name} must be from {setting.low} to {setting.high}.")
    s.store.set_setting(setting.name, number)
    return setting, number


def unset_setting(s: Session, name: str) -> Setting:
    setting = _setting(name)
    s.store.set_setting(setting.name, None)
    return setting


def setting_value(s: Session, name: str) -> int:
    setting = SETTINGS[name]
    return int(s.store.setting(name, setting.default))


def setting_text(s: Session, name: str) -> str:
    """A text setting's value (its default when unset)."""
    setting = SETTINGS[name]
    return str(s.store.setting(name, setting.default))
