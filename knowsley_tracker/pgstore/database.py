"""An open kt database: one connection, as the login it connected as.

What the plan-level commands need before a plan is chosen (``kt init`` on the
server, ``kt plan list``, ``kt access ...``): service code holds a
:class:`Database` and never a psycopg connection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from knowsley_tracker.pgstore import access, schema
from knowsley_tracker.pgstore.access import Grant, Plan, Role
from knowsley_tracker.pgstore.connection import connect, describe, server_error


class Database:
    def __init__(self, conn: psycopg.Connection[Any], location: str = "the database server") -> None:
        self.conn = conn
        self.location = location

    @classmethod
    def open(cls, conninfo: str, **kwargs: Any) -> Database:
        """Connect (exit 15 when the server cannot be reached, 14 when it refuses the login)."""
        return cls(connect(conninfo, **kwargs), describe(conninfo))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def login(self) -> str:
        """Who this connection is: the database's session_user."""
        row = self.conn.execute("SELECT session_user").fetchone()
        return str(row[0]) if row else ""

    def install(self) -> list[int]:
        """Create or upgrade the kt schema (needs CREATEROLE and CREATE on the database);
        returns the versions applied, empty when it was up to date."""
        try:
            return schema.migrate(self.conn)
        except psycopg.Error as exc:
            raise server_error(
                exc, needs="creating the knowsley-tracker schema needs a login with CREATEROLE that may create schemas"
            ) from None

    def schema_version(self) -> int:
        return schema.current_version(self.conn)

    def schema_problems(self) -> list[schema.SchemaProblem]:
        """What ``kt doctor`` finds wrong with the schema: its version, then each
        constraint, policy, trigger or row-level security flag that differs."""
        try:
            return schema.schema_problems(self.conn)
        except psycopg.Error as exc:
            raise server_error(exc, needs="checking the schema needs a role on a plan in this database") from None

    def plans(self) -> list[Plan]:
        return access.visible_plans(self.conn)

    def plan(self, key: str | None) -> Plan:
        return access.choose_plan(self.conn, key)

    def create_plan(self, key: str, authority: str, *, created_at: datetime | None = None) -> Plan:
        return access.create_plan(self.conn, key, authority, created_at=created_at)

    def grant(self, plan_key: str, login: str, role: Role) -> None:
        access.grant_access(self.conn, plan_key, login, role)

    def revoke(self, plan_key: str, login: str) -> bool:
        return access.revoke_access(self.conn, plan_key, login)

    def grants(self, plan_key: str) -> list[Grant]:
        return access.list_access(self.conn, plan_key)
