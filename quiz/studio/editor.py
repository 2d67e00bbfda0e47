"""The studio editor's form layer: plain functions, no views.

An *entry* is a question as a bank file holds it (type, difficulty, source, key_points,
scenario, prompt, explanation and the type's data lists, plus `id` when it exists), with
`topic` (a file's, in the bank) and the change `note`. The form posts the common fields by
name and the type's fields as its edit part writes them (quiz/qtypes, `edit_template`,
`read_edit`). A signed hidden field, `state`, carries what the browser must not change: the
type, the question and its base revision, the entry ids the question had (`base`) and every id
the form has handed out (`issued`), so a posted row naming any other id is refused.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..bank import revisions
from ..bank.files import QUESTION_KEYS, validate_question
from ..bank.lint import lint_question
from ..bank.loader import revision_content
from ..extensions import db
from ..models import KeyPoint, Question, QuestionRevision, Section, Topic
from ..qtypes import TYPES, AnswerError, QuestionType
from ..qtypes.rows import clean_text
from ..vocab import Difficulty, RevisionOrigin

COMMON_FIELDS = ("topic", "difficulty", "scenario", "prompt", "explanation", "source",
                 "key_points", "note")
NOTE_MAX = 500
FORM = "-"  # the field key of errors about the whole form


class EditorError(ValueError):
    """A posted editor form that no browser could have sent (a tampered or stale signed field):
    the view answers 400."""


# --- signed hidden fields ---------------------------------------------------------------

def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=salt)


def sign(value: Any, salt: str) -> str:
    return _serializer(salt).dumps(value)


def unsign(token: Any, salt: str) -> Any:
    """The value signed by `sign`; EditorError if it is missing or was changed."""
    if not isinstance(token, str) or not token:
        raise EditorError("The form is incomplete: open the page again.")
    try:
        return _serializer(salt).loads(token)
    except BadSignature as exc:
        raise EditorError("The form was changed outside the studio: open the page again.") from exc


# --- what the form chooses from -----------------------------------------------------------

@dataclass
class BankChoices:
    """Topics, article sections and key points (grouped by section) the form offers."""

    topics: list[Topic]
    sections: list[Section]
    key_points: list[KeyPoint]

    @property
    def topic_options(self) -> list[tuple[str, str]]:
        return [(t.id, t.title) for t in self.topics]

    @property
    def section_options(self) -> list[tuple[str, str]]:
        return [(s.id, s.title) for s in self.sections]

    @property
    def by_section(self) -> list[tuple[Section, list[KeyPoint]]]:
        groups = [(s, [k for k in self.key_points if k.section_id == s.id]) for s in self.sections]
        return [(s, kps) for s, kps in groups if kps]

    def section_title(self, section_id: str) -> str:
        return next((s.title for s in self.sections if s.id == section_id), section_id)

    def key_point_texts(self, ids: list[str]) -> list[str]:
        texts = {k.id: k.text for k in self.key_points}
        return [texts[i] for i in ids if i in texts]


def bank_choices() -> BankChoices:
    """Three statements, whatever the size of the bank."""
    return BankChoices(
        topics=list(db.session.scalars(db.select(Topic).order_by(Topic.position, Topic.id))),
        sections=list(db.session.scalars(db.select(Section).order_by(Section.position, Section.id))),
        key_points=list(db.session.scalars(
            db.select(KeyPoint).order_by(KeyPoint.position, KeyPoint.id))),
    )


# --- entries ------------------------------------------------------------------------------

def blank_entry(qtype: str) -> dict[str, Any]:
    """A new question of type `qtype` (a key of TYPES), every field empty."""
    return {"type": qtype, "topic": "", "difficulty": Difficulty.MEDIUM.value, "scenario": False,
            "prompt": "", "explanation": "", "source": "", "key_points": [], "note": "",
            **{name: [] for name in TYPES[qtype].data_fields}}


def newest_revision(question_id: str) -> QuestionRevision | None:
    """The question's newest revision (drafts included) with its question and key points."""
    return db.session.scalars(
        db.select(QuestionRevision)
        .where(QuestionRevision.question_id == question_id)
        .options(selectinload(QuestionRevision.key_points),
                 selectinload(QuestionRevision.question))
        .order_by(QuestionRevision.number.desc()).limit(1)
    ).first()


def entry_from_revision(revision: QuestionRevision) -> dict[str, Any]:
    """The bank entry of a revision: the inverse of quiz.bank.loader.revision_content (the key
    points in the bank's order, which is all a revision keeps of them)."""
    return {
        "id": revision.question_id,
        "topic": revision.question.topic_id,
        "type": revision.qtype,
        "difficulty": revision.difficulty,
        "scenario": bool(revision.scenario),
        "prompt": revision.prompt,
        "explanation": revision.explanation,
        "source": revision.source_id,
        "key_points": [kp.id for kp in revision.key_points],
        "note": "",
        **TYPES[revision.qtype].data(revision.data),
    }


def entry_ids(entry: dict[str, Any]) -> set[str]:
    """Every id of the entry's lists (choices, options, pairs, steps)."""
    qtype = TYPES[entry["type"]]
    return {e["id"] for name in qtype.data_fields for e in entry.get(name) or []
            if isinstance(e, dict) and isinstance(e.get("id"), str)}


# --- the form's state ---------------------------------------------------------------------

STATE_SALT = "studio-editor-state"


@dataclass
class EditorState:
    """What the signed `state` field carries (see the module's docstring)."""

    qtype: str
    question_id: str | None = None
    base_revision: int | None = None  # the revision's id the form was opened from
    base: set[str] = field(default_factory=set)
    issued: set[str] = field(default_factory=set)

    def signed(self) -> str:
        return sign({"type": self.qtype, "question": self.question_id,
                     "base_revision": self.base_revision, "base": sorted(self.base),
                     "issued": sorted(self.issued)}, STATE_SALT)

    @classmethod
    def from_form(cls, formdata: Any) -> EditorState:
        raw = unsign(formdata.get("state"), STATE_SALT)
        try:
            state = cls(qtype=raw["type"], question_id=raw["question"],
                        base_revision=raw["base_revision"], base=set(raw["base"]),
                        issued=set(raw["issued"]))
        except (KeyError, TypeError) as exc:
            raise EditorError("The form is incomplete: open the page again.") from exc
        if state.qtype not in TYPES:
            raise EditorError("The form is incomplete: open the page again.")
        return state


def form_values(entry: dict[str, Any], state: EditorState) -> dict[str, Any]:
    """The type part's values for an entry; rows the question did not have are new. In a new
    question's form, a list shorter than it started gets empty rows (fresh ids, noted in the
    state) up to that length again: they are dropped again if left empty."""
    qtype = TYPES[entry["type"]]
    values = qtype.edit_values(entry)
    for kind, rows in values.items():
        if isinstance(rows, list):
            for row in rows:
                row["new"] = row["id"] not in state.base
            while (state.question_id is None and kind in qtype.edit_rows
                   and len(rows) < qtype.min_rows.get(kind, 0)):
                qtype.add_row(values, kind, state.issued)
    return values


def value_ids(values: dict[str, Any]) -> set[str]:
    """The ids of every row of the type part's values."""
    return {row["id"] for rows in values.values() if isinstance(rows, list) for row in rows}


# --- reading the form -----------------------------------------------------------------------

def read_question_form(formdata: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The entry a posted editor form describes, and the problems reading it by field (a
    tampered form: a changed type, rows naming ids the question does not have). Values are
    taken as sent; whether they are acceptable is `check_entry`'s business. EditorError if the
    signed state is missing or changed."""
    state = EditorState.from_form(formdata)
    errors: dict[str, list[str]] = {}
    posted_type = formdata.get("type", state.qtype)
    if posted_type != state.qtype:
        errors.setdefault("type", []).append("The type of a question cannot change here.")
    qtype = TYPES[state.qtype]
    known = state.issued | ({"true", "false"} if state.qtype == "true_false" else set())
    data, problems = qtype.read_edit(formdata, known=known)
    for fld, message in problems:
        errors.setdefault(fld, []).append(sentence(fld, message))
    entry: dict[str, Any] = {
        "type": state.qtype,
        "topic": _one(formdata, "topic"),
        "difficulty": _one(formdata, "difficulty"),
        "scenario": bool(formdata.get("scenario")),
        "prompt": clean_text(formdata.get("prompt", "")),
        "explanation": clean_text(formdata.get("explanation", "")),
        "source": _one(formdata, "source"),
        "key_points": [kp for kp in formdata.getlist("key_points") if isinstance(kp, str)],
        "note": clean_text(formdata.get("note", ""))[:NOTE_MAX],
        **data,
    }
    if state.question_id:
        entry = {"id": state.question_id, **entry}
    return entry, errors


def _one(formdata: Any, name: str) -> str:
    value = formdata.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _bank_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry without what a bank file keeps elsewhere (topic) or not at all (note)."""
    return {k: v for k, v in entry.items() if k in QUESTION_KEYS}


def check_entry(entry: dict[str, Any], choices: BankChoices | None = None
                ) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Errors by field (as validate_question names them: "prompt", "choices[1].text") from the
    validator `bank check` uses, and the lint warnings `bank check --strict` fails on, as
    (field, message) pairs. Warnings are only computed for an entry without errors, as in
    `bank check`. A near-duplicate prompt is looked for among the bank's current prompts."""
    choices = choices or bank_choices()
    problems = validate_question(_bank_entry(entry), {s.id for s in choices.sections},
                                 {k.id for k in choices.key_points})
    if entry.get("topic") not in {t.id for t in choices.topics}:
        problems.append(("topic", "Choose a topic."))
    errors: dict[str, list[str]] = {}
    for fld, message in problems:
        errors.setdefault(fld, []).append(sentence(fld, message))
    if errors:
        return errors, []
    question = {**_bank_entry(entry), "id": entry.get("id") or "(new)", "_file": "editor"}
    lint = lint_question(question, current_prompts(entry.get("id")))
    warnings = [(p.field, sentence(p.field, p.message)) for p in lint]
    return {}, warnings


def current_prompts(except_id: str | None) -> list[dict[str, str]]:
    """The id and newest prompt of every question not retired (drafts included), but one:
    one statement."""
    return revisions.newest_prompts(except_id)


# --- saving ---------------------------------------------------------------------------------

def save_entry(entry: dict[str, Any], *, question_id: str | None, base_revision_id: int | None,
               author: Any, note: str, lint_warnings: int | None = None) -> QuestionRevision:
    """Save a checked entry as a new draft revision of its question (a published question
    keeps serving its current revision until published again), or as a new draft question
    with a fresh id (`new_question_id`). StaleRevision (nothing written) when the question's
    latest revision is no longer `base_revision_id`. Flushes only: the caller commits."""
    content = revision_content(_bank_entry(entry))
    common = {"topic_id": entry["topic"], "author": author, "note": note,
              "origin": RevisionOrigin.EDITOR, "lint_warnings": lint_warnings}
    if question_id is not None:
        return revisions.create_revision(question_id, content,
                                         base_revision_id=base_revision_id, **common)
    for _ in range(5):  # another new question may take the same id between read and write
        new_id = new_question_id(entry["topic"])
        try:
            with db.session.begin_nested():
                return revisions.create_revision(new_id, content, **common)
        except IntegrityError:
            continue
    raise RuntimeError("Could not find a free question id.")


def new_question_id(topic_id: str) -> str:
    """"<topic>-NNN" (as in the bank files: basics-001), one past the highest number any
    question id of that form has, at least three digits; the topic part is cut so the id
    keeps within the bank's 64 characters."""
    prefix = f"{topic_id[:55].rstrip('-')}-"
    ids = db.session.scalars(db.select(Question.id).where(Question.id.startswith(prefix,
                                                                                 autoescape=True)))
    numbers = [int(rest) for qid in ids
               if (rest := qid[len(prefix):]).isascii() and rest.isdigit() and len(rest) <= 8]
    return f"{prefix}{max(numbers, default=0) + 1:03}"


# --- preview --------------------------------------------------------------------------------

PREVIEW_SALT = "studio-preview-layout"
PREVIEW_PREFIX = "preview"


def new_layout(qtype: QuestionType, data: dict[str, Any]) -> dict[str, Any]:
    """A learner's layout (served order and answer tokens) from a fresh random source, as
    starting an attempt makes one."""
    return qtype.layout(data, random.Random())  # noqa: S311 - shuffling, not secrets


def layout_ids(layout: dict[str, Any]) -> list[str]:
    return sorted({i for tokens in layout.get("tokens", {}).values() for i in tokens})


def data_ids(qtype: QuestionType, data: dict[str, Any]) -> list[str]:
    """The ids a layout of this data holds tokens for."""
    return sorted({e["id"] for kind in qtype.tokenised for e in data.get(kind) or []})


def sign_layout(layout: dict[str, Any], bound_to: Any) -> str:
    """The layout in a hidden field, bound to what it was made for (a revision, or the editor)."""
    return sign({"layout": layout, "for": bound_to}, PREVIEW_SALT)


def read_layout(token: Any, bound_to: Any) -> dict[str, Any]:
    """A layout signed by `sign_layout` for the same thing; EditorError otherwise."""
    raw = unsign(token, PREVIEW_SALT)
    if not isinstance(raw, dict) or raw.get("for") != bound_to or not isinstance(raw.get("layout"), dict):
        raise EditorError("The preview was changed outside the studio: open the page again.")
    return raw["layout"]


@dataclass
class PreviewAnswer:
    """A previewed answer: the review view (or the take view again, with the message)."""

    answer: Any = None
    error: str | None = None
    review: dict[str, Any] | None = None
    score: float | None = None


def check_answer(qtype: QuestionType, data: dict[str, Any], layout: dict[str, Any],
                 formdata: Any) -> PreviewAnswer:
    """Read and grade a previewed answer exactly as an attempt would; nothing is stored."""
    try:
        answer = qtype.read_answer(PREVIEW_PREFIX, formdata, data, layout)
    except AnswerError as exc:
        return PreviewAnswer(error=str(exc))
    if answer is None:
        return PreviewAnswer(error="Answer the question first.")
    return PreviewAnswer(answer=answer, review=qtype.review_view(data, layout, answer),
                         score=qtype.grade(data, answer))


# --- messages -----------------------------------------------------------------------------

_LIST_LABELS = {"choices": "Choice", "options": "Option", "pairs": "Item", "steps": "Step"}
_FIELD_LABELS = {"topic": "Topic", "type": "Type", "difficulty": "Difficulty",
                 "scenario": "Scenario", "prompt": "Prompt", "explanation": "Explanation",
                 "source": "Source section", "key_points": "Key points", "note": "Change note",
                 "choices": "Choices", "options": "Options", "pairs": "Items", "steps": "Steps",
                 FORM: "The form"}


def field_label(path: str) -> str:
    """A field path as the validator names it, for people: "choices[1].text" -> "Choice 2, text"."""
    if path in _FIELD_LABELS:
        return _FIELD_LABELS[path]
    head, _, rest = path.partition("[")
    number, _, key = rest.partition("]")
    if head in _LIST_LABELS and number.isdigit():
        label = f"{_LIST_LABELS[head]} {int(number) + 1}"
        key = key.lstrip(".")
        return f"{label}, {key}" if key else label
    return path


_VERBS = ("is ", "needs ", "must ", "contains ", "lists ", "repeats ", "unknown ", "has ",
          "duplicate ", "field(s) ", "a true/false")


def sentence(path: str, message: str) -> str:
    """A validator's message about a field as a sentence that names the field:
    ("choices[1].text", "is missing or empty") -> "Choice 2, text is missing or empty."."""
    if message.startswith("'' is not"):  # an empty choice among given ids
        return f"Choose the {field_label(path).lower()}."
    text = f"{field_label(path)} {message}" if message.startswith(_VERBS) else message
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def field_anchor(path: str) -> str:
    """The id of the input a field path is shown at (for the error summary's links)."""
    head, _, rest = path.partition("[")
    number, _, key = rest.partition("]")
    key = key.lstrip(".")
    if head in _LIST_LABELS and number.isdigit():
        if key in ("text", "feedback", "match", "position"):
            return f"{head}-{number}-{key}"
        return head
    return {"key_points": "key-points", FORM: "editor"}.get(path, path)
