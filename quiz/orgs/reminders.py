"""Assignment reminders by mail: "due soon" a few days before the due date, "overdue" once
it has passed without a pass (`flask --app wsgi mail send-due`, quiz/mail/cli.py).

Who gets one, at `now`:
- the assignment is not archived, has a due date, and has opened (no opening date, or one
  at or before `now`); its organisation is active;
- due soon: the due date is within `days` days (REMINDER_DAYS, default 3) and not past;
  overdue: the due date is past, by at most OVERDUE_WINDOW (so that switching reminders on
  does not mail about every old assignment);
- the person is assigned (quiz.orgs.results.assignees), their account is active, and they
  have no pass that counts (results.assignment_state is not PASSED);
- they have not had this reminder for this due date: each (assignment, person, kind, due
  date) goes out once (ReminderSent, unique), so a changed due date arms both again.

`send_reminders` records ReminderSent rows and queues the mails in the caller's
transaction: the mails go out at its commit, and a run that fails (or loses a race to
another run, the unique constraint) sends nothing. A fixed number of statements whatever
the number of people: the assignments, the people not yet reminded, their results, one
INSERT of every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, insert, literal, select

from ..extensions import db
from ..mail import send_mail, site_url
from ..models import Assignment, Membership, Organisation, QuestionSet, ReminderSent, User
from ..vocab import AssignmentState, ReminderKind
from .results import _aware, assigned_condition, assignment_state, person_results

DEFAULT_DAYS = 3
OVERDUE_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Reminder:
    """One reminder to send: who, about what, which kind, for which due date."""

    assignment_id: int
    user_id: int
    kind: ReminderKind
    due_at: datetime          # as stored (the key of ReminderSent)
    email: str
    name: str
    set_title: str
    org_name: str


def _kind(due_at: datetime, now: datetime) -> ReminderKind:
    return ReminderKind.OVERDUE if now > _aware(due_at) else ReminderKind.DUE_SOON


def due_reminders(now: datetime, days: int = DEFAULT_DAYS) -> list[Reminder]:
    """Every reminder that should go out at `now` and has not (three statements)."""
    if days < 0:
        raise ValueError("days must not be negative")
    assignments = db.session.execute(
        select(Assignment.id, Assignment.due_at, Assignment.opens_at, Assignment.recert_months,
               QuestionSet.title, Organisation.name)
        .join(QuestionSet, QuestionSet.id == Assignment.set_id)
        .join(Organisation, Organisation.id == Assignment.org_id)
        .where(Assignment.archived_at.is_(None), Organisation.active,
               Assignment.due_at.is_not(None),
               Assignment.due_at <= now + timedelta(days=days),
               Assignment.due_at >= now - OVERDUE_WINDOW,
               (Assignment.opens_at.is_(None)) | (Assignment.opens_at <= now))
        .order_by(Assignment.due_at, Assignment.id)
    ).all()
    if not assignments:
        return []
    by_id = {row.id: row for row in assignments}
    overdue = case((Assignment.due_at < now, literal(ReminderKind.OVERDUE.value)),
                   else_=literal(ReminderKind.DUE_SOON.value))
    reminded = exists().where(ReminderSent.assignment_id == Assignment.id,
                              ReminderSent.user_id == Membership.user_id,
                              ReminderSent.kind == overdue,
                              ReminderSent.due_at == Assignment.due_at)
    people = db.session.execute(
        select(Assignment.id, User.id, User.email, User.name)
        .select_from(Assignment)
        .join(Membership, assigned_condition())
        .join(User, and_(User.id == Membership.user_id, User.active))
        .where(Assignment.id.in_(list(by_id)), ~reminded)
        .order_by(Assignment.id, User.id)
    ).all()
    if not people:
        return []
    results = person_results(list(by_id))
    reminders = []
    for assignment_id, user_id, email, name in people:
        row = by_id[assignment_id]
        state = assignment_state(row, results.get((assignment_id, user_id)), now)
        if state in (AssignmentState.PASSED, AssignmentState.NOT_OPEN):
            continue
        reminders.append(Reminder(assignment_id, user_id, _kind(row.due_at, now), row.due_at,
                                  email, name, row.title, row.name))
    return reminders


def reminder_text(reminder: Reminder, link: str | None) -> tuple[str, str]:
    """(subject, text) of a reminder mail."""
    due = f"{_aware(reminder.due_at):%d %b %Y, %H:%M} UTC"
    if reminder.kind == ReminderKind.OVERDUE:
        subject = f"Overdue: {reminder.set_title}"
        lead = (f"{reminder.org_name} assigned you “{reminder.set_title}”, which was due on "
                f"{due}, and it has not been passed yet. Please take it as soon as you can.")
    else:
        subject = f"Due soon: {reminder.set_title}"
        lead = (f"{reminder.org_name} assigned you “{reminder.set_title}”, due on {due}. "
                "Please take it before then.")
    where = (f"Your assignments are on your home page:\n\n{link}\n" if link else
             "Your assignments are on your home page once you sign in.\n")
    return subject, f"Hello {reminder.name},\n\n{lead}\n\n{where}"


def send_reminders(now: datetime, days: int = DEFAULT_DAYS) -> list[Reminder]:
    """Record and queue every due reminder (the caller commits; the mails go out then)."""
    reminders = due_reminders(now, days)
    if not reminders:
        return []
    db.session.execute(insert(ReminderSent), [
        {"assignment_id": r.assignment_id, "user_id": r.user_id, "kind": r.kind.value,
         "due_at": r.due_at, "sent_at": now} for r in reminders])
    link = site_url("learn.catalogue")
    for reminder in reminders:
        subject, text = reminder_text(reminder, link)
        send_mail(reminder.email, subject, text)
    return reminders
