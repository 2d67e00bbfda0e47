"""Assignments: the manager's pages (create, edit, archive) and the learner's (start an
attempt for an assignment). Thin: the rules are in quiz/orgs/assignments.py."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from .. import attempts as attempt_ops
from ..extensions import db
from ..models import Assignment
from ..models._common import utcnow
from . import assignments as ops
from . import bp
from .tenancy import Need, in_org_or_404, org_or_404


class AssignmentForm(FlaskForm):
    """Only CSRF is checked here: every rule is ops.read_assignment's (422 with messages)."""

    set_id = SelectField("Question set", validate_choice=False)
    cohort_id = SelectField("Cohort", validate_choice=False)
    people = SelectMultipleField("Named people", validate_choice=False,
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    opens_at = StringField("Opens (UTC)", render_kw={"type": "datetime-local"},
                           description="Optional. Blank: open at once.")
    due_at = StringField("Due (UTC)", render_kw={"type": "datetime-local"},
                         description="Optional. After it, learners may still start and finish; "
                                     "they show as overdue until they pass.")
    pass_mark = StringField("Pass mark (%)", description="0 to 100. Blank: the set's own pass mark.")
    max_attempts = StringField("Attempt limit", description="Blank: no limit. With recertification, "
                               "per period: attempts count again once a pass has expired.")
    time_limit_minutes = StringField("Time limit (minutes)",
                                     description="Blank: no limit. Enforced by the server.")
    recert_months = StringField("Recertification every (months)",
                                description="Blank: a pass never expires. Otherwise it reopens "
                                            "for those whose pass is older.")


class ActionForm(FlaskForm):
    """A POST button (archive, restore, start): CSRF only."""


def _form(choices: ops.Choices, data: dict | None = None) -> AssignmentForm:
    form = AssignmentForm(data=data) if data is not None else AssignmentForm()
    form.set_id.choices = [("", "Choose a set…")] + list(choices.sets.items())
    form.cohort_id.choices = [("", "No cohort (named people only)")] + [
        (str(i), name) for i, name in choices.cohorts.items()]
    form.people.choices = [(str(i), f"{name} ({email})") for i, name, email in choices.members]
    return form


def _raw(form: AssignmentForm) -> dict:
    return {name: form[name].data for name in
            ("set_id", "cohort_id", "people", "opens_at", "due_at", "pass_mark", "max_attempts",
             "time_limit_minutes", "recert_months")}


def _page(org, form, errors=None, assignment=None, locked_set=False, status=200, set_title=""):
    return render_template("orgs/assignment_form.html", org=org, form=form, errors=errors or {},
                           assignment=assignment, locked_set=locked_set, set_title=set_title), status


def _tampered(exc: Exception):
    return render_template("error.html", code=400, message=f"{exc} Nothing was saved."), 400


@bp.route("/<id:org_id>/assignments")
@login_required
def assignments(org_id: int):
    """The organisation's assignments with how many are assigned and have passed."""
    org = org_or_404(current_user, org_id, Need.MANAGE)
    archived = request.args.get("archived") == "1"
    return render_template("orgs/assignments.html", org=org, archived=archived,
                           rows=ops.list_rows(org.id, archived, utcnow()), utc=ops.utc,
                           action_form=ActionForm())


@bp.route("/<id:org_id>/assignments/new", methods=["GET", "POST"])
@login_required
def new_assignment(org_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    choices = ops.form_choices(org.id)
    form = _form(choices)
    if request.method == "GET":
        return _page(org, form)
    if not form.validate():
        abort(400)
    try:
        values, errors = ops.read_assignment(_raw(form), choices)
    except ops.Tampered as exc:
        return _tampered(exc)
    if errors:
        return _page(org, form, errors, status=422)
    assignment = ops.create_assignment(org, values, current_user)
    db.session.commit()
    flash(f"Assignment created: {choices.sets[values.set_id]}.", "success")
    return redirect(url_for("orgs.assignments", org_id=org.id, _anchor=f"a{assignment.id}"))


@bp.route("/<id:org_id>/assignments/<id:assignment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_assignment(org_id: int, assignment_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    assignment = in_org_or_404(Assignment, org.id, assignment_id)
    choices = ops.form_choices(org.id)
    locked = ops.has_attempts(assignment.id)
    if assignment.set_id not in choices.sets:  # an inactive set stays as it is
        choices.sets[assignment.set_id] = assignment.question_set.title
    title = choices.sets[assignment.set_id]
    if request.method == "GET":
        data = ops.form_values(assignment, ops.named_people(assignment.id))
        return _page(org, _form(choices, data), assignment=assignment, locked_set=locked,
                     set_title=title)
    form = _form(choices)
    if not form.validate():
        abort(400)
    try:
        values, errors = ops.read_assignment(_raw(form), choices, assignment, locked)
    except ops.Tampered as exc:
        return _tampered(exc)
    if errors:
        return _page(org, form, errors, assignment=assignment, locked_set=locked, status=422,
                     set_title=title)
    changed = ops.update_assignment(assignment, values, current_user)
    db.session.commit()
    flash("Assignment saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("orgs.assignments", org_id=org.id, _anchor=f"a{assignment_id}"))


def _archive(org_id: int, assignment_id: int, archived: bool):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    assignment = in_org_or_404(Assignment, org.id, assignment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if ops.set_archived(assignment, archived, current_user, utcnow()):
        db.session.commit()
        flash("Assignment archived: learners no longer see it." if archived
              else "Assignment restored.", "success")
    return redirect(url_for("orgs.assignments", org_id=org.id, archived="1" if not archived else None))


@bp.route("/<id:org_id>/assignments/<id:assignment_id>/archive", methods=["POST"])
@login_required
def archive_assignment(org_id: int, assignment_id: int):
    return _archive(org_id, assignment_id, True)


@bp.route("/<id:org_id>/assignments/<id:assignment_id>/restore", methods=["POST"])
@login_required
def restore_assignment(org_id: int, assignment_id: int):
    return _archive(org_id, assignment_id, False)


@bp.route("/assignments/<id:assignment_id>/start", methods=["POST"])
@login_required
def start_assignment(assignment_id: int):
    """The learner's Start button: 404 unless assigned; 409 with the reason if not now."""
    assignment = ops.assigned_or_404(current_user.id, assignment_id)
    if assignment is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        attempt = ops.start_for(current_user, assignment, utcnow())
    except attempt_ops.OpenAttemptElsewhere as exc:  # nothing was written
        return render_template("orgs/assignment_blocked.html", assignment=assignment,
                               message=str(exc), other_attempt_id=exc.attempt.id), 409
    except (ops.CannotStart, attempt_ops.AttemptError) as exc:
        return render_template("orgs/assignment_blocked.html", assignment=assignment,
                               message=str(exc), other_attempt_id=None), 409
    attempt_id = attempt.id
    db.session.commit()
    return redirect(url_for("learn.attempt", attempt_id=attempt_id))
