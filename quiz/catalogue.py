"""The set catalogue: each set with its size and this learner's scores, in four queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

from . import grading
from .extensions import db
from .models import Attempt, Question, QuestionSet


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


def topic_question_counts() -> dict[str, int]:
    return dict(db.session.execute(
        db.select(Question.topic_id, func.count())
        .where(Question.active)
        .group_by(Question.topic_id)
    ).all())


def set_question_count(qset: QuestionSet, counts: dict[str, int]) -> int:
    if qset.kind == "topic":
        return counts.get(qset.topic_id, 0)
    pool = sum(n for t, n in counts.items() if not qset.draw_topics or t in qset.draw_topics)
    return min(qset.draw_count or pool, pool)


def active_sets() -> list[QuestionSet]:
    return list(db.session.scalars(
        db.select(QuestionSet).where(QuestionSet.active).order_by(QuestionSet.position)
    ))


def summaries(user_id: int, sets: list[QuestionSet] | None = None) -> list[SetSummary]:
    sets = active_sets() if sets is None else sets
    counts = topic_question_counts()
    ranked = (
        db.select(
            Attempt.set_id, Attempt.score, Attempt.pass_mark,
            func.row_number().over(partition_by=Attempt.set_id,
                                   order_by=(Attempt.submitted_at.desc(), Attempt.id.desc()))
            .label("rank"),
            func.max(Attempt.score).over(partition_by=Attempt.set_id).label("best"),
            func.count().over(partition_by=Attempt.set_id).label("n"),
        )
        .where(Attempt.user_id == user_id, Attempt.status == "submitted")
        .subquery()
    )
    scores = {
        set_id: (best, latest, n, mark)
        for set_id, latest, mark, best, n in db.session.execute(
            db.select(ranked.c.set_id, ranked.c.score, ranked.c.pass_mark, ranked.c.best,
                      ranked.c.n)
            .where(ranked.c.rank == 1)
        )
    }
    open_ids = dict(db.session.execute(
        db.select(Attempt.set_id, Attempt.id)
        .where(Attempt.user_id == user_id, Attempt.status == "in_progress")
    ).all())
    out = []
    for qset in sets:
        best, latest, n, mark = scores.get(qset.id, (None, None, 0, None))
        out.append(SetSummary(qset, set_question_count(qset, counts), best, latest, n,
                              open_ids.get(qset.id), mark))
    return out
