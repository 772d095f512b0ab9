"""The checks kt doctor makes of the store's files: segments, snapshots, temporary files,
permissions and groups (files only; the plan's own rules live in the service).
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from knowsley_tracker import safe_files as sf
from knowsley_tracker.errors import (
    TrackerError,
    UnsafeStoreError,
)
from knowsley_tracker.filenames import name_problem
from knowsley_tracker.storage.folders import StoreFolders, _dir_mode, _stale_temps
from knowsley_tracker.storage.paths import _TEMP_NAME, SUBFOLDERS, StorePaths
from knowsley_tracker.storage.reading import read_store_file
from knowsley_tracker.storage.segments import SEGMENTED, _read_blob
from knowsley_tracker.store_interface import HISTORY
from knowsley_tracker.store_rows import ref_of

if TYPE_CHECKING:
    from knowsley_tracker.storage.file_store import Store


class Problem(NamedTuple):
    """One finding of a store check: what is wrong and how to fix it (a NamedTuple: every
    command imports this module, and a frozen dataclass cost 0.5 ms to make)."""

    severity: str  # "problem" (needs fixing) or "warning"
    message: str
    fix: str
    fixable: bool = False  # kt doctor --fix can repair it


def stale_temp_files(paths: StorePaths) -> list[Path]:
    """Temporary files left behind by writers that were killed mid-write."""
    try:
        with StoreFolders(paths) as f:
            return sorted(folder / name for folder, name in _stale_temps(f))
    except (OSError, TrackerError):
        return []


def probe(path: Path) -> tuple[dict[str, Any] | None, TrackerError | None]:
    """Read a store for checking: its data, or the error any command would give."""
    try:
        return read_store_file(path), None
    except TrackerError as exc:
        return None, exc


def check_files(store: Store) -> list[Problem]:
    """Segments, snapshots, counters, temporary files and permissions of an open store."""
    problems: list[Problem] = []
    paths = store.paths
    problems += _check_segments(store)
    problems += _check_snapshots(store)
    counters = store.meta.get("counters", {})
    for table in store.tables():
        if table == HISTORY:
            highest = max((i for i, _ in store.rows(HISTORY)), default=0)
            if store.txn < highest:
                problems.append(
                    Problem(
                        "problem",
                        f"The txn counter ({store.txn}) is below the newest history entry ({highest}).",
                        "Run kt doctor --fix to move it up.",
                        fixable=True,
                    )
                )
            continue
        try:
            highest = max((i for i, _ in store.rows(table)), default=0)
        except TrackerError:
            continue  # reported with the segments
        if int(counters.get(table, 0)) < highest:
            problems.append(
                Problem(
                    "problem",
                    f"The id counter for {table} ({int(counters.get(table, 0))}) is below its highest id "
                    f"({ref_of(table, highest)}), so an id could be handed out twice.",
                    "Run kt doctor --fix to move the counter up.",
                    fixable=True,
                )
            )
    for tmp in stale_temp_files(paths):
        problems.append(
            Problem(
                "warning",
                f"{tmp} is a temporary file left by a write that was interrupted (the store itself is intact).",
                "Run kt doctor --fix to delete it.",
                fixable=True,
            )
        )
    problems += check_permissions(paths)
    return problems


def _check_segments(store: Store) -> list[Problem]:
    problems: list[Problem] = []
    for table in SEGMENTED:
        previous_last = 0
        for entry in store._segments(table):
            path = store.paths.segments / str(entry.get("file"))
            try:
                rows = store._load_segment(entry["file"])
            except TrackerError as exc:
                problems.append(
                    Problem(
                        "problem",
                        str(exc).removesuffix(" Run kt doctor."),
                        "Put the file back from your file backups, or restore a version from before it "
                        "was sealed (kt backup list, kt restore NAME).",
                    )
                )
                continue
            ids = [int(k) for k in rows]
            if len(rows) != entry.get("rows") or any(not entry["first"] <= i <= entry["last"] for i in ids):
                problems.append(
                    Problem(
                        "problem",
                        f"The segment {path} does not hold the rows plan.json expects "
                        f"({entry.get('rows')} rows, ids {entry['first']} to {entry['last']}).",
                        "Restore a backup from before the damage (kt backup list, kt restore NAME).",
                    )
                )
            if entry["first"] <= previous_last:
                problems.append(
                    Problem(
                        "problem",
                        f"The segment {path} overlaps the one before it.",
                        "Restore a backup (kt backup list, kt restore NAME).",
                    )
                )
            previous_last = max(previous_last, entry["last"])
        clash = [
            int(k)
            for k in store.data.get(table, {})
            if int(k) <= previous_last and k in _segment_ids(store, table, int(k))
        ]
        if clash:
            problems.append(
                Problem(
                    "problem",
                    f"{ref_of(table, clash[0])} is both in plan.json and in a sealed segment.",
                    "Restore a backup (kt backup list, kt restore NAME).",
                )
            )
    return problems


def _segment_ids(store: Store, table: str, record_id: int) -> set[str]:
    for entry in store._segments(table):
        if entry["first"] <= record_id <= entry["last"]:
            with suppress(TrackerError):
                return set(store._load_segment(entry["file"]))
    return set()


def _check_snapshots(store: Store) -> list[Problem]:
    problems: list[Problem] = []
    folder = store.paths.snapshots
    referenced: set[str] = set()
    try:
        for _, row in store.rows("boards"):
            name = row.get("snapshot_file")  # what Store.save_snapshot returned
            if isinstance(name, str) and name and name_problem("snapshot", name) is None:
                referenced.add(name)  # a name kt would not write is reported by the service's doctor
    except TrackerError:
        pass
    present: set[str] = set()
    with suppress(OSError, TrackerError), StoreFolders(store.paths) as f:
        snapshots = f.sub("snapshots")
        present = {n for n in sf.names(snapshots) if not _TEMP_NAME.fullmatch(n)} if snapshots else set()
    for name in sorted(referenced - present):
        problems.append(
            Problem(
                "problem",
                f"A board refers to the snapshot {folder / name}, which is missing.",
                "Put the file back from your file backups; board snapshots cannot be rebuilt.",
            )
        )
    for name in sorted(present):
        try:
            _read_blob(store.paths, "snapshots", name, "snapshot")
        except UnsafeStoreError:
            continue  # a link: reported by the link checks
        except TrackerError as exc:
            problems.append(
                Problem(
                    "problem",
                    str(exc).removesuffix(" Run kt doctor."),
                    "Put the file back from your file backups; board snapshots cannot be rebuilt.",
                )
            )
    return problems


def store_file_stat(paths: StorePaths) -> os.stat_result | None:
    """plan.json's own status when it is a plain file (links are reported elsewhere)."""
    try:
        with StoreFolders(paths) as f:
            st = f.store_stat()
    except (OSError, TrackerError):
        return None
    return st if st is not None and stat.S_ISREG(st.st_mode) else None


def check_permissions(paths: StorePaths) -> list[Problem]:
    """The store must not be open to everyone; a group-shared store needs its folder,
    lock and files shared with the same group."""
    problems: list[Problem] = []
    st = store_file_stat(paths)
    if st is None:
        return problems
    mode = stat.S_IMODE(st.st_mode)
    store_name = paths.store
    if mode & 0o002:
        problems.append(
            Problem(
                "problem",
                f"Anyone on this computer can change {store_name} (mode {mode:04o}).",
                f"chmod o-rwx {store_name}",
            )
        )
    elif mode & 0o004:
        problems.append(
            Problem(
                "warning",
                f"Anyone on this computer can read {store_name} (mode {mode:04o}).",
                f"chmod o-rwx {store_name}",
            )
        )
    if not os.access(paths.store, os.R_OK | os.W_OK):
        problems.append(_cannot_write(paths, st))
    if not mode & 0o060:
        return problems
    group = group_name(st.st_gid)
    problems += _check_parent(paths, st, group)
    need_dir = 0o070 if mode & 0o020 else 0o050
    need_file = 0o060 if mode & 0o020 else 0o040
    bad: list[Path] = []
    owners: set[int] = set()
    with suppress(OSError, TrackerError), StoreFolders(paths) as f:
        places: list[tuple[sf.Folder, str, sf.Folder | None, list[str] | None]] = []
        aux = f.aux()
        if aux is not None:
            places.append((f.root(), paths.aux.name, aux, [paths.lock.name, paths.highwater.name]))
            places += [(aux, name, f.sub(name), None) for name in SUBFOLDERS]
        for parent, name, folder, children in places:
            fst = sf.entry_stat(parent, name)
            if folder is None or fst is None:
                continue
            if fst.st_gid != st.st_gid or stat.S_IMODE(fst.st_mode) & need_dir != need_dir:
                bad.append(parent / name)
                owners.add(fst.st_uid)
            for child in children if children is not None else sf.names(folder):
                cst = sf.entry_stat(folder, child)
                if cst is None or not stat.S_ISREG(cst.st_mode) or not kt_may_change(f, cst, st):
                    continue  # a link, a second name or someone else's file: the link checks say remove it
                need = need_file if children is not None else need_file & 0o040
                if cst.st_gid != st.st_gid or stat.S_IMODE(cst.st_mode) & need != need:
                    bad.append(folder / child)
                    owners.add(cst.st_uid)
    if bad:
        shown = ", ".join(str(p) for p in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        who = " and ".join(sorted(user_name(uid) for uid in owners)) if owners else "their owner"
        problems.append(
            Problem(
                "problem",
                f"{store_name} is shared with the group {group}, but {shown} "
                f"{'is' if len(bad) == 1 else 'are'} not, so other members cannot use the store.",
                f"Run kt doctor --fix as {who}: it shares each of its user's own files on the open file, never "
                "through a link or a second name (chmod -R or chgrp -R would follow whatever is planted there).",
                fixable=True,
            )
        )
    return problems


def _cannot_write(paths: StorePaths, st: os.stat_result) -> Problem:
    """Why this user cannot save: a read-only disk (nobody can), or the store's permissions."""
    mount = _read_only_mount(paths.store)
    if mount is not None:
        return Problem(
            "warning",
            f"{paths.store} is on a filesystem mounted read-only ({mount}): commands can read the store, but "
            "none can save to it, whoever runs them.",
            f"Ask whoever manages that disk to make it writable again (mount -o remount,rw {mount}; a disk "
            "remounted read-only after errors needs checking first), or copy the store to a writable folder.",
        )
    if st.st_mode & 0o060:
        fix = (
            f"Ask the store's owner to add you to the group {group_name(st.st_gid)} (see the README on shared stores)."
        )
    else:
        fix = f"The store is private to {user_name(st.st_uid)}: ask them to share it (see the README on shared stores)."
    return Problem("warning", f"You cannot change {paths.store}: write commands will fail for you.", fix)


def _read_only_mount(path: Path) -> Path | None:
    """The mount point of the read-only filesystem holding ``path``, or None when it is writable."""
    try:
        if not os.statvfs(path).f_flag & os.ST_RDONLY:
            return None
        here = Path(os.path.realpath(path)).parent
        dev = os.stat(here).st_dev
        while here.parent != here and os.stat(here.parent).st_dev == dev:
            here = here.parent
    except OSError:
        return None
    return here


def _check_parent(paths: StorePaths, st: os.stat_result, group: str) -> list[Problem]:
    """Saving renames a new file into the store's folder: group members must be able to."""
    if not st.st_mode & 0o020:
        return []
    folder = Path(os.path.realpath(paths.store.parent))
    try:
        fst = os.stat(folder)
    except OSError:
        return []
    problems: list[Problem] = []
    if fst.st_gid != st.st_gid or stat.S_IMODE(fst.st_mode) & 0o030 != 0o030:
        problems.append(
            Problem(
                "problem",
                f"{paths.store} is shared with the group {group}, but its folder {folder} is not writable by "
                "that group, so other members cannot save.",
                f"chgrp {group} {folder} && chmod g+rwxs {folder}",
            )
        )
    if fst.st_mode & stat.S_ISVTX:
        problems.append(
            Problem(
                "problem",
                f"The folder {folder} has the sticky bit (like /tmp), so members cannot replace a store "
                "another member saved last.",
                f"Keep the store in a folder of its own inside {folder}: mkdir {folder}/plan && chgrp {group} "
                f"{folder}/plan && chmod 2770 {folder}/plan && mv {paths.store} {paths.aux} {folder}/plan/ "
                "(the README's shared-folder set-up).",
            )
        )
    return problems


def fix_permissions(paths: StorePaths) -> list[Path]:
    """Share the store's folder, lock and files with the store's group, and give its
    folders the sticky bit (only what this user owns; never a link or a file with other
    names: all of it on open descriptors)."""
    st = store_file_stat(paths)
    if st is None:
        return []
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o060:
        return []
    fixed: list[Path] = []
    dir_bits = _dir_mode(st) & 0o3070
    file_bits = mode & 0o060
    with suppress(OSError, TrackerError), StoreFolders(paths) as f:
        aux = f.aux()
        if aux is None:
            return []
        if sf.add_bits(f.root(), paths.aux.name, dir_bits, st.st_gid, directory=True):
            fixed.append(paths.aux)
        for name in (paths.lock.name, paths.highwater.name):
            if sf.add_bits(aux, name, file_bits, st.st_gid, directory=False):
                fixed.append(aux / name)
        for sub in SUBFOLDERS:
            if sf.add_bits(aux, sub, dir_bits, st.st_gid, directory=True):
                fixed.append(aux / sub)
            folder = f.sub(sub)
            if folder is None:
                continue
            for name in sf.names(folder):
                if sf.add_bits(folder, name, file_bits & 0o040, st.st_gid, directory=False):
                    fixed.append(folder / name)
    return fixed


# ---------------------------------------------------------------------------
# Whose files: kt doctor never advises changing a file kt did not make


def planted_link(f: StoreFolders, st: os.stat_result) -> bool:
    """A file with a name kt did not make: a hard link to a file elsewhere. kt makes hard
    links only between the live store and its own backups (and a damaged store kept aside)."""
    return stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and f.kt_names(st) < st.st_nlink


def in_group(uid: int, gid: int) -> bool | None:
    """Whether the user is a member of the group (as primary group, listed member, or through
    the system's group lookup); None when this computer has no group of that number, so
    cannot say who is in it."""
    try:
        import grp
        import pwd
    except ImportError:  # not a Unix system
        return None
    try:
        group = grp.getgrgid(gid)
    except KeyError:
        return None
    try:
        user = pwd.getpwuid(uid)
    except KeyError:
        return False  # no account has that number: nobody who can log in owns the file
    if user.pw_gid == gid or user.pw_name in group.gr_mem:
        return True
    try:
        return gid in os.getgrouplist(user.pw_name, user.pw_gid)
    except OSError:
        return False


def foreign_owner(st: os.stat_result, store: os.stat_result, group: int | None = None) -> bool:
    """Owned by someone who cannot be one of the store's users: not root (who owns the
    computer), not the user running kt, and, for a store shared with a group (``group``, the
    store folder's, else the store's own), not a member of it; for a private store, not its
    owner. When the computer cannot say who is in the group (no group of that number), a
    file given the store's group counts as a member's."""
    if st.st_uid in (0, os.geteuid()):
        return False
    if not store.st_mode & 0o060:
        return st.st_uid != store.st_uid
    gid = store.st_gid if group is None else group
    member = in_group(st.st_uid, gid)
    if member is None:
        return st.st_gid != gid
    return not member


def kt_may_change(f: StoreFolders, st: os.stat_result, store: os.stat_result) -> bool:
    """Whether doctor may advise sharing this entry: a plain file kt made, under its only names,
    belonging to one of the store's users."""
    return stat.S_ISREG(st.st_mode) and not planted_link(f, st) and not foreign_owner(st, store)


def user_name(uid: int) -> str:
    """A user's login name, or ``user N`` when the number has no account."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"user {uid}"


def group_name(gid: int) -> str:
    """A group's name, or its number when it has none."""
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


_group_name = group_name  # the name older tests use
