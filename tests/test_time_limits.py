"""Time limits enforced by the server (quiz/time_limits.py): past its deadline an attempt takes
no more answers; a late page view, save or submit closes it at the deadline with the answers
saved before; `attempts close-overdue` does the same for all, once. A fixed clock throughout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from quiz import time_limits
from quiz.attempts import load_attempt, save_answers, start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import Assignment, Attempt, LearnerQuestionLatest, QuestionSet, User
from quiz.orgs.results import _aware
from quiz.vocab import AttemptStatus

from . import flows
from .flows import client_for
from .test_orgs_assignments import NOW, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.small_bank
PAST = datetime(2001, 2, 3, 4, 5, tzinfo=UTC)


def test_time_left_is_computed_from_the_deadline_and_now():
    deadline = datetime(2027, 3, 15, 14, 5, tzinfo=UTC)
    left = time_limits.time_left(deadline, deadline - timedelta(minutes=12))
    assert left.text == "Time left: 12 min (until 14:05 UTC)" and not left.short
    assert time_limits.time_left(deadline, deadline - timedelta(minutes=11, seconds=1)).minutes == 12
    assert time_limits.time_left(deadline, deadline - timedelta(seconds=5)).minutes == 1
    assert time_limits.time_left(deadline, deadline - timedelta(minutes=5)).short
    assert time_limits.time_left(deadline, deadline) is None
    assert time_limits.time_left(None, deadline) is None
    naive = datetime(2027, 3, 15, 14, 5)  # as SQLite hands it back
    assert time_limits.time_left(naive, deadline - timedelta(minutes=1)).until == deadline
    assert time_limits.is_past(deadline, deadline)
    assert not time_limits.is_past(deadline, deadline - timedelta(seconds=1))
    assert not time_limits.is_past(None, deadline)


@pytest.fixture
def timed(app, world):  # noqa: F811
    """Ann's attempt of a 20-minute assignment, started at NOW, one answer (right) saved."""
    with app.app_context():
        assignment = Assignment(org_id=world["org"], set_id="alpha", cohort_id=world["cohort"],
                                pass_mark=50, time_limit_minutes=20)
        db.session.add(assignment)
        db.session.flush()
        ann = db.session.get(User, world["ann"])
        attempt = start_attempt(ann, db.session.get(QuestionSet, "alpha"), assignment=assignment, now=NOW)
        first = attempt.items[0]
        save_answers(attempt, {first.id: next(c["id"] for c in first.revision.data["choices"]
                                              if c["correct"])})
        db.session.commit()
        return {"attempt": attempt.id, "deadline": NOW + timedelta(minutes=20), "assignment": assignment.id}


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = NOW
    fixed = Clock()
    monkeypatch.setattr("quiz.learn.views.utcnow", lambda: fixed.now)
    return fixed


def _state(app, attempt_id):
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        return {"status": attempt.status, "score": attempt.score,
                "submitted_at": attempt.submitted_at and _aware(attempt.submitted_at),
                "answers": [item.answer for item in attempt.items]}


def test_the_page_shows_the_time_left_from_the_server(app, world, timed, clock):  # noqa: F811
    clock.now = NOW + timedelta(minutes=8)
    page = client_for(app, world["ann"]).get(f"/attempts/{timed['attempt']}").get_data(as_text=True)
    assert "Time left: 12 min (until 12:20 UTC)" in page
    assert "<script" not in page
    clock.now = NOW + timedelta(minutes=17)
    page = client_for(app, world["ann"]).get(f"/attempts/{timed['attempt']}").get_data(as_text=True)
    assert 'class="time-left short"' in page and "Time left: 3 min" in page


def test_before_the_deadline_answers_are_saved(app, world, timed, clock):  # noqa: F811
    clock.now = timed["deadline"] - timedelta(seconds=1)
    client = client_for(app, world["ann"])
    its = flows.items(app, timed["attempt"])
    response = flows.submit(client, timed["attempt"], flows.answers(its), button="save")
    assert response.status_code == 302 and response.headers["Location"] == f"/attempts/{timed['attempt']}"
    assert _state(app, timed["attempt"])["status"] == AttemptStatus.IN_PROGRESS


@pytest.mark.parametrize("button", ["save", "finish"])
def test_a_late_save_or_submit_closes_at_the_deadline_with_the_saved_answers(app, world, timed, clock,  # noqa: F811
                                                                             button):
    clock.now = timed["deadline"] + timedelta(minutes=3)
    client = client_for(app, world["ann"])
    its = flows.items(app, timed["attempt"])
    response = flows.submit(client, timed["attempt"], flows.answers(its), button=button)  # all right
    assert response.status_code == 302
    assert response.headers["Location"] == f"/attempts/{timed['attempt']}/review"
    state = _state(app, timed["attempt"])
    assert state["status"] == AttemptStatus.SUBMITTED
    assert state["submitted_at"] == timed["deadline"]
    assert state["score"] == 33.3  # the one answer saved in time, not the late ones
    assert state["answers"][1:] == [None, None]
    review = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Time was up at 15 Mar 2027, 12:20 UTC" in review and "not counted" in review


def test_coming_back_after_the_deadline_submits_and_shows_the_review(app, world, timed, clock):  # noqa: F811
    clock.now = timed["deadline"]  # at the deadline itself, time is up
    client = client_for(app, world["ann"])
    response = client.get(f"/attempts/{timed['attempt']}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")
    assert _state(app, timed["attempt"])["submitted_at"] == timed["deadline"]
    with app.app_context():  # the progress summary has the attempt's answers, at the deadline
        rows = db.session.scalars(select(LearnerQuestionLatest)
                                  .where(LearnerQuestionLatest.attempt_id == timed["attempt"])).all()
        assert len(rows) == 3 and {_aware(r.answered_at) for r in rows} == {timed["deadline"]}
    # Again: already submitted, the usual message, nothing scored twice.
    again = client.get(f"/attempts/{timed['attempt']}")
    assert again.status_code == 302
    assert _state(app, timed["attempt"])["submitted_at"] == timed["deadline"]


def test_close_at_deadline_scores_once(app, timed):
    with app.app_context():
        late = timed["deadline"] + timedelta(seconds=1)
        early = load_attempt(timed["attempt"])
        assert not time_limits.close_at_deadline(early, timed["deadline"] - timedelta(seconds=1))
        first = load_attempt(timed["attempt"])
        assert time_limits.close_at_deadline(first, late)
        db.session.commit()
        db.session.expire_all()
        second = load_attempt(timed["attempt"])
        assert not time_limits.close_at_deadline(second, late)  # already submitted
    with app.app_context():  # a stale object (a concurrent request): the conditional update refuses
        stale = load_attempt(timed["attempt"])
        set_committed_value(stale, "status", AttemptStatus.IN_PROGRESS)  # as that request read it
        assert submit_attempt(stale, {}, at=late) is False
        db.session.rollback()


def test_close_overdue_cli_is_idempotent(app, runner, world, timed):  # noqa: F811
    with app.app_context():
        # Bob: no time limit (never closed); Zoe: a deadline not reached yet at the sweep.
        bob, zoe = db.session.get(User, world["bob"]), db.session.get(User, world["zoe"])
        free = start_attempt(bob, db.session.get(QuestionSet, "alpha"))
        later = start_attempt(zoe, db.session.get(QuestionSet, "beta"))
        later.deadline_at = datetime(2199, 1, 1, tzinfo=UTC)
        overdue_two = start_attempt(zoe, db.session.get(QuestionSet, "alpha"))
        # The command reads the real clock: deadlines long past (and one far ahead, above).
        overdue_two.deadline_at = PAST + timedelta(minutes=5)
        db.session.get(Attempt, timed["attempt"]).deadline_at = PAST
        db.session.commit()
        ids = {"free": free.id, "later": later.id, "two": overdue_two.id}
    result = runner.invoke(args=["attempts", "close-overdue"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 overdue attempts closed."
    assert _state(app, timed["attempt"])["submitted_at"] == PAST
    assert _state(app, ids["two"])["submitted_at"] == PAST + timedelta(minutes=5)
    for key in ("free", "later"):
        assert _state(app, ids[key])["status"] == AttemptStatus.IN_PROGRESS
    again = runner.invoke(args=["attempts", "close-overdue"])
    assert again.output.strip() == "0 overdue attempts closed."
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.status == AttemptStatus.SUBMITTED)) == 2
        assert time_limits.overdue_ids(datetime(2300, 1, 1, tzinfo=UTC)) == [ids["later"]]


def test_the_sweep_with_a_fixed_clock(app, timed):
    with app.app_context():
        assert time_limits.close_overdue(timed["deadline"] - timedelta(seconds=1)) == 0
        assert time_limits.close_overdue(timed["deadline"]) == 1
        assert time_limits.close_overdue(timed["deadline"]) == 0


def test_a_deadline_is_never_set_on_free_practice(app, world):  # noqa: F811
    client = client_for(app, world["bob"])
    attempt_id = flows.start(client, "alpha")
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.deadline_at is None and attempt.assignment_id is None
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert not re.search("Time left", page)
