"""What kt doctor checks about a store kept in a folder other people can write.

kt never follows a link nor writes through a second name (safe_files.py), so
what another member of the store's group plants cannot reach anybody's files;
these checks say where such things are, so that someone looks: links, pipes,
files with a second name, files belonging to someone outside the store's
group, and folders that others can change without the sticky bit (kt's own
folders, the store's folder and those above it). Files only; the plan's own
rules are checked by service/doctor.py, which calls :func:`check_shared_folder`.
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
    group_name,
    is_temp_name,
    store_file_stat,
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


def _is_foreign(st: os.stat_result, store: os.stat_result) -> bool:
    """Owned by someone who is neither the store's owner, nor (for a group-shared store) in
    its group, nor root."""
    if st.st_uid in (store.st_uid, 0):
        return False
    shared = bool(store.st_mode & 0o060)
    return not shared or st.st_gid != store.st_gid


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"user {uid}"


def check_links(paths: StorePaths) -> list[Problem]:
    """Links, odd files and other people's files among the store's files: kt never makes
    a link, so someone else put each one there, and kt refuses to use any of them."""
    problems: list[Problem] = []
    store = store_file_stat(paths)
    try:
        with StoreFolders(paths) as f:
            for folder, name in _kt_entries(f):
                problems += _entry_problems(f, folder, name, store)
    except (OSError, TrackerError):
        pass
    return problems


def _entry_problems(f: StoreFolders, folder: sf.Folder, name: str, store: os.stat_result | None) -> list[Problem]:
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
                f"{path} is a symbolic link{pointing}: kt never makes links and never follows them, so someone "
                "else put it there.",
                remove,
            )
        ]
    problems: list[Problem] = []
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        problems.append(Problem("problem", f"{path} is a pipe, socket or device, not a file kt made.", remove))
    elif stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and f.kt_names(st) < st.st_nlink:
        problems.append(
            Problem(
                "problem",
                f"{path} has {st.st_nlink} names on disk: it is a hard link to a file elsewhere, which kt did not "
                "make and will not read, write or change.",
                f"Check it (find / -xdev -samefile {path}), then remove this name: rm {path}",
            )
        )
    if store is not None and _is_foreign(st, store):
        group = group_name(store.st_gid)
        problems.append(
            Problem(
                "problem",
                f"{path} belongs to {_user_name(st.st_uid)} (group {group_name(st.st_gid)}), who is neither the "
                f"store's owner nor in its group{'' if store.st_mode & 0o060 else ' (the store is private)'}.",
                f"Check how it got there; remove it, or give it to the store's group: chgrp {group} {path}",
            )
        )
    return problems


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
