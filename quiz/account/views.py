"""Each user's own account (/account: name and password) and the public reset-link page."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts
from ..extensions import db, limiter
from . import bp
from .forms import NameForm, PasswordForm, ResetForm


def _page(name_form=None, password_form=None, status: int = 200):
    user = current_user
    return render_template("account/account.html",
                           name_form=name_form or NameForm(name=user.name),
                           password_form=password_form or PasswordForm(formdata=None)), status


@bp.route("/account")
@login_required
def account():
    return _page()


@bp.route("/account/name", methods=["POST"])
@login_required
def change_name():
    form = NameForm()
    if form.validate_on_submit():
        try:
            changed = accounts.change_name(current_user._get_current_object(), form.name.data)
        except accounts.AccountError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Your name is saved." if changed else "Your name is unchanged.", "success")
            return redirect(url_for("account.account"))
    return _page(name_form=form, status=400)


def _password_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


@bp.route("/account/password", methods=["POST"])
@login_required
# Guessing the current password through this form is throttled like signing in.
@limiter.limit(_password_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
def change_password():
    """A new password ends every session of the account, and signs this one in again."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current.data, form.password.data)
        except accounts.WrongPassword as exc:
            form.current.errors.append(str(exc))
        except accounts.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)  # the session now holds the new token; old copies are worthless
            flash("Your password is changed. Any other place you were signed in is signed out.",
                  "success")
            return redirect(url_for("account.account"))
    db.session.rollback()
    return _page(password_form=form, status=400)


def _bad_link(exc: accounts.ResetLinkError):
    code = 410 if exc.gone else 404
    return render_template("account/reset_invalid.html", message=str(exc), code=code), code


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Set a new password with a one-time link an admin handed out. Works signed in or not;
    afterwards nobody is signed in (every session of the account ended) and the person signs
    in with the new password."""
    try:
        reset = accounts.find_reset(token)
    except accounts.ResetLinkError as exc:
        return _bad_link(exc)
    form = ResetForm()
    if form.validate_on_submit():
        try:
            accounts.use_reset_link(token, form.password.data)
        except accounts.ResetLinkError as exc:
            db.session.rollback()
            return _bad_link(exc)
        except accounts.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Your new password is set. Sign in with it.", "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("account/reset.html", form=form, expires_at=reset.expires_at,
                           aware=accounts.aware), status, {"Cache-Control": "no-store"}
