"""Pages for instructors and admins: the learner roster (clinic onboarding at a glance)."""

from flask import abort, render_template, request
from flask_login import current_user, login_required

from .. import policy
from ..web import page_number, url_builder
from . import bp
from .roster import PER_PAGE, SORTS, roster_page


@bp.before_request
@login_required
def staff_only():
    if not policy.can_view_roster(current_user):
        abort(403)


@bp.route("/learners")
def learners():
    roster = roster_page(
        learners=policy.visible_learners(current_user),
        query=request.args.get("q", ""),
        sort=request.args.get("sort", "name"),
        direction=request.args.get("dir"),
        page=page_number(request.args.get("page")),
    )
    return render_template("staff/learners.html", roster=roster, sorts=SORTS, per_page=PER_PAGE,
                           progress_url=url_builder("learn.learner_progress", "user_id"))
