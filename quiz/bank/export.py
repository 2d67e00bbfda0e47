"""Export the bank: as plain data (JSON) or as bank files (YAML, the layout of question_bank/).

What is exported: every section, key point and topic; the active sets; the published
questions at their current revision (what learners are served). Drafts, pending draft
revisions and retired questions are not exported: the files describe the served bank, so
`bank import` of an export reports nothing changed (pending drafts come back as conflicts,
never as changes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..extensions import db
from ..models import KeyPoint, Question, QuestionRevision, QuestionSet, Section, Topic
from ..question_types import TYPES
from ..vocab import QuestionStatus, SetKind


def _published_questions() -> list[Question]:
    return list(db.session.scalars(
        db.select(Question)
        .where(Question.status == QuestionStatus.PUBLISHED,
               Question.current_revision_id.is_not(None))
        .order_by(Question.position)
        .options(
            db.joinedload(Question.current_revision)
            .selectinload(QuestionRevision.key_points)
        )
    ))


def export_bank(questions: list[Question] | None = None) -> dict[str, Any]:
    sections = db.session.scalars(db.select(Section).order_by(Section.position)).all()
    key_points = db.session.scalars(db.select(KeyPoint).order_by(KeyPoint.position)).all()
    topics = db.session.scalars(db.select(Topic).order_by(Topic.position)).all()
    sets = db.session.scalars(
        db.select(QuestionSet).where(QuestionSet.active).order_by(QuestionSet.position)
    ).all()
    questions = _published_questions() if questions is None else questions
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


# --- YAML files ------------------------------------------------------------------------------

class _Dumper(yaml.SafeDumper):
    """Multi-line text as literal blocks, so exported files read like hand-written ones."""


def _text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _without_empty(entry: dict[str, Any], *optional: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if not (k in optional and v in ("", False, None))}


def _file_question(q: Question) -> dict[str, Any]:
    """A bank-file entry of the current revision, in the field order of question_bank/README.md
    (the answer data as stored, which is the file's form)."""
    rev = q.current_revision
    data = {k: rev.data[k] for k in TYPES[rev.qtype].data_fields}
    out = {"id": q.id, "type": rev.qtype, "difficulty": rev.difficulty,
           "source": rev.source_id, "key_points": [k.id for k in rev.key_points]}
    if rev.scenario:
        out["scenario"] = True
    return {**out, "prompt": rev.prompt, **data, "explanation": rev.explanation}


def write_bank_files(root: str | Path) -> dict[str, int]:
    """Write the exported bank under `root` as key_points.yaml, topics.yaml, sets.yaml and
    questions/<topic>.yaml (one file per topic that has exported questions). Returns counts."""
    questions = _published_questions()
    data = export_bank(questions)
    root = Path(root)
    (root / "questions").mkdir(parents=True, exist_ok=True)

    def dump(path: Path, doc: dict[str, Any]) -> None:
        path.write_text(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                  width=100), encoding="utf-8")

    dump(root / "key_points.yaml", {
        "sections": data["sections"],
        "key_points": [_without_empty(k, "must_know") for k in data["key_points"]],
    })
    dump(root / "topics.yaml",
         {"topics": [_without_empty(t, "description") for t in data["topics"]]})
    dump(root / "sets.yaml", {"sets": [_without_empty(s, "description") for s in data["sets"]]})
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for q in questions:
        by_topic.setdefault(q.topic_id, []).append(_file_question(q))
    for topic, questions in by_topic.items():
        dump(root / "questions" / f"{topic}.yaml", {"topic": topic, "questions": questions})
    return {"questions": len(data["questions"]), "topics": len(data["topics"]),
            "sets": len(data["sets"]), "key_points": len(data["key_points"])}
