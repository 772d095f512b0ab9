"""The PostgreSQL benchmark scripts still run (at a toy size): a figure in a report is
only worth something if the script that printed it can be run again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "KNOWSLEY_TRACKER"))}
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_the_concurrency_benchmark_runs_and_checks_what_it_claims() -> None:
    out = bench("benchmarks/pg_concurrency.py", "--writers", "3", "--commands", "7")
    assert "7 commands in" in out and "failures: 0" in out
    for check in (
        "every command acknowledged",
        "every acknowledged entry stored",
        "log ids an unbroken run",
        "history txns an unbroken run",
        "no lost update (each action's entries and progress are its commands')",
    ):
        assert f"ok   {check}" in out


@pytest.mark.slow
def test_the_side_by_side_benchmark_runs(tmp_path: Path) -> None:
    out = bench("benchmarks/pg_reads.py", "--runs", "1", "--actions", "12", "--updates", "40", "--work", str(tmp_path))
    for command in ("kt check", "kt action list", "kt report (model)", "kt log"):
        assert any(
            line.startswith(command) and line.rstrip()[-4:].replace(".", "").isdigit() for line in out.splitlines()
        )


@pytest.mark.slow
def test_the_many_plans_benchmark_runs(tmp_path: Path) -> None:
    out = bench(
        "benchmarks/pg_plans.py", "--plans", "3", "--runs", "1", "--actions", "12", "--updates", "40",
        "--work", str(tmp_path),
    )  # fmt: skip
    assert "Copied p01 into 2 more plans" in out
    assert "p01's log (all rows)" in out
    for command in ("kt check", "kt action list", "kt report (model)", "kt history (50)", "kt log"):
        assert any(
            line.startswith(command) and line.rstrip()[-4:].replace(".", "").isdigit() for line in out.splitlines()
        ), command


@pytest.mark.slow
def test_the_whole_process_benchmark_runs_kt_on_both_stores() -> None:
    out = bench("benchmarks/pg_cli.py", "--runs", "1")
    assert "into the server with kt init and kt import" in out
    for command in ("kt action list", "kt check", "kt report (piped)", "kt history", "kt log"):
        assert any(
            line.startswith(command) and line.rstrip()[-4:].replace(".", "").isdigit() for line in out.splitlines()
        ), command


def test_the_startup_benchmark_parses_its_own_measurements() -> None:
    out = bench("benchmarks/pg_startup.py", "--runs", "1")
    assert "psycopg modules imported by kt action list on a JSON store: none" in out
    assert "psycopg.connect + SELECT 1 over a Unix socket" in out
