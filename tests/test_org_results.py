"""quiz.orgs.results: who is assigned, their attempts summed up, and the state per person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from quiz.attempts import start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import Assignment, AssignmentPerson, Cohort, Membership, Organisation, QuestionSet, User
from quiz.orgs.results import (
    PersonResult,
    add_months,
    assignees,
    assignment_state,
    assignments_for,
    attempts_left,
    pass_expires_at,
    person_results,
)
from quiz.vocab import AssignmentState as S
from quiz.vocab import OrgRole

from .test_access import _password_hash

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


def rules(**kw):
    base = {"opens_at": None, "due_at": None, "recert_months": None, "max_attempts": None}
    return SimpleNamespace(**{**base, **kw})


def result(**kw):
    return PersonResult(assignment_id=1, user_id=1, **kw)


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2027, 1, 31, tzinfo=UTC), 1, datetime(2027, 2, 28, tzinfo=UTC)),
    (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
    (datetime(2027, 11, 15, tzinfo=UTC), 2, datetime(2028, 1, 15, tzinfo=UTC)),
    (datetime(2027, 3, 15, tzinfo=UTC), 12, datetime(2028, 3, 15, tzinfo=UTC)),
    (datetime(2027, 3, 15, tzinfo=UTC), 25, datetime(2029, 4, 15, tzinfo=UTC)),
])
def test_add_months_clips_to_the_month(moment, months, expected):
    assert add_months(moment, months) == expected


@pytest.mark.parametrize(("assignment", "person", "expected"), [
    (rules(), None, S.NOT_STARTED),
    (rules(opens_at=NOW + timedelta(days=1)), None, S.NOT_OPEN),
    (rules(due_at=NOW - timedelta(seconds=1)), None, S.OVERDUE),
    (rules(due_at=NOW + timedelta(days=3)), None, S.NOT_STARTED),
    (rules(), result(open_attempt_id=7), S.IN_PROGRESS),
    # An attempt under way past the due date is still in progress (it can still be submitted).
    (rules(due_at=NOW - timedelta(days=1)), result(open_attempt_id=7), S.IN_PROGRESS),
    (rules(), result(submitted=2), S.NOT_PASSED),
    (rules(due_at=NOW - timedelta(days=1)), result(submitted=2), S.OVERDUE),
    (rules(due_at=NOW - timedelta(days=1)), result(submitted=1, last_pass_at=NOW - timedelta(days=2)),
     S.PASSED),
    # A pass late is still a pass.
    (rules(due_at=NOW - timedelta(days=9)), result(submitted=1, last_pass_at=NOW - timedelta(days=2)),
     S.PASSED),
    (rules(recert_months=12), result(submitted=1, last_pass_at=NOW - timedelta(days=300)), S.PASSED),
    (rules(recert_months=12), result(submitted=1, last_pass_at=NOW - timedelta(days=400)), S.EXPIRED),
    (rules(recert_months=12), result(submitted=1, open_attempt_id=9,
                                     last_pass_at=NOW - timedelta(days=400)), S.IN_PROGRESS),
    # SQLite returns naive datetimes (UTC): they compare like aware ones.
    (rules(due_at=datetime(2027, 3, 14)), None, S.OVERDUE),
    (rules(recert_months=1), result(submitted=1, last_pass_at=datetime(2027, 1, 1)), S.EXPIRED),
])
def test_assignment_state(assignment, person, expected):
    assert assignment_state(assignment, person, NOW) == expected


def test_pass_expiry_and_attempts_left():
    assert pass_expires_at(rules(), NOW) is None
    assert pass_expires_at(rules(recert_months=12), None) is None
    assert pass_expires_at(rules(recert_months=12), NOW) == datetime(2028, 3, 15, 12, tzinfo=UTC)
    assert attempts_left(rules(), result(submitted=5)) is None
    assert attempts_left(rules(max_attempts=3), None) == 3
    assert attempts_left(rules(max_attempts=3), result(submitted=2)) == 1
    assert attempts_left(rules(max_attempts=3), result(submitted=4)) == 0


def _user(email):
    user = User(email=email, name=email.split("@")[0].title(), password_hash=_password_hash(),
                role="learner")
    db.session.add(user)
    db.session.flush()
    return user


def _attempt(user, assignment, choose_correct: bool | None):
    """An attempt of the assignment: submitted all right (True), all wrong (False), or open (None)."""
    attempt = start_attempt(user, db.session.get(QuestionSet, assignment.set_id))
    attempt.assignment_id = assignment.id
    attempt.pass_mark = assignment.pass_mark
    db.session.flush()
    if choose_correct is None:
        return attempt
    answers = {}
    if choose_correct:
        for item in attempt.items:  # set alpha: single-answer questions
            answers[item.id] = next(c["id"] for c in item.revision.data["choices"] if c["correct"])
    assert submit_attempt(attempt, answers)
    db.session.flush()
    return attempt


@pytest.mark.small_bank
def test_assignees_and_results_in_sql(app, count_queries):
    """Cohort members and named people are assigned; members of another organisation and
    non-members named on it are not; person_results sums attempts per person in one statement."""
    with app.app_context():
        org, other = Organisation(name="Clinic A"), Organisation(name="Clinic B")
        db.session.add_all([org, other])
        db.session.flush()
        cohort, other_cohort = Cohort(org_id=org.id, name="Hires"), Cohort(org_id=other.id, name="Hires")
        db.session.add_all([cohort, other_cohort])
        db.session.flush()
        ann, bob, cat, dan, eve = (_user(f"{n}@example.org") for n in ("ann", "bob", "cat", "dan", "eve"))
        db.session.add_all([
            Membership(org_id=org.id, user_id=ann.id, role=OrgRole.MEMBER, cohort_id=cohort.id),
            Membership(org_id=org.id, user_id=bob.id, role=OrgRole.MEMBER, cohort_id=cohort.id),
            Membership(org_id=org.id, user_id=cat.id, role=OrgRole.MEMBER),       # named below
            Membership(org_id=other.id, user_id=dan.id, role=OrgRole.MEMBER, cohort_id=other_cohort.id),
        ])
        assignment = Assignment(org_id=org.id, set_id="alpha", cohort_id=cohort.id, pass_mark=60,
                                due_at=NOW)
        db.session.add(assignment)
        db.session.flush()
        # cat is named; eve is named but not a member (she does not count).
        db.session.add_all([AssignmentPerson(assignment_id=assignment.id, user_id=cat.id),
                            AssignmentPerson(assignment_id=assignment.id, user_id=eve.id)])
        db.session.flush()

        rows = set(db.session.execute(assignees([assignment.id])).all())
        assert rows == {(assignment.id, ann.id), (assignment.id, bob.id), (assignment.id, cat.id)}
        assert [a.id for a in assignments_for(cat.id)] == [assignment.id]
        assert assignments_for(dan.id) == [] and assignments_for(eve.id) == []

        failed = _attempt(ann, assignment, False)
        passed = _attempt(ann, assignment, True)
        _attempt(bob, assignment, False)
        bob_open = _attempt(bob, assignment, None)
        # Free practice (no assignment) does not count.
        practice = start_attempt(cat, db.session.get(QuestionSet, "alpha"))
        submit_attempt(practice, {})
        db.session.commit()
        assignment_id = assignment.id

        with count_queries() as counter:
            results = person_results([assignment_id])
        assert counter.count == 1, counter.statements
        assert set(results) == {(assignment.id, ann.id), (assignment.id, bob.id)}
        r_ann = results[(assignment.id, ann.id)]
        assert r_ann.submitted == 2
        assert r_ann.best_attempt_id == passed.id and r_ann.best_score == 100
        assert r_ann.last_pass_attempt_id == passed.id and r_ann.last_pass_at is not None
        assert r_ann.open_attempt_id is None
        assert failed.id != passed.id
        r_bob = results[(assignment.id, bob.id)]
        assert r_bob.submitted == 1 and r_bob.open_attempt_id == bob_open.id
        assert r_bob.last_pass_at is None and r_bob.best_score == 0

        assert assignment_state(assignment, r_ann, NOW) == S.PASSED
        assert assignment_state(assignment, r_bob, NOW) == S.IN_PROGRESS
        assert assignment_state(assignment, results.get((assignment.id, cat.id)),
                                NOW + timedelta(days=1)) == S.OVERDUE

        # A page of people: only theirs; an empty page sends nothing.
        assert set(person_results([assignment.id], [bob.id])) == {(assignment.id, bob.id)}
        with count_queries() as counter:
            assert person_results([assignment.id], []) == {}
            assert person_results([], None) == {}
        assert counter.count == 0
