"""Regular expressions compiled the first time they are used.

Compiling a pattern costs 30-100 microseconds. kt's modules hold a few dozen, and
one command uses a handful, so a pattern compiled at import was paid for by every
command whether it used it or not (about 1 ms of ``kt check``). A
:class:`LazyPattern` is written like ``re.compile`` at module level, and compiles
on its first match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, AnyStr, Generic


class LazyPattern(Generic[AnyStr]):
    """``re.compile(source, flags)``, done when first needed."""

    __slots__ = ("source", "flags", "_compiled")

    def __init__(self, source: AnyStr, flags: int = 0) -> None:
        self.source: AnyStr = source
        self.flags = flags
        self._compiled: re.Pattern[AnyStr] | None = None

    @property
    def compiled(self) -> re.Pattern[AnyStr]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.source, self.flags)
        return compiled

    def match(self, text: AnyStr, pos: int = 0) -> re.Match[AnyStr] | None:
        return self.compiled.match(text, pos)

    def fullmatch(self, text: AnyStr, pos: int = 0) -> re.Match[AnyStr] | None:
        return self.compiled.fullmatch(text, pos)

    def search(self, text: AnyStr, pos: int = 0) -> re.Match[AnyStr] | None:
        return self.compiled.search(text, pos)

    def finditer(self, text: AnyStr) -> Iterator[re.Match[AnyStr]]:
        return self.compiled.finditer(text)

    def split(self, text: AnyStr) -> list[AnyStr | Any]:
        return self.compiled.split(text)

    def sub(self, repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr], text: AnyStr) -> AnyStr:
        return self.compiled.sub(repl, text)

    def __repr__(self) -> str:
        return f"LazyPattern({self.source!r})"
