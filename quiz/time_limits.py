"""Time limits, enforced by the server (assignments with a time limit; docs/orgs-assignments.md).

An attempt for such an assignment carries `deadline_at` (its start plus the limit, copied
when it starts). From that moment it takes no more answers: the next request for it (the
attempt page, a save, a submit) submits it with the answers saved before the deadline and
ignores whatever was posted, and `flask --app wsgi attempts close-overdue` does the same for
every open attempt past its deadline (cron-friendly: run it every few minutes). Either way
the attempt is scored once (the conditional update in quiz.attempts.submit_attempt) and its
submitted_at is the deadline. Nothing depends on the browser's clock: the attempt page shows
the time left computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from . import attempts as attempt_ops
from .extensions import db
from .models import Attempt
from .models._common import utcnow
from .vocab import AttemptStatus


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc_time(moment: datetime) -> str:
    """"07 Dec 2026, 14:05 UTC": a deadline as messages name it."""
    return f"{_aware(moment).astimezone(UTC):%d %b %Y, %H:%M} UTC"


def is_past(deadline_at: datetime | None, now: datetime) -> bool:
    """Has the time run out? (At the deadline itself it has.)"""
    return deadline_at is not None and now >= _aware(deadline_at)


@dataclass(frozen=True)
class TimeLeft:
    minutes: int              # whole minutes left, rounded up (1 in the last minute)
    until: datetime           # the deadline (UTC)

    @property
    def text(self) -> str:
        return f"Time left: {self.minutes} min (until {self.until:%H:%M} UTC)"

    @property
    def short(self) -> bool:
        """Five minutes or less: the page says so more loudly."""
        return self.minutes <= 5


def time_left(deadline_at: datetime | None, now: datetime) -> TimeLeft | None:
    """What the attempt page shows, or None without a time limit (or once it has run out)."""
    if deadline_at is None or is_past(deadline_at, now):
        return None
    deadline = _aware(deadline_at).astimezone(UTC)
    return TimeLeft(max(1, math.ceil((deadline - now).total_seconds() / 60)), deadline)


def close_at_deadline(attempt: Attempt, now: datetime) -> bool:
    """Submit an open attempt whose time has run out, with its saved answers only, at its
    deadline. False if it is not past its deadline, or if another request scored it first."""
    if attempt.status != AttemptStatus.IN_PROGRESS or not is_past(attempt.deadline_at, now):
        return False
    return attempt_ops.submit_attempt(attempt, {}, at=_aware(attempt.deadline_at))


def overdue_ids(now: datetime) -> list[int]:
    """Open attempts past their deadline, oldest deadline first (one statement)."""
    return list(db.session.scalars(
        db.select(Attempt.id)
        .where(Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline_at.is_not(None),
               Attempt.deadline_at <= now)
        .order_by(Attempt.deadline_at, Attempt.id)))


def close_overdue(now: datetime) -> int:
    """Close every open attempt past its deadline; how many this call closed. Each is
    committed on its own, so a learner's request waits for one attempt's lock at most and a
    failure leaves the others closed. Running it again closes nothing more."""
    closed = 0
    for attempt_id in overdue_ids(now):
        attempt = attempt_ops.load_attempt(attempt_id)
        if attempt is not None and close_at_deadline(attempt, now):
            closed += 1
        db.session.commit()
    return closed


attempts_cli = AppGroup("attempts", help="Attempts: close those past their time limit.")


@attempts_cli.command("close-overdue")
def close_overdue_command() -> None:
    """Submit every open attempt past its deadline with the answers saved before it."""
    closed = close_overdue(utcnow())
    click.echo(f"{closed} overdue attempt{'s' if closed != 1 else ''} closed.")
