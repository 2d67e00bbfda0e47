"""The studio's lists of topics, key points and sets with their question counts.

Each list is a fixed number of statements however many rows the bank has: the rows, and the
counts as one grouped query (tests/test_studio_entities.py counts them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func

from ..catalogue import set_question_count, topic_question_counts
from ..extensions import db
from ..models import KeyPoint, Question, QuestionSet, RevisionKeyPoint, Section, Topic
from ..vocab import QuestionStatus


@dataclass
class TopicRow:
    topic: Topic
    counts: dict[str, int] = field(default_factory=dict)  # by QuestionStatus

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def topic_rows() -> list[TopicRow]:
    """Every topic in bank order, with its questions counted by status. Two statements."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for topic_id, status, n in db.session.execute(
        db.select(Question.topic_id, Question.status, func.count())
        .group_by(Question.topic_id, Question.status)
    ):
        counts[topic_id][status] = n
    topics = db.session.scalars(db.select(Topic).order_by(Topic.position, Topic.id))
    return [TopicRow(t, counts.get(t.id, {})) for t in topics]


@dataclass
class SectionGroup:
    section: Section
    key_points: list[tuple[KeyPoint, int]]  # each with its published questions


def key_point_groups() -> list[SectionGroup]:
    """Key points grouped by article section (bank order), each with the number of published
    questions whose current revision tests it. Three statements."""
    counts = dict(db.session.execute(
        db.select(RevisionKeyPoint.key_point_id, func.count())
        .join(Question, Question.current_revision_id == RevisionKeyPoint.revision_id)
        .where(Question.status == QuestionStatus.PUBLISHED)
        .group_by(RevisionKeyPoint.key_point_id)
    ).all())
    by_section: dict[str, list[tuple[KeyPoint, int]]] = defaultdict(list)
    for kp in db.session.scalars(db.select(KeyPoint).order_by(KeyPoint.position, KeyPoint.id)):
        by_section[kp.section_id].append((kp, counts.get(kp.id, 0)))
    sections = db.session.scalars(db.select(Section).order_by(Section.position, Section.id))
    return [SectionGroup(s, by_section.get(s.id, [])) for s in sections]


@dataclass
class SetRow:
    qset: QuestionSet
    size: int  # the questions an attempt gets now (published questions only)
    topic_title: str | None
    draw_titles: list[str] | None  # a random set's topics, None for every topic


def set_rows() -> list[SetRow]:
    """Every set (active first, then bank order) with the questions an attempt gets now, as
    the catalogue counts them. Three statements."""
    counts = topic_question_counts()
    titles = dict(db.session.execute(db.select(Topic.id, Topic.title)).all())
    sets = db.session.scalars(
        db.select(QuestionSet).order_by(QuestionSet.active.desc(), QuestionSet.position,
                                        QuestionSet.id))
    return [SetRow(s, set_question_count(s, counts), titles.get(s.topic_id) if s.topic_id else None,
                   [titles.get(t, t) for t in s.draw_topics] if s.draw_topics else None)
            for s in sets]
