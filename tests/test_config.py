"""config.py: every setting declared once, checked the same way on every path in."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from knowsley_tracker.config import (
    SETTINGS,
    Choice,
    Day,
    Flag,
    Setting,
    Text,
    Whole,
    find_setting,
    parse_setting,
    read_setting,
    read_setting_or_default,
    setting_problems,
)
from knowsley_tracker.errors import CorruptStoreError, ValidationError

TODAY = date(2025, 11, 30)


@pytest.mark.parametrize("setting", list(SETTINGS.values()), ids=lambda s: s.name)
def test_every_declared_default_is_a_value_its_kind_accepts(setting: Setting) -> None:
    assert setting.kind.check(setting.default) is None
    assert setting.name == setting.name.lower() and setting.help.strip()
    assert parse_setting(setting, setting.kind.show(setting.default), TODAY) == setting.default


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (Whole(0, 365), " 21 ", 21),
        (Whole(-5, 5), "-5", -5),
        (Choice(("OFFICIAL", "OFFICIAL-SENSITIVE")), "official-sensitive", "OFFICIAL-SENSITIVE"),
        (Text(20), "  Improvement Board  ", "Improvement Board"),
        (Flag(), "Yes", True),
        (Flag(), "off", False),
        (Day(), "1/9/2025", "2025-09-01"),
        (Day(), "+2w", "2025-12-14"),
    ],
)
def test_typed_values_become_stored_values(kind: Any, typed: str, stored: Any) -> None:
    setting = Setting("example", kind, stored, "An example.")
    assert parse_setting(setting, typed, TODAY) == stored
    assert kind.check(stored) is None


@pytest.mark.parametrize(
    ("kind", "typed", "accepted"),
    [
        (Whole(0, 365), "soon", "a whole number from 0 to 365"),
        (Whole(0, 365), "1.5", "a whole number from 0 to 365"),
        (Whole(0, 365), "366", "a whole number from 0 to 365"),
        (Whole(1, 1000), "", "a whole number from 1 to 1,000"),
        (Whole(0, 9), "٣", "a whole number from 0 to 9"),  # an Arabic-Indic digit: isdigit, but not typed as 3
        (Choice(("a", "b")), "c", "one of a, b"),
        (Text(5), "too long", "text of 1 to 5 characters on one line"),
        (Text(50), "two\nlines", "text of 1 to 50 characters on one line"),
        (Flag(), "maybe", "yes or no"),
        (Day(), "31/12/9999", "a date from 1 Jan 1900 to 31 Dec 2999"),
        (Day(), "next week", "a date from 1 Jan 1900 to 31 Dec 2999"),
    ],
)
def test_bad_typed_values_are_refused_naming_what_is_accepted(kind: Any, typed: str, accepted: str) -> None:
    setting = Setting("example", kind, None, "An example.")
    with pytest.raises(ValidationError) as caught:
        parse_setting(setting, typed, TODAY)
    assert caught.value.message == f"example takes {accepted}, not {typed!r}."


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Whole(0, 365), "soon"),
        (Whole(0, 365), True),
        (Whole(0, 365), 14.0),
        (Whole(0, 365), [14]),
        (Whole(0, 365), 10**40),
        (Choice(("a",)), ["a"]),
        (Text(10), 3),
        (Flag(), "yes"),
        (Day(), "9999-12-31"),
        (Day(), "31/12/2025"),
    ],
)
def test_stored_values_of_the_wrong_kind_are_found(kind: Any, value: Any) -> None:
    assert kind.check(value) is not None


def test_a_hand_edited_setting_is_an_error_that_says_how_to_fix_it() -> None:
    stored = {"rag.amber_days": "soon", "backups": "many", "colour": "blue", "small_numbers": 3}
    with pytest.raises(CorruptStoreError) as caught:
        read_setting(stored, "rag.amber_days")
    assert caught.value.message == (
        "The plan's setting rag.amber_days is 'soon', which kt cannot use: it takes a whole number from 0 to 365. "
        "Fix it with kt config set rag.amber_days VALUE, or kt config unset rag.amber_days for the default (14); "
        "kt doctor lists every setting that needs fixing."
    )
    assert read_setting(stored, "small_numbers") == 3
    assert read_setting(stored, "rag.amber_progress") == 75  # unset: the default
    assert read_setting_or_default(stored, "backups") == 10  # housekeeping carries on at the default
    assert [(p.name, p.setting is not None) for p in setting_problems(stored)] == [
        ("rag.amber_days", True),
        ("backups", True),
        ("colour", False),
    ]


def test_setting_names_are_found_in_any_case_and_unknown_ones_listed() -> None:
    assert find_setting(" RAG.Amber_Days ").name == "rag.amber_days"
    with pytest.raises(ValidationError) as caught:
        find_setting("colour")
    assert caught.value.message == f"Unknown setting 'colour': use {', '.join(SETTINGS)}."
