"""Per-learner progress, derived from submitted responses with aggregate queries.

Mastery of a topic is the share of its questions (those currently in the bank)
whose latest submitted answer earned full marks. Each page section is one query,
whatever the number of attempts or questions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func

from . import grading
from .extensions import db
from .models import (
    Attempt,
    AttemptQuestion,
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
    RevisionKeyPoint,
    Topic,
    User,
)

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


@dataclass
class Progress:
    topics: list[TopicProgress]
    history: list[HistoryEntry]
    unanswered: list[tuple[str, str, str]]  # (question id, topic title, prompt)
    key_points: list[KeyPointProgress] = field(default_factory=list)

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


def latest_answers(user_id: int):
    """Subquery: the latest submitted answer of this learner to each question."""
    ranked = (
        db.select(
            AttemptQuestion.question_id,
            AttemptQuestion.revision_id,
            AttemptQuestion.score,
            func.row_number().over(
                partition_by=AttemptQuestion.question_id,
                order_by=(Attempt.submitted_at.desc(), Attempt.id.desc()),
            ).label("rank"),
        )
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.user_id == user_id, Attempt.status == "submitted")
        .subquery()
    )
    return (
        db.select(ranked.c.question_id, ranked.c.revision_id, ranked.c.score)
        .where(ranked.c.rank == 1)
        .subquery()
    )


def topic_progress(user_id: int) -> list[TopicProgress]:
    latest = latest_answers(user_id)
    full = case((latest.c.score >= 1.0, 1), else_=0)
    rows = db.session.execute(
        db.select(
            Topic.id, Topic.title,
            func.count(Question.id),
            func.count(latest.c.question_id),
            func.coalesce(func.sum(full), 0),
            func.min(QuestionSet.id),
        )
        .join(Question, (Question.topic_id == Topic.id) & Question.active)
        .outerjoin(latest, latest.c.question_id == Question.id)
        .outerjoin(QuestionSet, (QuestionSet.topic_id == Topic.id) & QuestionSet.active
                   & (QuestionSet.kind == "topic"))
        .group_by(Topic.id, Topic.title, Topic.position)
        .order_by(Topic.position)
    )
    return [TopicProgress(tid, title, total, answered, int(correct), set_id)
            for tid, title, total, answered, correct, set_id in rows]


def key_point_progress(user_id: int) -> list[KeyPointProgress]:
    """Per key point: how many of the latest answers testing it were right."""
    latest = latest_answers(user_id)
    full = case((latest.c.score >= 1.0, 1), else_=0)
    rows = db.session.execute(
        db.select(KeyPoint.id, KeyPoint.text, func.count(latest.c.question_id),
                  func.coalesce(func.sum(full), 0), func.min(Question.topic_id))
        .join(RevisionKeyPoint, RevisionKeyPoint.key_point_id == KeyPoint.id)
        .join(latest, latest.c.revision_id == RevisionKeyPoint.revision_id)
        .join(Question, Question.id == latest.c.question_id)
        .group_by(KeyPoint.id, KeyPoint.text, KeyPoint.position)
        .order_by(KeyPoint.position)
    )
    return [KeyPointProgress(kid, text, answered, int(correct), topic)
            for kid, text, answered, correct, topic in rows]


def history(user_id: int) -> list[HistoryEntry]:
    rows = db.session.execute(
        db.select(Attempt.id, QuestionSet.title, Attempt.submitted_at, Attempt.score,
                  Attempt.pass_mark)
        .join(QuestionSet, QuestionSet.id == Attempt.set_id)
        .where(Attempt.user_id == user_id, Attempt.status == "submitted")
        .order_by(Attempt.submitted_at, Attempt.id)
    )
    return [HistoryEntry(aid, title, at, score, grading.passed(score, mark))
            for aid, title, at, score, mark in rows]


def unanswered_questions(user_id: int) -> list[tuple[str, str, str]]:
    answered = (
        db.select(AttemptQuestion.question_id)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.user_id == user_id, Attempt.status == "submitted")
    )
    rows = db.session.execute(
        db.select(Question.id, Topic.title, QuestionRevision.prompt)
        .join(Topic, Topic.id == Question.topic_id)
        .join(QuestionRevision, QuestionRevision.id == Question.current_revision_id)
        .where(Question.active, Question.id.not_in(answered))
        .order_by(Topic.position, Question.position)
    )
    return [tuple(r) for r in rows]


def learner_progress(user: User) -> Progress:
    return Progress(
        topics=topic_progress(user.id),
        history=history(user.id),
        unanswered=unanswered_questions(user.id),
        key_points=key_point_progress(user.id),
    )


def trend_points(entries: list[HistoryEntry], width: int = 300,
                 height: int = 60) -> list[tuple[float, float]]:
    """SVG coordinates for the score history: x spread over the width, 0-100% over the height."""
    step = width / max(len(entries) - 1, 1)
    return [(round(i * step, 1), round(height - e.score / 100 * height, 1))
            for i, e in enumerate(entries)]


@dataclass
class RosterRow:
    user_id: int
    name: str
    email: str
    joined: datetime
    attempts: int
    last_active: datetime | None
    best_gated: float | None  # best score of an attempt with a pass mark (the onboarding check)
    passed_gated: bool


def learner_roster() -> list[RosterRow]:
    """Every learner with activity and onboarding-check results, in one query."""
    submitted = Attempt.status == "submitted"
    # The pass mark copied onto each attempt, so changing a set's mark rewrites no history.
    gated = submitted & Attempt.pass_mark.is_not(None)
    rows = db.session.execute(
        db.select(
            User.id, User.name, User.email, User.created_at,
            func.count(case((submitted, Attempt.id))),
            func.max(case((submitted, Attempt.submitted_at))),
            func.max(case((gated, Attempt.score))),
            func.max(case((gated & (Attempt.score >= Attempt.pass_mark), 1), else_=0)),
        )
        .outerjoin(Attempt, Attempt.user_id == User.id)
        .where(User.role == "learner")
        .group_by(User.id, User.name, User.email, User.created_at)
        .order_by(User.name, User.id)
    )
    return [RosterRow(uid, name, email, joined, n, last, best, bool(passed))
            for uid, name, email, joined, n, last, best, passed in rows]
