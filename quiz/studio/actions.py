"""Status changes from the studio, one question or many: plain functions over
quiz.bank.revisions. A bulk change is all or nothing: the caller commits only when no question
refused, and rolls back otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import selectinload

from ..bank import revisions
from ..bank.revisions import StatusError
from ..extensions import db
from ..models import Question

STATUS_ACTIONS: dict[str, tuple[Callable[[Question, Any], None], str]] = {
    "publish": (revisions.publish, "Published"),
    "unpublish": (revisions.unpublish, "Unpublished"),
    "retire": (revisions.retire, "Retired"),
    "restore": (revisions.restore, "Restored"),
}
# Bulk actions hold every question they change in one transaction: a sane ceiling.
BULK_MAX = 10_000


def available(question: Question) -> list[str]:
    """The status actions that apply to the question as it is (the buttons its page shows)."""
    out = []
    if question.status != "retired" and question.latest_revision_id is not None and not (
            question.status == "published"
            and question.current_revision_id == question.latest_revision_id):
        out.append("publish")
    if question.status == "published":
        out.append("unpublish")
    if question.status != "retired":
        out.append("retire")
    else:
        out.append("restore")
    return out


def change_status(question: Question, action: str, actor: Any) -> None:
    """One status action (a key of STATUS_ACTIONS); StatusError if it does not apply."""
    STATUS_ACTIONS[action][0](question, actor)


def bulk_change(ids: Iterable[str], action: str, actor: Any) -> tuple[int, list[tuple[str, str]]]:
    """Apply `action` to every question of `ids`, locked for the change. Returns how many were
    changed and the refusals (id, reason): when there is any, the caller must roll back."""
    wanted = sorted(set(ids))
    questions = list(db.session.scalars(
        db.select(Question).where(Question.id.in_(wanted))
        .options(selectinload(Question.latest_revision))
        .order_by(Question.id).with_for_update()))
    found = {q.id for q in questions}
    refusals = [(qid, "There is no such question.") for qid in wanted if qid not in found]
    for question in questions:
        try:
            change_status(question, action, actor)
        except StatusError as exc:
            refusals.append((question.id, str(exc)))
    return len(questions) - len(refusals), sorted(refusals)
