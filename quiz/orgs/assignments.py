"""Assignments: a set assigned to a cohort and/or named people of one organisation.

Plain functions, no Flask request: the manager's side (read the form's values against what
the organisation may pick from, create, edit, archive, the list with counts) and the
learner's side ("My assignments", starting an attempt for an assignment). Time is always
passed in (`now`), so tests use a fixed clock. Nothing here commits: the view does, once.

Rules (docs/orgs-assignments.md):
- Dates are shown and read in UTC ("YYYY-MM-DD HH:MM"; a date alone is 00:00 for the
  opening and 23:59 for the due date); the due date must be after the opening date.
- The pass mark (0-100) overrides the set's; it and the time limit are copied onto each
  attempt when it starts (Attempt.pass_mark, Attempt.deadline_at), so an edit applies to
  new attempts only.
- Starting: the person must be assigned (else 404); the assignment must not be archived,
  its organisation active, its set active, and it must have opened. After the due date a
  learner may still start (the attempt counts, late: the state says overdue until a pass).
  A pass that has not expired closes the assignment for them; an expired pass reopens it.
- The attempt limit counts submitted attempts per certification period: all of them until
  a pass expires, then only those submitted since the latest pass expired.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from .. import attempts as attempt_ops
from .. import audit
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentPerson,
    Attempt,
    Cohort,
    Membership,
    Organisation,
    QuestionSet,
    User,
)
from ..vocab import AssignmentState, AttemptStatus, AuditEntity
from .results import (
    PersonResult,
    _aware,
    add_months,
    assigned_condition,
    assignment_state,
    assignments_for,
    attempts_left,
    pass_expires_at,
    person_results,
)

# Bounds of the numbers a manager may enter (the columns' checks, and sensible maxima).
LIMITS = {
    "pass_mark": (0, 100, "Pass mark"),
    "max_attempts": (1, 100, "Attempt limit"),
    "time_limit_minutes": (1, 1440, "Time limit"),
    "recert_months": (1, 120, "Recertification period"),
}
YEARS = (2000, 2200)  # dates outside are typing mistakes (and keep date arithmetic safe)
_WHEN = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")
_DIGITS = re.compile(r"[0-9]{1,6}")


class Tampered(ValueError):
    """The form names a cohort or person that is not the organisation's: a 400, nothing saved."""


class CannotStart(ValueError):
    """The learner may not start an attempt for this assignment now (the message says why)."""


# --- what a manager may pick from -------------------------------------------------------------

@dataclass(frozen=True)
class Choices:
    """The organisation's options for an assignment form (three statements)."""

    sets: dict[str, str]                           # active set id -> title
    cohorts: dict[int, str]                        # the organisation's cohorts
    members: list[tuple[int, str, str]]            # (user id, name, e-mail), by name


def form_choices(org_id: int) -> Choices:
    sets = dict(db.session.execute(
        select(QuestionSet.id, QuestionSet.title).where(QuestionSet.active)
        .order_by(QuestionSet.position, QuestionSet.id)).all())
    cohorts = dict(db.session.execute(
        select(Cohort.id, Cohort.name).where(Cohort.org_id == org_id).order_by(Cohort.name)).all())
    members = [tuple(row) for row in db.session.execute(
        select(User.id, User.name, User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id).order_by(User.name, User.id)).all()]
    return Choices(sets, cohorts, members)


# --- reading the form --------------------------------------------------------------------------

@dataclass(frozen=True)
class AssignmentValues:
    set_id: str
    cohort_id: int | None
    people: frozenset[int]
    opens_at: datetime | None
    due_at: datetime | None
    pass_mark: int | None
    max_attempts: int | None
    time_limit_minutes: int | None
    recert_months: int | None


def parse_when(text: str, *, end_of_day: bool = False) -> datetime | None:
    """A UTC moment from "YYYY-MM-DD HH:MM" (or the browser's "YYYY-MM-DDTHH:MM", seconds
    allowed); a date alone is 00:00, or 23:59 with `end_of_day`. Blank: None. ValueError
    with a message for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    match = _WHEN.fullmatch(text)
    if not match or not text.isascii():
        raise ValueError("is not a date and time: use YYYY-MM-DD HH:MM (UTC)")
    year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
    if hour is None:
        hour, minute, second = (23, 59, 0) if end_of_day else (0, 0, 0)
    try:
        moment = datetime(year, month, day, hour, minute, second or 0, tzinfo=UTC)
    except ValueError:
        raise ValueError("is not a real date and time") from None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise ValueError(f"must be between the years {YEARS[0]} and {YEARS[1]}")
    return moment


def format_when(moment: datetime | None) -> str:
    """A moment as the form shows it (UTC, the browser's datetime-local format)."""
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _number(text: str, name: str) -> int | None:
    low, high, label = LIMITS[name]
    text = (text or "").strip()
    if not text:
        return None
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise ValueError(f"{label} must be a whole number from {low} to {high}.")
    return int(text)


def read_assignment(raw: Mapping[str, Any], choices: Choices, current: Assignment | None = None,
                    has_attempts: bool = False) -> tuple[AssignmentValues | None, dict[str, list[str]]]:
    """The values of a posted assignment form, or the messages by field (nothing to save).

    `raw` holds the form's data: strings, and `people` a list of strings. A cohort or a
    person that is not the organisation's raises Tampered (the form offers only its own).
    """
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    set_id = (raw.get("set_id") or "").strip()
    if current is not None and has_attempts and set_id != current.set_id:
        fail("set_id", "The set cannot change once people have made attempts: archive this "
                       "assignment and create a new one.")
    elif set_id not in choices.sets:
        fail("set_id", "Choose one of the active question sets.")

    cohort_id: int | None = None
    cohort_raw = (raw.get("cohort_id") or "").strip()
    if cohort_raw:
        if not cohort_raw.isdigit() or int(cohort_raw) not in choices.cohorts:
            raise Tampered("That cohort is not one of this organisation's.")
        cohort_id = int(cohort_raw)
    member_ids = {m[0] for m in choices.members}
    people: set[int] = set()
    for value in raw.get("people") or []:
        if not str(value).isdigit() or int(value) not in member_ids:
            raise Tampered("A person chosen is not a member of this organisation.")
        people.add(int(value))
    if cohort_id is None and not people:
        fail("cohort_id", "Choose a cohort, or at least one person (or both).")

    opens_at = due_at = None
    try:
        opens_at = parse_when(raw.get("opens_at") or "")
    except ValueError as exc:
        fail("opens_at", f"The opening date {exc}.")
    try:
        due_at = parse_when(raw.get("due_at") or "", end_of_day=True)
    except ValueError as exc:
        fail("due_at", f"The due date {exc}.")
    if opens_at and due_at and due_at <= opens_at:
        fail("due_at", "The due date must be after the opening date.")

    numbers: dict[str, int | None] = {}
    for name in LIMITS:
        try:
            numbers[name] = _number(raw.get(name) or "", name)
        except ValueError as exc:
            fail(name, str(exc))
    if errors:
        return None, errors
    return AssignmentValues(set_id=set_id, cohort_id=cohort_id, people=frozenset(people),
                            opens_at=opens_at, due_at=due_at, **numbers), {}


def form_values(assignment: Assignment, people: list[int]) -> dict[str, Any]:
    """The edit form's initial data from a saved assignment."""
    def text(value: int | None) -> str:
        return "" if value is None else str(value)

    return {"set_id": assignment.set_id, "cohort_id": text(assignment.cohort_id),
            "people": [str(p) for p in people], "opens_at": format_when(assignment.opens_at),
            "due_at": format_when(assignment.due_at), "pass_mark": text(assignment.pass_mark),
            "max_attempts": text(assignment.max_attempts),
            "time_limit_minutes": text(assignment.time_limit_minutes),
            "recert_months": text(assignment.recert_months)}


# --- writing ------------------------------------------------------------------------------------

_RULES = ("set_id", "cohort_id", "opens_at", "due_at", "pass_mark", "max_attempts",
          "time_limit_minutes", "recert_months")


def _snapshot(assignment: Assignment, people: frozenset[int] | set[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _RULES:
        value = getattr(assignment, name)
        out[name] = format_when(value) if isinstance(value, datetime) else value
    out["people"] = sorted(people)
    return out


def named_people(assignment_id: int) -> list[int]:
    return list(db.session.scalars(select(AssignmentPerson.user_id).where(
        AssignmentPerson.assignment_id == assignment_id).order_by(AssignmentPerson.user_id)))


def has_attempts(assignment_id: int) -> bool:
    return db.session.scalar(select(Attempt.id).where(Attempt.assignment_id == assignment_id)
                             .limit(1)) is not None


def create_assignment(org: Organisation, values: AssignmentValues, actor: User | None) -> Assignment:
    assignment = Assignment(org_id=org.id, created_by_id=actor.id if actor else None,
                            **{name: getattr(values, name) for name in _RULES})
    db.session.add(assignment)
    db.session.flush()
    db.session.add_all([AssignmentPerson(assignment_id=assignment.id, user_id=user_id)
                        for user_id in sorted(values.people)])
    db.session.flush()
    audit.record(actor, AuditEntity.ASSIGNMENT, assignment.id, "create",
                 f"Assigned set {values.set_id}", {"after": _snapshot(assignment, values.people)})
    return assignment


def update_assignment(assignment: Assignment, values: AssignmentValues, actor: User | None) -> bool:
    """Apply the values; False (and no audit event) if nothing changed."""
    before_people = set(named_people(assignment.id))
    before = _snapshot(assignment, before_people)
    for name in _RULES:
        setattr(assignment, name, getattr(values, name))
    removed, added = before_people - values.people, values.people - before_people
    if removed:
        db.session.execute(db.delete(AssignmentPerson).where(
            AssignmentPerson.assignment_id == assignment.id, AssignmentPerson.user_id.in_(removed)))
    db.session.add_all([AssignmentPerson(assignment_id=assignment.id, user_id=u) for u in sorted(added)])
    db.session.flush()
    after = _snapshot(assignment, values.people)
    if after == before:
        return False
    changed = sorted(k for k in after if after[k] != before[k])
    audit.record(actor, AuditEntity.ASSIGNMENT, assignment.id, "edit",
                 "Changed " + ", ".join(changed), {"before": before, "after": after})
    return True


def set_archived(assignment: Assignment, archived: bool, actor: User | None, now: datetime) -> bool:
    """Archive (learners no longer see it nor start it) or restore; False if already so."""
    if (assignment.archived_at is not None) == archived:
        return False
    assignment.archived_at = now if archived else None
    db.session.flush()
    audit.record(actor, AuditEntity.ASSIGNMENT, assignment.id, "archive" if archived else "restore")
    return True


# --- the manager's list ------------------------------------------------------------------------

@dataclass(frozen=True)
class ListRow:
    assignment: Assignment
    assigned: int
    passed: int   # assignees whose pass has not expired at `now`
    named: int    # people named on it (members or not)


def _pass_cutoffs(assignments: list[Assignment], now: datetime) -> Any:
    """SQL: the earliest submitted_at a pass of each assignment may have to still count now
    (null: passes never expire). now - recert months, per assignment."""
    cutoffs = {a.id: add_months(now, -a.recert_months) for a in assignments if a.recert_months}
    if not cutoffs:
        return None
    return db.case({k: db.literal(v, db.DateTime(timezone=True)) for k, v in cutoffs.items()},
                   value=Attempt.assignment_id, else_=db.null())


def list_rows(org_id: int, archived: bool, now: datetime) -> list[ListRow]:
    """The organisation's assignments (open ones, or the archived ones) with how many people
    are assigned and how many have passed. Four statements, whatever the numbers."""
    archived_filter = Assignment.archived_at.is_not(None) if archived else Assignment.archived_at.is_(None)
    assignments = list(db.session.scalars(
        select(Assignment).where(Assignment.org_id == org_id, archived_filter)
        .options(db.joinedload(Assignment.question_set), db.joinedload(Assignment.cohort))
        .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id)).unique())
    if not assignments:
        return []
    ids = [a.id for a in assignments]
    assigned = dict(db.session.execute(
        select(Assignment.id, func.count(Membership.user_id))
        .join(Membership, assigned_condition()).where(Assignment.id.in_(ids))
        .group_by(Assignment.id)).all())
    # Passed: assignees (still assigned) with a passing submitted attempt that still counts.
    passed_now = and_(Attempt.status == AttemptStatus.SUBMITTED, Attempt.pass_mark.is_not(None),
                      Attempt.score >= Attempt.pass_mark)
    cutoff = _pass_cutoffs(assignments, now)
    if cutoff is not None:
        passed_now = and_(passed_now, or_(cutoff.is_(None), Attempt.submitted_at > cutoff))
    passed = dict(db.session.execute(
        select(Assignment.id, func.count(func.distinct(Membership.user_id)))
        .join(Membership, assigned_condition())
        .join(Attempt, and_(Attempt.assignment_id == Assignment.id,
                            Attempt.user_id == Membership.user_id))
        .where(Assignment.id.in_(ids), passed_now)
        .group_by(Assignment.id)).all())
    named = dict(db.session.execute(
        select(AssignmentPerson.assignment_id, func.count())
        .where(AssignmentPerson.assignment_id.in_(ids))
        .group_by(AssignmentPerson.assignment_id)).all())
    return [ListRow(a, assigned.get(a.id, 0), passed.get(a.id, 0), named.get(a.id, 0))
            for a in assignments]


# --- the learner's side ------------------------------------------------------------------------

def days_left(due_at: datetime | None, now: datetime) -> int | None:
    """Whole days until the due date (0: due within a day; negative: days overdue, rounded up)."""
    if due_at is None:
        return None
    seconds = (_aware(due_at) - now).total_seconds()
    if seconds >= 0:
        return int(seconds // 86400)
    return -int(-seconds // 86400) - (1 if -seconds % 86400 else 0)


@dataclass(frozen=True)
class MyAssignment:
    """One row of a learner's "My assignments"."""

    assignment: Assignment
    state: AssignmentState
    result: PersonResult | None
    days_left: int | None
    attempts_left: int | None      # in the current period; None: no limit
    expires_at: datetime | None    # when the latest pass stops counting
    can_start: bool
    note: str = ""                 # why not, when the learner cannot start

    @property
    def overdue(self) -> bool:
        return self.state == AssignmentState.OVERDUE

    @property
    def open_attempt_id(self) -> int | None:
        return self.result.open_attempt_id if self.result else None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def due(self) -> str:
        return due_text(self.days_left)

    @property
    def due_utc(self) -> str:
        return utc(self.assignment.due_at)


def _period_starts(assignments: list[Assignment], results: dict[int, PersonResult],
                   now: datetime) -> dict[int, datetime]:
    """For assignments with an attempt limit whose latest pass has expired: since when
    attempts count again (the expiry)."""
    starts = {}
    for a in assignments:
        r = results.get(a.id)
        expires = pass_expires_at(a, r.last_pass_at) if r else None
        if a.max_attempts and expires is not None and now >= expires:
            starts[a.id] = expires
    return starts


def _used_since(user_id: int, starts: dict[int, datetime]) -> dict[int, int]:
    """Submitted attempts per assignment since each start (one statement; none if empty)."""
    if not starts:
        return {}
    return dict(db.session.execute(
        select(Attempt.assignment_id, func.count())
        .where(Attempt.user_id == user_id, Attempt.status == AttemptStatus.SUBMITTED,
               or_(*[and_(Attempt.assignment_id == a, Attempt.submitted_at >= s)
                     for a, s in starts.items()]))
        .group_by(Attempt.assignment_id)).all())


def _row(assignment: Assignment, result: PersonResult | None, used: int | None,
         now: datetime) -> MyAssignment:
    state = assignment_state(assignment, result, now)
    counted = result if used is None or result is None else replace(result, submitted=used)
    left = attempts_left(assignment, counted)
    expires = pass_expires_at(assignment, result.last_pass_at) if result else None
    note = ""
    if state == AssignmentState.NOT_OPEN:
        note = f"Opens {_aware(assignment.opens_at):%d %b %Y, %H:%M} UTC"
    elif state == AssignmentState.PASSED:
        note = f"Valid until {expires:%d %b %Y}" if expires else "Done"
    elif state != AssignmentState.IN_PROGRESS and left == 0:
        note = "No attempts left"
    elif not assignment.question_set.active:
        note = "The set is no longer available"
    can_start = state == AssignmentState.IN_PROGRESS or not note
    return MyAssignment(assignment, state, result, days_left(assignment.due_at, now), left,
                        expires, can_start, note)


def my_assignments(user_id: int, now: datetime) -> list[MyAssignment]:
    """The learner's assignments in every organisation (active ones, not archived), due
    first: one statement, two more when there are any, a third with an expired pass and a limit."""
    assignments = [a for a in assignments_for(user_id) if a.organisation.active]
    if not assignments:
        return []
    results = {aid: r for (aid, _), r in person_results([a.id for a in assignments], [user_id]).items()}
    starts = _period_starts(assignments, results, now)
    used = _used_since(user_id, starts)
    return [_row(a, results.get(a.id), used.get(a.id, 0) if a.id in starts else None, now)
            for a in assignments]


def my_assignments_of(user, now: datetime) -> list[MyAssignment]:
    """my_assignments for the signed-in user, without a statement when the sign-in lookup
    found them in no organisation (User.in_orgs False; None means unknown: look)."""
    return [] if user.in_orgs is False else my_assignments(user.id, now)


def assigned_or_404(user_id: int, assignment_id: int) -> Assignment | None:
    """The assignment if this person is assigned to it (any state), else None."""
    return db.session.scalar(
        select(Assignment)
        .join(Membership, and_(assigned_condition(), Membership.user_id == user_id))
        .where(Assignment.id == assignment_id)
        .options(db.joinedload(Assignment.question_set), db.joinedload(Assignment.organisation)))


def _why_not(row: MyAssignment) -> str:
    if row.state == AssignmentState.NOT_OPEN:
        return f"This assignment {row.note[0].lower()}{row.note[1:]}: come back then."
    if row.state == AssignmentState.PASSED:
        until = f" (valid until {row.expires_at:%d %b %Y})" if row.expires_at else ""
        return f"You have passed this assignment{until}: there is nothing more to do."
    if row.note == "No attempts left":
        return "You have no attempts left for this assignment. Ask your manager if you need another."
    return "The question set of this assignment is no longer available."


def start_for(user: User, assignment: Assignment, now: datetime) -> Attempt:
    """Start (or resume) the learner's attempt for this assignment, with its rules copied on.

    CannotStart says why not: archived, not open yet, the set inactive, passed (and not
    expired), no attempts left; attempts.OpenAttemptElsewhere if an open attempt of the
    same set belongs to another assignment or to free practice.
    """
    if assignment.archived_at is not None or not assignment.organisation.active:
        raise CannotStart("This assignment has been archived: there is nothing to start.")
    results = {aid: r for (aid, _), r in person_results([assignment.id], [user.id]).items()}
    starts = _period_starts([assignment], results, now)
    used = _used_since(user.id, starts).get(assignment.id, 0) if starts else None
    row = _row(assignment, results.get(assignment.id), used, now)
    if not row.can_start:
        raise CannotStart(_why_not(row))
    return attempt_ops.start_attempt(user, assignment.question_set, assignment=assignment, now=now)


# --- shown on pages ------------------------------------------------------------------------------

STATE_LABELS = {
    AssignmentState.NOT_OPEN: "Not open yet",
    AssignmentState.NOT_STARTED: "Not started",
    AssignmentState.IN_PROGRESS: "In progress",
    AssignmentState.PASSED: "Passed",
    AssignmentState.NOT_PASSED: "Not passed yet",
    AssignmentState.OVERDUE: "Overdue",
    AssignmentState.EXPIRED: "Expired: take it again",
}


def due_text(days: int | None) -> str:
    """"3 days left", "due today", "2 days overdue" (from days_left)."""
    if days is None:
        return "no due date"
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} overdue"
    if days == 0:
        return "due within a day"
    return f"{days} day{'s' if days != 1 else ''} left"


def utc(moment: datetime | None) -> str:
    return f"{_aware(moment).astimezone(UTC):%d %b %Y, %H:%M} UTC" if moment else "—"

