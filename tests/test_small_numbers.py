"""Small numbers: KPI counts of children below the threshold are shown as 'c' in every format."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

STEPS = [
    ("2025-09-01", ["init", "--authority", "Test Council"]),
    ("2025-09-01", ["focus", "add", "VULN", "Young carers"]),
    ("2025-09-01", ["kpi", "add", "YC-01", "Young carers waiting over 4 weeks", "--target", "0", "--unit", "count",
                    "--lower-is-better", "--focus", "VULN"]),
    ("2025-09-01", ["kpi", "add", "CL-02", "Care leavers in suitable accommodation", "--target", "93", "--unit", "%",
                    "--focus", "VULN"]),
    ("2025-09-01", ["kpi", "record", "YC-01", "17", "--period", "2025-07"]),
    ("2025-09-01", ["kpi", "record", "YC-01", "9", "--period", "2025-08"]),
    ("2025-09-01", ["kpi", "record", "CL-02", "--period", "2025-08", "--numerator", "46", "--denominator", "50"]),
    ("2025-10-01", ["kpi", "record", "YC-01", "3", "--period", "2025-09"]),
    ("2025-10-01", ["kpi", "record", "CL-02", "--period", "2025-09", "--numerator", "3", "--denominator", "3"]),
    ("2025-10-15", ["board", "add", "15/10/2025"]),
    ("2025-11-05", ["kpi", "record", "YC-01", "0", "--period", "2025-10"]),
    ("2025-11-05", ["kpi", "record", "CL-02", "--period", "2025-10", "--numerator", "47", "--denominator", "50"]),
]  # fmt: skip


@pytest.fixture
def small(kt: Any) -> Any:
    for day, args in STEPS:
        result = kt(*args, env={"KNOWSLEY_TRACKER_NOW": f"{day}T09:00:00+00:00"})
        assert result.exit_code == 0, (args, result.stderr)
    return kt


def test_kpi_views_suppress_small_counts(small: Any) -> None:
    shown = small("kpi", "show", "YC-01", "--json")
    history = [(p["period"], p["value"]) for p in json.loads(shown.stdout)["history"]]
    assert history == [
        ("2025-07", {"text": "17", "value": 17.0}),
        ("2025-08", {"text": "9", "value": 9.0}),
        ("2025-09", {"text": "c", "value": None}),  # 3 children: suppressed
        ("2025-10", {"text": "0", "value": 0.0}),  # zero is shown
    ]
    rate = json.loads(small("kpi", "show", "CL-02", "--json").stdout)["history"]
    assert [(p["period"], p["value"]["text"], p["numerator"]["text"], p["denominator"]["text"]) for p in rate] == [
        ("2025-08", "92%", "46", "50"),
        ("2025-09", "c", "c", "c"),  # 3 of 3: the rate would give the count away
        ("2025-10", "94%", "47", "50"),
    ]
    table = small("kpi", "show", "YC-01").stdout
    assert re.search(r"\bSep 2025\tc\b", table), table


def test_every_report_format_hides_them(small: Any) -> None:
    for fmt in ("markdown", "html", "text"):
        out = small("report", "--format", fmt).stdout
        assert "c (Sep 2025)" in out, fmt  # the board's value, in "since the last board"
        assert not re.search(r"\b3 \(Sep 2025\)|100% \(Sep", out), fmt
    data = json.loads(small("report", "--json").stdout)
    changes = {c["key"]: c for c in data["since_last_board"]["kpi_changes"]}
    assert changes["YC-01"]["was"]["value"] == {"text": "c", "value": None}
    assert changes["CL-02"]["was"]["value"] == {"text": "c", "value": None}
    assert changes["CL-02"]["trend"] is None  # a trend from a suppressed value would hint at it
    board = small("board", "show", "B1").stdout
    assert "YC-01\tYoung carers waiting over 4 weeks\tc\tSep 2025" in board
    assert "CL-02\tCare leavers in suitable accommodation\tc\tSep 2025" in board


def test_threshold_is_a_setting(small: Any) -> None:
    assert small("config", "set", "small_numbers", "0").exit_code == 0
    history = json.loads(small("kpi", "show", "YC-01", "--json").stdout)["history"]
    assert history[2]["value"] == {"text": "3", "value": 3.0}
    small("config", "set", "small_numbers", "10")
    history = json.loads(small("kpi", "show", "YC-01", "--json").stdout)["history"]
    assert [p["value"]["text"] for p in history] == ["17", "c", "c", "0"]
