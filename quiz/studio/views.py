"""The studio: instructors and admins edit the question bank. Thin views: quiz/studio/editor.py
reads and checks the form; the question types render and read their own parts."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from .. import policy
from ..bank.revisions import StaleRevision
from ..extensions import db
from ..models import Question, QuestionRevision
from ..qtypes import TYPES
from ..vocab import Difficulty
from . import bp, diffing, editor
from .editor import EditorError, EditorState

_EMPTY = MultiDict()


class StudioForm(FlaskForm):
    """Only the CSRF token: the editor's fields are written by its templates and read by
    editor.read_question_form (and the types' read_edit)."""


@bp.before_request
@login_required
def bank_editors_only():
    if not policy.can_edit_bank(current_user):
        abort(403)


@bp.route("/")
def index():
    wanted = request.args.get("question", "").strip()
    if wanted:
        if db.session.get(Question, wanted) is not None:
            return redirect(url_for("studio.edit", question_id=wanted))
        flash(f"There is no question “{wanted[:64]}”.", "error")
        return render_template("studio/index.html", types=TYPES, wanted=wanted), 404
    return render_template("studio/index.html", types=TYPES, wanted="")


@bp.route("/questions/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        qtype = request.args.get("type", "")
        if qtype not in TYPES:
            return render_template("studio/pick_type.html", types=TYPES)
        state = EditorState(qtype=qtype)
        entry = editor.blank_entry(qtype)
        values = TYPES[qtype].blank_values(state.issued)
        return _editor_page(entry, values, state)
    return _posted(question_id=None)


@bp.route("/questions/<question_id>/edit", methods=["GET", "POST"])
def edit(question_id: str):
    if request.method == "GET":
        revision = editor.newest_revision(question_id)
        if revision is None:
            abort(404)
        entry = editor.entry_from_revision(revision)
        ids = editor.entry_ids(entry)
        state = EditorState(qtype=entry["type"], question_id=question_id,
                            base_revision=revision.id, base=ids, issued=set(ids))
        return _editor_page(entry, editor.form_values(entry, state), state, revision=revision)
    if db.session.get(Question, question_id) is None:
        abort(404)
    return _posted(question_id=question_id)


def _posted(question_id: str | None):
    form = StudioForm()
    if not form.validate():
        abort(400)  # the CSRF token
    try:
        state = EditorState.from_form(request.form)
        if state.question_id != question_id or (
                request.form.get("base_revision", "") != str(state.base_revision or "")):
            raise EditorError("This form belongs to another question: open the page again.")
        entry, form_errors = editor.read_question_form(request.form)
    except EditorError as exc:
        return _refused(str(exc))
    values = editor.form_values(entry, state)
    qtype = TYPES[state.qtype]
    add = request.form.get("add")
    if add is not None:
        if add not in qtype.edit_rows:
            return _refused("This question has no such list to add to: open the page again.")
        qtype.add_row(values, add, state.issued)
    state.issued = state.base | editor.value_ids(values)  # what this form names, no more
    action = request.form.get("action", "")
    if form_errors:
        return _editor_page(entry, values, state, errors=form_errors, status=400)
    if add is not None or action not in ("check", "preview", "answer", "save"):
        return _editor_page(entry, values, state)
    choices = editor.bank_choices()
    errors, warnings = editor.check_entry(entry, choices)
    if errors:
        return _editor_page(entry, values, state, errors=errors, warnings=warnings,
                            choices=choices, checked=True, status=422)
    if action == "save":
        try:
            revision = editor.save_entry(
                entry, question_id=question_id, base_revision_id=state.base_revision,
                author=current_user, note=entry["note"], lint_warnings=len(warnings))
        except StaleRevision as exc:
            db.session.rollback()
            return _stale_page(entry, exc.current, choices)
        saved_id, number = revision.question_id, revision.number
        db.session.commit()
        flash(f"Saved {saved_id} as revision {number}, a draft: publish it to serve it.",
              "success")
        return redirect(url_for("studio.question", question_id=saved_id))
    preview = None
    if action in ("preview", "answer"):
        try:
            preview = _preview(
                qtype, qtype.data(entry), request.form if action == "answer" else None,
                bound_to=["editor", question_id],
                action=url_for(request.endpoint, **request.view_args) + "#preview",
                prompt=entry["prompt"], explanation=entry["explanation"],
                source_title=choices.section_title(entry["source"]),
                key_points=choices.key_point_texts(entry["key_points"]))
        except EditorError as exc:
            return _refused(str(exc))
    return _editor_page(entry, values, state, warnings=warnings, choices=choices, checked=True,
                        preview=preview)


def _preview(qtype, data: dict[str, Any], formdata: Any | None, bound_to: Any,
             **shown: Any) -> dict[str, Any]:
    """The take view of the data (a new layout), or, with formdata, the review of the answer
    posted with the layout carried in the signed field (EditorError if that was changed or
    made for something else). `shown`: the URL its buttons post to
    (`action`), and prompt, explanation, source_title and key_points (texts), as the review
    page shows them."""
    layout, result, kept = None, None, False
    if formdata is not None:
        layout = editor.read_layout(formdata.get("preview_layout"), bound_to)
        if editor.layout_ids(layout) != editor.data_ids(qtype, data):
            # The editor's content gained or lost entries since this layout was made.
            layout = None
            result = editor.PreviewAnswer(error="The question changed since this preview: "
                                                "answer it again.")
        else:
            result, kept = editor.check_answer(qtype, data, layout, formdata), True
    if layout is None:
        layout = editor.new_layout(qtype, data)
    return {"qtype": qtype, "view": qtype.take_view(data, layout), "result": result,
            "signed_layout": editor.sign_layout(layout, bound_to),
            "answers": formdata if kept else _EMPTY, "prefix": editor.PREVIEW_PREFIX, **shown}


def _stale_page(entry, current, choices):
    """Someone saved this question since the form was opened: nothing was written. Show what
    was typed next to the latest saved revision, and a way to start again from it (409)."""
    latest = editor.newest_revision(entry["id"]) if current is not None else None
    rows = diffing.diff_with_choices(editor.entry_from_revision(latest), entry, choices) if latest else []
    return render_template("studio/stale.html", entry=entry, latest=latest, rows=rows), 409


def _refused(message: str):
    """A form no browser could have sent from our page: 400, with what to do."""
    return render_template("error.html", code=400, message=message), 400


def _editor_page(entry, values, state: EditorState, *, revision=None, errors=None, warnings=None,
                 choices=None, checked=False, preview=None, status=200):
    return render_template(
        "studio/edit.html", entry=entry, values=values, state=state, qtype=TYPES[state.qtype],
        revision=revision, errors=errors or {}, warnings=warnings or [], checked=checked,
        choices=choices or editor.bank_choices(), preview=preview, form=StudioForm(),
        difficulties=[(d.value, d.value.title()) for d in Difficulty],
        field_label=editor.field_label, field_anchor=editor.field_anchor,
    ), status


@bp.route("/questions/<question_id>/preview", methods=["GET", "POST"])
def preview(question_id: str):
    """A saved revision (?rev=N, else the newest) as a learner sees it; "Check answer" shows
    the review. No attempt is created: the layout travels in a signed hidden field."""
    rev = request.args.get("rev", "")
    query = (db.select(QuestionRevision).where(QuestionRevision.question_id == question_id)
             .options(selectinload(QuestionRevision.key_points),
                      selectinload(QuestionRevision.source)))
    if rev:
        if not (rev.isascii() and rev.isdigit() and len(rev) <= 9):
            abort(404)
        query = query.where(QuestionRevision.number == int(rev))
    revision = db.session.scalars(query.order_by(QuestionRevision.number.desc()).limit(1)).first()
    if revision is None:
        abort(404)
    form = StudioForm()
    if request.method == "POST" and not form.validate():
        abort(400)
    qtype = TYPES[revision.qtype]
    try:
        shown = _preview(
            qtype, qtype.data(revision.data), request.form if request.method == "POST" else None,
            bound_to=["revision", revision.id],
            action=url_for("studio.preview", question_id=question_id,
                           rev=revision.number) + "#preview",
            prompt=revision.prompt, explanation=revision.explanation,
            source_title=revision.source.title if revision.source else "",
            key_points=[kp.text for kp in revision.key_points])
    except EditorError as exc:
        return _refused(str(exc))
    status = 422 if shown["result"] and shown["result"].error else 200
    return render_template("studio/preview.html", revision=revision, preview=shown,
                           form=form), status
