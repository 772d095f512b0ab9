"""Relations declared once (knowsley_tracker.relations): removal refuses, cascades or
clears as declared, and doctor, undo and the JSON import read the same declaration."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from typing import Any

import pytest

from knowsley_tracker import relations
from knowsley_tracker.errors import RecordInUseError
from knowsley_tracker.models import RECORD_TYPES, Action, Kpi, KpiValue, LogEntry, Partner, Recommendation
from knowsley_tracker.relations import RELATIONS, OnRemove
from knowsley_tracker.service import removal
from knowsley_tracker.store_interface import PlanStore


def test_every_field_holding_ids_is_declared_once() -> None:
    holding = {
        (cls.__name__, f.name): "list" in str(f.type)
        for cls in RECORD_TYPES
        for f in fields(cls)
        # message_id is an e-mail's Message-ID header, not a record's id.
        if f.name not in ("id", "message_id") and (f.name.endswith(("_id", "_ids")) or f.name == "themes")
    }
    declared = [(r.source.__name__, r.field) for r in RELATIONS]
    assert sorted(declared) == sorted(holding)
    assert len(set(declared)) == len(declared)
    for relation in RELATIONS:
        assert relation.many is holding[(relation.source.__name__, relation.field)], relation


def test_removing_a_recommendation_a_partner_links_to_clears_the_link(kt: Any) -> None:
    """The bug: kt rec remove R1 succeeded while P1 still referred to R1, and kt doctor then
    reported the dangling reference."""
    for step in (
        ["init", "--authority", "Test Council"],
        ["rec", "add", "The caseloads of personal advisers."],
        ["rec", "add", "Management oversight of disabled children's cases."],
        ["partner", "add", "Neighbouring council (SLIP)", "--purpose", "Audit", "--from", "1/9/2025"]
        + ["--rec", "R1", "--rec", "R2"],
    ):
        assert kt(*step).exit_code == 0, step
    removed = kt("rec", "remove", "R1")
    assert (removed.exit_code, removed.stdout, removed.stderr) == (0, "Removed R1. P1 no longer refers to it.\n", "")
    [partner] = json.loads(kt("partner", "list", "--json").stdout)
    assert (partner["rec_ids"], partner["recs"]) == ([2], ["R2"])
    doctor = kt("doctor")
    assert (doctor.exit_code, doctor.stdout.splitlines()[-1]) == (0, "No problems found.")

    undone = kt("undo")
    assert undone.stdout.splitlines()[1] == "It brought back R1; put back P1's recommendations."
    [partner] = json.loads(kt("partner", "list", "--json").stdout)
    assert partner["rec_ids"] == [1, 2]
    assert kt("doctor").exit_code == 0


def test_removing_a_focus_area_clears_partner_links_but_refuses_while_others_use_it(kt: Any) -> None:
    for step in (
        ["init", "--authority", "Test Council"],
        ["focus", "add", "CL", "Care-experienced young people"],
        ["focus", "add", "QA", "Quality assurance"],
        ["rec", "add", "PA caseloads.", "--focus", "CL"],
        ["partner", "add", "Specialist", "--purpose", "Audit", "--from", "1/9/2025", "--focus", "QA", "--focus", "CL"],
    ):
        assert kt(*step).exit_code == 0, step
    refused = kt("focus", "remove", "CL")
    assert (refused.exit_code, refused.stderr) == (5, "Error: Focus area CL is still used by R1; move those first.\n")
    removed = kt("focus", "remove", "QA")
    assert (removed.exit_code, removed.stdout) == (0, "Removed focus area QA. P1 no longer refers to it.\n")
    assert json.loads(kt("partner", "list", "--json").stdout)[0]["focus_ids"] == [1]


def add(store: PlanStore, *records: Any) -> None:
    with store.transaction(by="Test Officer", what="set up"):
        for record in records:
            store.add(record)


def test_refusals_carry_the_records_in_the_way(plan_store: PlanStore) -> None:
    day = date(2025, 12, 1)
    add(
        plan_store,
        Recommendation(text="R"),
        Action(rec_id=1, title="A", due=day),
        Action(rec_id=1, title="B", due=day),
        LogEntry(action_id=1, at="2025-11-30T09:00:00+00:00", by="x"),
        Kpi(key="K-1", name="K", target=1, rec_ids=[1]),
        Partner(name="P", purpose="p", start=day, rec_ids=[1]),
    )
    with plan_store.transaction(by="Test Officer", what="rec remove R1"), pytest.raises(RecordInUseError) as refused:
        removal.remove(plan_store, plan_store.get(Recommendation, 1))
    error = refused.value
    assert (error.kind, error.record, error.referrers) == (
        "recommendations",
        "R1",
        (("actions", "A1"), ("actions", "A2"), ("kpis", "K-1")),
    )
    assert (error.exit_code, str(error)) == (5, "R1 is still referred to by A1, A2, K-1.")
    assert plan_store.get(Partner, 1).rec_ids == [1], "nothing was cleared when the removal was refused"


def test_a_kpi_takes_its_values_with_it(plan_store: PlanStore) -> None:
    day = date(2025, 10, 31)
    add(
        plan_store,
        Kpi(key="K-1", name="K", target=1),
        Kpi(key="K-2", name="K", target=1),
        KpiValue(kpi_id=1, period="2025-10", period_end=day, value=1),
        KpiValue(kpi_id=2, period="2025-10", period_end=day, value=2),
        KpiValue(kpi_id=1, period="2025-11", period_end=date(2025, 11, 30), value=3),
    )
    assert [r.on_remove for r in relations.relations_to(Kpi)] == [OnRemove.CASCADE]
    with plan_store.transaction(by="Test Officer", what="kpi remove K-1"):
        removed = removal.remove(plan_store, plan_store.get(Kpi, 1))
    assert ([r.ref for r in removed.cascaded], removed.cleared) == (["KV1", "KV3"], [])
    assert [v.id for v in plan_store.all(KpiValue)] == [2]
    assert removal.dangling(plan_store) == []
    entry = plan_store.history_entry(plan_store.txn)
    assert entry is not None
    assert [(c.op, c.table, c.record_id) for c in entry.changes] == [
        ("delete", "kpi_values", 1),
        ("delete", "kpi_values", 3),
        ("delete", "kpis", 1),
    ]
