"""Attempts: one learner taking one set, pinned to the revisions it served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import grading
from ..extensions import db
from ..vocab import AttemptStatus, check_in
from ._common import utcnow
from .accounts import User
from .bank import Question, QuestionRevision, QuestionSet

OPEN_ATTEMPT = f"status = '{AttemptStatus.IN_PROGRESS}'"  # the partial index's WHERE


class Attempt(db.Model):
    __tablename__ = "attempt"
    __table_args__ = (
        check_in("status", AttemptStatus),
        CheckConstraint(
            f"(status = '{AttemptStatus.SUBMITTED}') = (submitted_at IS NOT NULL)", name="submitted_at"
        ),
        Index("ix_attempt_user_set", "user_id", "set_id"),
        # A learner's attempts by time: the roster's last activity, history pages.
        Index("ix_attempt_user_submitted", "user_id", "submitted_at"),
        # One assignment's attempts per person: the dashboard, "My assignments", limits.
        Index("ix_attempt_assignment_user", "assignment_id", "user_id"),
        # At most one unfinished attempt per learner and set: a double-clicked "Start"
        # resumes instead of opening a second attempt.
        Index(
            "uq_attempt_one_open", "user_id", "set_id", unique=True,
            sqlite_where=text(OPEN_ATTEMPT),
            postgresql_where=text(OPEN_ATTEMPT),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    set_id: Mapped[str] = mapped_column(ForeignKey("question_set.id"))
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.IN_PROGRESS.value)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    points: Mapped[float | None] = mapped_column(Float)
    # Percentage 0-100, set once on submit.
    score: Mapped[float | None] = mapped_column(Float)
    # Copied from the set at start, so a later change of pass mark does not rewrite history.
    pass_mark: Mapped[int | None] = mapped_column(Integer)
    # The assignment this attempt counts for (quiz.orgs); null for free practice.
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id", ondelete="SET NULL"))
    # When the server stops accepting answers (started_at + the assignment's time limit,
    # copied at start); null without a time limit. Past it the attempt is submitted with
    # what was saved (quiz.orgs, `attempts close-overdue`).
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()
    question_set: Mapped[QuestionSet] = relationship()
    items: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position"
    )

    @property
    def is_submitted(self) -> bool:
        return self.status == AttemptStatus.SUBMITTED

    @property
    def set_title(self) -> str:
        """As on quiz.attempt_pages.PageAttempt, so the attempt page takes either."""
        return self.question_set.title

    @property
    def passed(self) -> bool | None:
        return grading.passed(self.score, self.pass_mark)


class AttemptQuestion(db.Model):
    """One question served in an attempt: its pinned revision, shuffled order and answer."""

    __tablename__ = "attempt_question"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score"),
        # Item analysis (quiz/stats): the items of selected attempts from the index alone
        # (PostgreSQL; a plain attempt_id index on SQLite), and one revision's responses.
        Index("ix_attempt_question_attempt_scores", "attempt_id",
              postgresql_include=["revision_id", "question_id", "position", "score"]),
        Index("ix_attempt_question_revision", "revision_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revision.id"))
    # The presentation order chosen at start (e.g. {"choices": ["c", "a", "b"]}).
    layout: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer: Mapped[Any | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()
    revision: Mapped[QuestionRevision] = relationship()


class LearnerQuestionLatest(db.Model):
    """Each learner's latest submitted answer to each question: a summary kept up to date.

    One row per (learner, question) ever answered in a submitted attempt, pointing at the
    answer of the latest such attempt (by submitted_at, then attempt id). Submitting an
    attempt upserts its rows in the same transaction (quiz.progress.record_latest_answers);
    quiz.progress.rebuild_latest_answers() recomputes the whole table from attempt_question.
    The progress page reads it, so its cost does not grow with a learner's history.
    """

    __tablename__ = "learner_question_latest"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 1", name="score"),
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"), primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    attempt_question_id: Mapped[int] = mapped_column(ForeignKey("attempt_question.id"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revision.id"))
    score: Mapped[float] = mapped_column(Float)
    # The attempt's submitted_at: with attempt_id, what "latest" is ordered by.
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
