"""The set catalogue and the set page: each set with its size and this learner's scores.

Each page reads everything in one statement (besides loading the signed-in user): on
PostgreSQL every statement is a round trip, which costs about as much as Flask's whole
handling of a bare request. The statements are built once, at import (building a SELECT
costs more than running it); values go in as bind parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import String, and_, cast, func, literal, select

from . import grading
from .extensions import db
from .models import Attempt, Question, QuestionSet
from .vocab import AttemptStatus, QuestionStatus, SetKind


class SetInfo(NamedTuple):
    """The columns of a QuestionSet that the catalogue and the set page show."""

    id: str
    title: str
    description: str | None
    kind: str
    topic_id: str | None
    draw_count: int | None
    draw_topics: list[str] | None
    pass_mark: int | None
    include_must_know: bool


@dataclass
class SetSummary:
    qset: SetInfo
    question_count: int
    best: float | None = None
    latest: float | None = None
    attempts: int = 0
    open_attempt_id: int | None = None
    latest_pass_mark: int | None = None  # as copied onto the latest attempt

    @property
    def latest_passed(self) -> bool | None:
        return grading.passed(self.latest, self.latest_pass_mark)


@dataclass(frozen=True)
class PastAttempt:
    """A submitted attempt, as the set page lists it."""

    id: int
    submitted_at: datetime
    score: float | None
    pass_mark: int | None

    @property
    def passed(self) -> bool | None:
        return grading.passed(self.score, self.pass_mark)


@dataclass
class SetPage:
    summary: SetSummary
    attempts: list[PastAttempt] = field(default_factory=list)  # newest first


_TOPIC_COUNTS = (
    db.select(Question.topic_id, func.count())
    .where(Question.status == QuestionStatus.PUBLISHED, Question.current_revision_id.is_not(None))
    .group_by(Question.topic_id)
)

# The published questions per topic as one string, "topic:n,topic:n" (topic ids are slugs),
# so the sizes come with the sets in the same statement; computed once per statement.
_COUNTS = _TOPIC_COUNTS.subquery()
_COUNTS_TEXT = (
    select(func.aggregate_strings(
        _COUNTS.c.topic_id.concat(literal(":")).concat(cast(_COUNTS.c.count, String)), ","))
    .scalar_subquery().label("counts")
)
_SET_COLUMNS = tuple(getattr(QuestionSet, name) for name in SetInfo._fields)
_SET_FIELDS = len(_SET_COLUMNS)

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
# Every active set with the sizes and, per set, the learner's latest submitted attempt
# (with the best score and the number submitted) and their open attempt, if any (at most
# one per set: a partial unique index): up to two rows per set.
_CATALOGUE = (
    db.select(*_SET_COLUMNS, _COUNTS_TEXT, _RANKED.c.status, _RANKED.c.id, _RANKED.c.score,
              _RANKED.c.pass_mark, _RANKED.c.best, _RANKED.c.n)
    .outerjoin(_RANKED, and_(_RANKED.c.set_id == QuestionSet.id, _RANKED.c.rank == 1))
    .where(QuestionSet.active)
    .order_by(QuestionSet.position, QuestionSet.id)
)
# One active set with the sizes and every attempt of the learner at it, newest first.
_SET_PAGE = (
    db.select(*_SET_COLUMNS, _COUNTS_TEXT, Attempt.status, Attempt.id, Attempt.score,
              Attempt.pass_mark, Attempt.submitted_at)
    .outerjoin(Attempt, and_(Attempt.set_id == QuestionSet.id,
                             Attempt.user_id == db.bindparam("user_id")))
    .where(QuestionSet.id == db.bindparam("set_id"), QuestionSet.active)
    .order_by(Attempt.submitted_at.desc(), Attempt.id.desc())
)


def topic_question_counts() -> dict[str, int]:
    return dict(db.session.execute(_TOPIC_COUNTS).all())


def _parse_counts(text: str | None) -> dict[str, int]:
    if not text:
        return {}
    pairs = (item.rsplit(":", 1) for item in text.split(","))
    return {topic: int(n) for topic, n in pairs}


def set_question_count(qset, counts: dict[str, int]) -> int:
    if qset.kind == SetKind.TOPIC:
        return counts.get(qset.topic_id, 0)
    pool = sum(n for t, n in counts.items() if not qset.draw_topics or t in qset.draw_topics)
    return min(qset.draw_count or pool, pool)


def summaries(user_id: int) -> list[SetSummary]:
    """Every active set, in catalogue order, with the learner's scores: one statement."""
    out: dict[str, SetSummary] = {}
    counts = None
    for row in db.session.execute(_CATALOGUE, {"user_id": user_id}):
        summary = out.get(row.id)
        if summary is None:
            if counts is None:
                counts = _parse_counts(row.counts)
            qset = SetInfo._make(row[:_SET_FIELDS])
            summary = out[qset.id] = SetSummary(qset, set_question_count(qset, counts))
        status, attempt_id, latest, mark, best, n = row[_SET_FIELDS + 1:]
        if status == AttemptStatus.SUBMITTED:
            summary.best, summary.latest, summary.attempts = best, latest, n
            summary.latest_pass_mark = mark
        elif status is not None:
            summary.open_attempt_id = attempt_id
    return list(out.values())


def set_page(user_id: int, set_id: str) -> SetPage | None:
    """One active set with the learner's attempts at it (None if there is no such active
    set): one statement."""
    page = None
    for row in db.session.execute(_SET_PAGE, {"user_id": user_id, "set_id": set_id}):
        if page is None:
            qset = SetInfo._make(row[:_SET_FIELDS])
            page = SetPage(SetSummary(qset, set_question_count(qset, _parse_counts(row.counts))))
        status, attempt_id, score, mark, submitted_at = row[_SET_FIELDS + 1:]
        if status == AttemptStatus.SUBMITTED:
            page.attempts.append(PastAttempt(attempt_id, submitted_at, score, mark))
        elif status is not None:
            page.summary.open_attempt_id = attempt_id
    if page is not None and page.attempts:
        summary, latest = page.summary, page.attempts[0]
        summary.latest, summary.latest_pass_mark = latest.score, latest.pass_mark
        summary.attempts = len(page.attempts)
        scores = [a.score for a in page.attempts if a.score is not None]
        summary.best = max(scores) if scores else None
    return page
