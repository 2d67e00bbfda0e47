"""Load a validated bank into the database: an idempotent upsert, one transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..extensions import db
from ..models import (
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
    RevisionKeyPoint,
    Section,
    Topic,
)
from ..question_types import TYPES
from ..vocab import SetKind
from .files import Bank


@dataclass
class LoadReport:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    retired: int = 0

    def __str__(self) -> str:
        return (f"{self.created} new, {self.revised} revised, {self.unchanged} unchanged, "
                f"{self.retired} retired")


def revision_content(question: dict[str, Any]) -> dict[str, Any]:
    """The part of a bank entry that, when changed, makes a new revision."""
    qtype = TYPES[question["type"]]
    return {
        "type": question["type"],
        "difficulty": question["difficulty"],
        "scenario": bool(question.get("scenario", False)),
        "prompt": question["prompt"].strip(),
        "explanation": question["explanation"].strip(),
        "source": question["source"],
        "key_points": list(question["key_points"]),
        "data": qtype.data(question),
    }


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _upsert(model, key: str, values: dict[str, Any]):
    obj = db.session.get(model, key)
    if obj is None:
        obj = model(id=key)
        db.session.add(obj)
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
    return obj


def load_bank(bank: Bank) -> LoadReport:
    """Upsert a validated Bank. Flushes only: the caller commits (or rolls back) once."""
    for i, s in enumerate(bank.sections):
        _upsert(Section, s["id"], {"title": s["title"], "position": i})
    for i, t in enumerate(bank.topics):
        _upsert(Topic, t["id"], {"title": t["title"], "description": t.get("description", ""),
                                 "position": i})
    for i, k in enumerate(bank.key_points):
        _upsert(KeyPoint, k["id"], {"section_id": k["section"], "text": k["text"],
                                    "must_know": bool(k.get("must_know", False)),
                                    "position": i})
    db.session.flush()
    report = _load_questions(bank)
    _load_sets(bank)
    db.session.flush()
    return report


def _load_questions(bank: Bank) -> LoadReport:
    report = LoadReport()
    existing = {
        q.id: q for q in db.session.scalars(
            db.select(Question).options(db.joinedload(Question.current_revision))
        )
    }
    for position, entry in enumerate(bank.questions):
        content = revision_content(entry)
        digest = content_hash(content)
        question = existing.get(entry["id"])
        if question is None:
            question = Question(id=entry["id"])
            db.session.add(question)
            report.created += 1
            number = 1
        elif question.current_revision and question.current_revision.content_hash == digest:
            report.unchanged += 1
            number = None
        else:
            report.revised += 1
            number = (question.current_revision.number + 1) if question.current_revision else 1
        for name, value in (("topic_id", entry["topic"]), ("active", True),
                            ("position", position)):
            if getattr(question, name) != value:
                setattr(question, name, value)
        if number is not None:
            revision = QuestionRevision(
                question_id=entry["id"], number=number, content_hash=digest,
                qtype=content["type"], difficulty=content["difficulty"],
                scenario=content["scenario"], prompt=content["prompt"],
                explanation=content["explanation"], source_id=content["source"],
                data=content["data"],
            )
            db.session.add(revision)
            db.session.flush()
            db.session.add_all(
                RevisionKeyPoint(revision_id=revision.id, key_point_id=kp)
                for kp in content["key_points"]
            )
            question.current_revision = revision
    loaded = {q["id"] for q in bank.questions}
    for qid, question in existing.items():
        if qid not in loaded and question.active:
            question.active = False
            report.retired += 1
    return report


def _load_sets(bank: Bank) -> None:
    loaded = set()
    for i, s in enumerate(bank.sets):
        loaded.add(s["id"])
        topics = s.get("topics", "all")
        _upsert(QuestionSet, s["id"], {
            "title": s["title"],
            "description": s.get("description", ""),
            "kind": s["kind"],
            "topic_id": s.get("topic") if s["kind"] == SetKind.TOPIC else None,
            "draw_count": s.get("count") if s["kind"] == SetKind.RANDOM else None,
            "draw_topics": None if topics == "all" or s["kind"] != SetKind.RANDOM else list(topics),
            "pass_mark": s.get("pass_mark"),
            "include_must_know": bool(s.get("include_must_know", False)),
            "position": i,
            "active": True,
        })
    for qset in db.session.scalars(db.select(QuestionSet)):
        if qset.id not in loaded and qset.active:
            qset.active = False
