"""Studio pages for topics, key points and sets: list, new, edit. Thin views: the forms and
their checks are in entity_forms.py (the bank files' validators), the lists in
entity_lists.py, the changes in quiz.bank.entities (create_* / update_*, which audit).

Every edit form carries `version`, the row_hash of the values it was built from; a save over
a row that has changed since is refused (409) with both versions, never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..bank import entities as bank_entities
from ..bank.entities import StaleEntity, row_hash, values_of
from ..extensions import db
from ..models import KeyPoint, QuestionSet, Topic
from . import bp, entity_lists
from . import entity_forms as forms


@dataclass(frozen=True)
class Kind:
    model: type
    label: str  # "topic"
    plural: str  # "topics"
    endpoint: str  # the list's endpoint; new_<x> and edit_<x> follow it
    create: Any
    update: Any


KINDS = {
    Topic: Kind(Topic, "topic", "topics", "topics", bank_entities.create_topic,
                bank_entities.update_topic),
    KeyPoint: Kind(KeyPoint, "key point", "key points", "key_points",
                   bank_entities.create_key_point, bank_entities.update_key_point),
    QuestionSet: Kind(QuestionSet, "set", "sets", "sets", bank_entities.create_set,
                      bank_entities.update_set),
}
SINGULAR = {Topic: "topic", KeyPoint: "key_point", QuestionSet: "set"}


def _actor():
    return current_user._get_current_object()


# --- lists ------------------------------------------------------------------------------------

@bp.route("/topics")
def topics():
    return render_template("studio/entities/topics.html", rows=entity_lists.topic_rows())


@bp.route("/key-points")
def key_points():
    return render_template("studio/entities/key_points.html", groups=entity_lists.key_point_groups())


@bp.route("/sets")
def sets():
    return render_template("studio/entities/sets.html", rows=entity_lists.set_rows())


# --- new ----------------------------------------------------------------------------------------

@bp.route("/topics/new", methods=["GET", "POST"])
def new_topic():
    return _new(Topic)


@bp.route("/key-points/new", methods=["GET", "POST"])
def new_key_point():
    return _new(KeyPoint)


@bp.route("/sets/new", methods=["GET", "POST"])
def new_set():
    return _new(QuestionSet)


def _new(model):
    kind, choices = KINDS[model], forms.bank_choices()
    form = _form(model, choices, None if _posted() else forms.form_data(model, forms.BLANK[model]))
    if not _posted():
        return _page(kind, form, choices)
    if not form.validate():
        abort(400)
    entry = forms.read_entry(model, form)
    problems = forms.check_entry(model, entry, choices, active=_active(model, form))
    if problems:
        return _page(kind, form, choices, errors=forms.errors_by_field(problems, entry), status=422)
    values = forms.values_from_entry(model, entry, form)
    try:
        key = kind.create(values, _actor()).id
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        message = (f"Another {kind.label} was saved with the same id at the same moment: "
                   "nothing was saved. Save again.")
        return _page(kind, form, choices, errors={forms.FORM: [message]}, status=409)
    named = f"“{values['title']}” ({key})" if "title" in values else key
    flash(f"Created the {kind.label} {named}.", "success")
    return redirect(url_for(f"studio.{kind.endpoint}") + f"#{key}")


# --- edit ---------------------------------------------------------------------------------------

@bp.route("/topics/<topic_id>/edit", methods=["GET", "POST"])
def edit_topic(topic_id: str):
    return _edit(Topic, topic_id)


@bp.route("/key-points/<key_point_id>/edit", methods=["GET", "POST"])
def edit_key_point(key_point_id: str):
    return _edit(KeyPoint, key_point_id)


@bp.route("/sets/<set_id>/edit", methods=["GET", "POST"])
def edit_set(set_id: str):
    return _edit(QuestionSet, set_id)


def _edit(model, key: str):
    kind = KINDS[model]
    obj = db.session.get(model, key)
    if obj is None:
        abort(404)
    choices = forms.bank_choices()
    if not _posted():
        values = values_of(obj)
        form = _form(model, choices, {**forms.form_data(model, values), "version": row_hash(values)})
        return _page(kind, form, choices, key=key)
    form = _form(model, choices)
    if not form.validate():
        abort(400)
    base = form.version.data
    if not forms.valid_version(base):
        return _refused("The form is incomplete (it has no version): open the page again.")
    entry = forms.read_entry(model, form)
    problems = forms.check_entry(model, entry, choices, active=_active(model, form))
    if problems:
        return _page(kind, form, choices, key=key, status=422,
                     errors=forms.errors_by_field(problems, entry))
    values = forms.values_from_entry(model, entry, form)
    changed = values != values_of(obj)
    try:
        kind.update(key, values, _actor(), base_hash=base)
    except StaleEntity as exc:
        db.session.rollback()
        if exc.current == values:  # someone else saved exactly these values: nothing is lost
            flash(f"The {kind.label} {key} already holds these values (saved by someone else).",
                  "success")
            return redirect(url_for(f"studio.{kind.endpoint}") + f"#{key}")
        return _conflict(kind, key, form, choices, theirs=exc.current, yours=values)
    db.session.commit()
    flash(f"Saved the {kind.label} {key}." if changed else f"Nothing changed in the {kind.label} {key}.",
          "success")
    return redirect(url_for(f"studio.{kind.endpoint}") + f"#{key}")


def _conflict(kind: Kind, key: str, form, choices, *, theirs: dict[str, Any],
              yours: dict[str, Any]):
    """409: the row now (theirs) beside what was posted (yours); the form keeps yours with the
    current version, so saving it again is a deliberate choice made after seeing both."""
    model = kind.model
    yours_shown = {name: text for name, _, text in forms.shown_values(model, yours, choices)}
    rows = [(label, text, yours_shown[name], text != yours_shown[name])
            for name, label, text in forms.shown_values(model, theirs, choices)]
    form.version.data = row_hash(theirs)
    return _page(kind, form, choices, key=key, status=409,
                 conflict={"rows": rows, "last": forms.last_change(model, key)})


# --- helpers ------------------------------------------------------------------------------------

def _posted() -> bool:
    return request.method == "POST"


def _active(model, form) -> bool:
    return model is not QuestionSet or bool(form.active.data)


def _form(model, choices, data: dict[str, Any] | None = None):
    form = forms.FORMS[model](data=data) if data is not None else forms.FORMS[model]()
    return forms.set_choices(form, choices)


def _refused(message: str):
    return render_template("error.html", code=400, message=message), 400


def _page(kind: Kind, form, choices, *, key: str | None = None, errors=None, conflict=None,
          status: int = 200):
    errors = errors or {}
    template = f"studio/entities/{SINGULAR[kind.model]}_form.html"
    action = (url_for(f"studio.edit_{SINGULAR[kind.model]}", **{f"{SINGULAR[kind.model]}_id": key})
              if key else url_for(f"studio.new_{SINGULAR[kind.model]}"))
    return render_template(template, kind=kind, form=form, choices=choices, key=key, errors=errors,
                           conflict=conflict, action=action,
                           list_url=url_for(f"studio.{kind.endpoint}")), status
