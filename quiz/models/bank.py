"""The question bank: article sections, key points, topics, sets, questions and revisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..vocab import Difficulty, QuestionStatus, QuestionTypeName, RevisionOrigin, SetKind, check_in
from ._common import utcnow
from .accounts import User


class Section(db.Model):
    """A section (heading) of the source article."""

    __tablename__ = "section"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The hash of the values the bank files last wrote here (quiz.bank.entities.row_hash);
    # NULL once edited in the studio. Import only rewrites rows whose values still hash to it.
    file_hash: Mapped[str | None] = mapped_column(String(64))


class KeyPoint(db.Model):
    """One fact of the article that questions teach and test."""

    __tablename__ = "key_point"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("section.id"))
    text: Mapped[str] = mapped_column(Text)
    must_know: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The hash of the values the bank files last wrote here (quiz.bank.entities.row_hash);
    # NULL once edited in the studio. Import only rewrites rows whose values still hash to it.
    file_hash: Mapped[str | None] = mapped_column(String(64))

    section: Mapped[Section] = relationship()


class Topic(db.Model):
    __tablename__ = "topic"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The hash of the values the bank files last wrote here (quiz.bank.entities.row_hash);
    # NULL once edited in the studio. Import only rewrites rows whose values still hash to it.
    file_hash: Mapped[str | None] = mapped_column(String(64))


class QuestionSet(db.Model):
    """What a learner takes: every question of a topic, or a random draw across topics."""

    __tablename__ = "question_set"
    __table_args__ = (
        check_in("kind", SetKind),
        CheckConstraint("pass_mark IS NULL OR (pass_mark BETWEEN 0 AND 100)", name="pass_mark"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    topic_id: Mapped[str | None] = mapped_column(ForeignKey("topic.id"))
    draw_count: Mapped[int | None] = mapped_column(Integer)
    # For random sets: a list of topic ids, or null for every topic.
    draw_topics: Mapped[list[str] | None] = mapped_column(JSON)
    pass_mark: Mapped[int | None] = mapped_column(Integer)
    include_must_know: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The hash of the values the bank files last wrote here (quiz.bank.entities.row_hash);
    # NULL once edited in the studio. Import only rewrites rows whose values still hash to it.
    file_hash: Mapped[str | None] = mapped_column(String(64))

    topic: Mapped[Topic | None] = relationship()


class Question(db.Model):
    """A stable question identity; its content lives in immutable revisions.

    Learners are served `current_revision` of `published` questions only. `latest_revision`
    is the newest revision: equal to the current one, or a pending draft. Change these only
    through quiz.bank.revisions.
    """

    __tablename__ = "question"
    __table_args__ = (check_in("status", QuestionStatus),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic_id: Mapped[str] = mapped_column(ForeignKey("topic.id"))
    # The revision learners are served; null for a draft that was never published.
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_revision.id", use_alter=True)
    )
    # The newest revision (a pending draft when it differs from the current one).
    latest_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_revision.id", use_alter=True)
    )
    status: Mapped[str] = mapped_column(String(16), default=QuestionStatus.DRAFT)
    position: Mapped[int] = mapped_column(Integer, default=0)

    topic: Mapped[Topic] = relationship()
    current_revision: Mapped[QuestionRevision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )
    latest_revision: Mapped[QuestionRevision | None] = relationship(
        foreign_keys=[latest_revision_id], post_update=True
    )


class QuestionRevision(db.Model):
    """One immutable version of a question's content."""

    __tablename__ = "question_revision"
    __table_args__ = (
        UniqueConstraint("question_id", "number"),
        check_in("qtype", QuestionTypeName),
        check_in("difficulty", Difficulty),
        check_in("origin", RevisionOrigin),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    qtype: Mapped[str] = mapped_column(String(16))
    difficulty: Mapped[str] = mapped_column(String(8))
    scenario: Mapped[bool] = mapped_column(Boolean, default=False)
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    # The article section it tests; NULL only for a draft imported from another tool (Moodle
    # XML, GIFT) until an instructor maps it: publishing refuses a revision without one.
    source_id: Mapped[str | None] = mapped_column(ForeignKey("section.id"))
    # Type-specific answer data (choices, options and pairs, or steps), as in the bank file.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Who made it (null for the command line), why, and where it came from (RevisionOrigin;
    # origin_ref: the bank file for FILE, an import's file name, ...).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default=RevisionOrigin.FILE)
    origin_ref: Mapped[str | None] = mapped_column(String(255))
    # For the studio's question list (quiz/bank/revisions.py search_text, lint_count): the
    # prompt and every choice, pair, option and step text, lower-cased; and the number of
    # item-writing warnings (quiz.bank.lint.lint_question) when it was made, NULL when not yet
    # computed (revisions older than migration 9c5e2a7f1b38: `bank lint-refresh`).
    search_text: Mapped[str | None] = mapped_column(Text)
    lint_warnings: Mapped[int | None] = mapped_column(Integer)

    question: Mapped[Question] = relationship(foreign_keys=[question_id])
    author: Mapped[User | None] = relationship()
    source: Mapped[Section | None] = relationship()
    key_points: Mapped[list[KeyPoint]] = relationship(
        secondary="revision_key_point", order_by="KeyPoint.position"
    )


class RevisionKeyPoint(db.Model):
    __tablename__ = "revision_key_point"
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revision.id"), primary_key=True)
    key_point_id: Mapped[str] = mapped_column(ForeignKey("key_point.id"), primary_key=True)
