"""Regular expressions compiled when first used (knowsley_tracker.patterns), and the
server-or-file test every command makes without one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from knowsley_tracker.cli._context import is_server_target
from knowsley_tracker.patterns import LazyPattern

PACKAGE = Path(__file__).resolve().parent.parent / "knowsley_tracker"


def test_a_lazy_pattern_compiles_on_first_use_and_matches_as_re_does() -> None:
    pattern = LazyPattern(r"(\d{1,2})/(\d{4})")
    assert pattern._compiled is None
    found = pattern.fullmatch("6/2025")
    assert found is not None and found.groups() == ("6", "2025")
    compiled = pattern._compiled
    assert compiled is not None and compiled.pattern == r"(\d{1,2})/(\d{4})"
    assert pattern.compiled is compiled  # compiled once, then kept
    assert pattern.match("x6/2025", 1) is not None
    assert pattern.search("from 6/2025 on") is not None
    assert [m[0] for m in pattern.finditer("1/2025 and 12/2026")] == ["1/2025", "12/2026"]
    assert pattern.sub("<>", "in 6/2025.") == "in <>."
    assert LazyPattern(rb"-").split(b"a-b") == [b"a", b"b"]
    assert LazyPattern("service", re.IGNORECASE).match("SERVICE") is not None


def test_no_module_compiles_a_regular_expression_when_it_is_imported() -> None:
    """Every command imports dozens of modules: a pattern compiled at import (30-100 us
    each) is paid for by all of them. Module-level patterns are LazyPatterns."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)] if isinstance(node, ast.Assign) else []
            for call in calls:
                func = call.func
                if isinstance(func, ast.Attribute) and func.attr == "compile" and getattr(func.value, "id", "") == "re":
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


_OLD_RULE = re.compile(r"\s*(postgres(ql)?://|service\s*=)", re.IGNORECASE)


@pytest.mark.parametrize(
    "target",
    [
        "postgresql://jlee@db.council.local/improvement",
        "postgres://db/improvement",
        "PostgreSQL:///improvement?host=/run/postgresql",
        "  postgresql:///x",
        "\tservice=improvement",
        "service = improvement",
        "SERVICE=improvement",
        "service\t=x",
        "plan.json",
        "./service=plan.json",
        "service-plan.json",
        "services=x",
        "postgresql:/not-a-uri",
        "/srv/postgresql://odd/plan.json",
        "",
        "   ",
        "\u017fervice=prod",  # the long s is an s to a case-blind pattern
        "serv\u0130ce=prod",  # and the dotted and dotless capital and small i are i
        "serv\u0131ce=prod",
        "po\u017ftgresql://db/x",
        "\u2003postgresql://db/x",  # an em space is white space
    ],
)
def test_a_server_target_is_told_from_a_file_path_as_the_old_pattern_did(target: str) -> None:
    assert is_server_target(target) is (_OLD_RULE.match(target) is not None)
