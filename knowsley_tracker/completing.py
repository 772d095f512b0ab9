"""Tab completion of ids, keys, owners and statuses, answered before the command tree loads.

When a shell asks kt for completions (``_KT_COMPLETE=complete_zsh`` and the
words typed so far), :func:`answer` works out whether the word being completed
is an action, recommendation, owner, focus area, status or RAG, reads that one
table from the store and prints the candidates in the shell's format, without
importing Typer or the command modules: on the regional plan (3,000 actions)
that is what keeps completion under 100 ms. Anything else (command and option
names) is left to Typer's completion, which :mod:`knowsley_tracker.cli._complete`
sets up. ``COMPLETED_BY`` must match the ``autocompletion=`` each command
declares; a test holds them together.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# (command words) -> kinds of its positional arguments, in order.
POSITIONAL: dict[tuple[str, ...], tuple[str, ...]] = {
    ("log",): ("action",),
    ("done",): ("action",),
    ("action", "add"): ("rec",),
    ("action", "show"): ("action",),
    ("action", "edit"): ("action",),
    ("action", "remove"): ("action",),
    ("evidence", "add"): ("action",),
    ("rec", "show"): ("rec",),
    ("rec", "edit"): ("rec",),
    ("rec", "remove"): ("rec",),
    ("focus", "show"): ("focus",),
    ("focus", "edit"): ("focus",),
    ("focus", "remove"): ("focus",),
    ("owner", "edit"): ("owner",),
    ("owner", "remove"): ("owner",),
}
_LIST_FILTERS = {"--focus": "focus", "-f": "focus", "--owner": "owner", "-o": "owner", "--status": "status"}
# (command words) -> {option: kind of its value}.
OPTIONS: dict[tuple[str, ...], dict[str, str]] = {
    ("log",): {"--status": "status", "-s": "status"},
    ("action", "add"): {"--owner": "owner", "-o": "owner", "--status": "status"},
    ("action", "list"): _LIST_FILTERS | {"-s": "status", "--rec": "rec", "-r": "rec", "--rag": "rag"},
    ("action", "edit"): {"--owner": "owner", "-o": "owner", "--rec": "rec"},
    ("rec", "add"): {"--focus": "focus", "-f": "focus"},
    ("rec", "list"): {"--focus": "focus", "-f": "focus"},
    ("rec", "edit"): {"--focus": "focus", "-f": "focus"},
    ("kpi", "add"): {"--focus": "focus", "-f": "focus"},
    ("kpi", "list"): {"--focus": "focus", "-f": "focus"},
    ("report",): {"--focus": "focus"},
}
GROUPS = {"action", "evidence", "rec", "focus", "owner", "kpi"}
ALIASES = {
    "actions": "action",
    "focus-area": "focus",
    "focus-areas": "focus",
    "owners": "owner",
    "recs": "rec",
    "recommendation": "rec",
    "recommendations": "rec",
    "kpis": "kpi",
}
# Options that take a value, so the word after them is not an argument.
_ROOT_VALUED = {"--db", "--lock-timeout"}
HELP_WIDTH = 60


def _split(text: str) -> list[str]:
    import shlex

    lex = shlex.shlex(text, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        out.extend(lex)
    except ValueError:  # an unfinished quote: use the partial word
        out.append(lex.token)
    return out


def typed_words(shell: str) -> tuple[list[str], str] | None:
    """The words before the one being completed, and that word (as Typer reads them)."""
    env = os.environ
    if shell == "bash":
        words = _split(env.get("COMP_WORDS", ""))
        at = int(env.get("COMP_CWORD", "0") or 0)
        return words[1:at], (words[at] if at < len(words) else "")
    if shell in ("zsh", "fish"):
        line = env.get("_TYPER_COMPLETE_ARGS", "")
        words = _split(line)[1:]
        if words and not line.endswith(" "):
            return words[:-1], words[-1]
        return words, ""
    return None


def what_is_completed(args: list[str]) -> tuple[str, Path | None] | None:
    """The kind of value the next word is (``action``, ``owner``...) and the --db given, if any."""
    db: Path | None = None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in _ROOT_VALUED:
            if i + 1 < len(args) and args[i] == "--db":
                db = Path(args[i + 1])
            i += 2
        elif args[i].startswith("--db="):
            db = Path(args[i].split("=", 1)[1])
            i += 1
        else:
            i += 1
    if i >= len(args):
        return None
    command = [ALIASES.get(args[i], args[i])]
    i += 1
    if command[0] in GROUPS:
        if i >= len(args):
            return None
        command.append(args[i])
        i += 1
    key = tuple(command)
    options = OPTIONS.get(key, {})
    rest = args[i:]
    if rest and rest[-1] in options:
        return options[rest[-1]], db
    positional = POSITIONAL.get(key, ())
    count = 0
    j = 0
    while j < len(rest):
        word = rest[j]
        if word == "--":
            count += len(rest) - j - 1
            break
        if word.startswith("-"):
            j += 1 if "=" in word or word not in options and not _takes_value(word) else 2
            continue
        count += 1
        j += 1
    if count < len(positional):
        return positional[count], db
    return None


def _takes_value(option: str) -> bool:
    """Options that take a value (most do); flags are listed."""
    return option not in {"--json", "--wide", "--overdue", "--lower-is-better", "--dry-run", "--open-only", "-h"}


def _db(given: Path | None) -> Path | None:
    if given is not None:
        return given
    env = os.environ.get("KNOWSLEY_TRACKER_DB")
    if env:
        return Path(env)
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        return Path(base) / "knowsley-tracker" / "plan.json"
    return None  # elsewhere Typer knows the application folder


def _rows(db: Path, table: str) -> list[tuple[int, dict[str, Any]]]:
    from knowsley_tracker.errors import TrackerError
    from knowsley_tracker.storage import Store

    try:
        return list(Store.open(db, write=False).rows(table))
    except (TrackerError, OSError):
        return []


def _safe(text: object) -> str:
    from knowsley_tracker.render.text import safe

    return safe(text)


def _help(text: object) -> str:
    shown = " ".join(_safe(text).split())
    return shown if len(shown) <= HELP_WIDTH else shown[: HELP_WIDTH - 1].rstrip() + "\u2026"


def _refs(db: Path, table: str, prefix: str, typed: str, about: str) -> list[tuple[str, str]]:
    shown_prefix = typed[: len(prefix)] if typed[: len(prefix)].upper() == prefix else prefix
    digits = typed[len(prefix) :] if typed.upper().startswith(prefix) else typed
    if digits and not digits.isdigit():
        return []
    return [
        (f"{shown_prefix}{record_id}", _help(row.get(about) or row.get("text", "")))
        for record_id, row in _rows(db, table)
        if str(record_id).startswith(digits)
    ]


def _owner(row: dict[str, Any]) -> str:
    role, name = row.get("role", ""), row.get("name", "")
    return _help(f"{role} ({name})" if name else role)


def candidates(kind: str, db: Path, typed: str) -> list[tuple[str, str]]:
    """What to offer for a word of this kind that starts as ``typed``: (value, description)."""
    if kind == "action":
        return _refs(db, "actions", "A", typed, "title")
    if kind == "rec":
        return _refs(db, "recommendations", "R", typed, "summary")
    if kind == "focus":
        wanted = typed.upper()
        return [
            (str(row["key"]), _help(row.get("name", "")))
            for _, row in _rows(db, "focus_areas")
            if str(row.get("key", "")).startswith(wanted)
        ]
    if kind == "owner":
        rows = [row | {"id": i} for i, row in _rows(db, "owners") if row.get("active", True)]
        if typed[:1].upper() == "O" and typed[1:].isdigit() or typed in ("O", "o"):
            return [(f"{typed[:1]}{r['id']}", _owner(r)) for r in rows if f"O{r['id']}".startswith(typed.upper())]
        wanted = typed.casefold()
        # A role is offered as typed text; one holding control characters is shown escaped.
        return [(_safe(r["role"]), _owner(r)) for r in rows if str(r.get("role", "")).casefold().startswith(wanted)]
    words = (
        ("not-started", "in-progress", "blocked", "complete", "dropped")
        if kind == "status"
        else ("red", "amber", "green", "complete", "blue")
    )
    return [(w, "") for w in words if w.startswith(typed.lower())]


def _zsh(items: list[tuple[str, str]]) -> str:
    def escape(s: str) -> str:
        return s.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")

    if not items:
        return "_files"
    lines = [f'"{escape(v)}":"{escape(h)}"' if h else f'"{escape(v)}"' for v, h in items]
    return "_arguments '*: :((" + "\n".join(lines) + "))'"


def answer(prog_name: str = "kt") -> bool:
    """Answer a completion request from the store when it is for a value kt can look up;
    False when there is no request or Typer should answer it."""
    instruction = os.environ.get(f"_{prog_name.replace('-', '_').upper()}_COMPLETE", "")
    shell = instruction.removeprefix("complete_")
    if not instruction.startswith("complete_") or shell not in ("bash", "zsh", "fish"):
        return False
    typed = typed_words(shell)
    if typed is None:
        return False
    args, incomplete = typed
    found = what_is_completed(args)
    if found is None:
        return False
    kind, given = found
    db = _db(given)
    if db is None:
        return False
    items = candidates(kind, db, incomplete)
    if shell == "fish":
        if os.environ.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args":
            sys.stdout.flush()
            os._exit(0 if items else 1)
        text = "\n".join(f"{v}\t{h}" if h else v for v, h in items)
    elif shell == "zsh":
        text = _zsh(items)
    else:
        text = "\n".join(v for v, _ in items)
    sys.stdout.write(text + "\n" if text else "")
    return True
