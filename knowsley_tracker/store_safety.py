"""What kt doctor checks about a store kept in a folder other people can write.

kt never follows a link nor writes through a second name (safe_files.py), so
what another member of the store's group plants cannot reach anybody's files;
these checks say where such things are, so that someone looks: links, pipes,
files with a second name kt did not give them, files belonging to someone who is
not in the store's group (nor root, nor the user running kt), and folders that
others can change without the sticky bit (kt's own folders, the store's folder
and those above it). Files only; the plan's own rules are checked by
service/doctor.py, which calls :func:`check_shared_folder`.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

from knowsley_tracker import safe_files as sf
from knowsley_tracker.errors import TrackerError
from knowsley_tracker.storage import (
    SUBFOLDERS,
    Problem,
    StoreFolders,
    StorePaths,
    foreign_owner,
    group_name,
    is_temp_name,
    planted_link,
    store_file_stat,
    user_name,
)


def check_shared_folder(paths: StorePaths) -> list[Problem]:
    """Folders others can change, then links and other people's files among the store's."""
    return check_folders(paths) + check_links(paths)


def _kt_entries(f: StoreFolders) -> list[tuple[sf.Folder, str]]:
    """Every entry kt keeps for this store: the store's own names in its folder (the store,
    its folder, temporary files), and everything in plan.json.d and its folders."""
    root = f.root()
    prefix = f".{f.store_name}."
    found = [
        (root, name)
        for name in sf.names(root)
        if name in (f.store_name, f.paths.aux.name) or (name.startswith(prefix) and is_temp_name(name))
    ]
    with suppress(OSError, TrackerError):
        aux = f.aux()
        if aux is not None:
            found += [(aux, name) for name in sf.names(aux)]
            for sub in SUBFOLDERS:
                with suppress(OSError, TrackerError):
                    folder = f.sub(sub)
                    if folder is not None:
                        found += [(folder, name) for name in sf.names(folder)]
    return found


def _store_group(f: StoreFolders, store: os.stat_result) -> int:
    """The group that shares the store: that of the folder holding it (whose members can add
    files there), else the store's own."""
    with suppress(OSError):
        return os.fstat(f.root().fd).st_gid
    return store.st_gid


def check_links(paths: StorePaths) -> list[Problem]:
    """Links, odd files and other people's files among the store's files. kt makes no
    symbolic links, and hard links only between the store and its own backups, so someone
    else put each of these there; kt refuses to use any of them, and doctor never advises
    changing one (its mode or group is another file's): only removing it."""
    problems: list[Problem] = []
    store = store_file_stat(paths)
    try:
        with StoreFolders(paths) as f:
            group = _store_group(f, store) if store is not None else None
            for folder, name in _kt_entries(f):
                problems += _entry_problems(f, folder, name, store, group)
    except (OSError, TrackerError):
        pass
    return problems


def _owner_text(st: os.stat_result, store: os.stat_result | None, group: int | None) -> str:
    """Who owns a file, said when that is someone who cannot be one of the store's users."""
    if store is None or not foreign_owner(st, store, group):
        return ""
    who = user_name(st.st_uid)
    if store.st_mode & 0o060 and group is not None:
        return f" It belongs to {who}, who is not in the group {group_name(group)} that shares the store."
    return f" It belongs to {who}, not to the store's owner {user_name(store.st_uid)} (the store is private)."


def _entry_problems(
    f: StoreFolders, folder: sf.Folder, name: str, store: os.stat_result | None, group: int | None
) -> list[Problem]:
    st = sf.entry_stat(folder, name)
    if st is None:
        return []
    path = folder / name
    remove = f"Check who made it (ls -l {path}), then remove it: rm {path}"
    if stat.S_ISLNK(st.st_mode):
        target = None
        with suppress(OSError):
            target = os.readlink(name, dir_fd=folder.fd)
        pointing = f" (to {target})" if target else ""
        return [
            Problem(
                "problem",
                f"{path} is a symbolic link{pointing}: kt never makes symbolic links and never follows them, so "
                "someone else put it there.",
                remove,
            )
        ]
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        return [Problem("problem", f"{path} is a pipe, socket or device, not a file kt made.", remove)]
    owner = _owner_text(st, store, group)
    if planted_link(f, st):
        return [
            Problem(
                "problem",
                f"{path} has {st.st_nlink} names on disk: it is a hard link to a file elsewhere, planted there (kt "
                "links only the store and its own backups), and kt will not read, write or change it; changing its "
                f"mode or group would change that other file.{owner}",
                f"Check it (find / -xdev -samefile {path}), then remove this name only: rm {path} "
                "(never chmod or chgrp it).",
            )
        ]
    if not owner:
        return []
    if name == f.store_name and folder.fd == f.root().fd:
        return [
            Problem(
                "problem",
                f"{path}, the store itself, was last saved by someone who should not be able to.{owner}",
                "Check who saved it (kt history -n 1) and who is in the group; if the change is not wanted, restore "
                "the version before it (kt backup list, kt restore NAME).",
            )
        ]
    return [
        Problem(
            "problem",
            f"{path} is not a file the store's users made.{owner}",
            f"Check how it got there (ls -l {path}), then remove it: rm {path}",
        )
    ]


def check_folders(paths: StorePaths) -> list[Problem]:
    """Folders others can change: kt never follows what they plant, but a member who can
    rename another's files can delete the lock or backups, and one who can rename the
    store's folder can put a link in its place. The sticky bit stops both; kt sets it on
    its own folders of a shared store. The store's own folder cannot have it (each save
    replaces plan.json, whoever saved it last), so it must hold the store alone and sit
    in a folder that is not writable by others, or has the sticky bit."""
    store = store_file_stat(paths)
    if store is None:
        return []
    problems: list[Problem] = []
    group_shared = bool(store.st_mode & 0o020)
    root_path = Path(os.path.realpath(paths.store.parent))
    try:
        root_st = os.stat(root_path)
    except OSError:
        return problems
    root_mode = stat.S_IMODE(root_st.st_mode)
    if root_mode & 0o002:
        problems.append(
            Problem(
                "problem",
                f"Anyone on this computer can add, rename or delete files in {root_path} (mode {root_mode:04o}), "
                "the folder holding the store.",
                f"Keep the store in a folder of its own (mkdir -m 700 ~/kt && mv {paths.store} {paths.aux} ~/kt/), "
                f"or if {root_path} is yours: chmod o-w {root_path}",
            )
        )
    elif root_mode & 0o020 and not group_shared:
        problems.append(
            Problem(
                "problem",
                f"Members of the group {group_name(root_st.st_gid)} can add, rename or delete files in {root_path}, "
                f"but the store is private to its owner (mode {stat.S_IMODE(store.st_mode):04o}).",
                f"chmod g-w {root_path}, or share the store with the group (see the README on shared stores).",
            )
        )
    problems += _check_ancestors(root_path)
    try:
        with StoreFolders(paths) as f:
            aux_parent = f.root()
            places = [(aux_parent, paths.aux.name)]
            aux = f.aux()
            if aux is not None:
                places += [(aux, name) for name in SUBFOLDERS]
            for folder, name in places:
                st = sf.entry_stat(folder, name)
                if st is None or not stat.S_ISDIR(st.st_mode):
                    continue
                mode = stat.S_IMODE(st.st_mode)
                where = folder / name
                if mode & 0o002:
                    problems.append(
                        Problem(
                            "problem",
                            f"Anyone on this computer can add, rename or delete files in {where} (mode {mode:04o}).",
                            f"chmod o-w {where}",
                        )
                    )
                elif mode & 0o020 and not mode & stat.S_ISVTX:
                    problems.append(
                        Problem(
                            "problem",
                            f"Members of the group {group_name(st.st_gid)} can rename or delete each other's files "
                            f"in {where} (the lock, backups or history), as the folder has no sticky bit.",
                            f"Run kt doctor --fix as the folder's owner, or: chmod +t {where}",
                            fixable=st.st_uid == os.geteuid(),
                        )
                    )
    except (OSError, TrackerError):
        pass
    return problems


def _check_ancestors(folder: Path) -> list[Problem]:
    """Folders above the store's folder that others can change without the sticky bit."""
    problems: list[Problem] = []
    child = folder
    for above in folder.parents:
        try:
            st = os.stat(above)
        except OSError:
            break
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o022 and not mode & stat.S_ISVTX:
            who = "Anyone on this computer" if mode & 0o002 else f"Members of the group {group_name(st.st_gid)}"
            problems.append(
                Problem(
                    "problem",
                    f"{who} can rename or replace what is in {above} (mode {mode:04o}, no sticky bit), so could move "
                    f"{child} away and put a link to another folder in its place.",
                    f"chmod +t {above} (as its owner), so that only the owner of {child} can move it.",
                )
            )
        child = above
    return problems
