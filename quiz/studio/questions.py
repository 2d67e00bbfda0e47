"""The studio's question pages: the list (search, filters, bulk actions), a question's page
(status actions), its history, the diff of two revisions, "restore this revision", and the
audit log. Thin views: quiz/studio/listing.py, actions.py and diffing.py do the work."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from ..bank.revisions import StatusError, publish_blockers, restore_revision
from ..extensions import db
from ..models import Question, QuestionRevision
from ..qtypes import TYPES
from ..stats import analysis
from ..stats.flags import MIN_RESPONSES
from ..vocab import AuditEntity, Difficulty, QuestionStatus
from ..web import url_builder
from . import actions, bp, diffing, editor, listing
from .views import StudioForm


def _int_arg(name: str, default: int = 1) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else default


def _bad(message: str):
    """A 400 page that says what was wrong (abort() with it stops the view)."""
    return make_response(render_template("error.html", code=400, message=message), 400)


def _checked_form() -> None:
    """Every POST here carries the CSRF token (400 without it)."""
    if not StudioForm().validate():
        abort(400)


def _question_or_404(question_id: str) -> Question:
    question = db.session.scalars(
        db.select(Question).where(Question.id == question_id)
        .options(joinedload(Question.topic),
                 joinedload(Question.latest_revision).joinedload(QuestionRevision.author),
                 joinedload(Question.latest_revision).selectinload(QuestionRevision.key_points),
                 joinedload(Question.current_revision))
    ).unique().first()
    if question is None:
        abort(404)
    return question


# --- the list -----------------------------------------------------------------------------

def _filter_and_choices():
    choices = editor.bank_choices()
    f = listing.read_filter(request.args, {t.id for t in choices.topics},
                            {k.id for k in choices.key_points})
    return f, choices


@bp.route("/questions")
def questions():
    f, choices = _filter_and_choices()
    page = listing.question_page(f, request.args.get("sort", "id"), request.args.get("dir"),
                                 _int_arg("page"))
    for notice in f.notices:
        flash(notice, "error")
    # The page's rows only, in one call: the statements do not grow with the list.
    flags = analysis.question_flags([r.id for r in page.rows]) if page.rows else {}
    return render_template("studio/questions.html", listing=page, f=f, choices=choices,
                           flags=flags,
                           stats_url=url_builder("studio.stats_question", "question_id"),
                           types=TYPES, statuses=list(QuestionStatus),
                           difficulties=list(Difficulty), lint_filters=listing.LINT_FILTERS,
                           flag_filters=listing.FLAG_FILTERS,
                           bulk_actions=actions.STATUS_ACTIONS, form=StudioForm())


@bp.route("/bulk", methods=["POST"])
def bulk():
    """Step 1 (no `confirm`): the confirmation page. Step 2 (`confirm`): apply, all or nothing."""
    _checked_form()
    action = request.form.get("action", "")
    if action not in actions.STATUS_ACTIONS:
        flash("Choose what to do with the questions.", "error")
        return redirect(url_for("studio.questions"))
    if request.form.get("scope") == "all":
        # The filter travels in the form as it did in the list's URL.
        choices = editor.bank_choices()
        f = listing.read_filter(request.form, {t.id for t in choices.topics},
                                {k.id for k in choices.key_points})
        if f.notices:
            return _bad(" ".join(f.notices) + " Open the list again.")
        ids = listing.matching_ids(f)
        filter_args = f.args()
    else:
        ids = sorted({i for i in request.form.getlist("ids") if isinstance(i, str) and i})
        # Only to return to the same list afterwards (the list checks them again).
        filter_args = {k: v[:254] for k in listing.FILTER_KEYS
                       if isinstance(v := request.form.get(k), str) and v}
    if not ids:
        flash("No question was chosen: tick the questions first, or use “all matching”.", "error")
        return redirect(url_for("studio.questions", **filter_args))
    if len(ids) > actions.BULK_MAX:
        return _bad(f"{len(ids):,} questions are more than one change may hold "
                    f"({actions.BULK_MAX:,}): narrow the filter.")
    verb = actions.STATUS_ACTIONS[action][1]
    if not request.form.get("confirm"):
        return render_template("studio/bulk_confirm.html", ids=ids, action=action, verb=verb,
                               scope=request.form.get("scope", ""), filter_args=filter_args,
                               form=StudioForm())
    changed, refusals = actions.bulk_change(ids, action, current_user)
    if refusals:
        db.session.rollback()
        return render_template("studio/bulk_refused.html", refusals=refusals, action=action,
                               verb=verb, total=len(ids), filter_args=filter_args), 409
    db.session.commit()
    flash(f"{verb}: {changed} question{'s' if changed != 1 else ''}.", "success")
    return redirect(url_for("studio.questions", **filter_args))


# --- one question -------------------------------------------------------------------------

def _question_page(question: Question, status: int = 200):
    # What an imported draft still lacks before it can be published (its key points are
    # loaded here, in the view, not lazily by the template).
    blockers = (publish_blockers(question.latest_revision)
                if question.latest_revision is not None else [])
    flags = analysis.question_flags([question.id]).get(question.id, ())
    return render_template("studio/question.html", question=question, blockers=blockers,
                           flags=flags, min_responses=MIN_RESPONSES,
                           available=actions.available(question), form=StudioForm()), status


@bp.route("/questions/<question_id>")
def question(question_id: str):
    return _question_page(_question_or_404(question_id))


@bp.route("/questions/<question_id>/status", methods=["POST"])
def question_status(question_id: str):
    question = _question_or_404(question_id)
    _checked_form()
    action = request.form.get("action", "")
    if action not in actions.STATUS_ACTIONS:
        flash("There is no such action: open the page again.", "error")
        return _question_page(question, 400)
    try:
        actions.change_status(question, action, current_user)
    except StatusError as exc:
        db.session.rollback()
        flash(f"Nothing changed: {exc}", "error")
        return _question_page(_question_or_404(question_id), 409)
    db.session.commit()
    flash(f"{actions.STATUS_ACTIONS[action][1]} {question_id}.", "success")
    return redirect(url_for("studio.question", question_id=question_id))


# --- history, diff, restore ----------------------------------------------------------------

def _revisions(question_id: str) -> list[QuestionRevision]:
    return list(db.session.scalars(
        db.select(QuestionRevision).where(QuestionRevision.question_id == question_id)
        .options(joinedload(QuestionRevision.author))
        .order_by(QuestionRevision.number.desc())))


@bp.route("/questions/<question_id>/history")
def history(question_id: str):
    question = _question_or_404(question_id)
    revisions = _revisions(question_id)
    return render_template("studio/history.html", question=question, revisions=revisions,
                           form=StudioForm())


def _revision_number(name: str) -> int:
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(_bad(f"Choose two revisions to compare (“{name}” is no revision number)."))
    return int(raw)


@bp.route("/questions/<question_id>/diff")
def diff(question_id: str):
    question = _question_or_404(question_id)
    a, b = _revision_number("a"), _revision_number("b")
    if a > b:
        a, b = b, a  # older on the left
    found = {r.number: r for r in db.session.scalars(
        db.select(QuestionRevision)
        .where(QuestionRevision.question_id == question_id, QuestionRevision.number.in_({a, b}))
        .options(selectinload(QuestionRevision.key_points), joinedload(QuestionRevision.author),
                 joinedload(QuestionRevision.question)))}
    if a not in found or b not in found:
        abort(404)
    choices = editor.bank_choices()
    rows = diffing.diff_with_choices(editor.entry_from_revision(found[a]),
                       editor.entry_from_revision(found[b]), choices)
    return render_template("studio/diff.html", question=question, old=found[a], new=found[b],
                           rows=rows, changed=sum(r.changed for r in rows))


@bp.route("/questions/<question_id>/restore-revision", methods=["POST"])
def restore(question_id: str):
    question = _question_or_404(question_id)
    _checked_form()
    raw = request.form.get("number", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(_bad("Choose the revision to restore."))
    try:
        revision = restore_revision(question, int(raw), current_user)
    except StatusError as exc:
        db.session.rollback()
        flash(f"Nothing changed: {exc}", "error")
        return _question_page(_question_or_404(question_id), 409)
    number = revision.number
    db.session.commit()
    flash(f"Revision {raw} restored as revision {number}, a draft: publish it to serve it.",
          "success")
    return redirect(url_for("studio.question", question_id=question_id))


# --- the audit log --------------------------------------------------------------------------

@bp.route("/audit")
def audit():
    actors = listing.audit_actors()
    f = listing.read_audit_filter(request.args, {uid for uid, _ in actors})
    for notice in f.notices:
        flash(notice, "error")
    page = listing.audit_page(f, _int_arg("page"))
    return render_template("studio/audit.html", listing=page, f=f, actors=actors,
                           entities=list(AuditEntity))
