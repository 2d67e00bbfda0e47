"""Pages for instructors and admins: the learner roster (clinic onboarding at a glance)."""

from flask import abort, render_template
from flask_login import current_user, login_required

from .. import progress
from . import bp


@bp.before_request
@login_required
def staff_only():
    if not current_user.is_staff:
        abort(403)


@bp.route("/learners")
def learners():
    return render_template("staff/learners.html", roster=progress.learner_roster())
