"""The shipped example plan builds, matches the committed store, and reads sensibly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILDER = ROOT / "examples" / "build_knowsley_2025.py"
SHIPPED = ROOT / "examples" / "knowsley-2025" / "plan.json"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("example") / "plan.json"
    result = subprocess.run([sys.executable, str(BUILDER), str(target)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Built the example plan at {target} (as of 30 Nov 2025).\n"
    return target


def tables(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_example_is_realistic(built: Path) -> None:
    data = tables(built)
    assert len(data["recommendations"]) == 12
    assert len(data["focus_areas"]) == 8
    statuses = Counter(a["status"] for a in data["actions"].values())
    assert sum(statuses.values()) >= 30
    assert set(statuses) == {"not-started", "in-progress", "blocked", "complete", "dropped"}
    assert len(data["log"]) >= 40
    assert len(data["evidence"]) >= 8
    assert len(data["visits"]) == 3
    assert any(a["due"] != a["original_due"] for a in data["actions"].values())
    assert any(a["rag_override"] for a in data["actions"].values())
    assert len(data["kpis"]) == 10 and len(data["kpi_values"]) >= 80
    assert len(data["boards"]) == 8 and len(data["interventions"]) == 2 and len(data["partners"]) == 2


def test_example_report_tells_the_story(kt: Any) -> None:
    result = kt("--db", str(SHIPPED), "report", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["inspection"]["judgement"] == "inadequate"
    assert report["action_plan"]["sent"] == "2025-04-25"
    assert report["intervention"]["type"] == "improvement-notice"
    assert report["next_monitoring_visit"]["date"] == "2026-02-10"
    assert report["since_last_board"]["board"] == "B6"
    young_carers = next(k for k in report["kpis"] if k["key"] == "VULN-01")
    assert [p["value"]["text"] for p in young_carers["history"]][3:6] == ["c", "c", "c"]


def test_shipped_store_matches_the_builder(built: Path) -> None:
    fresh, shipped = tables(built), tables(SHIPPED)
    tables_compared = (
        "inspections", "focus_areas", "owners", "recommendations", "actions", "log", "evidence", "visits",
        "kpis", "kpi_values", "boards", "interventions", "partners",
    )  # fmt: skip
    for table in tables_compared:
        assert fresh[table] == shipped[table], f"examples/knowsley-2025/plan.json is stale in {table}: rebuild it"


def test_example_holds_no_personal_data(built: Path) -> None:
    from knowsley_tracker.guard import find_personal_data

    text = built.read_text()
    assert find_personal_data(text) == []


def test_builder_refuses_to_overwrite(built: Path) -> None:
    result = subprocess.run([sys.executable, str(BUILDER), str(built)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr == f"{built} exists; pass --replace to rebuild it.\n"


def test_cli_reads_the_example(kt: Any) -> None:
    result = kt("--db", str(SHIPPED), "action", "list", "--overdue", "--json")
    assert result.exit_code == 0, result.stderr
    overdue = json.loads(result.stdout)
    assert [a["ref"] for a in overdue] == ["A14", "A35", "A5", "A8", "A27", "A33"]
    assert all(a["rag"] == "red" for a in overdue)


def test_every_file_the_shipped_store_needs_is_committed() -> None:
    """A clean clone must be able to open the example: its snapshots and segments are in git."""
    import shutil

    data = tables(SHIPPED)
    needed = [f"plan.json.d/snapshots/{b['snapshot_file']}" for b in data["boards"].values() if b.get("snapshot_file")]
    for table_segments in data["_meta"]["1"].get("segments", {}).values():
        needed += [f"plan.json.d/segments/{s['file']}" for s in table_segments]
    assert needed, "the example has board snapshots"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    folder = SHIPPED.parent
    tracked = subprocess.run(
        ["git", "ls-files", "--", *needed], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(tracked) == sorted(needed)
