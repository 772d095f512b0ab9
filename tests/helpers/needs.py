"""Tests that need a system part pip cannot install (Pango for PDF papers, LibreOffice).

Under CI (``CI=true``) a missing part fails the test: `.ci/run` installs every one,
so a missing part there is a broken CI, never a reason to skip. On a developer's
machine the test is skipped with the reason and the install command, which pytest
lists at the end of the run (``-ra``).
"""

from __future__ import annotations

import os
import shutil

import pytest


def need(available: bool, message: str) -> None:
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def need_pdf_engine() -> None:
    """WeasyPrint (the pdf extra) and the Pango library it loads."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        need(
            False,
            f"PDF papers need WeasyPrint and Pango ({exc}): pip install -e '.[dev,pdf]' and, on Debian, "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0",
        )


def need_libreoffice() -> None:
    need(
        shutil.which("soffice") is not None,
        "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui libreoffice-writer-nogui",
    )
