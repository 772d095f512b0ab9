"""Time loading stored records: the generated straight-line loader against a plain loop.

    python benchmarks/loader.py [STORE]     # default: the region plan benchmarks/run.py builds

Both build the same records from the same rows (the test below checks that),
without re-running their checks; the plain loop walks the field plan that
``models._load_plan`` makes, the generated loader has that loop unrolled into
code once per class in each process (that compile is timed too). Prints the
median of 31 rounds per record kind.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowsley_tracker import models
from knowsley_tracker.models import Action, Evidence, LogEntry, Owner, Recommendation, Record
from knowsley_tracker.storage import Store

HERE = Path(__file__).resolve().parent
DEFAULT = HERE / "work" / "region-3000a-50000u-s1.json"
ROUNDS = 31


def plain_loader(cls: type[Record]) -> Callable[[int, dict[str, Any]], Any]:
    """The same loading as the generated loader, as a loop over the field plan."""
    plan = models._load_plan(cls)
    missing = object()

    def load(doc_id: int, row: dict[str, Any]) -> Any:
        record = cls.__new__(cls)
        record.id = doc_id
        for name, convert, default in plan:
            value = row.get(name, missing)
            if value is missing:
                value = default()
            elif value is not None and convert is not None:
                value = convert(value)
            setattr(record, name, value)
        record._loaded()
        return record

    return load


def median_ms(load: Callable[[int, dict[str, Any]], Any], rows: list[tuple[int, dict[str, Any]]]) -> float:
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        for doc_id, row in rows:
            load(doc_id, row)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    store = Store.open(path)
    print(f"{path.name}: median of {ROUNDS} rounds")
    print(f"{'records':<24}{'generated ms':>14}{'plain loop ms':>15}{'ratio':>8}{'generating ms':>15}")
    for cls in (Action, Evidence, LogEntry, Recommendation, Owner):
        rows = [(i, dict(r)) for i, r in store.rows(cls.TABLE)]
        generated = models.Record.from_record.__func__  # type: ignore[attr-defined]
        plain = plain_loader(cls)
        for doc_id, row in rows[:200]:
            assert generated(cls, doc_id, row) == plain(doc_id, row)
        fast = median_ms(lambda i, r, c=cls: c.from_record(i, r), rows)
        slow = median_ms(plain, rows)
        make = []
        for _ in range(ROUNDS):
            began = time.perf_counter()
            models._make_loader(cls)  # what the first record of a kind costs every command
            make.append(time.perf_counter() - began)
        made = statistics.median(make) * 1000
        print(f"{f'{len(rows):,} {cls.TABLE}':<24}{fast:>14.2f}{slow:>15.2f}{slow / fast:>8.2f}{made:>15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
