"""Import a validated bank into the database without undoing work done in the browser.

The shipped files seed an empty database; after that the database is the bank's home and an
import applies a file's change only where the database still holds what the files last
wrote (docs/architecture.md, "Import rules"):

- question new -> created and published (revision 1, origin FILE);
- same content and topic as its latest revision -> unchanged;
- changed, and the question is published at a latest revision that came from the files ->
  revised (a new FILE revision) and published;
- changed otherwise (latest revision from the editor, an import or a restore; pending draft;
  unpublished or retired in the database) -> a conflict, left alone unless `overwrite`;
- in the database but not in the files -> reported as missing; retired only with
  `retire_missing`.

Sections, topics, key points and sets follow the same rule through their file marker
(quiz/bank/entities.py). Everything is flushed in the caller's transaction: the caller
commits once (or rolls back for a dry run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..extensions import db
from ..models import KeyPoint, Question, QuestionSet, Section, Topic
from ..question_types import TYPES
from ..vocab import QuestionStatus, RevisionOrigin, SetKind
from . import revisions
from .entities import LABEL, from_files, row_hash, values_of
from .files import Bank
from .revisions import content_hash  # noqa: F401 (the one content hash, re-exported)


@dataclass
class LoadReport:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    retired: int = 0
    # Sections, topics, key points and sets written (created or updated) by the import.
    rows_written: int = 0
    conflicts: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Everything the import wrote: questions created, revised or retired, other rows."""
        return self.created + self.revised + self.retired + self.rows_written

    def __str__(self) -> str:
        return (f"{self.created} new, {self.revised} revised, {self.unchanged} unchanged, "
                f"{self.retired} retired, {len(self.conflicts)} conflict(s), "
                f"{len(self.missing)} missing; {self.changed} changed")

    def lines(self) -> list[str]:
        """One line per conflict and per row missing from the files."""
        return ([f"conflict: {line}" for line in self.conflicts]
                + [f"missing: {line}" for line in self.missing])


ImportReport = LoadReport


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


def import_bank(bank: Bank, *, overwrite: bool = False, retire_missing: bool = False) -> LoadReport:
    """Import a validated Bank under the rules above. Flushes only: the caller commits."""
    report = LoadReport()
    _import_rows(Section, [(s["id"], {"title": s["title"]}) for s in bank.sections],
                 report, overwrite)
    _import_rows(Topic, [(t["id"], topic_values(t)) for t in bank.topics], report, overwrite)
    _import_rows(KeyPoint, [(k["id"], key_point_values(k)) for k in bank.key_points], report,
                 overwrite)
    db.session.flush()
    _import_questions(bank, report, overwrite, retire_missing)
    _import_rows(QuestionSet, [(s["id"], set_values(s)) for s in bank.sets], report, overwrite,
                 retire_missing)
    db.session.flush()
    return report


def load_bank(bank: Bank) -> LoadReport:
    """`import_bank` with no overwrite and no retiring: what `init` does."""
    return import_bank(bank)


# A valid file entry (files.validate_topic / validate_key_point / validate_set) -> the row's
# values (entities.FIELDS). The studio builds entries from its forms and uses these too.

def topic_values(t: dict[str, Any]) -> dict[str, Any]:
    return {"title": t["title"], "description": t.get("description", "")}


def key_point_values(k: dict[str, Any]) -> dict[str, Any]:
    return {"section_id": k["section"], "text": k["text"],
            "must_know": bool(k.get("must_know", False))}


def set_values(s: dict[str, Any]) -> dict[str, Any]:
    """A set's values; `active` is True (a set in the files is served)."""
    topics = s.get("topics", "all")
    return {
        "title": s["title"],
        "description": s.get("description", ""),
        "kind": s["kind"],
        "topic_id": s.get("topic") if s["kind"] == SetKind.TOPIC else None,
        "draw_count": s.get("count") if s["kind"] == SetKind.RANDOM else None,
        "draw_topics": None if topics == "all" or s["kind"] != SetKind.RANDOM else list(topics),
        "pass_mark": s.get("pass_mark"),
        "include_must_know": bool(s.get("include_must_know", False)),
        "active": True,
    }


def _import_rows(model, rows: list[tuple[str, dict[str, Any]]], report: LoadReport,
                 overwrite: bool, retire_missing: bool = False) -> None:
    label = LABEL[model]
    existing = {obj.id: obj for obj in db.session.scalars(db.select(model))}
    for position, (key, values) in enumerate(rows):
        obj = existing.pop(key, None)
        if obj is None:
            db.session.add(model(id=key, position=position, file_hash=row_hash(values), **values))
            report.rows_written += 1
            continue
        if values_of(obj) != values:
            if not (overwrite or from_files(obj)):
                report.conflicts.append(
                    f"{label} {key}: edited in the database since the files wrote it; left alone")
                continue
            for name, value in values.items():
                setattr(obj, name, value)
            obj.file_hash = row_hash(values)
            report.rows_written += 1
        if obj.position != position:
            obj.position = position
    for key, obj in existing.items():
        if model is QuestionSet:
            if not obj.active:
                continue
            if retire_missing:
                obj.active = False
                if obj.file_hash is not None:
                    obj.file_hash = row_hash(values_of(obj))
                report.rows_written += 1
                report.missing.append(f"{label} {key}: not in the files; deactivated")
                continue
        report.missing.append(f"{label} {key}: not in the files")


def _conflict(question: Question) -> str | None:
    """Why the files may not change this question, or None if they may."""
    latest = question.latest_revision
    if latest is None:
        return None
    if latest.origin != RevisionOrigin.FILE:
        return (f"revision {latest.number} came from the {latest.origin}, not the files")
    if question.status == QuestionStatus.RETIRED:
        return "retired in the database"
    if question.status == QuestionStatus.DRAFT:
        return "unpublished in the database"
    if question.current_revision_id != question.latest_revision_id:
        return f"revision {latest.number} is an unpublished draft"
    return None


def _import_questions(bank: Bank, report: LoadReport, overwrite: bool,
                      retire_missing: bool) -> None:
    existing = {
        q.id: q for q in db.session.scalars(
            db.select(Question).options(db.joinedload(Question.latest_revision))
        )
    }
    for position, entry in enumerate(bank.questions):
        content = revision_content(entry)
        question = existing.pop(entry["id"], None)
        if question is not None:
            latest = question.latest_revision
            if (latest is not None and latest.content_hash == content_hash(content)
                    and question.topic_id == entry["topic"]):
                report.unchanged += 1
            else:
                reason = _conflict(question)
                if reason is not None and not overwrite:
                    report.conflicts.append(
                        f"question {entry['id']}: changed in the files, but {reason}; left alone")
                    continue
                revisions.create_revision(
                    entry["id"], content, topic_id=entry["topic"], author=None,
                    note="bank import" + (" (--overwrite)" if reason else ""),
                    origin=RevisionOrigin.FILE, origin_ref=entry.get("_file"), publish=True)
                report.revised += 1
        else:
            revisions.create_revision(
                entry["id"], content, topic_id=entry["topic"], author=None, note="bank import",
                origin=RevisionOrigin.FILE, origin_ref=entry.get("_file"), publish=True)
            question = db.session.get(Question, entry["id"])
            report.created += 1
        if question.position != position:
            question.position = position
    for qid, question in existing.items():
        if question.status == QuestionStatus.RETIRED:
            continue
        if retire_missing:
            revisions.retire(question, None)
            report.retired += 1
            report.missing.append(f"question {qid}: not in the files; retired")
        else:
            report.missing.append(f"question {qid}: not in the files")
