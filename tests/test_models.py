"""models.py: vocabularies, shape checks, record round-trips and ids."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowsley_tracker.errors import CorruptStoreError, ValidationError
from knowsley_tracker.models import (
    Action,
    FocusArea,
    Framework,
    Inspection,
    InspectionType,
    Judgement,
    Owner,
    Rag,
    Record,
    Status,
    Visit,
    parse_ref,
)
from knowsley_tracker.models import record as loading
from knowsley_tracker.models.record_kinds import RECORD_TYPES


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("in progress", Status.IN_PROGRESS),
        ("In-Progress", Status.IN_PROGRESS),
        ("in_progress", Status.IN_PROGRESS),
        ("Completed", Status.COMPLETE),
        ("done", Status.COMPLETE),
        ("Not started", Status.NOT_STARTED),
        ("blocked", Status.BLOCKED),
        ("dropped", Status.DROPPED),
    ],
)
def test_status_parse_is_lenient(text: str, status: Status) -> None:
    assert Status.parse(text) is status


def test_unknown_vocabulary_lists_choices() -> None:
    with pytest.raises(ValidationError) as caught:
        Judgement.parse("satisfactory", "judgement")
    assert str(caught.value) == (
        "Unknown judgement 'satisfactory': choose one of outstanding, good, requires-improvement, inadequate."
    )
    assert Judgement.parse("RI") is Judgement.REQUIRES_IMPROVEMENT
    assert Judgement.parse("Requires improvement to be good") is Judgement.REQUIRES_IMPROVEMENT


def test_framework_in_force() -> None:
    assert Framework.in_force_on(date(2017, 3, 1)) is Framework.SIF
    assert Framework.in_force_on(date(2021, 10, 11)) is Framework.ILACS_2018
    assert Framework.in_force_on(date(2024, 11, 18)) is Framework.ILACS_2023


def test_inspection_areas_depend_on_framework() -> None:
    sif = Inspection(
        start=date(2017, 3, 1),
        judgement=Judgement.REQUIRES_IMPROVEMENT,
        areas={"help-protection": Judgement.REQUIRES_IMPROVEMENT, "adoption": Judgement.GOOD},
    )
    assert sif.framework is Framework.SIF
    with pytest.raises(ValidationError, match="Unknown judgement area 'care-leavers' for ILACS \\(2018 to 2022\\)"):
        Inspection(start=date(2021, 10, 11), judgement=Judgement.GOOD, areas={"care-leavers": Judgement.GOOD})


def test_visits_are_not_graded() -> None:
    with pytest.raises(ValidationError, match="A monitoring visit is not graded"):
        Inspection(start=date(2025, 9, 9), type=InspectionType.MONITORING_VISIT, judgement=Judgement.GOOD)


def test_action_shape_checks() -> None:
    with pytest.raises(ValidationError, match="The action title cannot be empty."):
        Action(rec_id=1, title="   ", due=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="Progress must be a whole number from 0 to 100, not -1."):
        Action(rec_id=1, title="x", due=date(2025, 1, 1), progress=-1)
    with pytest.raises(ValidationError, match="Dropping an action needs a reason"):
        Action(rec_id=1, title="x", due=date(2025, 1, 1), status=Status.DROPPED)
    with pytest.raises(ValidationError, match="A RAG override must be red, amber or green."):
        Action(rec_id=1, title="x", due=date(2025, 1, 1), rag_override=Rag.BLUE)
    action = Action(rec_id=1, title="  Audit  ", due=date(2025, 1, 1))
    assert action.title == "Audit"
    assert action.original_due == date(2025, 1, 1)


def test_focus_key_is_upper_and_checked() -> None:
    assert FocusArea(key="fa-cl", name="Care leavers").key == "FA-CL"
    with pytest.raises(ValidationError, match="must be 1-24 letters"):
        FocusArea(key="care leavers", name="x")


def test_owner_email_checked() -> None:
    with pytest.raises(ValidationError, match="'not-an-email' is not an email address."):
        Owner(role="Head of QA", email="not-an-email")
    assert Owner(role="Head of QA", name="Sam Carter").display == "Head of QA (Sam Carter)"


@pytest.mark.parametrize(("text", "expected"), [("A12", 12), ("a12", 12), (" 12 ", 12)])
def test_parse_ref(text: str, expected: int) -> None:
    assert parse_ref(text, Action) == expected


@pytest.mark.parametrize("text", ["A", "A-1", "A0", "twelve"])
def test_parse_ref_refuses(text: str) -> None:
    with pytest.raises(ValidationError, match="is not an action id: use A and a number, e.g. A3."):
        parse_ref(text, Action)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("R12", "'R12' is not an action id: R12 is a recommendation; action ids start with A, e.g. A3."),
        ("a1O", "'a1O' is not an action id; did you mean A10?"),
        ("Al2", "'Al2' is not an action id; did you mean A12?"),
        ("KV3", "'KV3' is not an action id: KV3 is a KPI value; action ids start with A, e.g. A3."),
    ],
)
def test_parse_ref_names_the_id_probably_meant(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_ref(text, Action)
    assert refused.value.message == message


titles = st.text(min_size=1).filter(lambda t: t.strip() != "")


@given(
    title=titles,
    due=st.dates(),
    progress=st.integers(0, 100),
    status=st.sampled_from([s for s in Status if s is not Status.DROPPED]),
    owner=st.none() | st.integers(1, 10_000),
)
def test_action_record_round_trip(title: str, due: date, progress: int, status: Status, owner: int | None) -> None:
    action = Action(rec_id=3, title=title, due=due, progress=progress, status=status, owner_id=owner, id=7)
    assert Action.from_record(7, action.to_record()) == action


def test_records_are_equal_only_when_their_fields_have_the_same_types() -> None:
    typed = Action(id=7, rec_id=3, title="Audit", due=date(2025, 10, 31), status=Status.BLOCKED)
    assert typed == Action(id=7, rec_id=3, title="Audit", due=date(2025, 10, 31), status=Status.BLOCKED)
    # Each of these once compared equal, because equality compared the stored (JSON) form.
    due_as_text = Action(id=7, rec_id=3, title="Audit", due="2025-10-31", status=Status.BLOCKED)  # type: ignore[arg-type]
    status_as_text = Action(id=7, rec_id=3, title="Audit", due=date(2025, 10, 31), status="blocked")  # type: ignore[arg-type]
    assert typed != due_as_text
    assert typed != status_as_text
    assert typed != Action(id=8, rec_id=3, title="Audit", due=date(2025, 10, 31), status=Status.BLOCKED)
    areas = Inspection(id=1, start=date(2017, 3, 1), areas={"adoption": Judgement.GOOD})
    unconverted = Inspection(id=1, start=date(2017, 3, 1))
    unconverted.areas = {"adoption": "good"}  # type: ignore[dict-item]
    assert areas != unconverted


@pytest.mark.parametrize("generate_after", [loading.GENERATE_AFTER, 1], ids=["loop", "generated"])
def test_a_loader_that_leaves_dates_and_enums_as_stored_fails_the_round_trip(
    generate_after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading, "GENERATE_AFTER", generate_after)
    monkeypatch.setattr(loading, "_LOADED", {})
    monkeypatch.setattr(loading, "_LOADERS", {})
    action = Action(id=7, rec_id=3, title="Audit", due=date(2025, 10, 31), status=Status.BLOCKED, rag_override=Rag.RED)
    assert Action.from_record(7, action.to_record()) == action
    monkeypatch.setattr(loading, "_LOADERS", {})
    no_conversions = [(name, None, default) for name, _convert, default in loading._load_plan(Action)]
    monkeypatch.setitem(loading._LOAD_PLANS, Action, no_conversions)
    broken = Action.from_record(7, action.to_record())
    assert [type(broken.due), type(broken.status)] == [str, str]  # what such a loader gives
    assert broken != action


@pytest.mark.parametrize("generate_after", [loading.GENERATE_AFTER, 1], ids=["loop", "generated"])
def test_both_loaders_build_the_same_records(generate_after: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "GENERATE_AFTER", generate_after)
    monkeypatch.setattr(loading, "_LOADED", {})
    monkeypatch.setattr(loading, "_LOADERS", {})
    inspection = Inspection(
        id=2, start=date(2025, 1, 6), judgement=Judgement.INADEQUATE, areas={"leaders": Judgement.GOOD}
    )
    action = Action(id=7, rec_id=3, title="Audit", due=date(2025, 10, 31), completed_on=date(2025, 11, 1))
    for record in (inspection, action):
        assert type(record).from_record(record.id, record.to_record()) == record
    # A record written before a field existed takes the field's default.
    older = {k: v for k, v in action.to_record().items() if k not in ("last_note", "rag_override")}
    assert Action.from_record(7, older) == action


def test_from_record_ignores_unknown_and_defaults_missing() -> None:
    action = Action.from_record(4, {"rec_id": 1, "title": "x", "due": "2025-01-01", "future_field": 1})
    assert action.ref == "A4"
    assert action.status is Status.NOT_STARTED


def test_untrusted_records_are_checked_stored_ones_are_trusted() -> None:
    row = {"rec_id": 1, "title": "Audit", "due": "2025-01-01", "progress": 150, "status": "in-progress"}
    with pytest.raises(ValidationError, match="Progress must be a whole number from 0 to 100, not 150."):
        Action.from_untrusted(4, row)
    with pytest.raises(CorruptStoreError, match=r"A4 .* cannot be read \(Progress must be a whole number"):
        Action.from_record(4, row)  # progress out of range in the store: damage, named
    row["progress"] = 50
    loaded = Action.from_record(4, row)  # read back from the store: not through __init__ (no original due)
    assert (loaded.ref, loaded.status, loaded.due, loaded.original_due) == (
        "A4",
        Status.IN_PROGRESS,
        date(2025, 1, 1),
        None,
    )
    inspection = Inspection.from_record(1, {"start": "2017-03-01", "areas": {"adoption": "good"}})
    assert inspection.framework is Framework.SIF and inspection.areas == {"adoption": Judgement.GOOD}


@pytest.mark.parametrize("kind", RECORD_TYPES, ids=lambda kind: kind.__name__)
def test_record_init_takes_what_a_dataclass_init_would(kind: type[Record]) -> None:
    """record_class writes each kind's __init__ when the first record is made: the same
    parameters, in the same order and kinds, with the same defaults, as the __init__
    dataclass writes for the same fields."""
    twin = dataclasses.make_dataclass(
        kind.__name__,
        [
            (f.name, f.type, dataclasses.field(default=f.default, default_factory=f.default_factory, kw_only=f.kw_only))
            for f in dataclasses.fields(kind)
        ],
        repr=False,
        eq=False,
    )
    ours = dict(inspect.signature(loading._make_init(kind)).parameters)
    del ours["self"]
    theirs = inspect.signature(twin).parameters
    assert [(p.name, p.kind) for p in ours.values()] == [(p.name, p.kind) for p in theirs.values()]
    by_name = {f.name: f for f in dataclasses.fields(kind)}
    for name, p in ours.items():
        has_default = p.default is not inspect.Parameter.empty
        assert has_default is (theirs[name].default is not inspect.Parameter.empty), name
        if has_default and by_name[name].default_factory is dataclasses.MISSING:
            assert p.default == by_name[name].default, name


def test_a_record_made_through_init_gets_fresh_defaults_and_its_checks() -> None:
    first = Action(1, " Audit supervision ", date(2025, 9, 1), id=3)
    second = Action(rec_id=2, title="Train managers", due=None)
    assert (first.id, first.rec_id, first.title, first.original_due) == (3, 1, "Audit supervision", date(2025, 9, 1))
    assert (second.id, second.status, second.progress) == (0, Status.NOT_STARTED, 0)
    visits = [Visit(date(2026, 3, 3)), Visit(date(2026, 6, 3))]
    assert visits[0].themes == [] and visits[0].themes is not visits[1].themes  # a new list for each
    with pytest.raises(ValidationError, match="cannot be empty"):
        Action(1, "   ", None)  # __post_init__ runs
    with pytest.raises(TypeError):
        Action(1, "Audit", None, id=3, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Action(1, "Audit")  # type: ignore[call-arg]
