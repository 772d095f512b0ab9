"""Sending e-mail with the standard library's smtplib: the mail server's settings, the
password (from an environment variable or a file, never the store), and one SMTP
session that sends each message and says which recipients the server accepted.

A message counts as sent to a recipient only once the server has accepted it
for that recipient. A server that refuses a message (a 5xx or 4xx reply) fails
that message and the next is tried; one that drops the connection, times out
or cannot be reached stops the run, and the messages not yet sent are reported
as such. Imported only by ``kt remind``.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import NamedTuple

from knowsley_tracker.commit_point import did_outside
from knowsley_tracker.errors import MailError, ValidationError
from knowsley_tracker.service.session import Session

__all__ = ["MailError", "SendReport", "SmtpSettings", "send_all", "smtp_settings"]


class SmtpSettings(NamedTuple):
    host: str
    port: int
    security: str  # starttls, tls or none
    user: str
    password: str
    timeout: int
    ca_file: str

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def _password(s: Session, user: str) -> str:
    """The password, from the file named by smtp.password_file, else the environment
    variable named by smtp.password_env; empty when no user is set."""
    if not user:
        return ""
    path = s.setting("smtp.password_file")
    if path:
        file = Path(path).expanduser()
        try:
            info = file.stat()
            if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ValidationError(
                    f"{file} (smtp.password_file) can be read by others: chmod 600 {file}, then try again."
                )
            return file.read_text(encoding="utf-8").strip("\r\n")
        except OSError as exc:
            raise ValidationError(f"Cannot read the password file {file} ({exc.strerror or exc}).") from None
    variable = s.setting("smtp.password_env")
    password = os.environ.get(variable, "")
    if not password:
        raise ValidationError(
            f"smtp.user is set but there is no password: set {variable} in the environment, or name a file "
            "with kt config set smtp.password_file PATH."
        )
    return password


def smtp_settings(s: Session) -> SmtpSettings:
    user = s.setting("smtp.user")
    return SmtpSettings(
        host=s.setting("smtp.host"),
        port=s.setting("smtp.port"),
        security=s.setting("smtp.security"),
        user=user,
        password=_password(s, user),
        timeout=s.setting("smtp.timeout"),
        ca_file=s.setting("smtp.ca_file"),
    )


@dataclass
class Delivery:
    """What happened to one message."""

    message: EmailMessage
    accepted: set[str] = field(default_factory=set)  # recipient addresses, casefolded
    refused: dict[str, str] = field(default_factory=dict)  # address -> the server's reply
    error: str = ""  # why the message was not sent at all

    @property
    def sent(self) -> bool:
        return bool(self.accepted)


@dataclass
class SendReport:
    deliveries: list[Delivery] = field(default_factory=list)
    stopped: str = ""  # why the session ended early (connection lost, cannot connect)
    not_attempted: list[EmailMessage] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.stopped or any(d.error or d.refused for d in self.deliveries))


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file:
        try:
            context.load_verify_locations(cafile=str(Path(settings.ca_file).expanduser()))
        except (OSError, ssl.SSLError) as exc:
            raise ValidationError(f"Cannot read smtp.ca_file {settings.ca_file} ({exc}).") from None
    return context


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = _context(settings) if settings.security != "none" else None
    if settings.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.user:
            client.login(settings.user, settings.password)
    except BaseException:
        client.close()
        raise
    return client


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {' '.join(reply.split())}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{a}: {c} {m.decode('utf-8', 'replace')}" for a, (c, m) in exc.recipients.items())
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"TLS failed: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def recipients(message: EmailMessage) -> list[str]:
    return [address for _, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]


def send_all(
    settings: SmtpSettings,
    messages: list[EmailMessage],
    on_sent: Callable[[int, Delivery], None],
    report: SendReport | None = None,
) -> SendReport:
    """Send each message in one SMTP session; ``on_sent(i, delivery)`` is called as soon as
    the server has accepted message ``i`` for at least one recipient. Filled in as it goes:
    ``report``, when given, holds what happened so far even if ``on_sent`` raises."""
    report = SendReport() if report is None else report
    if not messages:
        return report
    try:
        client = _connect(settings)
    except (smtplib.SMTPException, OSError, TimeoutError) as exc:
        report.stopped = f"Could not connect to the mail server {settings.where} ({_why(exc)})"
        report.not_attempted = list(messages)
        return report
    try:
        for i, message in enumerate(messages):
            delivery = Delivery(message)
            wanted = recipients(message)
            did_outside("sent e-mail")  # not to be sent twice by running the command again
            try:
                refused = client.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                delivery.refused = {a: _why_code(c, m) for a, (c, m) in exc.recipients.items()}
                delivery.error = "every recipient was refused"
                report.deliveries.append(delivery)
                _reset(client)
                continue
            except (smtplib.SMTPServerDisconnected, OSError, TimeoutError) as exc:
                delivery.error = f"the connection was lost ({_why(exc)})"
                report.deliveries.append(delivery)
                report.stopped = f"The mail server {settings.where} dropped the connection"
                report.not_attempted = messages[i + 1 :]
                break
            except smtplib.SMTPResponseException as exc:
                delivery.error = f"the server refused it ({_why(exc)})"
                report.deliveries.append(delivery)
                _reset(client)
                continue
            delivery.refused = {a: _why_code(c, m) for a, (c, m) in refused.items()}
            delivery.accepted = {a.casefold() for a in wanted if a not in refused}
            report.deliveries.append(delivery)
            on_sent(i, delivery)
    except BaseException:
        # Ctrl-C (perhaps mid-message) or a failure recording a delivery: hang up at once. A
        # polite QUIT would wait for a server still expecting the message, up to smtp.timeout.
        client.close()
        raise
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
    return report


def _why_code(code: int, message: bytes) -> str:
    return f"{code} {' '.join(message.decode('utf-8', 'replace').split())}"


def _reset(client: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.rset()
