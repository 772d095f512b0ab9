"""The server store's bulk paths. A read-only store reads log entries ahead (kt
history looks each one up): what it gives must be exactly what a plain lookup
gives, at every window's edge, for entries that are gone, and for ids beyond the
last. An import's inserts (add_with_id) are sent in batches: reads in the same
command see them, and a taken id is still refused at once, saving nothing."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.pg_server import SharedPlans

from knowsley_tracker.errors import ConflictError
from knowsley_tracker.models import Action, LogEntry, Recommendation
from knowsley_tracker.pgstore.store import BATCH, LOG_READ_AHEAD, PgStore


def test_log_entries_read_ahead_are_the_ones_a_lookup_gives(pg_plan_store: PgStore, pg_shared: SharedPlans) -> None:
    store = pg_plan_store
    total = LOG_READ_AHEAD * 2 + 37
    with store.transaction(by="bench", what="fill"):
        rec = store.add(Recommendation(text="A recommendation."))
        action = store.add(Action(rec_id=rec.id, title="An action", due=None))
        for n in range(total):
            store.add(LogEntry(action_id=action.id, at="2025-11-30T09:00:00+00:00", by="bench", note=f"note {n}"))
    with store.transaction(by="bench", what="remove some"):
        for gone in (1, LOG_READ_AHEAD, LOG_READ_AHEAD + 1, total):
            store.delete(LogEntry, gone)
    expected: dict[int, Any] = {}
    for record_id in range(1, total + 3):  # the writable store looks each one up plainly
        found = store.find(LogEntry, record_id)
        expected[record_id] = None if found is None else found.to_record()
    assert expected[2] is not None and expected[1] is None and expected[total + 1] is None
    db = pg_shared.db
    conninfo = db.conninfo(pg_shared.admin, password=False)
    with PgStore.open(conninfo, store.plan.key, password=db.server.passwords[pg_shared.admin]) as reader:
        order = [*range(total + 2, 0, -1), *range(1, total + 3), LOG_READ_AHEAD * 2 + 5, 3]
        for record_id in order:
            found = reader.find(LogEntry, record_id)
            assert (None if found is None else found.to_record()) == expected[record_id], record_id
        entry = reader.find(LogEntry, 2)
        assert entry is not None
        entry.note = "changed by the caller"
        again = reader.find(LogEntry, 2)
        assert again is not None and again.note == "note 1"  # the caller's copy, never the cache's


def test_an_import_s_inserts_are_batched_and_a_taken_id_is_refused_at_once(pg_plan_store: PgStore) -> None:
    store = pg_plan_store
    total = BATCH * 2 + 3
    with store.transaction(by="bench", what="import"):
        store.add_with_id(Recommendation(id=5, text="A recommendation."))
        for n in range(1, total + 1):
            store.add_with_id(Action(id=n * 2, rec_id=5, title=f"Action {n}", due=None))
        assert store.count(Action) == total  # the held-back inserts are sent before any read
        assert store.get(Action, total * 2).title == f"Action {total}"
        store.add_with_id(Action(id=1, rec_id=5, title="Below the highest, free", due=None))
        with pytest.raises(ConflictError, match="A4 already exists"):
            store.add_with_id(Action(id=4, rec_id=5, title="Taken", due=None))
        with pytest.raises(ConflictError, match=f"A{total * 2 + 7} already exists"):
            store.add_with_id(Action(id=total * 2 + 7, rec_id=5, title="New", due=None))
            store.add_with_id(Action(id=total * 2 + 7, rec_id=5, title="Twice in one batch", due=None))
    assert store.count(Action) == total + 2
    with pytest.raises(ConflictError), store.transaction(by="bench", what="import again"):
        store.add_with_id(Action(id=total * 2 + 9, rec_id=5, title="Kept back", due=None))
        store.add_with_id(Action(id=2, rec_id=5, title="Taken", due=None))
    assert not store.exists(Action, total * 2 + 9)  # nothing of the failed command was saved
