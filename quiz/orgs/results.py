"""Where each person stands on each assignment: who is assigned, their attempts, a state.

Everything here is aggregate SQL over a fixed number of statements, whatever the number of
people or attempts, so the manager's dashboard and the learner's "My assignments" cost the
same for 10 members as for 10,000.

Who is assigned to an assignment: the organisation's members whose cohort is the
assignment's cohort, and the people named on it (AssignmentPerson) who are members. A
person who leaves the organisation drops off its assignments (their attempts stay).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
)

from ..extensions import db
from ..models import Assignment, AssignmentPerson, Attempt, Membership
from ..vocab import AssignmentState, AttemptStatus


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months, the day clipped to the month's length
    (31 January + 1 month = 28 or 29 February)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def assigned_condition() -> ColumnElement[bool]:
    """Joins Membership to Assignment: is this member assigned? (same organisation, and in
    the assignment's cohort or named on it)."""
    named = exists().where(AssignmentPerson.assignment_id == Assignment.id,
                           AssignmentPerson.user_id == Membership.user_id)
    return and_(Membership.org_id == Assignment.org_id,
                or_(Membership.cohort_id == Assignment.cohort_id, named))


def assignees(assignment_ids: list[int]) -> Select:
    """SELECT (assignment_id, user_id) of everyone assigned to these assignments."""
    return (select(Assignment.id.label("assignment_id"), Membership.user_id)
            .join(Membership, assigned_condition())
            .where(Assignment.id.in_(assignment_ids)))


def assignments_for(user_id: int, *, include_archived: bool = False) -> list[Assignment]:
    """The assignments a person has, in every organisation they belong to: due date first
    (none last), then id. One statement (the set and organisation are joined in)."""
    query = (select(Assignment)
             .join(Membership, and_(assigned_condition(), Membership.user_id == user_id))
             .options(db.joinedload(Assignment.question_set), db.joinedload(Assignment.organisation))
             .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id))
    if not include_archived:
        query = query.where(Assignment.archived_at.is_(None))
    return list(db.session.scalars(query).unique())


@dataclass(frozen=True)
class PersonResult:
    """One person's attempts for one assignment, summed up."""

    assignment_id: int
    user_id: int
    submitted: int = 0                     # submitted attempts
    open_attempt_id: int | None = None     # the attempt in progress, if any
    best_score: float | None = None
    best_attempt_id: int | None = None     # highest score, latest first among equals
    last_submitted_at: datetime | None = None
    last_pass_at: datetime | None = None   # the latest submitted attempt that passed
    last_pass_attempt_id: int | None = None


def _results_statement(where: ColumnElement[bool]) -> Select:
    submitted = Attempt.status == AttemptStatus.SUBMITTED
    passed = and_(submitted, Attempt.pass_mark.is_not(None), Attempt.score >= Attempt.pass_mark)
    ranked = (
        select(
            Attempt.id, Attempt.assignment_id, Attempt.user_id, Attempt.status, Attempt.score,
            Attempt.submitted_at, Attempt.pass_mark,
            func.row_number().over(
                partition_by=(Attempt.assignment_id, Attempt.user_id, submitted),
                order_by=(Attempt.score.desc(), Attempt.submitted_at.desc(), Attempt.id.desc()),
            ).label("best_rank"),
            func.row_number().over(
                partition_by=(Attempt.assignment_id, Attempt.user_id, passed),
                order_by=(Attempt.submitted_at.desc(), Attempt.id.desc()),
            ).label("pass_rank"),
        )
        .where(where)
        .subquery()
    )
    r = ranked.c
    r_submitted = r.status == AttemptStatus.SUBMITTED
    r_passed = and_(r_submitted, r.pass_mark.is_not(None), r.score >= r.pass_mark)
    return (
        select(
            r.assignment_id, r.user_id,
            func.sum(case((r_submitted, 1), else_=0)),
            func.max(case((r.status == AttemptStatus.IN_PROGRESS, r.id))),
            func.max(case((r_submitted, r.score))),
            func.max(case((and_(r_submitted, r.best_rank == 1), r.id))),
            func.max(r.submitted_at),
            func.max(case((r_passed, r.submitted_at))),
            func.max(case((and_(r_passed, r.pass_rank == 1), r.id))),
        )
        .group_by(r.assignment_id, r.user_id)
    )


def person_results(assignment_ids: list[int], user_ids: list[int] | None = None
                   ) -> dict[tuple[int, int], PersonResult]:
    """{(assignment_id, user_id): PersonResult} for those who have attempts (one statement).

    With `user_ids`, only those people (a dashboard page); people without attempts have no
    entry (their state comes from `assignment_state(assignment, None, now)`).
    """
    if not assignment_ids:
        return {}
    where = Attempt.assignment_id.in_(assignment_ids)
    if user_ids is not None:
        if not user_ids:
            return {}
        where = and_(where, Attempt.user_id.in_(user_ids))
    rows = db.session.execute(_results_statement(where)).all()
    return {(row[0], row[1]): PersonResult(*row) for row in rows}


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC): make them aware."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def pass_expires_at(assignment: Any, passed_at: datetime | None) -> datetime | None:
    """When a pass stops counting (recertification), or None if it never expires."""
    if passed_at is None or not assignment.recert_months:
        return None
    return add_months(_aware(passed_at), assignment.recert_months)


def assignment_state(assignment: Any, result: PersonResult | None, now: datetime) -> AssignmentState:
    """Where one person stands on one assignment at `now` (a pure function).

    In order: a pass that has not expired is PASSED; an expired one is EXPIRED unless a new
    attempt is under way (IN_PROGRESS); then IN_PROGRESS; NOT_OPEN before the opening date;
    OVERDUE past the due date without a pass; NOT_PASSED after submitted attempts without a
    pass; otherwise NOT_STARTED.
    """
    if result is not None and result.last_pass_at is not None:
        expires = pass_expires_at(assignment, result.last_pass_at)
        if expires is None or now < expires:
            return AssignmentState.PASSED
        return AssignmentState.IN_PROGRESS if result.open_attempt_id else AssignmentState.EXPIRED
    if result is not None and result.open_attempt_id is not None:
        return AssignmentState.IN_PROGRESS
    opens, due = _aware(assignment.opens_at), _aware(assignment.due_at)
    if opens is not None and now < opens:
        return AssignmentState.NOT_OPEN
    if due is not None and now > due:
        return AssignmentState.OVERDUE
    if result is not None and result.submitted:
        return AssignmentState.NOT_PASSED
    return AssignmentState.NOT_STARTED


def attempts_left(assignment: Any, result: PersonResult | None) -> int | None:
    """Submitted attempts still allowed (None: no limit). Counts every submitted attempt for
    the assignment; see quiz.orgs docs for recertification."""
    if not assignment.max_attempts:
        return None
    used = result.submitted if result is not None else 0
    return max(assignment.max_attempts - used, 0)
