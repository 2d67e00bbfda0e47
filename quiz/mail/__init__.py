"""Outgoing mail. `send_mail()` queues a message on the current database session; it is
delivered only once that session commits, so a change that rolls back sends nothing and a
message never announces something that was not saved.

Delivery (this first version): each message is written to the outbox folder
(`MAIL_OUTBOX`, default `instance/outbox/`) as an `.eml` file, so nothing is lost on a
machine without a mail server. `read_outbox()` reads them back (tests, the admin outbox).
"""

from __future__ import annotations

import secrets
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

_QUEUE = "quiz_outgoing_mail"


def outbox_path() -> Path:
    configured = current_app.config.get("MAIL_OUTBOX")
    return Path(configured) if configured else Path(current_app.instance_path) / "outbox"


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


def deliver(messages: list[EmailMessage]) -> None:
    """Write each message to the outbox folder (one `.eml` file each, names sort by time)."""
    folder = outbox_path()
    folder.mkdir(parents=True, exist_ok=True)
    for message in messages:
        name = f"{_stamp()}-{secrets.token_hex(4)}.eml"
        (folder / name).write_bytes(message.as_bytes(policy=policy.default))


def _stamp() -> str:
    from datetime import UTC, datetime
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def read_outbox() -> list[EmailMessage]:
    """Every message in the outbox folder, oldest first."""
    folder = outbox_path()
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    messages = session.info.pop(_QUEUE, None)
    if messages and has_app_context():
        deliver(messages)


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, previous_transaction) -> None:
    """Any rollback of the outermost transaction (a savepoint's rollback keeps the queue)."""
    if previous_transaction.parent is None:
        session.info.pop(_QUEUE, None)
