"""kt config: list, read, change and reset the plan's settings.

Every setting is declared once, in :mod:`knowsley_tracker.config` (name, type,
accepted values, default, help); this module only applies those declarations
to a session's store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowsley_tracker.config import (
    SETTINGS,
    Setting,
    Text,
    find_setting,
    parse_setting,
    read_setting,
)
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.service.session import Session

__all__ = ["SETTINGS", "Setting", "SettingRow", "get_setting", "list_settings", "set_setting", "unset_setting"]


@dataclass(frozen=True)
class SettingRow:
    setting: Setting
    value: Any  # as stored (the default when unset)
    problem: str | None  # what kt accepts, when a hand-edited value is not it; None when it can use it

    @property
    def shown(self) -> str:
        return self.setting.kind.show(self.value) if self.problem is None else repr(self.value)


def list_settings(s: Session) -> list[SettingRow]:
    """Every declared setting with its value, flagging values kt cannot use (without failing)."""
    stored = s.store.settings()
    rows = []
    for setting in SETTINGS.values():
        value = stored.get(setting.name)
        if value is None:
            rows.append(SettingRow(setting, setting.default, None))
        else:
            usable = setting.kind.check(value) is None
            rows.append(SettingRow(setting, value, None if usable else f"it takes {setting.kind.accepted}"))
    return rows


def get_setting(s: Session, name: str) -> SettingRow:
    """One setting's value (a value kt cannot use is an error saying how to fix it)."""
    setting = find_setting(name)
    return SettingRow(setting, read_setting(s.store.settings(), setting.name), None)


def set_setting(s: Session, name: str, value: str) -> tuple[Setting, Any]:
    """Change a setting from what the user typed, checked against its declaration."""
    setting = find_setting(name)
    typed = parse_setting(setting, value, s.today)
    if isinstance(setting.kind, Text) and typed:
        s.text(setting.name, typed)  # the paper prints it: no personal data
    s.store.set_setting(setting.name, typed)
    return setting, typed


def unset_setting(s: Session, name: str) -> Setting | str:
    """Put a setting back to its default; a name kt does not know (edited into the store
    by hand, or left by a newer version) is removed. Returns the setting, or the name removed."""
    stored = s.store.settings()
    key = name.strip().lower()
    if key not in SETTINGS:
        for stored_name in stored:
            if stored_name == name or str(stored_name).lower() == key:
                s.store.set_setting(stored_name, None)
                return str(stored_name)
        raise ValidationError(f"Unknown setting {name!r}: use {', '.join(SETTINGS)}.")
    setting = SETTINGS[key]
    s.store.set_setting(setting.name, None)
    return setting
