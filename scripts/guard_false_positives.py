"""Run the personal-data guard over real plan text and count what it flags.

The texts hold no personal data, so every flag is a false positive (the goal is
none). Sources: the verbatim Ofsted recommendations and the example plan in the
shared domain folder, and every free-text field of the shipped example store
(records and audit history). Also prints what the guard costs per text.

    python scripts/guard_false_positives.py [--domain ../shared/domain] [--show]

Exits 1 when anything is flagged, so CI can run it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowsley_tracker import guard  # noqa: E402
from knowsley_tracker.models import TABLES  # noqa: E402
from knowsley_tracker.storage import HISTORY, Store  # noqa: E402

EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"
# Fields that hold ids, dates, enum values or file names, never free text.
NOT_FREE_TEXT = {
    "at", "added_at", "created_at", "recorded_at", "completed_on", "due", "original_due", "date", "start", "end",
    "published", "issued", "lifted", "period", "period_end", "status", "type", "kind", "framework", "judgement",
    "rag_override", "snapshot_file", "snapshot_method", "frozen_at", "last_logged_at", "target_date", "revised",
    "action_plan_due", "action_plan_sent", "report_url", "link", "email",
}  # fmt: skip


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_FREE_TEXT:
                yield from strings(item)


def verbatim_recommendations(domain: Path) -> list[str]:
    """Each numbered recommendation in recommendations_verbatim.md."""
    text = (domain / "recommendations_verbatim.md").read_text(encoding="utf-8")
    return [m[1].strip() for m in re.finditer(r"(?m)^\d+\.\s+(.+)$", text)]


def example_plan_recommendations(domain: Path) -> list[str]:
    plan = json.loads((domain / "example_plan.json").read_text(encoding="utf-8"))
    return [rec["text"] for rec in plan["recommendations"]]


def example_plan_all_text(domain: Path) -> list[str]:
    """Every string in example_plan.json: actions, updates, evidence, KPIs, governance notes..."""
    plan = json.loads((domain / "example_plan.json").read_text(encoding="utf-8"))
    return [s for s in strings(plan) if not s.startswith("http")]


def shipped_example_store() -> list[str]:
    """Every free-text field of the shipped example store, and of its audit history."""
    store = Store.open(EXAMPLE)
    texts: list[str] = []
    for table in TABLES:
        for _, row in store.rows(table):
            texts.extend(strings(row))
    for _, row in store.rows(HISTORY):
        for _op, _table, _id, payload in row.get("changes", []):
            texts.extend(strings(payload or {}))
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = next((p for p in (ROOT.parent / "shared" / "domain", Path("/work/shared/domain")) if p.is_dir()), None)
    parser.add_argument("--domain", type=Path, default=default, help="the shared domain folder")
    parser.add_argument("--show", action="store_true", help="print each flagged text")
    args = parser.parse_args(argv)
    sources: list[tuple[str, list[str]]] = []
    if args.domain is not None:
        sources += [
            ("recommendations_verbatim.md: recommendations", verbatim_recommendations(args.domain)),
            ("example_plan.json: recommendation texts", example_plan_recommendations(args.domain)),
            ("example_plan.json: every text field", example_plan_all_text(args.domain)),
        ]
    else:
        print("No shared domain folder found (give --domain); checking the shipped example only.")
    sources.append(("examples/knowsley-2025: every free-text field and history value", shipped_example_store()))

    started = time.perf_counter()
    guard.find_personal_data("Case ref 123456, J.S. aged 14, 12 High Street, DOB 1/2/2015, L36 9YU")
    compile_ms = (time.perf_counter() - started) * 1000

    total_flagged = 0
    total_texts = 0
    elapsed = 0.0
    for name, texts in sources:
        started = time.perf_counter()
        results = [(text, guard.find_personal_data(text)) for text in texts]
        elapsed += time.perf_counter() - started
        flagged = [(text, kinds) for text, kinds in results if kinds]
        total_flagged += len(flagged)
        total_texts += len(texts)
        print(f"{name}: {len(texts)} texts, {len(flagged)} flagged")
        if args.show:
            for text, kinds in flagged:
                print(f"    {guard.describe(kinds)}: {text!r}")
    print(f"Total: {total_texts} texts, {total_flagged} flagged (the goal is none).")
    print(
        f"Cost: {elapsed / max(total_texts, 1) * 1e6:.1f} microseconds a text on average; "
        f"compiling every pattern once: {compile_ms:.1f} ms."
    )
    return 1 if total_flagged else 0


if __name__ == "__main__":
    sys.exit(main())
