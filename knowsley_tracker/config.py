"""Every plan setting, declared once: its name, type, accepted values, default and help.

``kt config list|get|set|unset``, ``kt import FILE.json``, the code that reads a
setting and ``kt doctor`` all work from :data:`SETTINGS`, so a value is checked
the same way on every path in (a typed command, an import file, a hand-edited
store). Settings live in the store's ``_meta`` so every officer and cron job
agrees on them.

To add a setting, add one line to :data:`SETTINGS`, for example::

    Setting("reminders.days_before", Whole(1, 60), 7, "Remind owners this many days before an action is due."),

and read it with ``session.setting("reminders.days_before")`` (or
:func:`read_setting` below the service layer). Kinds: :class:`Whole` (a range),
:class:`Choice`, :class:`Text`, :class:`Flag`, :class:`Day` (a date in the
supported range) and :class:`ImageFile`. Nothing here imports storage, rendering
or the CLI. Plain classes and NamedTuples, not dataclasses: every command imports
this module, and generating dataclass methods cost about 2 ms of start-up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

from knowsley_tracker.errors import CorruptStoreError, ValidationError
from knowsley_tracker.patterns import LazyPattern


class Kind(ABC):
    """What values a setting takes: read from typed text, checked as stored JSON.
    Every kind below implements all three; Kind itself cannot be made."""

    @property
    @abstractmethod
    def accepted(self) -> str:
        """The values accepted, as a phrase: ``a whole number from 0 to 365``."""

    @abstractmethod
    def from_text(self, text: str, today: date) -> Any:
        """The stored value for what a user typed; raises ValueError."""

    @abstractmethod
    def check(self, value: Any) -> str | None:
        """Why a stored or imported value is not accepted (None when it is)."""

    def show(self, value: Any) -> str:
        return str(value)


def _typed(value: Any) -> str:
    """A value as a message quotes it: ``'soon'``, ``1.5``, ``true`` (JSON's spelling for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "...'"


class Whole(Kind):
    """A whole number from ``low`` to ``high``."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    @property
    def accepted(self) -> str:
        return f"a whole number from {self.low:,} to {self.high:,}"

    def from_text(self, text: str, today: date) -> Any:
        word = text.strip()
        if not (word.isascii() and word.lstrip("-").isdigit()):
            raise ValueError(f"not a whole number: {text!r}")
        return int(word)

    def check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{_typed(value)} is not a whole number"
        if not self.low <= value <= self.high:
            return f"{value:,} is out of range"
        return None


class Choice(Kind):
    """One of a few words, matched in any case and stored as declared."""

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values

    @property
    def accepted(self) -> str:
        return "one of " + ", ".join(self.values)

    def from_text(self, text: str, today: date) -> Any:
        for value in self.values:
            if value.casefold() == text.strip().casefold():
                return value
        raise ValueError(f"not one of the choices: {text!r}")

    def check(self, value: Any) -> str | None:
        return None if isinstance(value, str) and value in self.values else f"{_typed(value)} is not one of them"


class Text(Kind):
    """One line of text (for names and labels); ``optional`` text may be empty."""

    def __init__(self, max_length: int = 200, *, optional: bool = False) -> None:
        self.max_length, self.optional = max_length, optional

    @property
    def accepted(self) -> str:
        return f"text of {0 if self.optional else 1} to {self.max_length} characters on one line"

    def from_text(self, text: str, today: date) -> Any:
        value = text.strip()
        problem = self.check(value)
        if problem:
            raise ValueError(problem)
        return value

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{_typed(value)} is not text"
        if (not value.strip() and not self.optional) or len(value) > self.max_length:
            return "the text is empty" if not value.strip() else f"the text is {len(value):,} characters long"
        if value and not value.isprintable():
            return "the text holds line breaks or control characters"
        return None


_YES = {"yes", "y", "true", "on", "1"}
_NO = {"no", "n", "false", "off", "0"}


class Flag(Kind):
    """Yes or no, stored as true or false."""

    @property
    def accepted(self) -> str:
        return "yes or no"

    def from_text(self, text: str, today: date) -> Any:
        word = text.strip().lower()
        if word in _YES or word in _NO:
            return word in _YES
        raise ValueError(f"not yes or no: {text!r}")

    def check(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else f"{_typed(value)} is not true or false"

    def show(self, value: Any) -> str:
        return "yes" if value else "no"


class Day(Kind):
    """A calendar date in the range kt handles, stored as ISO ``YYYY-MM-DD``."""

    @property
    def accepted(self) -> str:
        from knowsley_tracker.dates import RANGE_TEXT

        return f"a date from {RANGE_TEXT}"

    def from_text(self, text: str, today: date) -> Any:
        from knowsley_tracker.dates import parse_date

        return parse_date(text, today).isoformat()

    def check(self, value: Any) -> str | None:
        from knowsley_tracker.dates import in_range

        if not isinstance(value, str):
            return f"{_typed(value)} is not an ISO date"
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return f"{_typed(value)} is not an ISO date (YYYY-MM-DD)"
        return None if in_range(day) else f"{value} is out of range"

    def show(self, value: Any) -> str:
        from knowsley_tracker.dates import format_date

        return format_date(date.fromisoformat(value)) if isinstance(value, str) else str(value)


class Pattern(Kind):
    """One line of text of a given shape (an e-mail address, a host name), or empty when optional."""

    def __init__(self, what: str, regex: str, example: str, *, optional: bool = True) -> None:
        self.what, self.example, self.optional = what, example, optional
        self.regex = LazyPattern(regex)  # compiled when a setting of this kind is checked

    @property
    def accepted(self) -> str:
        return f"{self.what}, e.g. {self.example}" + (" (empty for none)" if self.optional else "")

    def from_text(self, text: str, today: date) -> Any:
        value = text.strip()
        if self.check(value):
            raise ValueError(value)
        return value

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{_typed(value)} is not text"
        if value == "" and self.optional:
            return None
        return None if self.regex.fullmatch(value) else f"{_typed(value)} is not {self.what}"


class DomainList(Kind):
    """Mail domain patterns separated by commas (``*.gov.uk, knowsley.gov.uk``), stored lower case."""

    _DOMAIN = r"(?:\*\.)?[a-z0-9](?:[a-z0-9\-.]*[a-z0-9])?"

    @property
    def accepted(self) -> str:
        return "mail domains separated by commas, e.g. *.gov.uk,knowsley.gov.uk (empty for none)"

    def from_text(self, text: str, today: date) -> Any:
        value = ",".join(p.strip().lower() for p in text.split(",") if p.strip())
        if (not value and text.strip()) or self.check(value):  # ",,," names no domain: refused, not read as none
            raise ValueError(value)
        return value

    def check(self, value: Any) -> str | None:
        import re

        if not isinstance(value, str):
            return f"{_typed(value)} is not text"
        bad = [p for p in value.split(",") if value and not re.fullmatch(self._DOMAIN, p)]
        return f"{_typed(bad[0])} is not a mail domain pattern" if bad else None


class ImageFile(Kind):
    """A PNG or JPEG file, checked when set and stored as its absolute path (empty: none).
    The paper embeds the image; it never links to it."""

    @property
    def accepted(self) -> str:
        return "the path of a PNG or JPEG file (empty for none)"

    def from_text(self, text: str, today: date) -> Any:
        from pathlib import Path

        from knowsley_tracker.images import read_image

        if not text.strip():
            return ""
        path = Path(text.strip()).expanduser().absolute()
        read_image(path)  # ValidationError says what is wrong with the file
        return str(path)

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{_typed(value)} is not a file path"
        if value and (not value.startswith("/") or not value.isprintable()):
            return f"{_typed(value)} is not an absolute file path"
        return None


# An e-mail address as kt accepts one in a setting or an owner's record.
EMAIL = r"[^@\s,;<>\"]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+"


class Setting(NamedTuple):
    name: str
    kind: Kind
    default: Any
    help: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("rag.amber_days", Whole(0, 365), 14, "Amber when due within this many days..."),
        Setting("rag.amber_progress", Whole(0, 100), 75, "...and progress is under this percentage."),
        Setting("backups", Whole(1, 1000), 10, "How many previous versions of the store to keep."),
        Setting("small_numbers", Whole(0, 1000), 5, "Counts from 1 to this are suppressed in reports (shown as 'c')."),
        Setting("visit_interval_months", Whole(1, 24), 5, "Months between projected monitoring visits."),
        Setting("import.json_max_mb", Whole(1, 4096), 100, "kt import refuses a JSON export over this many MB."),
        # Board papers (kt report): the cover and every page's header and footer.
        Setting("board.name", Text(120, optional=True), "", "The board's name on the paper's cover."),
        Setting("paper.marking", Text(60), "OFFICIAL", "Protective marking on every page of the paper."),
        Setting(
            "paper.author",
            Text(120, optional=True),
            "",
            "The author's role on the cover, e.g. Director of Children's Services.",
        ),
        Setting("paper.logo", ImageFile(), "", "A PNG or JPEG logo embedded on the cover."),
        # kt import of spreadsheets, and calendars (kt export --format ics).
        Setting("import.max_rows", Whole(1, 1_000_000), 20_000, "kt import refuses a spreadsheet with more rows."),
        Setting("import.max_mb", Whole(1, 2_000), 50, "kt import refuses a spreadsheet larger than this (MB)."),
        Setting("ics.visit_alarm_days", Whole(0, 90), 7, "Calendar reminder this many days before a monitoring visit."),
        Setting("ics.deadline_alarm_days", Whole(0, 90), 7, "...before the statutory action-plan deadline."),
        Setting("ics.board_alarm_days", Whole(0, 90), 1, "...before a board meeting."),
        # kt remind: who is reminded of what, and when it escalates.
        Setting("remind.due_within", Whole(0, 365), 7, "kt remind: actions due within this many days..."),
        Setting("remind.stale_days", Whole(1, 365), 30, "...and open actions with no update for this many days."),
        Setting(
            "remind.lead_after_days", Whole(0, 365), 14, "Overdue by more than this: copied to the focus area's lead."
        ),
        Setting(
            "remind.escalate_after_days", Whole(0, 730), 28, "Overdue by more than this: also to remind.escalation_to."
        ),
        Setting("remind.repeat_days", Whole(0, 365), 7, "The same reminder is not sent again within this many days."),
        Setting(
            "remind.escalation_to",
            Pattern("an e-mail address", EMAIL, "dcs.office@knowsley.gov.uk"),
            "",
            "Escalation address, e.g. the Director's office.",
        ),
        Setting(
            "remind.domains",
            DomainList(),
            "",
            "Domains reminders may go to, e.g. *.gov.uk (others need --allow-external; empty: none).",
        ),
        # The mail server kt remind sends through.
        Setting(
            "smtp.host",
            Pattern("a host name", r"[A-Za-z0-9](?:[A-Za-z0-9\-.:\[\]]*[A-Za-z0-9\]])?", "smtp.knowsley.gov.uk"),
            "localhost",
            "The mail server.",
        ),
        Setting("smtp.port", Whole(1, 65535), 587, "Its port (587 for STARTTLS, 465 for implicit TLS)."),
        Setting("smtp.security", Choice(("starttls", "tls", "none")), "starttls", "starttls, tls (implicit) or none."),
        Setting(
            "smtp.user",
            Pattern("a user name", r"[^\s\x00-\x1f]+", "kt-reminders"),
            "",
            "The login, if the server needs one.",
        ),
        Setting(
            "smtp.from",
            Pattern("an e-mail address", EMAIL, "improvement.plan@knowsley.gov.uk"),
            "",
            "The From address of reminders.",
        ),
        Setting(
            "smtp.password_env",
            Pattern("an environment variable name", r"[A-Za-z_][A-Za-z0-9_]*", "KT_SMTP_PASSWORD", optional=False),
            "KT_SMTP_PASSWORD",
            "The environment variable holding the password...",
        ),
        Setting("smtp.password_file", Text(4096, optional=True), "", "...or a file holding it (never the store)."),
        Setting(
            "smtp.ca_file", Text(4096, optional=True), "", "Certificates to trust besides the system's (a PEM file)."
        ),
        Setting("smtp.timeout", Whole(1, 600), 30, "Seconds to wait for the mail server."),
    )
}


def find_setting(name: str) -> Setting:
    """A declared setting by name (any case); ValidationError naming them all otherwise."""
    found = SETTINGS.get(name.strip().lower())
    if found is None:
        raise ValidationError(f"Unknown setting {name!r}: use {', '.join(SETTINGS)}.")
    return found


def parse_setting(setting: Setting, text: str, today: date) -> Any:
    """The value to store for what a user typed (kt config set); ValidationError otherwise."""
    try:
        value = setting.kind.from_text(text, today)
    except ValidationError:
        raise  # the kind said exactly what is wrong (an image file that is not one)
    except ValueError:
        value = _Unreadable()
    problem = None if isinstance(value, _Unreadable) else setting.kind.check(value)
    if isinstance(value, _Unreadable) or problem:
        raise ValidationError(f"{setting.name} takes {setting.kind.accepted}, not {_typed(text)}.")
    return value


class _Unreadable:
    pass


def read_setting(settings: Mapping[str, Any], name: str) -> Any:
    """A setting's value from a store's settings (its default when unset). A value that
    someone edited into the store by hand and kt cannot use raises CorruptStoreError
    saying how to fix it, rather than failing somewhere later."""
    setting = SETTINGS[name]
    value = settings.get(name)
    if value is None:
        return setting.default
    if setting.kind.check(value) is not None:
        raise CorruptStoreError(
            f"The plan's setting {name} is {_typed(value)}, which kt cannot use: it takes {setting.kind.accepted}. "
            f"Fix it with kt config set {name} VALUE, or kt config unset {name} for the default "
            f"({setting.kind.show(setting.default)}); kt doctor lists every setting that needs fixing."
        )
    return value


def read_setting_or_default(settings: Mapping[str, Any], name: str) -> Any:
    """Like :func:`read_setting`, but the default for a value kt cannot use: for housekeeping
    (pruning backups, listing them) that must not stop a command. kt doctor reports the value."""
    setting = SETTINGS[name]
    value = settings.get(name)
    return setting.default if value is None or setting.kind.check(value) is not None else value


class SettingProblem(NamedTuple):
    """A stored or imported setting kt cannot use: a value of the wrong kind, or a name it does not know."""

    name: str
    value: Any
    setting: Setting | None  # None: not a setting this knowsley-tracker knows

    @property
    def message(self) -> str:
        """``'soon' is not accepted: rag.amber_days takes a whole number from 0 to 365``."""
        if self.setting is None:
            return "not a setting this knowsley-tracker knows (kt config list shows the ones it does)"
        return f"{_typed(self.value)} is not accepted: {self.name} takes {self.setting.kind.accepted}"


def setting_problems(settings: Mapping[str, Any]) -> list[SettingProblem]:
    """Every stored setting kt cannot use, and every name it does not know (kt doctor, kt import)."""
    problems: list[SettingProblem] = []
    for name, value in settings.items():
        setting = SETTINGS.get(name)
        if setting is None or (value is not None and setting.kind.check(value) is not None):
            problems.append(SettingProblem(name, value, setting))
    return problems


def show_value(value: Any) -> str:
    """A stored value as a message shows it."""
    return _typed(value)
