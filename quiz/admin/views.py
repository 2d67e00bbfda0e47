"""Admin pages: every account (/admin/users) and one account's details and changes.

The views parse, call a function of quiz/accounts.py (which also writes the audit event),
commit once and redirect; refusals are 4xx with a message and write nothing.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import accounts, policy
from ..extensions import db
from ..models import PasswordReset, User
from ..vocab import Role
from ..web import page_number
from . import bp
from .directory import PER_PAGE, SORTS, STATUSES, user_page
from .forms import ActionForm, RoleForm


@bp.before_request
@login_required
def admins_only():
    if not policy.can_manage_users(current_user):
        abort(403)


@bp.route("/users")
def users():
    listing = user_page(
        query=request.args.get("q", ""),
        role=request.args.get("role", ""),
        status=request.args.get("status", "all"),
        sort=request.args.get("sort", "name"),
        direction=request.args.get("dir"),
        page=page_number(request.args.get("page")),
    )
    return render_template("admin/users.html", listing=listing, sorts=SORTS, statuses=STATUSES,
                           roles=list(Role), per_page=PER_PAGE)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _detail(user: User, status: int = 200, role_form: RoleForm | None = None,
            error: str | None = None, link: str | None = None, reset=None):
    role_form = role_form or RoleForm(role=user.role)
    pending = reset or db.session.scalar(
        db.select(PasswordReset).where(PasswordReset.user_id == user.id)
        .order_by(PasswordReset.created_at.desc(), PasswordReset.id.desc()).limit(1)
    )
    response = render_template("admin/user.html", user=user, role_form=role_form,
                               action_form=ActionForm(), error=error, link=link, reset=pending,
                               now=accounts.utcnow(), aware=accounts.aware)
    return response, status, ({"Cache-Control": "no-store"} if link else {})


@bp.route("/users/<id:user_id>")
def user(user_id: int):
    return _detail(_user_or_404(user_id))


@bp.route("/users/<id:user_id>/role", methods=["POST"])
def set_role(user_id: int):
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _detail(user, 400, role_form=form)
    try:
        changed = accounts.set_role(current_user._get_current_object(), user, form.role.data)
    except accounts.LastAdmin as exc:
        db.session.rollback()
        return _detail(db.session.get(User, user_id), 409, error=str(exc))
    name, role = user.name, user.role
    db.session.commit()
    flash(f"{name}'s role is now {role}." if changed else f"{name} already had that role.",
          "success")
    return redirect(url_for("admin.user", user_id=user_id))


def _action(user_id: int, change, done: str, same: str):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        changed = change(current_user._get_current_object(), user)
    except accounts.LastAdmin as exc:
        db.session.rollback()
        return _detail(db.session.get(User, user_id), 409, error=str(exc))
    name = user.name
    db.session.commit()
    flash((done if changed else same).format(name=name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<id:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int):
    return _action(user_id, accounts.deactivate,
                   "{name}'s account is deactivated: they are signed out everywhere and "
                   "cannot sign in.", "{name}'s account was already deactivated.")


@bp.route("/users/<id:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int):
    return _action(user_id, accounts.reactivate,
                   "{name}'s account is active again: they can sign in with their password.",
                   "{name}'s account was already active.")


@bp.route("/users/<id:user_id>/reset-link", methods=["POST"])
def reset_link(user_id: int):
    """Create a link and show it once, in this response (never stored, never cached)."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    try:
        link = accounts.create_reset_link(current_user._get_current_object(), user,
                                          timedelta(hours=hours))
    except accounts.AccountError as exc:
        db.session.rollback()
        return _detail(db.session.get(User, user_id), 409, error=str(exc))
    db.session.commit()
    url = url_for("account.reset", token=link.token, _external=True)
    return _detail(user, link=url, reset=link.reset)
