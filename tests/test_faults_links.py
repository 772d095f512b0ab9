"""Fault suite, part 2: another member of the store's group plants links; the victim runs kt.

The set-up is the README's shared folder: a setgid, sticky folder owned by the
administrator, holding the store's own setgid folder, with two officers in the
store's group. As root (CI) they are two real users (tests/helpers/officers.py):
the attacker plants symbolic links, hard links and pipes with nothing but their
own rights, and the victim runs kt. Every attack is checked the same way: the
victim's own files are byte-for-byte unchanged and keep their modes, and kt
stops with exit 13 and one line naming what it found (or, where the link sits
under a name kt never uses, carries on without touching it). Counts are printed
at the end of the run with the rest of the fault suite.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.fault_counts import add as count
from helpers.officers import ATTACKER, GROUP, TWO_USERS, VICTIM, Office, office, snapshot

from knowsley_tracker.errors import UnsafeStoreError

UNSAFE = UnsafeStoreError.exit_code


def test_the_two_user_attacks_run_as_two_users_in_ci(tmp_path: Path) -> None:
    """CI runs as root: there the victim and the attacker must be different users, and each
    must be able to run kt (the interpreter and this checkout readable by other users)."""
    if os.environ.get("CI") or os.geteuid() == 0:
        assert TWO_USERS and VICTIM.uid != ATTACKER.uid
    for officer in (VICTIM, ATTACKER):
        done = officer.kt(tmp_path / "plan.json", "--version")
        assert (done.returncode, done.stderr) == (0, ""), f"{officer.name} cannot run kt: {done.stderr}"
        assert officer.python("import os; print(os.getuid(), os.getgroups())") == (
            f"{officer.uid} {[GROUP] if TWO_USERS else os.getgroups()}\n"
        )


def build_shared_store(o: Office) -> None:
    """The README's steps, as the victim: a folder of the store's own, kt init, share it."""
    VICTIM.python(f"import os; os.mkdir({str(o.folder)!r}); os.chmod({str(o.folder)!r}, 0o2770)")
    for args in (
        ["init", "--authority", "Test Council"],
        ["rec", "add", "The caseloads of personal advisers (PAs)."],
        ["action", "add", "R1", "Recruit two more personal advisers", "--due", "31/03/2026"],
        ["log", "A1", "Advert out"],
    ):
        done = VICTIM.kt(o.db, *args)
        assert done.returncode == 0, (args, done.stderr)
    VICTIM.python(f"import os; os.chmod({str(o.db)!r}, 0o660)")
    fixed = VICTIM.kt(o.db, "doctor", "--fix")
    assert fixed.returncode == 0, fixed.stdout
    doctor = VICTIM.kt(o.db, "doctor")
    assert (doctor.returncode, doctor.stdout.splitlines()[-1]) == (0, "No problems found."), doctor.stdout
    # The victim's own files: private notes, another council's private store, and a file
    # shared with the group (the only kind the kernel lets another member hard-link).
    VICTIM.python(
        "import os\n"
        f"open({str(o.private_file)!r}, 'w').write('private notes\\n'); os.chmod({str(o.private_file)!r}, 0o600)\n"
        f"open({str(o.private_plan)!r}, 'wb').write(open({str(o.db)!r}, 'rb').read().replace("
        "b'Test Council', b'Private Council'))\n"
        f"os.chmod({str(o.private_plan)!r}, 0o600)\n"
        f"open({str(o.shared_file)!r}, 'w').write('board minutes\\n'); os.chmod({str(o.shared_file)!r}, 0o660)\n"
    )


SETUPS = ("readme", "no sticky bit")


@pytest.fixture(scope="module")
def templates() -> Iterator[dict[str, Office]]:
    """The shared store built once per set-up: the README's (kt's folders sticky), and the
    one older READMEs gave (no sticky bit), where any entry can be swapped."""
    with office() as readme, office() as old:
        build_shared_store(readme)
        build_shared_store(old)
        aux = old.folder / "plan.json.d"
        folders = [aux, *(aux / name for name in ("segments", "snapshots", "backups") if (aux / name).exists())]
        VICTIM.python("import os\n" + "".join(f"os.chmod({str(f)!r}, 0o2770)\n" for f in folders))
        yield {"readme": readme, "no sticky bit": old}


@pytest.fixture(params=SETUPS)
def any_setup(request: pytest.FixtureRequest, templates: dict[str, Office]) -> Iterator[tuple[str, Office]]:
    with office(templates[request.param]) as o:
        yield request.param, o


@pytest.fixture
def shared(templates: dict[str, Office]) -> Iterator[Office]:
    with office(templates["readme"]) as o:
        yield o


def plant(code: str) -> str:
    """The attacker plants something, with only the attacker's own rights."""
    return ATTACKER.python("import os\n" + code)


def victims_files(o: Office) -> dict[str, tuple[str, int, int, bytes]]:
    return snapshot(o.victim_home, o.shared_file)


def store_files(o: Office) -> dict[str, tuple[str, int, int, bytes]]:
    return snapshot(o.folder)


def one_line_naming(result: subprocess.CompletedProcess[str], what: Path) -> None:
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    assert str(what) in result.stderr
    assert "Traceback" not in result.stderr


AttackSetup = Callable[[Office], "tuple[Path, bool]"]  # plants the attack: what kt should name, and planted?

_MOVE_ASIDE = (
    "try:\n"
    "    if os.path.lexists(p): os.rename(p, p + '.moved')\n"
    "except PermissionError:\n"
    "    print('blocked'); raise SystemExit(0)  # the sticky bit: not the attacker's entry to move\n"
)


def _planter(name: str, make: Callable[[Office], str]) -> AttackSetup:
    def setup(o: Office) -> tuple[Path, bool]:
        where = o.folder / name
        out = plant(f"p = {str(where)!r}\n" + _MOVE_ASIDE + make(o))
        return where, out != "blocked\n"

    return setup


def _symlink(name: str, to: Callable[[Office], Path]) -> AttackSetup:
    return _planter(name, lambda o: f"os.symlink({str(to(o))!r}, p)\n")


def _hardlink(name: str, to: Callable[[Office], Path]) -> AttackSetup:
    return _planter(name, lambda o: f"os.link({str(to(o))!r}, p)\n")


def _fifo(name: str) -> AttackSetup:
    return _planter(name, lambda o: "os.mkfifo(p, 0o660)\n")


def private_file(o: Office) -> Path:
    return o.private_file


def private_plan(o: Office) -> Path:
    return o.private_plan


def victim_home(o: Office) -> Path:
    return o.victim_home


def shared_file(o: Office) -> Path:
    return o.shared_file


# name: (the attack, the commands the victim runs). Every command must stop with exit 13 naming the link.
REFUSED: dict[str, tuple[AttackSetup, list[list[str]]]] = {
    "store is a symlink to a private store": (
        _symlink("plan.json", private_plan),
        [["log", "A1", "x"], ["action", "list"], ["doctor"], ["restore"], ["export", "--format", "json"]],
    ),
    "store is a hard link to a shared file": (
        _hardlink("plan.json", shared_file),
        [["log", "A1", "x"], ["action", "list"], ["doctor", "--fix"], ["restore"]],
    ),
    "store is a pipe": (_fifo("plan.json"), [["action", "list"], ["log", "A1", "x"]]),
    "plan.json.d is a symlink to a private folder": (
        _symlink("plan.json.d", victim_home),
        [["log", "A1", "x"], ["restore"], ["doctor", "--fix"]],
    ),
    "segments is a symlink to a private folder": (
        _symlink("plan.json.d/segments", victim_home),
        [["log", "A1", "x"], ["undo"], ["doctor", "--fix"]],
    ),
    "snapshots is a symlink to a private folder": (
        _symlink("plan.json.d/snapshots", victim_home),
        [["board", "add", "30/11/2025"], ["log", "A1", "x"]],
    ),
    "backups is a symlink to a private folder": (
        _symlink("plan.json.d/backups", victim_home),
        [["log", "A1", "x"], ["restore"], ["backup", "list"]],
    ),
    "high-water file is a symlink to private notes": (
        _symlink("plan.json.d/highwater.json", private_file),
        [["log", "A1", "x"], ["restore"]],
    ),
    "high-water file is a hard link to a shared file": (
        _hardlink("plan.json.d/highwater.json", shared_file),
        [["log", "A1", "x"], ["doctor", "--fix"]],
    ),
    "high-water file is a pipe": (_fifo("plan.json.d/highwater.json"), [["log", "A1", "x"]]),
    "lock is a symlink to private notes": (
        _symlink("plan.json.d/lock", private_file),
        [["log", "A1", "x"], ["restore"], ["doctor", "--fix"]],
    ),
    "lock is a hard link to a shared file": (_hardlink("plan.json.d/lock", shared_file), [["log", "A1", "x"]]),
}


@pytest.mark.parametrize("attack", sorted(REFUSED))
def test_a_planted_link_where_a_store_file_should_be_is_refused_and_followed_nowhere(
    any_setup: tuple[str, Office], attack: str
) -> None:
    kind, shared = any_setup
    setup, commands = REFUSED[attack]
    # doctor --fix must have something to fix, so that it goes as far as taking the lock.
    VICTIM.python(f"open({str(o_tmp(shared))!r}, 'w').write('half a store')")
    named, planted = setup(shared)
    if not planted:
        # The README's set-up: another member cannot move kt's own entries in plan.json.d.
        assert kind == "readme" and named.parent.name in ("plan.json.d", "segments", "snapshots", "backups")
        count("link attacks stopped by the sticky bit")
        return
    victim_before = victims_files(shared)
    store_before = store_files(shared)
    count("link attacks")
    for args in commands:
        result = VICTIM.kt(shared.db, *args, timeout=30)
        count("link attack commands")
        if args[0] == "doctor":
            # doctor reports what it found: exit 13 when the store cannot be read for it, else
            # exit 1 (the store has problems) having fixed nothing through the link.
            assert result.returncode in (1, UNSAFE), (args, result.returncode, result.stderr)
            assert f"{named} " in result.stdout + result.stderr and "Traceback" not in result.stderr
        else:
            assert result.returncode == UNSAFE, (args, result.returncode, result.stdout, result.stderr)
            one_line_naming(result, named)
        assert victims_files(shared) == victim_before, f"{attack}: {args} changed the victim's own files"
        assert store_files(shared) == store_before, f"{attack}: {args} wrote to the store"
    # The private store's contents never reach the shared one.
    assert not any(b"Private Council" in data for _, _, _, data in store_files(shared).values())


def o_tmp(o: Office) -> Path:
    return o.folder / ".plan.json.4242.tmp"


def test_planted_links_under_guessable_temporary_names_are_never_used(shared: Office) -> None:
    """Older kt wrote its temporary file as .plan.json.<pid>.tmp with O_CREAT|O_TRUNC, following
    a link: an attacker who planted links for the next few hundred pids truncated the victim's file."""
    next_pid = int(Path("/proc/sys/kernel/ns_last_pid").read_text())
    plant(
        f"folder = {str(shared.folder)!r}\n"
        f"for pid in range({next_pid}, {next_pid + 400}):\n"
        "    os.symlink(" + repr(str(shared.private_file)) + ", os.path.join(folder, '.plan.json.%d.tmp' % pid))\n"
    )
    count("link attacks")
    victim_before = victims_files(shared)
    for n in range(5):
        result = VICTIM.kt(shared.db, "log", "A1", f"Update {n}")
        count("link attack commands")
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        assert re.fullmatch(r"Logged L\d+ on A1\.\n", result.stdout)
    assert victims_files(shared) == victim_before
    # The links are still there, untouched; doctor names them and does not delete them.
    doctor = VICTIM.kt(shared.db, "doctor", "--fix")
    assert doctor.returncode == 1
    assert f"Problem: {shared.folder / f'.plan.json.{next_pid}.tmp'} is a symbolic link (to {shared.private_file})" in (
        doctor.stdout
    )
    assert os.path.islink(shared.folder / f".plan.json.{next_pid}.tmp")
    assert victims_files(shared) == victim_before


def test_a_predicted_snapshot_name_planted_as_a_link_is_refused(shared: Office) -> None:
    txn = json.loads(shared.db.read_bytes())["_meta"]["1"]["txn"]
    where = shared.folder / "plan.json.d" / "snapshots" / f"board-2025-11-30-B1-t{txn + 1:06d}.json"
    plant(
        f"os.makedirs({str(where.parent)!r}, exist_ok=True)\nos.symlink({str(shared.private_file)!r}, {str(where)!r})\n"
    )
    count("link attacks")
    victim_before, store_before = victims_files(shared), store_files(shared)
    result = VICTIM.kt(shared.db, "board", "add", "30/11/2025")
    count("link attack commands")
    assert result.returncode == UNSAFE, result.stderr
    one_line_naming(result, where)
    assert (victims_files(shared), store_files(shared)) == (victim_before, store_before)


def test_planted_backups_are_never_restored_chmodded_or_pruned(shared: Office) -> None:
    """A hard link to the victim's shared file and a symlink to the victim's private store, both
    under names that sort as the newest backups."""
    backups = shared.folder / "plan.json.d" / "backups"
    hard = backups / "plan-t999999-20991231T000000Z.json"
    soft = backups / "plan-t999998-20991231T000000Z.json"
    plant(
        f"os.link({str(shared.shared_file)!r}, {str(hard)!r})\nos.symlink({str(shared.private_plan)!r}, {str(soft)!r})"
    )
    count("link attacks", 2)
    victim_before = victims_files(shared)
    listing = VICTIM.kt(shared.db, "backup", "list", "--json")
    assert listing.returncode == 0
    names = {b["name"]: b for b in json.loads(listing.stdout)["backups"]}
    assert soft.name not in names  # a link is not a backup
    assert "kt did not make it" in str(names[hard.name]["problem"])
    restored = VICTIM.kt(shared.db, "restore")
    assert restored.returncode == 0, restored.stderr
    assert "plan-t999999" not in restored.stdout and "plan-t999998" not in restored.stdout
    for n in range(12):  # more saves than backups kept: pruning runs every time
        assert VICTIM.kt(shared.db, "log", "A1", f"Note {n}").returncode == 0
    assert VICTIM.kt(shared.db, "config", "set", "backups", "1").returncode == 0
    assert VICTIM.kt(shared.db, "doctor", "--fix").returncode == 1
    count("link attack commands", 16)
    assert hard.exists() and soft.is_symlink()
    assert victims_files(shared) == victim_before
    assert not any(b"Private Council" in data for _, _, _, data in store_files(shared).values())
    doctor = VICTIM.kt(shared.db, "doctor").stdout
    assert f"Problem: {soft} is a symbolic link (to {shared.private_plan})" in doctor
    assert f"Problem: {hard} has 2 names on disk" in doctor


def test_doctor_fix_never_changes_modes_through_a_linked_folder(any_setup: tuple[str, Office]) -> None:
    """Older kt's doctor --fix (and every writer) chmodded the store's folders by path: a
    folder swapped for a link to the victim's home opened it to the group."""
    _, shared = any_setup
    # No board yet, so no snapshots folder: even a sticky plan.json.d lets the name be planted.
    assert _symlink("plan.json.d/snapshots", victim_home)(shared)[1]
    VICTIM.python(f"import os; os.chmod({str(shared.db)!r}, 0o640)")  # something for --fix to share
    count("link attacks")
    before = victims_files(shared)
    for args in (["doctor", "--fix"], ["log", "A1", "x"]):
        result = VICTIM.kt(shared.db, *args)
        count("link attack commands")
        assert result.returncode in (1, UNSAFE), result.stderr
    assert victims_files(shared) == before
    assert os.stat(shared.victim_home).st_mode & 0o777 == 0o700


def test_outputs_never_go_through_a_planted_link(shared: Office) -> None:
    """-o into the shared folder: a link planted at the pack's name, or a folder link into plan.json.d."""
    pack = shared.folder / "board-pack.html"
    packs = shared.folder / "packs"
    plant(
        f"os.symlink({str(shared.private_file)!r}, {str(pack)!r})\n"
        f"os.symlink({str(shared.folder / 'plan.json.d' / 'backups')!r}, {str(packs)!r})\n"
    )
    count("link attacks", 2)
    victim_before, store_before = victims_files(shared), store_files(shared)
    at_link = VICTIM.kt(shared.db, "report", "-o", str(pack))
    assert at_link.returncode == UNSAFE
    one_line_naming(at_link, pack)
    into_aux = VICTIM.kt(shared.db, "export", "--format", "json", "-o", str(packs / "backup.json"))
    assert (into_aux.returncode, into_aux.stderr) == (
        4,
        f"Error: {packs / 'backup.json'} is the store itself or inside its folder: write the output elsewhere.\n",
    )
    count("link attack commands", 2)
    assert (victims_files(shared), store_files(shared)) == (victim_before, store_before)


# ---------------------------------------------------------------------------
# Doctor


def test_doctor_reports_links_pipes_foreign_files_and_folders_without_the_sticky_bit(shared: Office) -> None:
    aux = shared.folder / "plan.json.d"
    plant(
        f"os.symlink('/etc/passwd', {str(aux / 'backups' / 'plan-t000009-20251130T090000Z.json')!r})\n"
        f"os.link({str(shared.shared_file)!r}, {str(aux / 'backups' / 'extra.json')!r})\n"
        f"os.mkfifo({str(aux / 'backups' / 'plan-t000001-20251130T090000Z-1.json')!r})\n"
    )
    if TWO_USERS:  # a file of the attacker's own group, which only root could give away to the store's
        plant(
            f"open({str(aux / 'stray.json')!r}, 'w').write('{{}}'); os.chown({str(aux / 'stray.json')!r}, -1, {ATTACKER.uid})"
        )
    os.chmod(aux / "backups", 0o2770)  # no sticky bit, as the README's old set-up left it
    result = VICTIM.kt(shared.db, "doctor")
    assert result.returncode == 1
    out = result.stdout
    segments_link = aux / "backups" / "plan-t000009-20251130T090000Z.json"
    assert f"Problem: {segments_link} is a symbolic link (to /etc/passwd): kt never makes symbolic links" in out
    assert f"  Fix: Check who made it (ls -l {segments_link}), then remove it: rm {segments_link}" in out
    assert f"Problem: {aux / 'backups' / 'extra.json'} has 2 names on disk" in out
    assert f"Problem: {aux / 'backups' / 'plan-t000001-20251130T090000Z-1.json'} is a pipe, socket or device" in out
    assert f"can rename or delete each other's files in {aux / 'backups'} (the lock, backups or history)" in out
    assert f"  Fix: Run kt doctor --fix as the folder's owner, or: chmod +t {aux / 'backups'}" in out
    if TWO_USERS:
        assert (
            f"Problem: {aux / 'stray.json'} is not a file the store's users made. It belongs to user {ATTACKER.uid}, "
            f"who is not in the group {GROUP} that shares the store." in out
        )
    assert "o-t" not in out and "-t " not in out  # never advises removing the sticky bit
    fixed = VICTIM.kt(shared.db, "doctor", "--fix")  # any writer gives its own folders the sticky bit back
    assert "no sticky bit" not in fixed.stdout and os.stat(aux / "backups").st_mode & 0o1000
    assert os.path.islink(segments_link)  # reported, not deleted: someone should look first


def test_doctor_reports_folders_above_the_store_that_others_can_change(shared: Office) -> None:
    os.chmod(shared.shared, 0o2770)  # the shared folder without its sticky bit
    out = VICTIM.kt(shared.db, "doctor").stdout
    assert (
        f"can rename or replace what is in {shared.shared} (mode 2770, no sticky bit), so could move "
        f"{shared.folder} away and put a link to another folder in its place." in out
    )
    assert f"  Fix: chmod +t {shared.shared} (as its owner)" in out
    os.chmod(shared.shared, 0o3770)
    os.chmod(shared.folder, 0o3770)  # a sticky store folder: members could not save
    out = VICTIM.kt(shared.db, "doctor").stdout
    assert f"Problem: The folder {shared.folder} has the sticky bit" in out
    assert "o-t" not in out and "chmod -t" not in out
    assert f"mkdir {shared.folder}/plan && chgrp" in out


# ---------------------------------------------------------------------------
# Aliases: --db through a link, or a second name for the store


def test_a_symbolic_link_to_the_store_is_refused_by_name(shared: Office) -> None:
    alias = shared.victim_home / "plan.json"
    VICTIM.python(f"import os; os.symlink({str(shared.db)!r}, {str(alias)!r})")
    for args in (["log", "A1", "x"], ["action", "list"]):
        result = VICTIM.kt(alias, *args)
        assert result.returncode == UNSAFE
        one_line_naming(result, alias)
        assert f"is a symbolic link (to {shared.db})" in result.stderr
    assert not (shared.victim_home / "plan.json.d").exists()


def test_a_second_name_for_the_store_is_refused_on_both_names_until_it_is_removed(shared: Office) -> None:
    alias = shared.shared / "copy.json"
    VICTIM.python(f"import os; os.link({str(shared.db)!r}, {str(alias)!r})")
    before = store_files(shared)
    for db in (alias, shared.db):
        result = VICTIM.kt(db, "log", "A1", "x")
        assert result.returncode == UNSAFE
        one_line_naming(result, db)
        assert "has 2 names on disk (hard links)" in result.stderr
    assert store_files(shared) == before and not (shared.shared / "copy.json.d").exists()
    VICTIM.python(f"import os; os.unlink({str(alias)!r})")
    assert VICTIM.kt(shared.db, "log", "A1", "x").returncode == 0


def _concurrent_logs(dbs: list[Path], each: int) -> list[dict[str, object]]:
    """One writer per path in ``dbs``, all started at once, each running ``each`` kt log
    commands one after another as the victim; every command's result."""
    start = threading.Barrier(len(dbs))
    results: list[dict[str, object]] = []

    def writer(w: int, db: Path) -> None:
        start.wait()
        for i in range(each):
            note = f"writer {w} entry {i}"
            done = VICTIM.kt(db, "log", "A1", note, timeout=240)
            results.append({"note": note, "rc": done.returncode, "stdout": done.stdout, "db": str(db)})

    threads = [threading.Thread(target=writer, args=(w, db)) for w, db in enumerate(dbs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_writers_through_two_paths_never_hand_out_an_id_twice(shared: Office) -> None:
    """Four writers by the store's path and four by a folder link (same folder, so same lock)
    share the numbering; four more through a file link are refused, every one."""
    folder_alias = shared.victim_home / "plans"
    file_alias = shared.victim_home / "plan-link.json"
    VICTIM.python(
        f"import os; os.symlink({str(shared.folder)!r}, {str(folder_alias)!r}); "
        f"os.symlink({str(shared.db)!r}, {str(file_alias)!r})"
    )
    dbs = [shared.db] * 4 + [folder_alias / "plan.json"] * 4 + [file_alias] * 4
    results = _concurrent_logs(dbs, 4)
    count("concurrent processes", len(dbs))
    count("concurrent kt commands", len(results))
    accepted = [r for r in results if r["db"] != str(file_alias)]
    refused = [r for r in results if r["db"] == str(file_alias)]
    assert {r["rc"] for r in refused} == {UNSAFE}
    ids = []
    for r in accepted:
        assert r["rc"] == 0, r
        m = re.fullmatch(r"Logged L(\d+) on A1(: .*)?\.\n", str(r["stdout"]))
        assert m, r
        ids.append(int(m[1]))
    assert sorted(ids) == list(range(2, 2 + len(accepted)))  # L1 was the set-up's; no id twice
    notes = [row["note"] for row in json.loads(shared.db.read_bytes())["log"].values()]
    assert sorted(notes) == sorted(["Advert out", *(str(r["note"]) for r in accepted)])
    assert not (shared.victim_home / "plan-link.json.d").exists()
    assert sorted(p.name for p in shared.victim_home.iterdir()) == [
        "notes.txt",
        "other-council.json",
        "plan-link.json",
        "plans",
    ]  # the file link was never replaced by a forked copy, nor given a folder of its own
