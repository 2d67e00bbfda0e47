"""Per-learner progress: aggregate queries over a summary of each learner's latest answers.

Mastery of a topic is the share of its questions (those currently in the bank)
whose latest submitted answer earned full marks. The latest answer per (learner,
question) is kept in learner_question_latest, upserted on submit, so the page reads
at most one row per question whatever the learner's history; the score history is
paged. Each page section is one query, whatever the number of attempts or questions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func

from . import grading
from .extensions import db
from .models import (
    Attempt,
    AttemptQuestion,
    KeyPoint,
    LearnerQuestionLatest,
    Question,
    QuestionRevision,
    QuestionSet,
    RevisionKeyPoint,
    Topic,
    User,
)
from .vocab import AttemptStatus, QuestionStatus, SetKind

MASTERY_DEFINITION = (
    "Mastery is the share of a topic's questions whose most recent answer "
    "(in any set) was fully correct. Questions you have not answered yet count as not mastered."
)


@dataclass
class TopicProgress:
    topic_id: str
    title: str
    total: int
    answered: int
    correct: int
    practice_set_id: str | None = None

    @property
    def mastery(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def mastery_pct(self) -> int:
        return round(100 * self.mastery)


@dataclass
class KeyPointProgress:
    key_point_id: str
    text: str
    answered: int
    correct: int
    topic_id: str | None = None  # where most of its questions live, for a practice link

    @property
    def missed(self) -> int:
        return self.answered - self.correct


@dataclass
class HistoryEntry:
    attempt_id: int
    set_title: str
    submitted_at: datetime
    score: float
    passed: bool | None


HISTORY_PER_PAGE = 20  # attempts per page of the score history
TREND_ATTEMPTS = 30  # the trend chart shows at most the last this many attempts


@dataclass
class Progress:
    topics: list[TopicProgress]
    history: list[HistoryEntry]  # one page of submitted attempts, newest first
    unanswered: list[tuple[str, str, str]]  # (question id, topic title, prompt)
    key_points: list[KeyPointProgress] = field(default_factory=list)
    trend: list[HistoryEntry] = field(default_factory=list)  # the last attempts, oldest first
    attempts: int = 0  # submitted attempts in all
    page: int = 1
    per_page: int = HISTORY_PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.attempts // self.per_page))

    @property
    def has_newer(self) -> bool:
        return self.page > 1

    @property
    def has_older(self) -> bool:
        return self.page < self.pages

    @property
    def weakest(self) -> TopicProgress | None:
        if not self.topics:
            return None
        return min(self.topics, key=lambda t: (t.mastery, t.answered, t.title))

    @property
    def missed_key_points(self) -> list[KeyPointProgress]:
        """Key points with a wrong latest answer, the most missed first."""
        missed = [k for k in self.key_points if k.missed]
        return sorted(missed, key=lambda k: (-k.missed / k.answered, -k.missed))

    def practice_set(self, topic_id: str | None) -> str | None:
        return next((t.practice_set_id for t in self.topics if t.topic_id == topic_id), None)

    @property
    def overall_pct(self) -> int:
        total = sum(t.total for t in self.topics)
        return round(100 * sum(t.correct for t in self.topics) / total) if total else 0


def latest_answers(user_id=None):
    """Subquery: the latest submitted answer of this learner to each question (the summary).

    Without a user id it is bound to the `user_id` parameter, for the prebuilt statements.
    """
    user = db.bindparam("user_id") if user_id is None else user_id
    return (
        db.select(LearnerQuestionLatest.question_id, LearnerQuestionLatest.revision_id,
                  LearnerQuestionLatest.score)
        .where(LearnerQuestionLatest.user_id == user)
        .subquery()
    )


SUMMARY_COLUMNS = ("user_id", "question_id", "attempt_id", "attempt_question_id", "revision_id",
                   "score", "answered_at")


@functools.cache
def _upsert_statement(dialect: str):
    """INSERT .. ON CONFLICT (user, question) DO UPDATE .. WHERE the new answer is later.

    Executed with one parameter set per question and with RETURNING, SQLAlchemy's
    "insertmanyvalues" sends it as one INSERT .. VALUES (..), (..) statement (up to 1,000
    rows), compiled once and cached; a statement built with .values([...]) would be
    compiled again on every submit.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app supports these two
        raise ValueError(f"no upsert for {dialect}")
    table = LearnerQuestionLatest.__table__
    stmt = insert(table)
    new, old = stmt.excluded, table.c
    return stmt.on_conflict_do_update(
        index_elements=[old.user_id, old.question_id],
        set_={name: new[name] for name in SUMMARY_COLUMNS[2:]},
        where=(new.answered_at > old.answered_at)
        | ((new.answered_at == old.answered_at) & (new.attempt_id > old.attempt_id)),
    ).returning(old.question_id)


def record_latest_answers(user_id: int, attempt_id: int, answered_at: datetime,
                          items: list[tuple[str, int, int, float]]) -> None:
    """Upsert the summary for one submitted attempt: one statement for all its questions.

    items are (question id, attempt_question id, revision id, score). A row is replaced
    only by a later answer (submitted_at, then attempt id, as the window query ordered
    them), so two submits of one learner that race leave the truly latest answer whichever
    commits first: PostgreSQL's ON CONFLICT locks the existing row and evaluates the WHERE
    against its committed version; SQLite serialises writers. Rows go in question order,
    so concurrent upserts lock rows in the same order and cannot deadlock each other.
    """
    if not items:
        return
    rows = [dict(zip(SUMMARY_COLUMNS, (user_id, question_id, attempt_id, item_id, revision_id,
                                       score, answered_at), strict=True))
            for question_id, item_id, revision_id, score in sorted(items)]
    db.session.execute(_upsert_statement(db.engine.dialect.name), rows)


def latest_answers_definition():
    """SELECT of every learner's latest submitted answer per question, by a window query.

    The definition of the summary table: rank each learner's answers to a question by
    the attempt's submitted_at, then attempt id, newest first, and keep the first.
    """
    ranked = (
        db.select(
            Attempt.user_id,
            AttemptQuestion.question_id,
            AttemptQuestion.attempt_id,
            AttemptQuestion.id.label("attempt_question_id"),
            AttemptQuestion.revision_id,
            func.coalesce(AttemptQuestion.score, 0.0).label("score"),
            Attempt.submitted_at.label("answered_at"),
            func.row_number().over(
                partition_by=(Attempt.user_id, AttemptQuestion.question_id),
                order_by=(Attempt.submitted_at.desc(), Attempt.id.desc()),
            ).label("rank"),
        )
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.status == AttemptStatus.SUBMITTED)
        .subquery()
    )
    return db.select(*(ranked.c[name] for name in SUMMARY_COLUMNS)).where(ranked.c.rank == 1)


def rebuild_latest_answers(connection=None) -> int:
    """Recompute the whole summary from attempt_question rows; the number of rows written.

    One DELETE and one INSERT .. SELECT (the window query of latest_answers_definition).
    Runs on the session (the caller commits) or on a given Connection (the migration).
    """
    target = db.session if connection is None else connection
    table = LearnerQuestionLatest.__table__
    target.execute(table.delete())
    target.execute(table.insert().from_select(list(SUMMARY_COLUMNS), latest_answers_definition()))
    # Counted, not rowcount: psycopg reports -1 for an INSERT .. SELECT here.
    return target.execute(db.select(func.count()).select_from(table)).scalar_one()


# The page's statements are built once, on first use, with the learner as a bound
# parameter: building a SELECT with subqueries (and collecting their columns) costs more
# than running it on a summary of at most one row per question.


@functools.cache
def _topic_statement():
    latest = latest_answers()
    full = case((latest.c.score >= 1.0, 1), else_=0)
    return (
        db.select(
            Topic.id, Topic.title,
            func.count(Question.id),
            func.count(latest.c.question_id),
            func.coalesce(func.sum(full), 0),
            func.min(QuestionSet.id),
        )
        .join(Question, (Question.topic_id == Topic.id)
              & (Question.status == QuestionStatus.PUBLISHED))
        .outerjoin(latest, latest.c.question_id == Question.id)
        .outerjoin(QuestionSet, (QuestionSet.topic_id == Topic.id) & QuestionSet.active
                   & (QuestionSet.kind == SetKind.TOPIC))
        .group_by(Topic.id, Topic.title, Topic.position)
        .order_by(Topic.position)
    )


def topic_progress(user_id: int) -> list[TopicProgress]:
    rows = db.session.execute(_topic_statement(), {"user_id": user_id})
    return [TopicProgress(tid, title, total, answered, int(correct), set_id)
            for tid, title, total, answered, correct, set_id in rows]


@functools.cache
def _key_point_statement():
    latest = latest_answers()
    full = case((latest.c.score >= 1.0, 1), else_=0)
    return (
        db.select(KeyPoint.id, KeyPoint.text, func.count(latest.c.question_id),
                  func.coalesce(func.sum(full), 0), func.min(Question.topic_id))
        .join(RevisionKeyPoint, RevisionKeyPoint.key_point_id == KeyPoint.id)
        .join(latest, latest.c.revision_id == RevisionKeyPoint.revision_id)
        .join(Question, Question.id == latest.c.question_id)
        .group_by(KeyPoint.id, KeyPoint.text, KeyPoint.position)
        .order_by(KeyPoint.position)
    )


def key_point_progress(user_id: int) -> list[KeyPointProgress]:
    """Per key point: how many of the latest answers testing it were right."""
    rows = db.session.execute(_key_point_statement(), {"user_id": user_id})
    return [KeyPointProgress(kid, text, answered, int(correct), topic)
            for kid, text, answered, correct, topic in rows]


class PageNotFound(LookupError):
    """A history page past the last one (or below 1)."""


@functools.cache
def _history_statement():
    """A learner's submitted attempts, newest first, with their number; limit and offset bound."""
    return (
        db.select(Attempt.id, QuestionSet.title, Attempt.submitted_at, Attempt.score,
                  Attempt.pass_mark, func.count().over().label("total"))
        .join(QuestionSet, QuestionSet.id == Attempt.set_id)
        .where(Attempt.user_id == db.bindparam("user_id"),
               Attempt.status == AttemptStatus.SUBMITTED)
        .order_by(Attempt.submitted_at.desc(), Attempt.id.desc())
        .limit(db.bindparam("limit")).offset(db.bindparam("offset"))
    )


def _entries(rows) -> list[HistoryEntry]:
    return [HistoryEntry(aid, title, at, score, grading.passed(score, mark))
            for aid, title, at, score, mark, _total in rows]


def history(user_id: int, page: int = 1, per_page: int = HISTORY_PER_PAGE,
            trend_size: int = TREND_ATTEMPTS) -> tuple[list[HistoryEntry], list[HistoryEntry], int]:
    """(this page of attempts newest first, the last trend_size oldest first, how many in all).

    One query for the latest attempts (with the total as a window count), which is also
    page 1; a later page costs one more query with an offset. PageNotFound past the end.
    """
    if page < 1:
        raise PageNotFound(page)
    recent = db.session.execute(
        _history_statement(),
        {"user_id": user_id, "limit": max(trend_size, per_page), "offset": 0},
    ).all()
    total = recent[0].total if recent else 0
    trend = list(reversed(_entries(recent[:trend_size])))
    if page == 1:
        return _entries(recent[:per_page]), trend, total
    offset = (page - 1) * per_page
    if offset >= total:
        raise PageNotFound(page)
    rows = db.session.execute(
        _history_statement(), {"user_id": user_id, "limit": per_page, "offset": offset})
    return _entries(rows), trend, total


@functools.cache
def _unanswered_statement():
    answered = db.select(LearnerQuestionLatest.question_id).where(
        LearnerQuestionLatest.user_id == db.bindparam("user_id"))
    return (
        db.select(Question.id, Topic.title, QuestionRevision.prompt)
        .join(Topic, Topic.id == Question.topic_id)
        .join(QuestionRevision, QuestionRevision.id == Question.current_revision_id)
        .where(Question.status == QuestionStatus.PUBLISHED, Question.id.not_in(answered))
        .order_by(Topic.position, Question.position)
    )


def unanswered_questions(user_id: int) -> list[tuple[str, str, str]]:
    rows = db.session.execute(_unanswered_statement(), {"user_id": user_id})
    return [tuple(r) for r in rows]


def learner_progress(user: User, page: int = 1, per_page: int = HISTORY_PER_PAGE) -> Progress:
    """Everything the progress page shows; PageNotFound for a history page that does not exist."""
    entries, trend, total = history(user.id, page, per_page)
    return Progress(
        topics=topic_progress(user.id),
        history=entries,
        unanswered=unanswered_questions(user.id),
        key_points=key_point_progress(user.id),
        trend=trend,
        attempts=total,
        page=page,
        per_page=per_page,
    )


def trend_points(entries: list[HistoryEntry], width: int = 300,
                 height: int = 60) -> list[tuple[float, float]]:
    """SVG coordinates for the score history: x spread over the width, 0-100% over the height."""
    step = width / max(len(entries) - 1, 1)
    return [(round(i * step, 1), round(height - e.score / 100 * height, 1))
            for i, e in enumerate(entries)]
