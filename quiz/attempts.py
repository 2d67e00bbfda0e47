"""Attempts: start (pinning revisions and layout), save answers, submit (score exactly once)."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from . import grading, progress
from .extensions import db
from .models import (
    Attempt,
    AttemptQuestion,
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
    RevisionKeyPoint,
    User,
)
from .models._common import utcnow
from .question_types import TYPES
from .stats import summary as item_sums
from .vocab import AttemptStatus, QuestionStatus, SetKind


class AttemptError(ValueError):
    """An attempt cannot be started or changed as asked."""


class OpenAttemptElsewhere(AttemptError):
    """(assignments) The learner's open attempt at this set is not for the assignment asked
    for (another assignment's, or free practice): one open attempt per learner and set."""

    def __init__(self, attempt: Attempt):
        super().__init__("You already have an unfinished attempt at this set. Finish or submit "
                         "it first, then start this assignment.")
        self.attempt = attempt


def open_attempt(user: User, qset: QuestionSet) -> Attempt | None:
    return db.session.scalar(
        db.select(Attempt).where(
            Attempt.user_id == user.id, Attempt.set_id == qset.id,
            Attempt.status == AttemptStatus.IN_PROGRESS,
        )
    )


def choose_questions(qset: QuestionSet, rng: random.Random) -> list[Question]:
    """The questions an attempt of this set serves, in order."""
    query = (
        db.select(Question)
        .where(Question.status == QuestionStatus.PUBLISHED, Question.current_revision_id.is_not(None))
        .order_by(Question.position)
    )
    if qset.kind == SetKind.TOPIC:
        return list(db.session.scalars(query.where(Question.topic_id == qset.topic_id)))
    if qset.draw_topics:
        query = query.where(Question.topic_id.in_(qset.draw_topics))
    pool = list(db.session.scalars(query))
    count = min(qset.draw_count or len(pool), len(pool))
    must = _must_know_picks(pool, rng) if qset.include_must_know else []
    if len(must) >= count:
        drawn = rng.sample(must, count)
    else:
        rest = [q for q in pool if q not in must]
        drawn = must + rng.sample(rest, count - len(must))
    rng.shuffle(drawn)
    return drawn


def _must_know_picks(pool: list[Question], rng: random.Random) -> list[Question]:
    """One question (drawn at random) for each must-know key point the pool covers."""
    rows = db.session.execute(
        db.select(RevisionKeyPoint.key_point_id, RevisionKeyPoint.revision_id)
        .join(KeyPoint, KeyPoint.id == RevisionKeyPoint.key_point_id)
        .where(KeyPoint.must_know, RevisionKeyPoint.revision_id.in_(
            [q.current_revision_id for q in pool]))
        .order_by(KeyPoint.position, RevisionKeyPoint.revision_id)
    ).all()
    by_revision = {q.current_revision_id: q for q in pool}
    revisions_by_kp: dict[str, list[int]] = {}
    for kp_id, revision_id in rows:
        revisions_by_kp.setdefault(kp_id, []).append(revision_id)
    picks: list[Question] = []
    covered: set[int] = set()
    for revision_ids in revisions_by_kp.values():
        if covered.intersection(revision_ids):
            continue  # a question already picked tests this key point too
        choice = rng.choice(revision_ids)
        covered.add(choice)
        picks.append(by_revision[choice])
    return picks


def start_attempt(user: User, qset: QuestionSet, rng: random.Random | None = None, *,
                  assignment: Any = None, now: datetime | None = None) -> Attempt:
    """Resume the learner's open attempt of this set, or start one pinned to current revisions.

    (assignments) With `assignment` (quiz.orgs.assignments.start_for) the new attempt counts
    for it and carries its rules: its pass mark, and a deadline `now` + its time limit. An
    open attempt is resumed only if it is the same assignment's (else OpenAttemptElsewhere).
    """
    existing = open_attempt(user, qset)
    if existing is not None:
        return _resumable(existing, assignment)
    rng = rng or random.Random(secrets.randbits(64))  # noqa: S311 - shuffling, not secrets
    questions = choose_questions(qset, rng)
    if not questions:
        raise AttemptError("This set has no questions yet.")
    revisions = {
        r.id: r for r in db.session.scalars(
            db.select(QuestionRevision).where(
                QuestionRevision.id.in_([q.current_revision_id for q in questions])
            )
        )
    }
    attempt = Attempt(user_id=user.id, set_id=qset.id,
                      **{"pass_mark": qset.pass_mark, **_assignment_rules(assignment, now)})
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
            for position, question in enumerate(questions, start=1):
                revision = revisions[question.current_revision_id]
                db.session.add(AttemptQuestion(
                    attempt_id=attempt.id, position=position, question_id=question.id,
                    revision_id=revision.id,
                    layout=TYPES[revision.qtype].layout(revision.data, rng),
                ))
            db.session.flush()
    except IntegrityError:
        # Another request opened one a moment ago: use that.
        existing = open_attempt(user, qset)
        if existing is None:
            raise
        return _resumable(existing, assignment)
    return attempt


def _resumable(existing: Attempt, assignment: Any) -> Attempt:
    """(assignments) The open attempt, unless it is not the assignment's that is asked for."""
    if assignment is not None and existing.assignment_id != assignment.id:
        raise OpenAttemptElsewhere(existing)
    return existing


def _assignment_rules(assignment: Any, now: datetime | None) -> dict[str, Any]:
    """(assignments) What an attempt for an assignment copies at start (they never change after)."""
    if assignment is None:
        return {}
    started = now or utcnow()
    limit = assignment.time_limit_minutes
    return {"assignment_id": assignment.id, "pass_mark": assignment.effective_pass_mark(),
            "started_at": started,
            "deadline_at": started + timedelta(minutes=limit) if limit else None}


def _update_if_open(attempt: Attempt, **values: Any) -> bool:
    """Update the attempt row only while it is in progress; False if it no longer is.

    The UPDATE takes the row's write lock, so saves and submits of one attempt are
    serialised: whichever comes second sees the other's committed state. On False the
    attempt's state is expired (reloaded only if read), not refreshed.
    """
    result = db.session.execute(
        db.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(attempt, ["status", "submitted_at", "points", "score"])
        return False
    for name, value in values.items():
        set_committed_value(attempt, name, value)
    return True


def _write_items(rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE of attempt_question by primary key: one executemany per set of columns.

    The in-memory items are not marked dirty (the caller sets their committed values),
    so no flush writes them a second time.
    """
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    for batch in by_columns.values():
        db.session.execute(db.update(AttemptQuestion), batch)


def save_answers(attempt: Attempt, answers: dict[int, Any]) -> None:
    """Store answers (by attempt-question id) on an unfinished attempt.

    Two statements: a no-op conditional UPDATE of the attempt that takes its row lock
    (AttemptError if it is no longer in progress), then the answers in one executemany.
    """
    if not _update_if_open(attempt, status=AttemptStatus.IN_PROGRESS):
        raise AttemptError("This attempt has already been submitted.")
    items = [item for item in attempt.items if item.id in answers]
    _write_items([{"id": item.id, "answer": answers[item.id]} for item in items])
    for item in items:
        set_committed_value(item, "answer", answers[item.id])


def submit_attempt(attempt: Attempt, answers: dict[int, Any], *, at: datetime | None = None) -> bool:
    """Store the final answers and score the attempt. False if it was already submitted.

    The scores are computed first, from the items already loaded; then one conditional
    UPDATE sets status, submitted_at, points and score together. It is the only write
    that can fail: only the request that flips in_progress -> submitted goes on, so
    double and concurrent submits score exactly once. The winner then writes the items'
    answers and scores (one executemany), upserts the learner's latest-answer summary
    (one statement) and adds the items to the kept item-analysis sums if this is the
    learner's first submitted attempt at the set (one statement), in the same transaction.
    Nothing is reloaded. (time limits) `at`: the submission time to record, the deadline
    when quiz.time_limits closes an attempt that ran out of time.
    """
    now = at or utcnow()
    rows: list[dict[str, Any]] = []
    scored: list[tuple[AttemptQuestion, Any, float]] = []
    for item in attempt.items:
        answer = answers[item.id] if item.id in answers else item.answer
        rev = item.revision
        score = TYPES[rev.qtype].grade(rev.data, answer) if answer else 0.0
        row = {"id": item.id, "score": score}
        if item.id in answers:
            row["answer"] = answer
        rows.append(row)
        scored.append((item, answer, score))
    points = sum(score for _, _, score in scored)
    if not _update_if_open(attempt, status=AttemptStatus.SUBMITTED, submitted_at=now, points=points,
                           score=grading.percentage(points, len(scored))):
        return False
    _write_items(rows)
    for item, answer, score in scored:
        set_committed_value(item, "answer", answer)
        set_committed_value(item, "score", score)
    progress.record_latest_answers(
        attempt.user_id, attempt.id, now,
        [(item.question_id, item.id, item.revision_id, score) for item, _, score in scored],
    )
    item_sums.add_attempt_items(attempt.id, len(scored))
    # Certificates (issue 10): a passing attempt made for an assignment gets its certificate
    # in this transaction; free practice returns at once, without a statement.
    from .orgs.certificates import issue_if_passed  # not at the top: quiz.orgs may import us

    issue_if_passed(attempt)
    return True


def load_attempt(attempt_id: int, review: bool = False) -> Attempt | None:
    """An attempt with its set, items and served revisions, in a constant number of queries.

    The attempt page needs each revision's type, prompt and answer data; `review=True` also
    loads what only the review shows (explanation, source section, key points, the learner).
    """
    # Saving and submitting (review=False) read the attempt, its set, items and revisions
    # in one joined statement: each statement is a round trip on PostgreSQL.
    items = db.selectinload(Attempt.items) if review else db.joinedload(Attempt.items)
    options = [db.joinedload(Attempt.question_set)]
    if review:
        revision = items.joinedload(AttemptQuestion.revision)
        options += [
            db.joinedload(Attempt.user),
            revision.joinedload(QuestionRevision.source),
            items.joinedload(AttemptQuestion.revision).selectinload(QuestionRevision.key_points),
        ]
    else:
        options.append(items.joinedload(AttemptQuestion.revision).load_only(
            QuestionRevision.qtype, QuestionRevision.prompt, QuestionRevision.data))
    return db.session.scalars(
        db.select(Attempt).where(Attempt.id == attempt_id).options(*options)).unique().first()
