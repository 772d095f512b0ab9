"""The board paper as an A4 PDF: the HTML pack laid out for print by WeasyPrint.

One layout serves both formats: :func:`to_pdf` renders exactly the page
:func:`knowsley_tracker.render.report_html.to_html` writes, whose print rules
give A4 pages, the protective marking at the top and bottom of every page,
"Page N of M", table headers repeated on every page and no row or chart split
across two. WeasyPrint needs the Pango library from the system, so it is the
optional extra ``knowsley-tracker[pdf]``; without it this says how to install
it (exit 17). It is imported only here, only when a PDF is asked for (about a
second's import). Nothing outside the page is fetched: the pack has no
external assets, and the fetcher refuses every address but ``data:``.
"""

from __future__ import annotations

import warnings
from typing import Any

from knowsley_tracker.errors import ExtraMissingError
from knowsley_tracker.render.report_html import to_html
from knowsley_tracker.reports import Report

INSTALL = "pip install 'knowsley-tracker[pdf]'"


def _weasyprint() -> Any:
    try:
        with warnings.catch_warnings():  # its notices about optional system libraries are not the user's business
            warnings.simplefilter("ignore")
            import weasyprint
    except ImportError:
        raise ExtraMissingError(
            f"PDF papers need the optional pdf extra (WeasyPrint): {INSTALL}, or write --format docx or html."
        ) from None
    except OSError as exc:  # WeasyPrint is there, the system's Pango library is not
        raise ExtraMissingError(
            f"PDF papers need the Pango library, which WeasyPrint could not load ({exc}): install it "
            "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0), or write --format docx or html."
        ) from None
    return weasyprint


def to_pdf(report: Report) -> bytes:
    """The whole paper as PDF bytes."""
    weasyprint = _weasyprint()
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pdf: bytes = weasyprint.HTML(string=to_html(report), url_fetcher=fetcher).write_pdf()
    return pdf
