"""Counts from the fault-injection tests, printed at the end of the pytest run.

Tests call :func:`add`; the ``pytest_terminal_summary`` hook in conftest.py
prints :func:`summary_lines`, so CI logs show how much was actually exercised.
"""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()

# Printed in this order; anything else counted follows alphabetically.
ORDER = (
    "concurrent processes",
    "concurrent kt commands",
    "SIGKILLs",
    "Ctrl-C interrupts",
    "write faults injected",
    "lock timeouts",
    "corrupt stores refused",
    "hostile texts",
    "traversal imports refused",
    "out-of-range dates refused",
    "store checks",
    "records verified",
)


def add(name: str, n: int = 1) -> None:
    COUNTS[name] += n


def summary_lines() -> list[str]:
    names = [n for n in ORDER if COUNTS[n]] + sorted(n for n in COUNTS if n not in ORDER and COUNTS[n])
    return [f"{name}: {COUNTS[name]}" for name in names]
