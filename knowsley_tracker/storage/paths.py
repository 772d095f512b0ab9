"""Where each part of one store lives, and the names kt gives the files it makes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from knowsley_tracker.patterns import LazyPattern

# ASCII digits only (re.ASCII): a planted name with other digits is not a backup kt made.
_BACKUP_NAME = LazyPattern(r".+-t(\d+)-(\d{8}T\d{6}Z)(?:-\d+)?\.json", re.ASCII)
_DAMAGED_NAME = LazyPattern(r".+-damaged-(\d{8}T\d{6}Z)(?:-\d+)?\.json", re.ASCII)
_BLOB_TXN = LazyPattern(r".+-t(\d+)\.json", re.ASCII)
_TEMP_NAME = LazyPattern(r"\..+\.[0-9a-f]+\.tmp")  # .plan.json.3f9c0a1be24d7c55.tmp (older kt: a pid)


class StorePaths(NamedTuple):
    """Where each part of one store lives. (A NamedTuple: cheaper to make at start-up than a
    frozen dataclass, see dates.Clock.)"""

    store: Path

    @property
    def aux(self) -> Path:
        return self.store.with_name(self.store.name + ".d")

    @property
    def lock(self) -> Path:
        return self.aux / "lock"

    @property
    def highwater(self) -> Path:
        return self.aux / "highwater.json"

    @property
    def segments(self) -> Path:
        return self.aux / "segments"

    @property
    def snapshots(self) -> Path:
        return self.aux / "snapshots"

    @property
    def backups(self) -> Path:
        return self.aux / "backups"

    @property
    def folders(self) -> tuple[Path, ...]:
        return (self.aux, self.segments, self.snapshots, self.backups)


SUBFOLDERS = ("segments", "snapshots", "backups")


def is_temp_name(name: str) -> bool:
    """A name kt gives its temporary files (``.plan.json.3f9c0a1be24d7c55.tmp``)."""
    return _TEMP_NAME.fullmatch(name) is not None
