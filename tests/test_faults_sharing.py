"""Fault suite, part 3: whose files kt doctor takes for the store's, and what it advises doing to them.

Two attacks on the doctor's advice rather than on kt itself:

- another member of the store's group hard-links a file that is not theirs (one they can
  read and write through another group) into kt's backups folder, under a backup's name. The
  old doctor listed it as a store file "not shared with the group" and advised
  ``chgrp -R``/``chmod -R`` over the folder: whoever followed the advice changed that other
  file. It must be reported as a planted link, with removal as the only advice, and
  ``doctor --fix`` (by the victim, or by root) must leave the other file exactly as it was.
- a file owned by someone outside the store's group (a leaver, a service account) but given
  the store's group: the old doctor compared the file's group only, so it passed unnoticed.
  Here the owners are real accounts (alice and mallory in the group ktplan, ``nobody``
  outside it), made when missing: CI runs as root.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.fault_counts import add as count
from helpers.officers import ATTACKER, GROUP, TWO_USERS, VICTIM, kt_command, office, snapshot, umask_007
from test_faults_links import build_shared_store

from knowsley_tracker.storage import foreign_owner, in_group

FINANCE_UID = 61003  # a third officer, outside the store: owns the file the attacker links
FINANCE_GID = 61010  # a group the attacker and that officer share, which the store does not use


def _stat(uid: int, gid: int, mode: int = 0o100660) -> os.stat_result:
    return os.stat_result((mode, 1, 1, 1, uid, gid, 0, 0, 0, 0))


def _doctor_lines(out: str, path: Path) -> list[str]:
    """The doctor's lines that name ``path`` (a problem and its fix are printed on separate lines)."""
    lines = out.splitlines()
    found: set[int] = set()
    for n, line in enumerate(lines):
        if str(path) in line:
            found.add(n)
            if n + 1 < len(lines) and lines[n + 1].lstrip().startswith("Fix:"):
                found.add(n + 1)
    return [lines[n] for n in sorted(found)]


# ---------------------------------------------------------------------------
# 1. A hard link to someone else's file, planted under a backup's name


def test_a_planted_hard_link_is_never_advised_for_chmod_or_chgrp_nor_changed_by_fix() -> None:
    with office() as o:
        build_shared_store(o)
        backups = o.folder / "plan.json.d" / "backups"
        planted = backups / "plan-t999999-20991231T000000Z.json"
        other = o.base / "finance" / "budget.txt"  # someone else's file, outside the store
        other.parent.mkdir()
        other.write_text("budget lines\n")
        if TWO_USERS:
            # The finance officer's file, shared with a group the attacker is in too (the
            # kernel lets a user hard-link only files they can read and write).
            os.chown(other.parent, FINANCE_UID, FINANCE_GID)
            os.chmod(other.parent, 0o2750)
            os.chown(other, FINANCE_UID, FINANCE_GID)
            os.chmod(other, 0o660)
            attacker = [
                "setpriv",
                "--reuid",
                str(ATTACKER.uid),
                "--regid",
                str(ATTACKER.uid),
                "--groups",
                f"{GROUP},{FINANCE_GID}",
                "--",
            ]
        else:  # one account: the victim's own private file, which the advice would have opened to the group
            os.chmod(other, 0o600)
            attacker = []
        subprocess.run(
            [*attacker, sys.executable, "-c", f"import os; os.link({str(other)!r}, {str(planted)!r})"],
            check=True,
            preexec_fn=umask_007,
        )
        count("link attacks")
        before = snapshot(other.parent)

        doctor = VICTIM.kt(o.db, "doctor")
        assert doctor.returncode == 1, doctor.stdout
        named = _doctor_lines(doctor.stdout, planted)
        assert named == [
            f"Problem: {planted} has 2 names on disk: it is a hard link to a file elsewhere, planted there (kt links "
            "only the store and its own backups), and kt will not read, write or change it; changing its mode or group "
            "would change that other file."
            + (
                f" It belongs to user {FINANCE_UID}, who is not in the group {GROUP} that shares the store."
                if TWO_USERS
                else ""
            ),
            f"  Fix: Check it (find / -xdev -samefile {planted}), then remove this name only: rm {planted} (never "
            "chmod or chgrp it).",
        ], doctor.stdout
        assert "chmod -R" not in doctor.stdout and "chgrp -R" not in doctor.stdout

        # doctor --fix by the victim, then by the administrator (root, when the suite runs as root).
        fixes = [VICTIM.kt(o.db, "doctor", "--fix")]
        if TWO_USERS:
            fixes.append(
                subprocess.run(
                    [*kt_command(), "--db", str(o.db), "doctor", "--fix"],
                    capture_output=True,
                    text=True,
                    env=VICTIM.env(),
                    check=False,
                )
            )
        count("link attack commands", 1 + len(fixes))
        for fixed in fixes:
            assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # the planted link is still there
            assert str(planted) not in "".join(line for line in fixed.stdout.splitlines() if "Shared" in line)
        assert snapshot(other.parent) == before  # bytes, mode and owner of the other file
        st = os.stat(other)
        assert (st.st_nlink, st.st_gid) == (2, FINANCE_GID if TWO_USERS else os.getegid())


# ---------------------------------------------------------------------------
# 2. Files owned by someone outside the store's group


def test_foreign_owner_rules_without_a_group_name() -> None:
    """The decision itself: root and the running user are never foreign; a private store
    allows its owner only; where the computer has no group of the store's number, the file's
    group stands in for its owner's membership."""
    me = os.geteuid()
    private = _stat(me, 61000, 0o100600)
    shared = _stat(me, 61999, 0o100660)  # 61999: no such group here
    assert grp.getgrall() and all(g.gr_gid != 61999 for g in grp.getgrall())
    assert not foreign_owner(_stat(0, 5), private)
    assert not foreign_owner(_stat(me, 5), private)
    assert foreign_owner(_stat(61005, 61000), private)
    assert not foreign_owner(_stat(61005, 61999), shared)
    assert foreign_owner(_stat(61005, 61005), shared)
    assert in_group(61005, 61999) is None


def _account(name: str, group: str | None) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", *(["-G", group] if group else []), name], check=True)
        return pwd.getpwnam(name)


@pytest.fixture(scope="module")
def ktplan() -> Iterator[tuple[pwd.struct_passwd, pwd.struct_passwd, grp.struct_group]]:
    """alice and mallory, both in the group ktplan: real accounts, so that membership is the
    system's own (made here when the machine has none; CI runs as root)."""
    if os.geteuid() != 0:
        assert not os.environ.get("CI"), "CI runs the suite as root, to own files as other users"
        pytest.skip("needs root, to own files as other users (CI runs as root)")
    if shutil.which("useradd") is None:
        pytest.fail("useradd is missing: install the passwd package")
    try:
        group = grp.getgrnam("ktplan")
    except KeyError:
        subprocess.run(["groupadd", "ktplan"], check=True)
        group = grp.getgrnam("ktplan")
    alice, mallory = _account("alice", "ktplan"), _account("mallory", "ktplan")
    for user in (alice, mallory):
        if not in_group(user.pw_uid, group.gr_gid):
            subprocess.run(["usermod", "-aG", "ktplan", user.pw_name], check=True)
    yield alice, mallory, grp.getgrnam("ktplan")


def _as(user: pwd.struct_passwd, command: list[str], db: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNOWSLEY_TRACKER_")}
    env.update(KNOWSLEY_TRACKER_NOW="2025-11-30T09:00:00+00:00", TZ="UTC", HOME="/nonexistent")
    return subprocess.run(
        ["setpriv", "--reuid", str(user.pw_uid), "--regid", str(user.pw_gid), "--init-groups", "--", *command],
        capture_output=True,
        text=True,
        env={**env, "KNOWSLEY_TRACKER_DB": str(db)},
        preexec_fn=umask_007,
        check=False,
        timeout=60,
    )


def test_a_file_given_the_stores_group_by_someone_outside_it_is_reported(
    ktplan: tuple[pwd.struct_passwd, pwd.struct_passwd, grp.struct_group],
) -> None:
    alice, mallory, group = ktplan
    outsider = pwd.getpwnam("nobody")
    assert in_group(outsider.pw_uid, group.gr_gid) is False and in_group(mallory.pw_uid, group.gr_gid) is True
    base = Path(tempfile.mkdtemp(prefix="kt-ktplan-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        shared = base / "plans"
        shared.mkdir()
        os.chown(shared, 0, group.gr_gid)
        os.chmod(shared, 0o3770)
        folder = shared / "knowsley"
        db = folder / "plan.json"
        kt = kt_command()
        steps = [
            [sys.executable, "-c", f"import os; os.mkdir({str(folder)!r}); os.chmod({str(folder)!r}, 0o2770)"],
            [*kt, "init", "--authority", "Test Council"],
            [sys.executable, "-c", f"import os; os.chmod({str(db)!r}, 0o660)"],
            [*kt, "rec", "add", "The caseloads of personal advisers (PAs)."],
            [*kt, "doctor", "--fix"],
        ]
        for step in steps:
            done = _as(alice, step, db)
            assert done.returncode == 0, (step, done.stdout, done.stderr)
        assert _as(mallory, [*kt, "rec", "add", "Supervision is regular and reflective."], db).returncode == 0
        aux = folder / "plan.json.d"
        planted = {
            "outsider": aux / "backups" / "plan-t000001-20251130T090000Z-7.json",  # a backup's name
            "member": aux / "backups" / "plan-t000001-20251130T090000Z-8.json",
            "root": aux / "backups" / "plan-t000001-20251130T090000Z-9.json",
        }
        owners = {"outsider": outsider.pw_uid, "member": mallory.pw_uid, "root": 0}
        for who, path in planted.items():
            path.write_bytes(db.read_bytes())  # a copy of the store, as a backup would be
            os.chown(path, owners[who], group.gr_gid)  # each given the store's group
            os.chmod(path, 0o660)
        count("foreign-owner plants", len(planted))
        for user in (alice, mallory):
            doctor = _as(user, [*kt, "doctor"], db)
            assert doctor.returncode == 1, doctor.stdout + doctor.stderr
            assert (
                f"Problem: {planted['outsider']} is not a file the store's users made. It belongs to nobody, who is "
                f"not in the group ktplan that shares the store." in doctor.stdout
            ), doctor.stdout
            assert f"  Fix: Check how it got there (ls -l {planted['outsider']}), then remove it" in doctor.stdout
            assert str(planted["member"]) not in doctor.stdout and str(planted["root"]) not in doctor.stdout
            assert doctor.stdout.count("belongs to") == 1 and doctor.stdout.endswith("1 problem, 0 warnings.\n")
        os.remove(planted["outsider"])
        doctor = _as(alice, [*kt, "doctor"], db)
        assert (doctor.returncode, doctor.stdout.splitlines()[-1]) == (0, "No problems found."), doctor.stdout
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------
# 4. kt restore tells colleagues apart by who saved, not by the name they set


def test_restore_asks_before_undoing_a_colleagues_save_made_under_the_same_name() -> None:
    """Names are what officers set (often a role several people share): the restore's 'made
    by someone else' is decided by the owner of the file that holds each saved version too."""
    with office() as o:
        build_shared_store(o)
        name = VICTIM.env()["KNOWSLEY_TRACKER_USER"]
        colleague = subprocess.run(
            ATTACKER.as_me([*kt_command(), "--db", str(o.db), "log", "A1", "Interviews booked"]),
            capture_output=True,
            text=True,
            env=ATTACKER.env(KNOWSLEY_TRACKER_USER=name),  # the same name as the victim's
            preexec_fn=umask_007,
            check=False,
        )
        assert colleague.returncode == 0, colleague.stderr
        before = snapshot(o.folder)
        restored = VICTIM.kt(o.db, "restore")
        count("restore races")
        if not TWO_USERS:  # one account: it was this user's own save, so nothing to ask
            assert restored.returncode == 0, restored.stderr
            return
        assert restored.returncode == 5, restored.stdout + restored.stderr
        assert restored.stderr.startswith("Error: Restoring plan-t"), restored.stderr
        assert f"1 command saved since it: 1 by {name}, saved by user {ATTACKER.uid} (txn " in restored.stderr
        assert restored.stderr.endswith(" --yes\n") and restored.stderr.count("\n") == 1
        assert snapshot(o.folder) == before  # nothing restored
        confirmed = VICTIM.kt(o.db, "restore", "--yes")
        assert confirmed.returncode == 0, confirmed.stderr
