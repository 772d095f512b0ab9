"""What checking each stored value's type costs as records are loaded.

    python benchmarks/record_loading.py

Every value read from a store is checked against its field's type (issue 10: a hand-edited
store is refused with one line naming the record and field, never a crash further on). This
loads 20,000 records of three kinds from the shipped example's rows, through the generated
loaders every big command uses, and prints the best of seven rounds in milliseconds.
Run it on two checkouts to compare; the figures in the commit that added the checks were
Action 12.5 -> 11.9 ms, LogEntry 6.4 -> 8.9 ms, KpiValue 8.5 -> 8.7 ms.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from knowsley_tracker.models import Action, KpiValue, LogEntry, Record

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025" / "plan.json"
COUNT = 20_000


def best_of(cls: type[Record], rows: list[dict[str, Any]], rounds: int = 7) -> float:
    for row in rows[:1000]:  # past GENERATE_AFTER: the generated loader from here on
        cls.from_record(1, row)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i, row in enumerate(rows):
            cls.from_record(i + 1, row)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    data = json.loads(EXAMPLE.read_text())
    for cls in (Action, LogEntry, KpiValue):
        stored = list(data[cls.TABLE].values())
        rows = [stored[i % len(stored)] for i in range(COUNT)]
        print(f"{cls.__name__:10} {COUNT:,} loads: {best_of(cls, rows) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
