"""Outgoing mail. `send_mail()` queues a message on the current database session; it is
delivered only once that session commits, so a change that rolls back sends nothing and a
message never announces something that was not saved.

Delivery (delivery.py), configured by QUIZ_MAIL_* settings:
- No `MAIL_SERVER` (the default): each message is written to the outbox folder
  (`MAIL_OUTBOX`, default `instance/outbox/`) as an `.eml` file at the commit, so nothing is
  lost on a machine without a mail server. Admins read it at /admin/outbox (outbox.py).
- `MAIL_SERVER` set: sent with smtplib (`MAIL_PORT`, `MAIL_SECURITY` none/starttls/ssl,
  `MAIL_USERNAME`, `MAIL_PASSWORD`, `MAIL_TIMEOUT`; From is `MAIL_SENDER`). In a request
  the sending happens once the response has gone out (a slow or absent mail server never
  delays a page, and pages that mail someone take as long as those that do not); from the
  command line at the commit. A message the server does not take is written to
  `outbox/failed/`, marked with the reason (`X-Quiz-Undelivered`) and logged: an SMTP
  failure never fails the request that queued it.

`read_outbox()` / `read_undelivered()` read the folders back (tests); `site_url()` builds
absolute links for messages, also from the command line (`MAIL_SITE_URL`). The `mail` CLI
group (cli.py) sends the assignment reminders (quiz.orgs.reminders).
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import after_this_request, current_app, has_app_context, has_request_context, url_for
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .delivery import FAILED, MailConfigError, MailSettings, deliver, keep_undelivered

__all__ = ["build_message", "send_mail", "read_outbox", "read_undelivered", "outbox_path",
           "mail_settings", "site_url", "FAILED"]

_QUEUE = "quiz_outgoing_mail"


def outbox_path() -> Path:
    configured = current_app.config.get("MAIL_OUTBOX")
    return Path(configured) if configured else Path(current_app.instance_path) / "outbox"


def mail_settings() -> MailSettings:
    return MailSettings.from_config(current_app.config, current_app.instance_path)


def build_message(to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_SENDER", "IASTM quiz <no-reply@localhost>")
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="iastm-quiz")
    message.set_content(text)
    return message


def send_mail(to: str, subject: str, text: str) -> EmailMessage:
    """Queue a plain-text message to `to`; it goes out when the current session commits."""
    message = build_message(to, subject, text)
    session = db.session()
    session.connection()  # begin the transaction the message belongs to (sends no statement)
    session.info.setdefault(_QUEUE, []).append(message)
    return message


def site_url(endpoint: str, **values) -> str | None:
    """An absolute link for a message: from the request being served, else from
    `MAIL_SITE_URL` (e.g. https://quiz.example.org, for the command line), else None."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = str(current_app.config.get("MAIL_SITE_URL") or "").rstrip("/")
    if not base:
        return None
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return base + adapter.build(endpoint, values)


def _read(folder: Path) -> list[EmailMessage]:
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


def read_outbox() -> list[EmailMessage]:
    """Every message in the outbox folder (written there for want of a mail server), oldest first."""
    return _read(outbox_path())


def read_undelivered() -> list[EmailMessage]:
    """Every message the mail server did not take (outbox/failed/), oldest first."""
    return _read(outbox_path() / FAILED)


def _deliver_later(messages: list[EmailMessage], settings: MailSettings) -> None:
    """Send once the response has been sent (WSGI close); outside the request's timing."""
    @after_this_request
    def _on_close(response):
        response.call_on_close(lambda: deliver(messages, settings))
        return response


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    messages = session.info.pop(_QUEUE, None)
    if not messages or not has_app_context():
        return
    try:
        settings = mail_settings()
    except MailConfigError as exc:
        fallback = MailSettings(outbox=outbox_path(), server="(misconfigured)")
        for message in messages:
            keep_undelivered(fallback, message, exc)
        return
    if settings.server is not None and has_request_context():
        _deliver_later(messages, settings)
    else:
        deliver(messages, settings)


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, previous_transaction) -> None:
    """Any rollback of the outermost transaction (a savepoint's rollback keeps the queue)."""
    if previous_transaction.parent is None:
        session.info.pop(_QUEUE, None)
