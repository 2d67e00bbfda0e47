"""Delivering queued messages: over SMTP when `MAIL_SERVER` is set, else into the outbox.

The settings are read from the app's config once per batch (`MailSettings.from_config`), so
delivery itself needs no app context: over SMTP it runs once the response has been sent.

An SMTP failure of any kind (server down, refused, timeout, TLS or login problem, a
recipient refused) never raises: each message that did not go out is written to the
outbox's `failed/` folder with an `X-Quiz-Undelivered` header giving the reason, and logged
on the `quiz.mail` logger. Admins see them in /admin/outbox; nothing is lost.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

log = logging.getLogger("quiz.mail")

SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
FAILED = "failed"            # the outbox's subfolder of undelivered messages
UNDELIVERED = "X-Quiz-Undelivered"


class MailConfigError(ValueError):
    """QUIZ_MAIL_* settings that cannot work (an unknown MAIL_SECURITY, a port that is not a number)."""


@dataclass(frozen=True)
class MailSettings:
    """Where messages go: `server` None means the outbox folder only."""

    outbox: Path
    server: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    security: str = "starttls"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str) -> MailSettings:
        """Read MAIL_OUTBOX, MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD,
        MAIL_SECURITY (none, starttls, ssl; default starttls) and MAIL_TIMEOUT (seconds).

        QUIZ_* environment values arrive parsed as JSON (QUIZ_MAIL_PASSWORD=1234 is a
        number), so every value is converted here."""
        outbox = config.get("MAIL_OUTBOX")
        outbox_path = Path(str(outbox)) if outbox else Path(instance_path) / "outbox"
        server = str(config.get("MAIL_SERVER") or "").strip() or None
        if server is None:
            return cls(outbox=outbox_path)
        security = str(config.get("MAIL_SECURITY") or "starttls").strip().lower()
        if security not in SECURITY:
            raise MailConfigError(f"MAIL_SECURITY must be one of {', '.join(SECURITY)}, "
                                  f"not {security!r}")
        try:
            port = int(config.get("MAIL_PORT") or DEFAULT_PORTS[security])
            timeout = float(config.get("MAIL_TIMEOUT") or 10)
        except (TypeError, ValueError):
            raise MailConfigError("MAIL_PORT and MAIL_TIMEOUT must be numbers") from None
        username = config.get("MAIL_USERNAME")
        password = config.get("MAIL_PASSWORD")
        return cls(outbox=outbox_path, server=server, port=port, security=security,
                   timeout=timeout,
                   username=str(username) if username not in (None, "") else None,
                   password=str(password) if password is not None else None)


def deliver(messages: list[EmailMessage], settings: MailSettings) -> list[Path]:
    """Send each message (one SMTP connection for the batch) or write it to the outbox.
    Returns the files of the messages the mail server did not take (outbox/failed/)."""
    if settings.server is None:
        for message in messages:
            write_eml(settings.outbox, message)
        return []
    kept: list[Path] = []
    try:
        with _connect(settings) as smtp:
            for index, message in enumerate(messages):
                try:
                    smtp.send_message(message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                        smtplib.SMTPDataError) as exc:
                    kept.append(keep_undelivered(settings, message, exc))  # go on with the rest
                except (OSError, smtplib.SMTPException) as exc:
                    # The connection is gone: this message and the rest stay undelivered.
                    kept.extend(keep_undelivered(settings, rest, exc) for rest in messages[index:])
                    break
    except (OSError, smtplib.SMTPException) as exc:
        # Connecting, STARTTLS or login failed: nothing was sent. (A failing QUIT after the
        # messages went out is ignored by _Connection: the server had accepted each one.)
        kept = [keep_undelivered(settings, message, exc) for message in messages]
    return kept


class _Connection:
    """smtplib.SMTP or SMTP_SSL, logged in, as a context manager whose QUIT may fail
    harmlessly (every message was accepted before it)."""

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp

    def __enter__(self) -> smtplib.SMTP:
        return self.smtp

    def __exit__(self, *exc_info) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()


def _connect(settings: MailSettings) -> _Connection:
    context = ssl.create_default_context()
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.server, settings.port,
                                              timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return _Connection(smtp)


def keep_undelivered(settings: MailSettings, message: EmailMessage, exc: BaseException) -> Path:
    """Write a message that did not go out to outbox/failed/, marked with the reason, and log it."""
    reason = _reason(exc)
    del message[UNDELIVERED]
    message[UNDELIVERED] = reason[:200]
    path = write_eml(settings.outbox / FAILED, message)
    log.error("Mail to %s (%r) not delivered through %s:%s: %s; kept in %s",
              message["To"], message["Subject"], settings.server, settings.port, reason, path)
    return path


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no details"
    return f"{type(exc).__name__}: {text}"


def write_eml(folder: Path, message: EmailMessage) -> Path:
    """One `.eml` file per message; names sort by time (`20270315T120000123456-ab12cd34.eml`)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    path = folder / name
    path.write_bytes(message.as_bytes(policy=policy.default))
    return path
