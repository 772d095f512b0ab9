"""kt remind: e-mail each owner one digest of what needs their attention, for cron."""

from typing import Annotated, NoReturn

import typer

from knowsley_tracker.cli._context import AppContext, app_context, print_json, say
from knowsley_tracker.errors import MailError, PersonalDataError, StoreLockedError, TrackerError
from knowsley_tracker.service.reminders import RemindOptions, Sent, deliver, plan_reminders, record_after_break

remind_app = typer.Typer(add_completion=False)

REMIND_HELP = (
    "Settings (kt config set NAME VALUE): remind.due_within (7), remind.stale_days (30), remind.lead_after_days "
    "(14: copy to the focus area's lead), remind.escalate_after_days (28: also to remind.escalation_to), "
    "remind.repeat_days (7), remind.domains (e.g. *.gov.uk), smtp.host, smtp.port, smtp.security (starttls, tls "
    "or none), smtp.user, smtp.from, smtp.password_env (default KT_SMTP_PASSWORD) or smtp.password_file, "
    "smtp.ca_file, smtp.timeout. The password is never stored in the plan. "
    "Exit status: 0 done (owners without an e-mail address are listed); 4 a setting is missing or wrong; "
    "6 a digest was withheld because its text looks like personal data; 7 the plan was busy; "
    "16 not every digest was sent, because the mail server failed or the database server broke the run off "
    "(what was sent is recorded, the rest is sent next time)."
)


@remind_app.command("remind", epilog=REMIND_HELP)
def remind(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Print every message, with its headers; send nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Send reminders even if they were sent within remind.repeat_days.")
    ] = False,
    allow_external: Annotated[
        bool, typer.Option("--allow-external", help="Also send to addresses outside remind.domains.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Report what was sent (or would be) as JSON.")] = False,
) -> None:
    """E-mail each owner one digest of their overdue, due-soon and stale actions, copying leads when long overdue.

    Example:

        kt remind --dry-run
    """
    from knowsley_tracker.render import remind_out
    from knowsley_tracker.render.reminder_mail import message

    app = app_context(ctx)
    options = RemindOptions(force=force, allow_external=allow_external)
    if dry_run:
        with app.reading() as s:
            plan = plan_reminders(s, options)
            messages = [message(plan, d, s.clock.now()) for d in plan.digests]
        if as_json:
            print_json(remind_out.to_json(plan, messages, None))
        else:
            for line in remind_out.dry_run(plan, messages):
                say(line)
        return
    sent: list[Sent] = []  # what the mail server accepted, whatever happens to the transaction
    try:
        with app.writing("remind", needs="editor") as s:  # on a server: may record what it sends
            plan = plan_reminders(s, options)
            messages = [message(plan, d, s.clock.now()) for d in plan.digests]
            # What the server accepts is recorded as it is accepted; the transaction is saved
            # even when sending stops part-way, so nothing unsent is recorded and nothing sent is lost.
            report = deliver(s, plan, messages, sent)
    except TrackerError as exc:
        if not sent or not getattr(exc, "retry_whole_command", False):
            raise  # nothing was sent: a run broken off by the server is run again whole
        _record_after_break(app, sent, len(messages), exc)
    if as_json:
        print_json(remind_out.to_json(plan, messages, report))
    else:
        for line in remind_out.sent(plan, messages, report):
            say(line)
    if report.failed:
        failed = sum(1 for d in report.deliveries if not d.sent or d.refused) + len(report.not_attempted)
        raise MailError(
            f"{failed} reminder{'' if failed == 1 else 's'} not sent, or not to every recipient; what was sent is "
            "recorded, and kt remind sends the rest next time."
        )
    if plan.withheld:
        raise PersonalDataError(
            "A reminder was withheld because its text looks like personal data about a child: correct the action "
            "(kt action edit, kt log), then run kt remind again."
        )


def _record_after_break(app: AppContext, sent: list[Sent], total: int, broken: TrackerError) -> NoReturn:
    """A database server broke the run off after the mail server had accepted ``sent``:
    their records went with the broken-off transaction. Record them in a new one (run
    again when the server breaks that off too, as any command is), so that the next run
    sends only the rest, then exit 16 as for a mail server that stopped part-way."""
    from knowsley_tracker.pgstore.writing import retrying  # loaded already: the break came from it

    why = broken.message.removeprefix("The plan is busy: ").removesuffix(" Try again.").rstrip(".")
    went = f"{len(sent)} of {total} digest{'' if total == 1 else 's'} had been sent"

    def record() -> None:
        with app.writing("remind", needs="editor") as s:
            record_after_break(s, sent)

    try:
        retrying(record)
    except TrackerError as exc:
        raise StoreLockedError(
            f"The plan is busy: the database server broke kt remind off ({why}) after {went}, and recording them "
            f"failed too ({exc.message.rstrip('.')}): running kt remind again will send them again."
        ) from None
    raise MailError(
        f"The database server broke kt remind off ({why}) after {went}; what was sent is recorded, and kt remind "
        "sends the rest next time."
    )
