"""The set catalogue: each set with its size and this learner's scores, in three queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

from . import grading
from .extensions import db
from .models import Attempt, Question, QuestionSet
from .vocab import AttemptStatus, QuestionStatus, SetKind


@dataclass
class SetSummary:
    qset: QuestionSet
    question_count: int
    best: float | None = None
    latest: float | None = None
    attempts: int = 0
    open_attempt_id: int | None = None
    latest_pass_mark: int | None = None  # as copied onto the latest attempt

    @property
    def latest_passed(self) -> bool | None:
        return grading.passed(self.latest, self.latest_pass_mark)


# The catalogue's statements are built once, at import: building a SELECT (and its
# subquery's column collection) costs more than running it. Values go in as bind parameters.
_TOPIC_COUNTS = (
    db.select(Question.topic_id, func.count())
    .where(Question.status == QuestionStatus.PUBLISHED, Question.current_revision_id.is_not(None))
    .group_by(Question.topic_id)
)
_ACTIVE_SETS = db.select(QuestionSet).where(QuestionSet.active).order_by(QuestionSet.position)
_RANKED = (
    db.select(
        Attempt.set_id, Attempt.status, Attempt.id, Attempt.score, Attempt.pass_mark,
        func.row_number().over(partition_by=(Attempt.set_id, Attempt.status),
                               order_by=(Attempt.submitted_at.desc(), Attempt.id.desc()))
        .label("rank"),
        func.max(Attempt.score).over(partition_by=(Attempt.set_id, Attempt.status)).label("best"),
        func.count().over(partition_by=(Attempt.set_id, Attempt.status)).label("n"),
    )
    .where(Attempt.user_id == db.bindparam("user_id"))
    .subquery()
)
# Per set: the latest submitted attempt (with the best score and the number submitted) and
# the open attempt, if any (at most one per set: a partial unique index), in one statement.
_LEARNER_SETS = db.select(
    _RANKED.c.set_id, _RANKED.c.status, _RANKED.c.id, _RANKED.c.score, _RANKED.c.pass_mark,
    _RANKED.c.best, _RANKED.c.n,
).where(_RANKED.c.rank == 1)


def topic_question_counts() -> dict[str, int]:
    return dict(db.session.execute(_TOPIC_COUNTS).all())


def set_question_count(qset: QuestionSet, counts: dict[str, int]) -> int:
    if qset.kind == SetKind.TOPIC:
        return counts.get(qset.topic_id, 0)
    pool = sum(n for t, n in counts.items() if not qset.draw_topics or t in qset.draw_topics)
    return min(qset.draw_count or pool, pool)


def active_sets() -> list[QuestionSet]:
    return list(db.session.scalars(_ACTIVE_SETS))


def summaries(user_id: int, sets: list[QuestionSet] | None = None) -> list[SetSummary]:
    sets = active_sets() if sets is None else sets
    counts = topic_question_counts()
    scores: dict[str, tuple] = {}
    open_ids: dict[str, int] = {}
    for set_id, status, attempt_id, latest, mark, best, n in db.session.execute(
        _LEARNER_SETS, {"user_id": user_id}
    ):
        if status == AttemptStatus.SUBMITTED:
            scores[set_id] = (best, latest, n, mark)
        else:
            open_ids[set_id] = attempt_id
    out = []
    for qset in sets:
        best, latest, n, mark = scores.get(qset.id, (None, None, 0, None))
        out.append(SetSummary(qset, set_question_count(qset, counts), best, latest, n,
                              open_ids.get(qset.id), mark))
    return out
