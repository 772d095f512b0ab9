"""The board paper's logo, read only for the formats that embed or describe it.

:func:`knowsley_tracker.reports.build_paper` keeps the ``paper.logo`` setting's file
name; the PDF, Word, HTML and JSON papers call :func:`with_logo` to read and check the
image. Text and Markdown never show the logo, so a logo file deleted or replaced since
it was set never stops them.
"""

from __future__ import annotations

from pathlib import Path

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.images import read_image
from knowsley_tracker.reports import Report

# The formats whose paper carries the logo: embedded (pdf, docx, html) or described (json).
LOGO_FORMATS = ("pdf", "docx", "html", "json")

UNSET = "kt config unset paper.logo"


def with_logo(report: Report) -> Report:
    """``report`` with the ``paper.logo`` image read and checked; ValidationError (one line,
    naming the file and the fix) when it has gone or is no longer a PNG or JPEG image."""
    name = report.paper.logo_file
    if not name:
        return report
    path = Path(name)
    if not path.exists() and not path.is_symlink():
        raise ValidationError(
            f"The logo {name} (the paper.logo setting) is missing: put the file back, "
            f"set another (kt config set paper.logo FILE) or go without ({UNSET})."
        )
    try:
        image = read_image(path)
    except ValidationError as exc:
        raise ValidationError(f"{exc} Replace the file, or go without a logo: {UNSET}.") from None
    return report._replace(paper=report.paper._replace(logo=image))
