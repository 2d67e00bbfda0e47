"""Learner pages: catalogue, set, attempt, review, progress. Thin: parse, call, render."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import attempt_pages, policy, progress, time_limits
from .. import attempts as attempt_ops
from .. import catalogue as catalogue_ops
from ..extensions import db
from ..models import Attempt, QuestionSet, User
from ..models._common import utcnow
from ..orgs import assignments as org_assignments
from ..question_types import TYPES
from ..web import url_builder
from . import bp
from .forms import AttemptForm, StartForm, prefix, read_answers, saved_values


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("learn.catalogue"))
    return render_template("learn/index.html")


@bp.route("/sets")
@login_required
def catalogue():
    """The signed-in learner's home: every set with its size and their scores."""
    return render_template("learn/catalogue.html",
                           # (assignments) "My assignments" first: quiz/orgs/assignments.py
                           my_assignments=org_assignments.my_assignments_of(current_user, utcnow()),
                           summaries=catalogue_ops.summaries(current_user.id),
                           set_url=url_builder("learn.set_page", "set_id"),
                           start_url=url_builder("learn.start", "set_id"),
                           attempt_url=url_builder("learn.attempt", "attempt_id"))


def _active_set(set_id: str) -> QuestionSet:
    qset = db.session.get(QuestionSet, set_id)
    if qset is None or not qset.active:
        abort(404)
    return qset


@bp.route("/sets/<set_id>")
@login_required
def set_page(set_id: str):
    page = catalogue_ops.set_page(current_user.id, set_id)
    if page is None:
        abort(404)
    return render_template("learn/set.html", summary=page.summary, attempts=page.attempts,
                           review_url=url_builder("learn.review", "attempt_id"))


@bp.route("/sets/<set_id>/start", methods=["POST"])
@login_required
def start(set_id: str):
    qset = _active_set(set_id)
    if not StartForm().validate_on_submit():
        abort(400)
    try:
        attempt = attempt_ops.start_attempt(current_user, qset)
    except attempt_ops.AttemptError as exc:
        flash(str(exc), "error")
        return redirect(url_for("learn.set_page", set_id=qset.id))
    db.session.commit()
    return redirect(url_for("learn.attempt", attempt_id=attempt.id))


def _own_attempt(attempt_id: int, for_change: bool):
    """The signed-in learner's own attempt; 404 for anyone else's, so ids reveal nothing.

    To show it, a read model (quiz.attempt_pages); to save or submit it, the ORM objects.
    """
    if for_change:
        attempt = attempt_ops.load_attempt(attempt_id)
    else:
        attempt = attempt_pages.load_page_attempt(attempt_id)
    if attempt is None or not policy.can_take_attempt(current_user, attempt):
        abort(404)
    return attempt


@bp.route("/attempts/<id:attempt_id>", methods=["GET", "POST"])
@login_required
def attempt(attempt_id: int):
    posted = request.method == "POST"
    attempt = _own_attempt(attempt_id, for_change=posted)
    if attempt.is_submitted:
        return _show_result(attempt)
    # (time limits) Past its deadline an attempt takes no more answers: whatever was posted
    # is ignored and it is submitted with what was saved before (quiz/time_limits.py).
    now = utcnow()
    if time_limits.is_past(attempt.deadline_at, now):
        return _close_at_deadline(attempt_id, now)
    errors: dict[int, str] = {}
    values = request.form if posted else saved_values(attempt)
    if posted:
        form = AttemptForm()  # its inputs are written out in learn/attempt.html
        if not form.validate():
            abort(400)  # a missing or bad CSRF token is handled before this
        answers, errors = read_answers(request.form, attempt, require_all=form.finish.data)
        if not errors:
            return _submit(attempt, answers) if form.finish.data else _save(attempt, answers)
        flash("Nothing was saved yet: some answers need your attention.", "error")
    views = [
        (item, TYPES[item.revision.qtype].take_view(item.revision.data, item.layout))
        for item in attempt.items
    ]
    answered = sum(1 for item in attempt.items if item.answer is not None)
    return render_template("learn/attempt.html", attempt=attempt, views=views,
                           values=values, errors=errors, prefix=prefix, answered=answered,
                           time_left=time_limits.time_left(attempt.deadline_at, now),
                           types=TYPES), 400 if errors else 200


def _close_at_deadline(attempt_id: int, now):
    """(time limits) Submit a timed-out attempt with its saved answers; show its review."""
    attempt = attempt_ops.load_attempt(attempt_id)
    deadline = time_limits.utc_time(attempt.deadline_at)
    if time_limits.close_at_deadline(attempt, now):
        db.session.commit()
    flash(f"Time was up at {deadline}: your attempt was submitted with the answers saved before "
          "then. Answers sent after the time limit are not counted.", "info")
    return redirect(url_for("learn.review", attempt_id=attempt_id))


def _show_result(attempt: Attempt):
    """Where a request for an already submitted attempt goes: its review."""
    flash("This attempt is already submitted; here is its result.", "info")
    return redirect(url_for("learn.review", attempt_id=attempt.id))


def _submit(attempt: Attempt, answers: dict):
    attempt_id = attempt.id  # read before the commit expires it: the redirect reloads nothing
    if not attempt_ops.submit_attempt(attempt, answers):
        return _show_result(attempt)  # another request scored it first
    db.session.commit()
    return redirect(url_for("learn.review", attempt_id=attempt_id))


def _save(attempt: Attempt, answers: dict):
    attempt_id = attempt.id
    try:
        attempt_ops.save_answers(attempt, answers)
    except attempt_ops.AttemptError:
        return _show_result(attempt)
    db.session.commit()
    flash("Your answers are saved. Come back any time to finish.", "success")
    return redirect(url_for("learn.attempt", attempt_id=attempt_id))


def _visible_attempt(attempt_id: int) -> attempt_pages.PageAttempt:
    """Own attempts, or any learner's for staff; 404 otherwise."""
    attempt = attempt_pages.load_page_attempt(attempt_id, review=True)
    if attempt is None or not policy.can_view_attempt(current_user, attempt):
        abort(404)
    return attempt


@bp.route("/attempts/<id:attempt_id>/review")
@login_required
def review(attempt_id: int):
    attempt = _visible_attempt(attempt_id)
    if not attempt.is_submitted:
        if policy.can_take_attempt(current_user, attempt):
            return redirect(url_for("learn.attempt", attempt_id=attempt.id))
        abort(404)
    views = [
        (item, TYPES[item.revision.qtype].review_view(item.revision.data, item.layout,
                                                       item.answer))
        for item in attempt.items
    ]
    return render_template("learn/review.html", attempt=attempt, views=views, types=TYPES)


def _progress_page(user: User):
    """The progress page; ?page=N pages the score history (anything but an existing page: 404)."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()):  # int() would take " 2", "+2" and Arabic digits
        abort(404)
    try:
        data = progress.learner_progress(user, int(raw))
    except progress.PageNotFound:
        abort(404)
    return render_template("learn/progress.html", learner=user, progress=data,
                           definition=progress.MASTERY_DEFINITION,
                           trend=progress.trend_points(data.trend),
                           set_url=url_builder("learn.set_page", "set_id"),
                           review_url=url_builder("learn.review", "attempt_id"),
                           page_url=lambda n: url_for(request.endpoint, **request.view_args,
                                                      page=n if n > 1 else None,
                                                      _anchor="history"))


@bp.route("/progress")
@login_required
def my_progress():
    return _progress_page(current_user)


@bp.route("/learners/<id:user_id>/progress")
@login_required
def learner_progress(user_id: int):
    if not policy.can_view_progress(current_user, user_id):
        abort(404)
    return _progress_page(db.get_or_404(User, user_id))
