"""Nearest matches for what a user mistyped: an owner, a focus key, a status, an id.

Used only on the way to an error message, so difflib is imported there and not
on every command's start-up. Pure functions: no storage, no rendering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")


def nearest(typed: str, choices: Mapping[str, T], cutoff: float = 0.6) -> T | None:
    """The choice whose name is closest to ``typed`` (ignoring case), if any is close enough.
    A name that contains what was typed (or is contained in it) counts as close, when only
    one does."""
    from difflib import get_close_matches

    wanted = typed.strip().casefold()
    if not wanted:
        return None
    folded: dict[str, T] = {}
    for name, value in choices.items():
        if name.strip():
            folded.setdefault(name.strip().casefold(), value)
    found = get_close_matches(wanted, list(folded), n=1, cutoff=cutoff)
    if found:
        return folded[found[0]]
    containing = {id(v): v for name, v in folded.items() if len(wanted) >= 3 and (wanted in name or name in wanted)}
    return next(iter(containing.values())) if len(containing) == 1 else None


def one_edit_apart(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one character added or removed, or two neighbouring
    characters swapped: the usual slips when typing an id. (One digit changed is not
    counted: every one-digit id would be one slip from every other.)"""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def one_slip_apart(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one slip: a character added, removed or changed, or two
    neighbours swapped (``HQ`` for ``HP``, ``LAED`` for ``LEAD``)."""
    if len(a) == len(b) and a != b and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return True
    return one_edit_apart(a, b)


def nearest_key(typed: str, keys: Mapping[str, T]) -> T | None:
    """The one short key (a focus area's ``HP``, a KPI's ``HP-01``) a single slip away from
    ``typed``, ignoring case; None when none is, or several are."""
    wanted = typed.strip().casefold()
    close = {id(v): v for key, v in keys.items() if key and one_slip_apart(wanted, key.casefold())}
    return next(iter(close.values())) if len(close) == 1 else None


def nearest_id(typed_number: int, existing: Iterable[int]) -> int | None:
    """The one existing id a slip of one digit away from ``typed_number``, if there is exactly one."""
    typed = str(typed_number)
    close = [n for n in existing if one_edit_apart(typed, str(n))]
    return close[0] if len(close) == 1 else None


# Letters people type for digits in an id: A1O is A10, Al2 is A12.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "i": "1"})


def as_digits(text: str) -> str:
    return text.translate(_DIGIT_LOOKALIKES)
