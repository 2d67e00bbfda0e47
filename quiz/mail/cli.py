"""`flask --app wsgi mail send-due | test | retry`: reminders and mail checks (see quiz/cli.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models._common import utcnow
from ..vocab import ReminderKind
from . import build_message, mail_settings
from .delivery import FAILED, UNDELIVERED, MailConfigError, deliver

mail_cli = AppGroup("mail", help="Send assignment reminders; check and retry mail delivery.")


def _settings():
    try:
        return mail_settings()
    except MailConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO date and time, e.g. 2027-03-15T12:00",
                                 param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@mail_cli.command("send-due")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Remind this many days before the due date "
                   "(default: the REMINDER_DAYS setting, else 3).")
@click.option("--now", "now_text", default=None, hidden=True,
              help="Pretend it is this moment (UTC, ISO format): for tests.")
def send_due(days: int | None, now_text: str | None) -> None:
    """Mail "due soon" and "overdue" reminders of assignments, each once per person and due
    date. Safe to run as often as you like (cron: every hour, say)."""
    from ..orgs.reminders import DEFAULT_DAYS, send_reminders

    _settings()  # refuse a broken mail configuration before recording anything
    now = _parse_now(now_text)
    if days is None:
        try:
            days = int(current_app.config.get("REMINDER_DAYS", DEFAULT_DAYS))
        except (TypeError, ValueError):
            raise click.ClickException("REMINDER_DAYS must be a whole number of days") from None
    try:
        sent = send_reminders(now, days)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException("Another run recorded some of these reminders at the same "
                                   "time; nothing was sent by this one. Run it again.") from None
    soon = sum(1 for r in sent if r.kind == ReminderKind.DUE_SOON)
    click.echo(f"{len(sent)} reminder{'' if len(sent) == 1 else 's'} sent "
               f"({soon} due soon, {len(sent) - soon} overdue).")


@mail_cli.command("test")
@click.argument("address")
def send_test(address: str) -> None:
    """Send a test message to ADDRESS now, and say whether the mail server took it."""
    settings = _settings()
    message = build_message(address, "IASTM quiz: test message",
                            "This is a test message from the IASTM training quiz.\n")
    undelivered = deliver([message], settings)
    if settings.server is None:
        click.echo(f"No mail server is configured (QUIZ_MAIL_SERVER): the message is in "
                   f"{settings.outbox}.")
    elif undelivered:
        raise click.ClickException(f"Not delivered: {message[UNDELIVERED]} "
                                   f"(kept in {undelivered[0]}).")
    else:
        click.echo(f"Sent to {address} through {settings.server}:{settings.port}.")


@mail_cli.command("retry")
def retry() -> None:
    """Send again the messages the mail server did not take (outbox/failed/)."""
    settings = _settings()
    if settings.server is None:
        raise click.ClickException("No mail server is configured (QUIZ_MAIL_SERVER).")
    files = sorted((settings.outbox / FAILED).glob("*.eml"))
    sent = 0
    for path in files:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        del message[UNDELIVERED]
        if not deliver([message], settings):
            sent += 1
        path.unlink()  # delivered, or kept again as a new file with the new reason
    click.echo(f"{sent} of {len(files)} undelivered message{'' if len(files) == 1 else 's'} sent.")
