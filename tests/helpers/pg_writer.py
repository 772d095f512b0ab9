"""One writing process for the PostgreSQL concurrency test: COUNT commands on one plan.

Usage: python pg_writer.py PLAN_ID COUNT [--no-lock]

Connects with libpq's PG* environment variables (PGPASSWORD included), then waits
for a line on stdin so that every writer starts at once. Each command is what
``kt log A1 --progress +1`` would do, as one transaction through
``knowsley_tracker.pgstore.writing.run_write``: read A1's progress, write it
back one higher, append a log entry recording the change, and record the
command in the history. Prints one JSON line per command:
``{"log": ID, "txn": N, "old": P, "seconds": S}``.

``--no-lock`` runs the same commands in plain transactions without the plan's
writer lock, to show what the lock prevents (lost updates); the test suite
does not use it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import psycopg

from knowsley_tracker.pgstore.connection import connect
from knowsley_tracker.pgstore.writing import run_write


def command(conn: psycopg.Connection[Any], plan: int, writer: str) -> dict[str, int]:
    row = conn.execute("SELECT progress FROM kt.actions WHERE plan_id = %s AND id = 1", (plan,)).fetchone()
    assert row is not None
    old = int(row[0])
    conn.execute(
        "UPDATE kt.actions SET progress = %s, last_note = %s, last_logged_at = now() WHERE plan_id = %s AND id = 1",
        (old + 1, f"step by {writer}", plan),
    )
    entry = conn.execute(
        "INSERT INTO kt.log (plan_id, action_id, at, by, note, changes) "
        "VALUES (%s, 1, now(), %s, %s, jsonb_build_object('progress', jsonb_build_array(%s::int, %s::int))) "
        "RETURNING id",
        (plan, writer, f"step by {writer}", old, old + 1),
    ).fetchone()
    txn = conn.execute(
        "INSERT INTO kt.history (plan_id, at, what, changes) VALUES (%s, now(), 'log A1', "
        "jsonb_build_array(jsonb_build_array('create', 'log', %s::int, null))) RETURNING txn",
        (plan, entry[0] if entry else None),
    ).fetchone()
    assert entry is not None and txn is not None
    return {"log": int(entry[0]), "txn": int(txn[0]), "old": old}


def main() -> None:
    plan, count = int(sys.argv[1]), int(sys.argv[2])
    no_lock = "--no-lock" in sys.argv[3:]
    writer = f"writer {sys.argv[1]}-{id(object())}"
    conn = connect("")
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(count):
        start = time.perf_counter()
        if no_lock:
            with conn.transaction():
                result = command(conn, plan, writer)
        else:
            result = run_write(conn, plan, lambda c: command(c, plan, writer))
        print(json.dumps({**result, "seconds": round(time.perf_counter() - start, 4)}), flush=True)
    conn.close()


if __name__ == "__main__":
    main()
