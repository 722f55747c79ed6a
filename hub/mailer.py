"""Sending e-mail through the SMTP server the settings name; alerts and reports share it."""

import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from hub.config import HubSettings
from protocol.errors import ConfigError, SeedError

SMTP_TIMEOUT_S = 30
IMPLICIT_TLS_PORT = 465


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
) -> None:
    """Send one plain-text message (with attachments) to every address in `to`."""
    if not settings.smtp_host:
        raise ConfigError("no SMTP server: set SEED_HUB_SMTP_HOST (and _PORT, _FROM, …)")
    if not to:
        raise ConfigError("an e-mail needs at least one recipient")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    for attachment in attachments:
        main, _, sub = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=main,
            subtype=sub or "octet-stream",
            filename=attachment.filename,
        )
    try:
        _send(settings, message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc


def _send(settings: HubSettings, message: EmailMessage) -> None:
    host, port = settings.smtp_host or "", settings.smtp_port
    context = ssl.create_default_context()
    smtp = (
        smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_S, context=context)
        if port == IMPLICIT_TLS_PORT
        else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S)
    )
    with smtp:
        if settings.smtp_starttls and port != IMPLICIT_TLS_PORT:
            smtp.starttls(context=context)
        if settings.smtp_username:
            password = settings.smtp_password
            smtp.login(settings.smtp_username, password.get_secret_value() if password else "")
        smtp.send_message(message)
