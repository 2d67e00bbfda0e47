"""The studio's forms for topics, key points and sets: plain functions, no views.

A form is read into an *entry*, the mapping a bank file holds (topics.yaml, key_points.yaml,
sets.yaml), and checked by the bank's own validators (quiz.bank.files.validate_topic,
validate_key_point, validate_set) against the database's sections, topics and published
question counts. A valid entry becomes the row's values (quiz.bank.loader.topic_values, ...)
for quiz.bank.entities.create_* / update_*. The WTForms classes carry no validators of their
own (beyond CSRF): every rule is the bank's, so the studio cannot accept what `bank check`
refuses, nor the reverse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..bank import entities as bank_entities
from ..bank import files, loader
from ..catalogue import topic_question_counts
from ..extensions import db
from ..models import AuditEvent, KeyPoint, QuestionSet, Section, Topic, User
from ..qtypes.rows import clean_text
from ..vocab import SetKind

FORM = "-"  # the validators' field name for the entry as a whole
HASH_RE = re.compile(r"[0-9a-f]{64}")
NUMBER_DIGITS = 9  # longer numbers are refused as not whole numbers (they fit no column)


# --- forms ----------------------------------------------------------------------------------

class EntityForm(FlaskForm):
    # The row_hash of the values the edit form was built from (empty on a new row's form).
    version = HiddenField()


class TopicForm(EntityForm):
    title = StringField("Title")
    description = TextAreaField(
        "Description", description="Optional. One or two sentences on what the topic covers.")


class KeyPointForm(EntityForm):
    text = TextAreaField(
        "Key point", description="One fact of the article, in your own words: questions cite it.")
    section = SelectField("Article section", validate_choice=False)
    must_know = BooleanField("Must know: a set with the must-know draw always asks one question "
                             "on it")


class SetForm(EntityForm):
    title = StringField("Title")
    description = TextAreaField("Description", description="Optional. Shown in the catalogue.")
    kind = RadioField("Kind", validate_choice=False, choices=[
        SelectChoice(SetKind.TOPIC.value, "Every published question of one topic, in bank order"),
        SelectChoice(SetKind.RANDOM.value, "A random draw, new for each attempt"),
    ])
    topic = SelectField("Topic", validate_choice=False)
    topics = SelectMultipleField(
        "Draw from", validate_choice=False, widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="Tick none to draw from every topic, including topics added later.")
    count = StringField("Questions drawn", description="How many questions each attempt gets.")
    pass_mark = StringField(
        "Pass mark (%)", description="Optional: a whole number from 1 to 100. Attempts already "
                                     "started keep the pass mark they started with.")
    include_must_know = BooleanField(
        "Must-know draw: one question on each must-know key point is drawn first")
    active = BooleanField("Active: learners see the set in the catalogue and can start it")


FORMS = {Topic: TopicForm, KeyPoint: KeyPointForm, QuestionSet: SetForm}


def set_choices(form: EntityForm, choices: BankChoices) -> EntityForm:
    if isinstance(form, KeyPointForm):
        form.section.choices = [SelectChoice("", "Choose a section…")] + [
            SelectChoice(s.id, s.title) for s in choices.sections]
    if isinstance(form, SetForm):
        form.topic.choices = [SelectChoice("", "Choose a topic…")] + [
            SelectChoice(t.id, t.title) for t in choices.topics]
        form.topics.choices = [SelectChoice(t.id, t.title) for t in choices.topics]
    return form


def form_data(model, values: dict[str, Any]) -> dict[str, Any]:
    """A row's values (bank_entities.FIELDS) as the form's data."""
    if model is KeyPoint:
        return {"text": values["text"], "section": values["section_id"],
                "must_know": values["must_know"]}
    if model is QuestionSet:
        return {"title": values["title"], "description": values["description"],
                "kind": values["kind"], "topic": values["topic_id"] or "",
                "topics": list(values["draw_topics"] or []),
                "count": "" if values["draw_count"] is None else str(values["draw_count"]),
                "pass_mark": "" if values["pass_mark"] is None else str(values["pass_mark"]),
                "include_must_know": values["include_must_know"], "active": values["active"]}
    return dict(values)


BLANK = {
    Topic: {"title": "", "description": ""},
    KeyPoint: {"section_id": "", "text": "", "must_know": False},
    QuestionSet: {"title": "", "description": "", "kind": SetKind.TOPIC.value, "topic_id": None,
                  "draw_count": None, "draw_topics": None, "pass_mark": None,
                  "include_must_know": False, "active": True},
}


# --- what the forms choose from and are checked against ------------------------------------

@dataclass
class BankChoices:
    sections: list[Section]
    topics: list[Topic]

    def section_title(self, section_id: str | None) -> str:
        return next((s.title for s in self.sections if s.id == section_id), section_id or "—")

    def topic_title(self, topic_id: str | None) -> str:
        return next((t.title for t in self.topics if t.id == topic_id), topic_id or "—")


def bank_choices() -> BankChoices:
    """Two statements, whatever the size of the bank."""
    return BankChoices(
        sections=list(db.session.scalars(db.select(Section).order_by(Section.position, Section.id))),
        topics=list(db.session.scalars(db.select(Topic).order_by(Topic.position, Topic.id))),
    )


# --- form -> entry -> values ------------------------------------------------------------------

def _number(raw: Any) -> Any:
    """A posted whole number as an int; blank as None; anything else as given (the validator
    refuses it with its message)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= NUMBER_DIGITS:
        return int(text)
    return text


def _optional_text(raw: Any) -> dict[str, str]:
    text = clean_text(raw)
    return {"description": text} if text else {}


def read_entry(model, form: EntityForm) -> dict[str, Any]:
    """The bank-file entry the posted form describes (without an id), values as sent."""
    if model is Topic:
        return {"title": clean_text(form.title.data), **_optional_text(form.description.data)}
    if model is KeyPoint:
        return {"section": (form.section.data or "").strip(), "text": clean_text(form.text.data),
                "must_know": bool(form.must_know.data)}
    entry: dict[str, Any] = {"title": clean_text(form.title.data),
                             **_optional_text(form.description.data),
                             "kind": (form.kind.data or "").strip()}
    if entry["kind"] == SetKind.TOPIC:
        entry["topic"] = (form.topic.data or "").strip()
    elif entry["kind"] == SetKind.RANDOM:
        entry["count"] = _number(form.count.data)
        entry["topics"] = list(form.topics.data or []) or "all"
    pass_mark = _number(form.pass_mark.data)
    if pass_mark is not None:
        entry["pass_mark"] = pass_mark
    entry["include_must_know"] = bool(form.include_must_know.data)
    return entry


def check_entry(model, entry: dict[str, Any], choices: BankChoices, *,
                active: bool = True) -> list[tuple[str, str]]:
    """The bank validator's problems with an entry, as (field, message). A set's size (a topic
    with published questions, a draw no larger than its pool) is checked while it is active:
    the export writes active sets and published questions, and `bank check` must accept it."""
    if model is Topic:
        return files.validate_topic(entry)
    if model is KeyPoint:
        return files.validate_key_point(entry, {s.id for s in choices.sections})
    sizes = topic_question_counts() if active else None
    return files.validate_set(entry, [t.id for t in choices.topics], sizes)


def values_from_entry(model, entry: dict[str, Any], form: EntityForm) -> dict[str, Any]:
    """A valid entry as the row's values (bank_entities.FIELDS)."""
    if model is Topic:
        return loader.topic_values(entry)
    if model is KeyPoint:
        return loader.key_point_values(entry)
    return {**loader.set_values(entry), "active": bool(form.active.data)}


# --- messages -------------------------------------------------------------------------------

_SUBJECTS = {"title": "The title", "description": "The description", "text": "The key point",
             "section": "The section", "must_know": "Must know", "kind": "The kind",
             "topic": "The topic", "topics": "The topics drawn from",
             "count": "The number of questions", "pass_mark": "The pass mark",
             "include_must_know": "The must-know draw", FORM: "The form"}
_VERBS = ("is ", "must ", "contains ", "has ", "needs ", "unknown ")
_CHOOSE = {"section": "Choose the article section.", "topic": "Choose a topic.",
           "kind": "Choose the kind of set."}


def sentence(fld: str, message: str, posted: Any) -> str:
    """A validator's message as a sentence next to its field: "is missing or empty" ->
    "The title is missing or empty."; a select left blank -> "Choose a topic."."""
    if fld in _CHOOSE and posted in ("", None):
        return _CHOOSE[fld]
    if message.startswith("asks for"):
        text = f"The set {message}"
    elif message.startswith(_VERBS):
        text = f"{_SUBJECTS.get(fld, fld)} {message}"
    else:
        text = message
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def errors_by_field(problems: list[tuple[str, str]], entry: dict[str, Any]) -> dict[str, list[str]]:
    """Problems as sentences by form field (the validator's field names are the forms')."""
    errors: dict[str, list[str]] = {}
    for fld, message in problems:
        errors.setdefault(fld, []).append(sentence(fld, message, entry.get(fld)))
    return errors


def valid_version(raw: Any) -> bool:
    return isinstance(raw, str) and HASH_RE.fullmatch(raw) is not None


# --- showing values ---------------------------------------------------------------------------

FIELD_LABELS = {
    Topic: {"title": "Title", "description": "Description"},
    KeyPoint: {"text": "Key point", "section_id": "Article section", "must_know": "Must know"},
    QuestionSet: {"title": "Title", "description": "Description", "kind": "Kind",
                  "topic_id": "Topic", "draw_topics": "Draw from", "draw_count": "Questions drawn",
                  "pass_mark": "Pass mark", "include_must_know": "Must-know draw",
                  "active": "Active"},
}


def shown_values(model, values: dict[str, Any], choices: BankChoices) -> list[tuple[str, str, str]]:
    """(field, label, text) of each value, for people: titles for ids, yes/no for flags."""
    out = []
    for name, label in FIELD_LABELS[model].items():
        value = values.get(name)
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif name == "section_id":
            text = choices.section_title(value)
        elif name == "topic_id":
            text = choices.topic_title(value) if value else "—"
        elif name == "draw_topics":
            text = ("every topic" if values.get("kind") == SetKind.RANDOM else "—") if not value \
                else ", ".join(choices.topic_title(t) for t in value)
        elif name == "pass_mark":
            text = "none" if value is None else f"{value}%"
        elif name == "kind":
            text = {"topic": "one topic", "random": "random draw"}.get(value, str(value))
        else:
            text = "—" if value in (None, "") else str(value)
        out.append((name, label, text))
    return out


def last_change(model, key: str) -> tuple[AuditEvent, User | None] | None:
    """The newest audit event of a row, with its actor: one statement."""
    entity = bank_entities.ENTITY[model]
    row = db.session.execute(
        db.select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.entity_type == str(entity), AuditEvent.entity_id == key)
        .order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None
