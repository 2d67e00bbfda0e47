from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts
from ..extensions import db, limiter, login_manager
from . import bp
from .forms import LoginForm, LogoutForm, RegisterForm


@login_manager.user_loader
def load_user(token: str):
    return accounts.load_user(token)


def _safe_next(default: str) -> str:
    target = request.args.get("next", "")
    # Only plain local paths: browsers read "\\" as "/" and drop control characters, so
    # anything holding those could turn "/\\evil.example" into another host.
    if (target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc
            and "\\" not in target and target.isprintable() and " " not in target):
        return target
    return default


def _start_session(user) -> None:
    session.clear()  # a fresh session on sign-in: nothing carried over from before
    login_user(user)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("learn.catalogue"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.password.data, form.name.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            _start_session(user)
            flash("Welcome! Pick a question set to start.", "success")
            return redirect(url_for("learn.catalogue"))
    status = 400 if form.errors else 200
    return render_template("auth/register.html", form=form), status


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return "login:" + accounts.normalise_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])  # per address
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)  # per account
def login():
    if current_user.is_authenticated:
        return redirect(url_for("learn.catalogue"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That e-mail and password do not match an account.")
        else:
            db.session.commit()  # a rehashed password, if argon2's parameters changed
            _start_session(user)
            return redirect(_safe_next(url_for("learn.catalogue")))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if not LogoutForm().validate_on_submit():
        abort(400)
    accounts.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
