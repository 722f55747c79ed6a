"""Sending e-mail through the SMTP server the settings name; alerts and reports share it.

Subjects, bodies and file names are often built from data (a location's name): control
characters are escaped in headers and dropped from the body, so no content can forge a
header or make the message impossible to build.
"""

import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from hub.config import HubSettings
from protocol.errors import ConfigError, SeedError
from protocol.text import for_log

SMTP_TIMEOUT_S = 30
IMPLICIT_TLS_PORT = 465
BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
"""Control characters but tab and line feed (protocol.text's set), and lone surrogates."""


class MailError(SeedError):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


def send_mail(
    settings: HubSettings,
    to: list[str],
    subject: str,
    body: str,
    attachments: Iterable[Attachment] = (),
    *,
    html: str | None = None,
) -> None:
    """Send one message to every address in `to`: plain text, with `html` beside it as the
    alternative a mail reader may show instead, and the attachments."""
    if not settings.smtp.host:
        raise ConfigError("no SMTP server: set SEED_HUB_SMTP_HOST (and _PORT, _FROM, …)")
    if not to:
        raise ConfigError("an e-mail needs at least one recipient")
    try:
        message = _message(settings.smtp.from_, to, subject, (body, html), attachments)
    except Exception as exc:  # the e-mail package raises several kinds for an odd address
        raise MailError(f"the e-mail could not be built: {for_log(exc)}") from exc
    try:
        _send(settings, message)
    except (smtplib.SMTPException, OSError, ValueError) as exc:  # ValueError: a non-ASCII address
        raise MailError(f"SMTP {settings.smtp.host}:{settings.smtp.port}: {for_log(exc)}") from exc


def _message(
    sender: str,
    to: list[str],
    subject: str,
    body: tuple[str, str | None],
    attachments: Iterable[Attachment],
) -> EmailMessage:
    """multipart/mixed of (multipart/alternative of the text and the HTML) and the files."""
    message = EmailMessage()
    message["From"] = header_text(sender)
    message["To"] = header_text(", ".join(to))
    message["Subject"] = header_text(subject)
    text, html = body
    message.set_content(body_text(text))
    if html is not None:
        message.add_alternative(body_text(html), subtype="html")
    for attachment in attachments:
        main, _, sub = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=main,
            subtype=sub or "octet-stream",
            filename=header_text(attachment.filename),
        )
    return message


def header_text(text: str) -> str:
    """One line, control characters escaped (a CR/LF cannot start a header of its own); the
    joiners a Persian word needs are kept."""
    return for_log(text, prose=True)


def body_text(text: str) -> str:
    """Lines as they are; every other control character (and a lone surrogate) left out."""
    return BODY_CONTROL.sub("", text.replace("\r\n", "\n"))


def _send(settings: HubSettings, message: EmailMessage) -> None:
    host, port = settings.smtp.host or "", settings.smtp.port
    context = ssl.create_default_context()
    smtp = (
        smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_S, context=context)
        if port == IMPLICIT_TLS_PORT
        else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S)
    )
    with smtp:
        if settings.smtp.starttls and port != IMPLICIT_TLS_PORT:
            smtp.starttls(context=context)
        if settings.smtp.username:
            password = settings.smtp.password
            smtp.login(settings.smtp.username, password.get_secret_value() if password else "")
        smtp.send_message(message)
