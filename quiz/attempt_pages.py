"""Read models of the attempt and review pages: plain rows instead of ORM objects.

Showing an attempt reads; it never changes one. So the GET of the attempt and review
pages loads plain rows with Core statements (built once), not ORM objects with their
identity map and change tracking, and takes each served revision's content from a
per-application cache: a revision never changes once it exists (a change makes a new
revision), so its type, prompt, answer data and explanation are read from the database
once per process, not on every page. What can change (the set's title, key point texts,
section titles, the learner's name) is read on every request.

Saving and submitting work on the ORM objects of quiz.attempts.load_attempt.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

from . import grading
from .extensions import db
from .models import (
    Attempt,
    AttemptQuestion,
    KeyPoint,
    QuestionRevision,
    QuestionSet,
    RevisionKeyPoint,
    Section,
    User,
)
from .vocab import AttemptStatus

# Revisions kept per process: every question of a bank many times the shipped one's size.
REVISION_CACHE_SIZE = 5_000


@dataclass(frozen=True, slots=True)
class ServedRevision:
    """The immutable content of one revision. `data` is shared: never change it."""

    id: int
    qtype: str
    prompt: str
    explanation: str
    source_id: str
    data: dict[str, Any]


@dataclass(slots=True)
class PageItem:
    id: int
    position: int
    question_id: str
    revision_id: int
    layout: dict[str, Any]
    answer: Any
    score: float | None
    revision: ServedRevision
    # The review only: the revision's section title and key points (their current texts).
    source_title: str = ""
    key_points: list[str] = field(default_factory=list)  # their texts


@dataclass(slots=True)
class PageAttempt:
    id: int
    user_id: int
    set_id: str
    set_title: str
    user_name: str
    status: str
    pass_mark: int | None
    points: float | None
    score: float | None
    submitted_at: datetime | None
    assignment_id: int | None
    deadline_at: datetime | None = None  # (time limits) quiz/time_limits.py
    items: list[PageItem] = field(default_factory=list)

    @property
    def is_submitted(self) -> bool:
        return self.status == AttemptStatus.SUBMITTED

    @property
    def passed(self) -> bool | None:
        return grading.passed(self.score, self.pass_mark)


_HEADER_COLUMNS = (
    Attempt.id, Attempt.user_id, Attempt.set_id, QuestionSet.title, User.name,
    Attempt.status, Attempt.pass_mark, Attempt.points, Attempt.score,
    Attempt.submitted_at, Attempt.assignment_id, Attempt.deadline_at,
)
_HEADER_FIELDS = len(_HEADER_COLUMNS)
_ITEM_COLUMNS = (
    AttemptQuestion.id, AttemptQuestion.position, AttemptQuestion.question_id,
    AttemptQuestion.revision_id, AttemptQuestion.layout, AttemptQuestion.answer,
    AttemptQuestion.score,
)
_ITEMS_END = _HEADER_FIELDS + len(_ITEM_COLUMNS)
# The attempt and its items in one statement (a row per item, the attempt's columns
# repeated; one row with empty item columns if it has none): on PostgreSQL a statement is
# a round trip, dearer than the few repeated columns.
_ATTEMPT = (
    db.select(*_HEADER_COLUMNS, *_ITEM_COLUMNS)
    .join(QuestionSet, QuestionSet.id == Attempt.set_id)
    .join(User, User.id == Attempt.user_id)
    .outerjoin(AttemptQuestion, AttemptQuestion.attempt_id == Attempt.id)
    .where(Attempt.id == db.bindparam("attempt_id"))
    .order_by(AttemptQuestion.position)
)
# The review's: each item's section title too (titles can be edited; revisions cannot).
_REVIEW = (
    _ATTEMPT.add_columns(Section.title.label("source_title"))
    .outerjoin(QuestionRevision, QuestionRevision.id == AttemptQuestion.revision_id)
    .outerjoin(Section, Section.id == QuestionRevision.source_id)
)
_REVISIONS = db.select(
    QuestionRevision.id, QuestionRevision.qtype, QuestionRevision.prompt,
    QuestionRevision.explanation, QuestionRevision.source_id, QuestionRevision.data,
).where(QuestionRevision.id.in_(db.bindparam("ids", expanding=True)))
_KEY_POINTS = (
    db.select(RevisionKeyPoint.revision_id, KeyPoint.text)
    .join(KeyPoint, KeyPoint.id == RevisionKeyPoint.key_point_id)
    .where(RevisionKeyPoint.revision_id.in_(db.bindparam("ids", expanding=True)))
    .order_by(KeyPoint.position)
)


def _cache() -> OrderedDict[int, ServedRevision]:
    """This application's revision cache (one per app: test apps share a process)."""
    return current_app.extensions.setdefault("quiz.served_revisions", OrderedDict())


def served_revisions(ids: set[int]) -> dict[int, ServedRevision]:
    """The revisions with these ids: from the cache, the missing ones in one query."""
    cache = _cache()
    found = {i: cache[i] for i in ids if i in cache}
    missing = ids - found.keys()
    if missing:
        for row in db.session.execute(_REVISIONS, {"ids": sorted(missing)}):
            revision = ServedRevision(*row)
            found[revision.id] = cache[revision.id] = revision
        while len(cache) > REVISION_CACHE_SIZE:
            cache.popitem(last=False)
    return found


def load_page_attempt(attempt_id: int, review: bool = False) -> PageAttempt | None:
    """An attempt with its items and served revisions; with `review`, also each item's
    section title and key points. One statement, plus one for revisions not yet cached,
    plus one for the review's key points."""
    rows = db.session.execute(_REVIEW if review else _ATTEMPT, {"attempt_id": attempt_id}).all()
    if not rows:
        return None
    attempt = PageAttempt(*rows[0][:_HEADER_FIELDS])
    item_rows = [row for row in rows if row[_HEADER_FIELDS] is not None]  # none: no items
    revisions = served_revisions({row.revision_id for row in item_rows})
    attempt.items = [PageItem(*row[_HEADER_FIELDS:_ITEMS_END], revision=revisions[row.revision_id])
                     for row in item_rows]
    if review:
        for item, row in zip(attempt.items, item_rows, strict=True):
            item.source_title = row.source_title or ""
        _add_key_points(attempt.items)
    return attempt


def _add_key_points(items: list[PageItem]) -> None:
    revision_ids = sorted({item.revision_id for item in items})
    if not revision_ids:
        return
    points: dict[int, list[str]] = {}
    for revision_id, text in db.session.execute(_KEY_POINTS, {"ids": revision_ids}):
        points.setdefault(revision_id, []).append(text)
    for item in items:
        item.key_points = points.get(item.revision_id, [])
