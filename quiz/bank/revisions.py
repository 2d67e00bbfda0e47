"""The one write path for question content and status.

Every revision (bank files, other importers, the studio editor, "restore") is made by
`create_revision`; every status change by `publish`, `unpublish`, `retire` and `restore`.
Each records an audit event in the caller's transaction and only flushes: the caller commits.

Status (quiz.vocab.QuestionStatus):

    draft      never served. New questions start here; `unpublish` returns here.
    published  served at `current_revision`. A newer `latest_revision` is a pending draft.
    retired    not served; old attempts still show it.

    publish    draft -> published, or published with a pending draft -> its draft made current
    unpublish  published -> draft (current_revision is kept for a later publish)
    retire     draft or published -> retired
    restore    retired -> published if it has a current revision, else draft
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..models import Question, QuestionRevision, RevisionKeyPoint, User
from ..vocab import AuditEntity, QuestionStatus, RevisionOrigin
from .lint import lint_question, near_duplicate_pairs


class StaleRevision(Exception):  # noqa: N818 (the name others call)
    """The question changed since the caller read it: `current` is its latest revision now."""

    def __init__(self, current: QuestionRevision | None):
        self.current = current
        number = f"revision {current.number}" if current is not None else "another version"
        super().__init__(f"This question was changed since you opened it (now at {number}).")


class StatusError(ValueError):
    """A status change that does not apply to the question as it is."""


def content_hash(content: dict[str, Any]) -> str:
    """sha256 of a revision's content (quiz.bank.loader.revision_content) as canonical JSON.

    Key points count as a set (sorted): the database keeps them unordered."""
    normal = {**content, "key_points": sorted(content["key_points"])}
    canonical = json.dumps(normal, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def revision_content_of(revision: QuestionRevision) -> dict[str, Any]:
    """The content dict (as quiz.bank.loader.revision_content) a revision holds."""
    return {
        "type": revision.qtype,
        "difficulty": revision.difficulty,
        "scenario": revision.scenario,
        "prompt": revision.prompt,
        "explanation": revision.explanation,
        "source": revision.source_id,
        "key_points": [kp.id for kp in revision.key_points],
        "data": revision.data,
    }


def search_text(prompt: str, data: dict[str, Any]) -> str:
    """What the studio's list searches: the prompt and every text of the answer data (choices,
    options, pairs, steps), lower-cased, one per line (frozen in migration 9c5e2a7f1b38)."""
    texts = [prompt or ""]
    for rows in (data or {}).values():
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("text"), str):
                texts.append(row["text"])
    return "\n".join(texts).lower()


def lint_entry(question_id: str, content: dict[str, Any]) -> dict[str, Any]:
    """The bank-file entry lint_question reads, from a revision's content."""
    return {"id": question_id, "type": content["type"], "difficulty": content["difficulty"],
            "scenario": bool(content["scenario"]), "prompt": content["prompt"],
            "explanation": content["explanation"], "source": content["source"],
            "key_points": list(content["key_points"]), **content["data"], "_file": "database"}


def lint_count(question_id: str, content: dict[str, Any],
               others: list[dict[str, Any]] | None = None) -> int:
    """The number of item-writing warnings of a revision's content: the per-question rules,
    and a near-duplicate prompt among `others` (id and prompt entries) when given."""
    return len(lint_question(lint_entry(question_id, content), others or []))


def create_revision(
    question_id: str,
    content: dict[str, Any],
    *,
    topic_id: str | None = None,
    author: User | None,
    note: str = "",
    origin: RevisionOrigin,
    origin_ref: str | None = None,
    base_revision_id: int | None = None,
    publish: bool = False,
    lint_warnings: int | None = None,
) -> QuestionRevision:
    """Add revision n+1 of a question (creating the question, as a draft, if it is new).

    `content` is quiz.bank.loader.revision_content(entry) of an entry the caller validated
    (quiz.bank.files.validate_question). `topic_id` moves the question (required for a new
    one). With `base_revision_id` (the latest revision the caller's form was built from), a
    question changed since raises StaleRevision and nothing is written. The new revision
    becomes the latest; with `publish`, also the current one, and the question is published.
    `lint_warnings`: the number of lint warnings the caller computed (the editor, with the
    near-duplicate check across the bank); by default the per-question rules are counted.
    """
    question = db.session.get(Question, question_id, with_for_update=True,
                              populate_existing=True)
    if question is None:
        if base_revision_id is not None:
            raise StaleRevision(None)
        if topic_id is None:
            raise ValueError(f"New question {question_id!r} needs a topic.")
        position = db.session.scalar(db.select(func.coalesce(func.max(Question.position) + 1, 0)))
        question = Question(id=question_id, topic_id=topic_id, status=QuestionStatus.DRAFT,
                            position=position)
        db.session.add(question)
        latest, action = None, "create"
    else:
        latest = question.latest_revision
        if base_revision_id is not None and base_revision_id != question.latest_revision_id:
            raise StaleRevision(latest)
        action = "revise"
        if topic_id is not None and topic_id != question.topic_id:
            question.topic_id = topic_id
    number = latest.number + 1 if latest is not None else _next_number(question_id)
    revision = QuestionRevision(
        question_id=question_id, number=number, content_hash=content_hash(content),
        qtype=content["type"], difficulty=content["difficulty"],
        scenario=bool(content["scenario"]), prompt=content["prompt"],
        explanation=content["explanation"], source_id=content["source"], data=content["data"],
        author_id=author.id if author is not None else None, note=note, origin=origin,
        origin_ref=origin_ref, search_text=search_text(content["prompt"], content["data"]),
        lint_warnings=(lint_warnings if lint_warnings is not None
                       else lint_count(question_id, content)),
    )
    db.session.add(revision)
    db.session.flush()
    db.session.add_all(RevisionKeyPoint(revision_id=revision.id, key_point_id=kp)
                       for kp in content["key_points"])
    question.latest_revision = revision
    if publish:
        question.current_revision = revision
        question.status = QuestionStatus.PUBLISHED
    where = f" from {origin_ref}" if origin_ref else ""
    audit.record(author, AuditEntity.QUESTION, question_id, action,
                 f"Revision {number} ({origin}{where}){', published' if publish else ''}",
                 {"revision": number, "origin": str(origin), "origin_ref": origin_ref,
                  "published": publish, "note": note})
    db.session.flush()
    return revision


def _next_number(question_id: str) -> int:
    """For a question without a latest revision (never the case after this module's writes)."""
    return db.session.scalar(
        db.select(func.coalesce(func.max(QuestionRevision.number), 0) + 1)
        .where(QuestionRevision.question_id == question_id)
    )


def _status(question: Question, actor: User | None, action: str, status: QuestionStatus,
            summary: str) -> None:
    before = question.status
    question.status = status
    audit.record(actor, AuditEntity.QUESTION, question.id, action, summary,
                 {"from": str(before), "to": str(status)})
    db.session.flush()


def publish(question: Question, actor: User | None) -> None:
    """Serve the latest revision: a draft becomes published, a pending draft becomes current."""
    if question.status == QuestionStatus.RETIRED:
        raise StatusError(f"Question {question.id} is retired: restore it before publishing.")
    if question.latest_revision_id is None:
        raise StatusError(f"Question {question.id} has no revision to publish.")
    if (question.status == QuestionStatus.PUBLISHED
            and question.current_revision_id == question.latest_revision_id):
        raise StatusError(f"Question {question.id} is already published at its latest revision.")
    blockers = publish_blockers(question.latest_revision)
    if blockers:
        raise StatusError(f"Question {question.id} cannot be published yet: "
                          f"{'; '.join(blockers)}. Edit it to add them, then publish.")
    question.current_revision_id = question.latest_revision_id
    question.current_revision = question.latest_revision
    number = question.latest_revision.number
    _status(question, actor, "publish", QuestionStatus.PUBLISHED, f"Published revision {number}")


_ENTRY_LABELS = {"choices": "choice", "pairs": "item", "steps": "step"}


def publish_blockers(revision: QuestionRevision) -> list[str]:
    """What a revision still lacks before learners may be served it: a draft imported from
    another tool (quiz/exchange/bank.py) arrives without a source section or key points,
    and without an explanation or per-answer feedback where the file had none. Empty for
    every revision the bank files or the studio editor made (their validator requires all)."""
    missing = []
    if revision.source_id is None:
        missing.append("choose its source section")
    if not revision.key_points:
        missing.append("choose its key points")
    if not (revision.explanation or "").strip():
        missing.append("write its explanation")
    for kind, label in _ENTRY_LABELS.items():
        blank = [str(i + 1) for i, entry in enumerate((revision.data or {}).get(kind) or [])
                 if isinstance(entry, dict) and "feedback" in entry
                 and not str(entry["feedback"] or "").strip()]
        if blank:
            plural = "s" if len(blank) > 1 else ""
            missing.append(f"write the feedback of {label}{plural} {', '.join(blank)}")
    return missing


def unpublish(question: Question, actor: User | None) -> None:
    """Stop serving a published question; it goes back to draft."""
    if question.status != QuestionStatus.PUBLISHED:
        raise StatusError(f"Question {question.id} is {question.status}, not published.")
    _status(question, actor, "unpublish", QuestionStatus.DRAFT, "Unpublished (back to draft)")


def retire(question: Question, actor: User | None) -> None:
    """Stop serving a question for good (old attempts keep showing it)."""
    if question.status == QuestionStatus.RETIRED:
        raise StatusError(f"Question {question.id} is already retired.")
    _status(question, actor, "retire", QuestionStatus.RETIRED, "Retired")


def restore(question: Question, actor: User | None) -> None:
    """Bring back a retired question: published again if it had been, else a draft."""
    if question.status != QuestionStatus.RETIRED:
        raise StatusError(f"Question {question.id} is {question.status}, not retired.")
    status = (QuestionStatus.PUBLISHED if question.current_revision_id is not None
              else QuestionStatus.DRAFT)
    _status(question, actor, "restore", status, f"Restored ({status})")


def restore_revision(question: Question, number: int, actor: User | None,
                     note: str = "") -> QuestionRevision:
    """A new revision (origin RESTORE, a draft) with the content of revision `number`."""
    old = db.session.scalar(
        db.select(QuestionRevision).where(QuestionRevision.question_id == question.id,
                                          QuestionRevision.number == number)
    )
    if old is None:
        raise StatusError(f"Question {question.id} has no revision {number}.")
    if old.id == question.latest_revision_id:
        raise StatusError(f"Revision {number} is already the latest revision of {question.id}.")
    content = revision_content_of(old)
    return create_revision(
        question.id, content, author=actor,
        lint_warnings=lint_count(question.id, content, newest_prompts(question.id)),
        note=note or f"Restored revision {number}", origin=RevisionOrigin.RESTORE,
        origin_ref=f"revision {number}",
    )


def newest_prompts(except_id: str | None = None) -> list[dict[str, str]]:
    """The id and newest prompt of every question not retired (drafts included), but one:
    what a new revision's prompt must not nearly repeat. One statement."""
    rows = db.session.execute(
        db.select(Question.id, QuestionRevision.prompt)
        .join(QuestionRevision, QuestionRevision.id == Question.latest_revision_id)
        .where(Question.status != QuestionStatus.RETIRED, Question.id != (except_id or ""))
        .order_by(Question.id)
    )
    return [{"id": qid, "prompt": prompt} for qid, prompt in rows]


def refresh_lint() -> int:
    """Recount the lint warnings of every question's latest revision, with the near-duplicate
    check across the bank's questions not retired (`bank lint-refresh`); the number of
    revisions whose count changed. Flushes only."""
    latest = list(db.session.scalars(
        db.select(QuestionRevision)
        .join(Question, Question.latest_revision_id == QuestionRevision.id)
        .options(selectinload(QuestionRevision.key_points), selectinload(QuestionRevision.question))
        .order_by(QuestionRevision.question_id)))
    pool = [{"id": r.question_id, "prompt": r.prompt} for r in latest
            if r.question.status != QuestionStatus.RETIRED]
    duplicated: Counter[str] = Counter()
    for i, j in near_duplicate_pairs(pool):
        duplicated[pool[i]["id"]] += 1
        duplicated[pool[j]["id"]] += 1
    changed = 0
    for r in latest:
        count = len(lint_question(lint_entry(r.question_id, revision_content_of(r)), []))
        count += duplicated[r.question_id]
        if r.lint_warnings != count:
            r.lint_warnings = count
            changed += 1
    db.session.flush()
    return changed
