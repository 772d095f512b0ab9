"""Plan-wide settings, stored in the plan so every officer and cron job agrees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.rag import DEFAULT_AMBER_DAYS, DEFAULT_AMBER_PROGRESS
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import DEFAULT_BACKUPS


@dataclass(frozen=True)
class Setting:
    name: str
    default: int
    low: int
    high: int
    help: str


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
