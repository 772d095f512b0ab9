"""kt check: what needs attention today, for cron (silent and exit 0 when nothing does).

Kept light on purpose: no Rich, no dateutil parser, no csv or icalendar on
this path, and the progress log is never read.
"""

from typing import Annotated

import typer

from knowsley_tracker.cli._context import app_context, print_json
from knowsley_tracker.errors import TrackerError
from knowsley_tracker.render import check_out
from knowsley_tracker.render.text import emit, is_terminal
from knowsley_tracker.service.check import CheckOptions, run_check

# The exit status is the contract with cron and scripts; README repeats it.
EXIT_CODES_HELP = (
    "Exit status: 0 nothing needs attention (nothing is printed, so cron sends no mail); "
    "1 something needs attention (the digest is printed); 2 usage error (unknown option, bad number); "
    "3 no such owner (--owner); 4 KNOWSLEY_TRACKER_NOW is not a date, or is outside 1 Jan 1900 to 31 Dec 2999; 8 no store at that path; "
    "9 store unreadable (damaged, not a store, from a newer version, or holding a setting kt cannot use); "
    "11 the digest could not be written in full (a full disk); 13 a link where a store file should be; 10 any other error, such as permission denied or a fault in kt (never 1). "
    "kt check takes no lock: it reads the last saved plan, so it never waits for a writer."
)

check_app = typer.Typer(add_completion=False)


@check_app.command("check", epilog=EXIT_CODES_HELP)
def check(
    ctx: typer.Context,
    visit_within: Annotated[
        int, typer.Option("--visit-within", metavar="DAYS", min=0, help="Flag visits in the next DAYS days.")
    ] = 30,
    no_visits: Annotated[bool, typer.Option("--no-visits", help="Do not flag visits.")] = False,
    due_within: Annotated[
        int, typer.Option("--due-within", metavar="DAYS", min=0, help="Flag open actions due in the next DAYS days.")
    ] = 7,
    no_due: Annotated[bool, typer.Option("--no-due", help="Do not flag actions due soon.")] = False,
    no_overdue: Annotated[bool, typer.Option("--no-overdue", help="Do not flag overdue actions.")] = False,
    stale: Annotated[
        int,
        typer.Option("--stale", metavar="DAYS", min=1, help="Flag open actions with no progress note for DAYS days."),
    ] = 30,
    no_stale: Annotated[bool, typer.Option("--no-stale", help="Do not flag actions with no recent update.")] = False,
    deadline_within: Annotated[
        int,
        typer.Option(
            "--deadline-within",
            metavar="DAYS",
            min=0,
            help="Flag the statutory action plan to Ofsted from DAYS days before it is due until it is sent.",
        ),
    ] = 30,
    no_deadlines: Annotated[bool, typer.Option("--no-deadlines", help="Do not flag statutory deadlines.")] = False,
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner", help="Only this owner's actions (id, role or name); deadlines and visits are left out."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the items as JSON (always printed, even when empty).")
    ] = False,
) -> None:
    """Report statutory deadlines, overdue actions, actions due soon, visits coming up and stale actions.

    Example:

        kt check --visit-within 14 --due-within 7 --stale 30
    """
    options = CheckOptions(
        visit_within=None if no_visits else visit_within,
        due_within=None if no_due else due_within,
        overdue=not no_overdue,
        stale=None if no_stale else stale,
        deadline_within=None if no_deadlines else deadline_within,
        owner=owner,
    )
    try:
        with app_context(ctx).reading() as s:
            result = run_check(s, options)
        document = check_out.to_json(result) if as_json else None
        width = None
        if result.needs_attention and not as_json and is_terminal():
            from knowsley_tracker.render.terminal import terminal_width

            width = terminal_width()
        text = check_out.digest(result, width) if result.needs_attention and not as_json else None
    except TrackerError:
        raise
    except Exception as exc:
        # Exit 1 tells cron that something needs attention; a fault in kt must not say that.
        raise TrackerError(
            f"kt check could not finish ({type(exc).__name__}: {exc}), so it cannot say whether anything needs "
            "attention; run kt doctor, and report this to whoever supports knowsley-tracker."
        ) from None
    if document is not None:
        print_json(document)
    elif text is not None:
        emit(text)
    if result.needs_attention:
        raise typer.Exit(1)
