"""The kt schema in a database: applying the migrations, and checking what is there.

Migrations are the numbered SQL files in ``migrations/`` (``0001_tables.sql``,
``0002_access.sql``...). :func:`migrate` applies the ones a database lacks, in
order, in one transaction, holding a transaction-level advisory lock so that two
``kt init`` runs at once apply them once. Each applied file leaves a row in
``kt.schema_version``; the last one also records the catalog as the migrations
left it (constraints, policies, triggers, row-level security flags), which
:func:`schema_problems` compares with the live catalog for ``kt doctor``.

Whoever migrates becomes the owner of the schema: a login with CREATEROLE (it
creates the group roles) and CREATE on the database, not a superuser.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from knowsley_tracker.errors import CorruptStoreError, StoreLockedError
from knowsley_tracker.patterns import LazyPattern

# pg_advisory_xact_lock(classid, objid): classid 0x4B54 ("KT") is knowsley-tracker's;
# objid 0 is the migrations. (Plan writers lock a row instead: see writing.py.)
LOCK_CLASS = 0x4B54
MIGRATION_LOCK = 0
MIGRATION_LOCK_TIMEOUT = 60.0

_FILE_NAME = LazyPattern(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    """The packaged migrations in version order (1, 2, ... with no gaps)."""
    found: list[Migration] = []
    for entry in resources.files("knowsley_tracker.pgstore").joinpath("migrations").iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"The packaged migrations are not numbered 1, 2, 3... without gaps: {versions}")
    return tuple(found)


def latest_version() -> int:
    return migrations()[-1].version


def current_version(conn: psycopg.Connection[Any]) -> int:
    """The database's schema version: 0 when kt has never been installed there."""
    row = conn.execute("SELECT to_regclass('kt.schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM kt.schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the migrations the database lacks, all in one transaction; returns their versions.

    Raises ``CorruptStoreError`` when the database's schema is newer than this kt."""
    with conn.transaction():
        # Bounded: any login may take an advisory lock, so one could hold this one.
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{round(MIGRATION_LOCK_TIMEOUT * 1000)}ms",))
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, MIGRATION_LOCK))
        except psycopg.errors.LockNotAvailable:
            raise StoreLockedError(
                f"Another session held the schema's upgrade lock for {MIGRATION_LOCK_TIMEOUT:g} s; "
                "nothing was changed. Try again, or ask the database administrator who holds it (pg_locks)."
            ) from None
        conn.execute("SELECT set_config('lock_timeout', '0', true)")
        current = current_version(conn)
        latest = latest_version()
        if current > latest:
            raise CorruptStoreError(
                f"The database's knowsley-tracker schema is version {current}, newer than this kt "
                f"understands ({latest}): upgrade knowsley-tracker."
            )
        applied: list[int] = []
        for migration in migrations()[current:]:
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO kt.schema_version (version, name) VALUES (%s, %s)", (migration.version, migration.name)
            )
            applied.append(migration.version)
        if applied:
            conn.execute("UPDATE kt.schema_version SET catalog = %s WHERE version = %s", (Jsonb(catalog(conn)), latest))
    return applied


# ---------------------------------------------------------------------------
# What kt doctor checks

_CATALOG_QUERY = """
WITH tables AS (
    SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity
    FROM pg_class c WHERE c.relnamespace = 'kt'::regnamespace AND c.relkind = 'r'
)
SELECT
    current_setting('server_version_num')::int / 10000,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(t.relname, t.relrowsecurity, t.relforcerowsecurity)
                               ORDER BY t.relname), '[]') FROM tables t),
    (SELECT coalesce(jsonb_agg(jsonb_build_array(t.relname, k.conname, k.contype::text, k.convalidated,
                                                 pg_get_constraintdef(k.oid))
                               ORDER BY t.relname, k.conname), '[]')
     FROM pg_constraint k JOIN tables t ON t.oid = k.conrelid),
    (SELECT coalesce(jsonb_agg(jsonb_build_array(p.tablename, p.policyname, p.permissive, p.cmd,
                                                 p.roles::text[], p.qual, p.with_check)
                               ORDER BY p.tablename, p.policyname), '[]')
     FROM pg_policies p WHERE p.schemaname = 'kt'),
    (SELECT coalesce(jsonb_agg(jsonb_build_array(t.relname, g.tgname, g.tgenabled::text, pg_get_triggerdef(g.oid))
                               ORDER BY t.relname, g.tgname), '[]')
     FROM pg_trigger g JOIN tables t ON t.oid = g.tgrelid WHERE NOT g.tgisinternal)
"""


def catalog(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The kt schema's row-level security flags, constraints, policies and triggers, as stored."""
    row = conn.execute(_CATALOG_QUERY).fetchone()
    assert row is not None
    major, rls, constraints, policies, triggers = row
    return {"server_major": major, "rls": rls, "constraints": constraints, "policies": policies, "triggers": triggers}


@dataclass(frozen=True)
class SchemaProblem:
    """One thing wrong with the database's kt schema: a sentence, and what to do."""

    message: str
    fix: str


def schema_problems(conn: psycopg.Connection[Any]) -> list[SchemaProblem]:
    """What is wrong with the schema: its version, then every row-level security flag,
    constraint, policy or trigger that differs from what the migrations left."""
    version = current_version(conn)
    latest = latest_version()
    if version == 0:
        return [SchemaProblem("The database has no knowsley-tracker schema.", "Create it with kt init.")]
    if version > latest:
        return [
            SchemaProblem(
                f"The database's schema is version {version}, newer than this kt understands ({latest}).",
                "Upgrade knowsley-tracker.",
            )
        ]
    if version < latest:
        return [
            SchemaProblem(
                f"The database's schema is version {version}; this kt needs version {latest}.",
                "Ask the schema's owner to run kt init once, which upgrades it.",
            )
        ]
    row = conn.execute("SELECT catalog FROM kt.schema_version WHERE version = %s", (version,)).fetchone()
    expected = row[0] if row else None
    if not isinstance(expected, dict):
        return [
            SchemaProblem("The schema's record of its constraints is missing.", "Restore the database (pg_restore).")
        ]
    live = catalog(conn)
    problems: list[SchemaProblem] = []
    restore = "Ask the schema's owner to put it back as the migrations made it, or restore the database."
    same_server = live["server_major"] == expected.get("server_major")
    for part, noun in (("rls", "row-level security"), ("constraints", "constraint"), ("policies", "policy"),
                       ("triggers", "trigger")):  # fmt: skip
        want = {_key(part, item): item for item in expected.get(part, [])}
        have = {_key(part, item): item for item in live[part]}
        for key in sorted(want.keys() - have.keys()):
            problems.append(SchemaProblem(f"The {noun} {'.'.join(key)} is missing.", restore))
        for key in sorted(have.keys() - want.keys()):
            problems.append(SchemaProblem(f"The {noun} {'.'.join(key)} was not made by kt's migrations.", restore))
        for key in sorted(want.keys() & have.keys()):
            if not _same(part, want[key], have[key], same_server):
                problems.append(SchemaProblem(f"The {noun} {'.'.join(key)} has been changed.", restore))
    return problems


def _key(part: str, item: list[Any]) -> tuple[str, ...]:
    return (str(item[0]),) if part == "rls" else (str(item[0]), str(item[1]))


def _same(part: str, want: list[Any], have: list[Any], same_server: bool) -> bool:
    """Equal, except that definitions printed by another major version of the server
    may be worded differently: then only the flags are compared."""
    if same_server or part == "rls":
        return want == have
    flags = {"constraints": slice(0, 4), "policies": slice(0, 5), "triggers": slice(0, 3)}[part]
    return want[flags] == have[flags]
