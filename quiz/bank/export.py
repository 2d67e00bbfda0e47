"""Export the loaded bank (current revisions of active questions) as plain data."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import KeyPoint, Question, QuestionRevision, QuestionSet, Section, Topic
from ..question_types import TYPES
from ..vocab import SetKind


def export_bank() -> dict[str, Any]:
    sections = db.session.scalars(db.select(Section).order_by(Section.position)).all()
    key_points = db.session.scalars(db.select(KeyPoint).order_by(KeyPoint.position)).all()
    topics = db.session.scalars(db.select(Topic).order_by(Topic.position)).all()
    sets = db.session.scalars(
        db.select(QuestionSet).where(QuestionSet.active).order_by(QuestionSet.position)
    ).all()
    questions = db.session.scalars(
        db.select(Question)
        .where(Question.active)
        .order_by(Question.position)
        .options(
            db.joinedload(Question.current_revision)
            .selectinload(QuestionRevision.key_points)
        )
    ).all()
    return {
        "sections": [{"id": s.id, "title": s.title} for s in sections],
        "key_points": [
            {"id": k.id, "section": k.section_id, "text": k.text,
             "must_know": k.must_know}
            for k in key_points
        ],
        "topics": [{"id": t.id, "title": t.title, "description": t.description} for t in topics],
        "sets": [_set(s) for s in sets],
        "questions": [_question(q) for q in questions],
    }


def _set(s: QuestionSet) -> dict[str, Any]:
    out: dict[str, Any] = {"id": s.id, "title": s.title, "description": s.description,
                           "kind": s.kind}
    if s.kind == SetKind.TOPIC:
        out["topic"] = s.topic_id
    else:
        out["count"] = s.draw_count
        out["topics"] = s.draw_topics or "all"
    if s.pass_mark is not None:
        out["pass_mark"] = s.pass_mark
    if s.include_must_know:
        out["include_must_know"] = True
    return out


def _question(q: Question) -> dict[str, Any]:
    rev = q.current_revision
    return {
        "id": q.id,
        "topic": q.topic_id,
        "type": rev.qtype,
        "revision": rev.number,
        "difficulty": rev.difficulty,
        "scenario": rev.scenario,
        "prompt": rev.prompt,
        **TYPES[rev.qtype].export(rev.data),
        "explanation": rev.explanation,
        "source": rev.source_id,
        "key_points": [k.id for k in rev.key_points],
    }
