"""Files written with -o (kt report, kt export): never the store, never into its folders,
never through a link; whole or not at all; private when the store is private."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker import safe_files
from knowsley_tracker.errors import UnsafeStoreError, ValidationError
from knowsley_tracker.outputs import write_output
from knowsley_tracker.storage import segments as store_segments

REFUSED = "is the store itself or inside its folder: write the output elsewhere.\n"


def everything(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture
def sealed(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test plan with its oldest log and history sealed into segment files."""
    monkeypatch.setattr(store_segments, "SEGMENT_ROWS", 2)
    for n in range(4):
        assert plan("log", "A1", f"Note {n}").exit_code == 0
    segments = db.parent / "plan.json.d" / "segments"
    assert any(segments.iterdir())
    return segments


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0)
    yield
    os.umask(old)


def test_outputs_over_the_store_or_into_its_folders_are_refused(plan: Any, db: Path, sealed: Path) -> None:
    segment = next(sealed.iterdir())
    aux = db.parent / "plan.json.d"
    via_link = db.parent / "packs"
    via_link.symlink_to(aux / "backups")
    before = everything(db.parent)
    cases = [
        ["report", "-o", str(db)],
        ["report", "--format", "json", "-o", str(segment)],
        ["export", "--format", "json", "-o", str(aux / "backups" / "latest.json")],
        ["export", "--format", "csv", "-o", str(via_link / "plan.csv")],
        ["export", "--format", "json", "-o", str(aux / "plan.json.d.json")],
    ]
    for args in cases:
        result = plan(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (
            ValidationError.exit_code,
            "",
            f"Error: {args[-1]} {REFUSED}",
        ), args
    assert everything(db.parent) == before
    alias = db.parent / "copy.json"
    os.link(db, alias)  # another name for the store: it cannot even be read, so nothing is written
    result = plan("report", "-o", str(alias))
    assert result.exit_code == UnsafeStoreError.exit_code and "has 2 names on disk" in result.stderr
    assert everything(db.parent) == {**before, str(alias): before[str(db)]}


def test_an_output_name_that_is_a_link_is_refused_and_left_alone(plan: Any, db: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("my notes\n")
    target.chmod(0o600)
    link = tmp_path / "board-pack.html"
    link.symlink_to(target)
    result = plan("report", "-o", str(link))
    assert result.exit_code == UnsafeStoreError.exit_code
    assert result.stderr == (
        f"Error: {link} is a symbolic link (to {target}): kt writes an output only to a file of that name, "
        "never through a link; the link was left alone. Give the file's own path.\n"
    )
    assert (target.read_text(), stat.S_IMODE(target.stat().st_mode), link.is_symlink()) == ("my notes\n", 0o600, True)


def test_an_output_is_written_whole_under_an_unguessable_temporary_name(
    plan: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Older kt wrote .NAME.<pid>.tmp, which a planted link could catch; now the name is random
    and created exclusively, so a planted one is never opened."""
    out = tmp_path / "plan.json.out"
    planted = tmp_path / f".{out.name}.{os.getpid()}.tmp"
    planted.symlink_to(tmp_path / "victim")
    seen: list[str] = []
    real_name = safe_files.temp_name

    def spy(base: str) -> str:
        seen.append(real_name(base))
        return seen[-1]

    monkeypatch.setattr(safe_files, "temp_name", spy)
    write_output(out, b"whole\n", store=tmp_path / "plan.json")
    assert out.read_bytes() == b"whole\n"
    assert len(seen) == 1 and seen[0].startswith(f".{out.name}.") and seen[0] != planted.name
    assert not (tmp_path / "victim").exists() and planted.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [planted.name]


def test_an_output_takes_the_store_s_privacy(plan: Any, db: Path, tmp_path: Path, umask: None) -> None:
    """Under umask 000 older kt wrote a board pack 0666 beside a 0600 store."""
    pack = tmp_path / "pack.html"
    assert plan("report", "-o", str(pack)).exit_code == 0
    assert stat.S_IMODE(pack.stat().st_mode) == 0o600
    export = tmp_path / "plan.csv"
    assert plan("export", "-o", str(export)).exit_code == 0
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    os.chmod(db, 0o660)  # shared with a group: outputs follow the umask, as any file would
    os.umask(0o027)
    assert plan("report", "-o", str(pack)).exit_code == 0
    assert stat.S_IMODE(pack.stat().st_mode) == 0o640


def test_restore_names_who_loses_what_and_needs_yes_for_other_peoples_changes(
    plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Alice Example")
    assert plan("log", "A2", "Draft circulated").exit_code == 0
    assert plan("done", "A1", "Audit finished").exit_code == 0
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Test Officer")
    before = db.read_bytes()
    backup = "plan-t000012-20251130T090000Z.json"
    refused = plan("restore", backup)
    assert (refused.exit_code, refused.stdout) == (5, "")
    assert refused.stderr == (
        f"Error: Restoring {backup} would undo 3 commands saved since it: 2 by Alice Example (txn 14 log A2, "
        f"txn 15 done A1); 1 by you (Test Officer) (txn 13 done A4). Nothing was restored; to undo them anyway: "
        f"kt restore {backup} --yes\n"
    )
    assert db.read_bytes() == before
    done = plan("restore", backup, "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["undone"] == [
        {"txn": 13, "by": "Test Officer", "what": "done A4"},
        {"txn": 14, "by": "Alice Example", "what": "log A2"},
        {"txn": 15, "by": "Alice Example", "what": "done A1"},
    ]
    # Restoring the same backup again undoes nothing new: the earlier restore took those back.
    again = plan("restore", backup)
    assert again.exit_code == 0, again.stderr
    assert "It undid" not in again.stdout
