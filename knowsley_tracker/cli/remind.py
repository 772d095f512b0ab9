"""kt remind: e-mail each owner one digest of what needs their attention, for cron."""

from email.message import EmailMessage
from typing import Annotated

import typer

from knowsley_tracker import commit_point
from knowsley_tracker.cli._context import AppContext, app_context, print_json, say
from knowsley_tracker.errors import MailError, PersonalDataError, TrackerError
from knowsley_tracker.service.reminders import RemindOptions, Sending, deliver, plan_reminders, record_after_break

remind_app = typer.Typer(add_completion=False)

REMIND_HELP = (
    "Settings (kt config set NAME VALUE): remind.due_within (7), remind.stale_days (30), remind.lead_after_days "
    "(14: copy to the focus area's lead), remind.escalate_after_days (28: also to remind.escalation_to), "
    "remind.repeat_days (7), remind.domains (e.g. *.gov.uk), smtp.host, smtp.port, smtp.security (starttls, tls "
    "or none), smtp.user, smtp.from, smtp.password_env (default KT_SMTP_PASSWORD) or smtp.password_file, "
    "smtp.ca_file, smtp.timeout. The password is never stored in the plan. "
    "Exit status: 0 done (owners without an e-mail address are listed); 4 a setting is missing or wrong; "
    "6 a digest was withheld because its text looks like personal data; 7 the plan was busy; "
    "16 not every digest was sent, because the mail server failed, the store could not save the run, or Ctrl-C "
    "stopped it (what was sent is recorded, the rest is sent next time)."
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
    from knowsley_tracker.service.mail_sending import SendReport

    sending = Sending(SendReport())  # what went out, whatever happens to the transaction
    unrecorded: BaseException | None = None
    try:
        with app.writing("remind", needs="editor") as s:  # on a server: may record what it sends
            plan = plan_reminders(s, options)
            messages = [message(plan, d, s.clock.now()) for d in plan.digests]
            # What the server accepts is recorded as it is accepted; the transaction is saved
            # even when sending stops part-way, so nothing unsent is recorded and nothing sent is lost.
            deliver(s, plan, messages, sending)
    except TrackerError as exc:
        if not sending.sent:
            raise  # nothing went out: nothing to keep (a run a server broke off is run again whole)
        busy = getattr(exc, "retry_whole_command", False)
        why = _clause(exc)
        stopped = f"The database server broke the run off ({why})" if busy else why[:1].upper() + why[1:]
        unrecorded = _record_after_break(app, sending, messages, why, stopped)
    except KeyboardInterrupt:
        if not sending.sent:
            raise  # nothing went out: interrupted, nothing saved
        # Ctrl-C while sending: stop, but keep what went out, or the next run sends it again.
        commit_point.carry_on()
        unrecorded = _record_after_break(app, sending, messages, "interrupted", "Interrupted (Ctrl-C)")
    report = sending.report
    if as_json:
        print_json(remind_out.to_json(plan, messages, report))
    else:
        for line in remind_out.sent(plan, messages, report):
            say(line)
    if isinstance(unrecorded, KeyboardInterrupt):  # Ctrl-C again while recording: leave, but say what it costs
        count = len(sending.sent)
        typer.echo(
            f"Warning: {count} reminder{'' if count == 1 else 's'} went out but {'was' if count == 1 else 'were'} "
            f"not recorded: the next kt remind will send {'it' if count == 1 else 'them'} again.",
            err=True,
        )
        raise unrecorded
    if unrecorded is not None:
        raise unrecorded
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


def _record_after_break(
    app: AppContext, sending: Sending, messages: list[EmailMessage], why: str, stopped: str
) -> TrackerError | KeyboardInterrupt | None:
    """The run stopped after the mail server had accepted ``sending.sent`` without saving
    their records (a database server broke it off, the disk was full, Ctrl-C): ``why``, as
    a clause. Record them in a transaction of their own (on a server, run again when that
    is broken off too, as any command is), so that the next run sends only what this one
    did not; a run that stopped before the last digest is reported as ``stopped`` part-way
    (exit 16).

    Returns the error to leave with when even that could not be saved (the next run will
    send them again, and the error says so), or the interrupt when Ctrl-C came again."""
    report = sending.report
    report.not_attempted = messages[len(report.deliveries) :]
    if report.not_attempted:  # stopped while sending, not when saving at the end
        report.stopped = stopped

    def record() -> None:
        with app.writing("remind", needs="editor") as s:
            record_after_break(s, sending.sent)

    try:
        if app.server is None:
            record()
        else:
            from knowsley_tracker.pgstore.writing import retrying  # loaded already by the server store

            retrying(record)
    except KeyboardInterrupt as interrupt:
        return interrupt
    except TrackerError as exc:
        again = _clause(exc)
        count = len(sending.sent)
        them = "it" if count == 1 else "them"
        error = TrackerError(
            f"{count} reminder{'' if count == 1 else 's'} went out but could not be recorded ({why}"
            f"{f', and again when recording {them}' if again == why else f'; then {again}'}): the next kt remind "
            f"will send {them} again."
        )
        error.exit_code = exc.exit_code
        return error
    return None


def _clause(exc: TrackerError) -> str:
    """What went wrong, as a clause inside another sentence: the error's first clause."""
    text = exc.message.removeprefix("The plan is busy: ").split(";")[0].removesuffix(" Try again.").rstrip(".")
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
