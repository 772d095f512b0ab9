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
    default: int | str
    low: int
    high: int  # for text settings, the longest value taken
    help: str
    kind: str = "int"  # int, text, or image (a PNG or JPEG file, stored as its absolute path)


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("rag.amber_days", DEFAULT_AMBER_DAYS, 0, 365, "Amber when due within this many days..."),
        Setting("rag.amber_progress", DEFAULT_AMBER_PROGRESS, 0, 100, "...and progress is under this percentage."),
        Setting("backups", DEFAULT_BACKUPS, 1, 1000, "How many previous versions of the store to keep."),
        Setting("small_numbers", 5, 0, 1000, "Counts below this are suppressed in reports (shown as 'c')."),
        Setting("visit_interval_months", 5, 1, 24, "Months between projected monitoring visits."),
        # Board papers (kt report): the cover and every page's header and footer.
        Setting("board.name", "", 0, 120, "The board's name on the paper's cover.", "text"),
        Setting("paper.marking", "OFFICIAL", 1, 60, "Protective marking on every page of the paper.", "text"),
        Setting(
            "paper.author", "", 0, 120, "The author's role on the cover, e.g. Director of Children's Services.", "text"
        ),
        Setting("paper.logo", "", 0, 4096, "A PNG or JPEG logo embedded on the cover.", "image"),
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
    if setting.kind != "int":
        text = _text_value(s, setting, value)
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


def text_setting(s: Session, name: str) -> str:
    setting = SETTINGS[name]
    value = s.store.setting(name, setting.default)
    return value if isinstance(value, str) else str(setting.default)


def _text_value(s: Session, setting: Setting, value: str) -> str:
    """A text setting's value, checked: one line, not too long, no personal data; a logo must be a real image."""
    text = value.strip()
    if len(text) < setting.low:
        raise ValidationError(f"{setting.name} cannot be empty (kt config unset {setting.name} for the default).")
    if len(text) > setting.high:
        raise ValidationError(f"{setting.name} takes at most {setting.high} characters.")
    if not text.isprintable():
        raise ValidationError(f"{setting.name} must be one line of printable text.")
    if setting.kind == "image":
        if not text:
            return ""
        from pathlib import Path

        from knowsley_tracker.images import read_image

        path = Path(text).expanduser().absolute()
        read_image(path)
        return str(path)
    s.text(setting.name, text)
    return text
