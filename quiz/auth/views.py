import hashlib
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
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


REGISTERED_MESSAGE = ("Thank you. Sign in below with your e-mail address and password. If that "
                      "address already had an account, the account is unchanged: use its password.")


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])  # per client address
def register():
    """Registration that does not reveal which addresses have accounts.

    Without e-mail to confirm an address, a new address and a taken one get the same
    answer: a redirect to the sign-in page with the same message, nobody signed in. A new
    address has its account made; a taken one is left untouched. (Signing straight in
    after registering would tell the two apart.)
    """
    if current_user.is_authenticated:
        return redirect(url_for("learn.catalogue"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            accounts.register_learner(form.email.data, form.password.data, form.name.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            session["signin_email"] = accounts.normalise_email(form.email.data)
            flash(REGISTERED_MESSAGE, "success")
            # Came from a page that needs an account (a join code): back there after sign-in.
            target = _safe_next("")
            return redirect(url_for("auth.login", next=target or None))
    status = 400 if form.errors else 200
    return render_template("auth/register.html", form=form), status


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _address_account_key() -> str:
    """The client address with the account tried: guessing at one account from one place.

    Never the account alone: a throttle keyed on the account would let anyone lock its
    owner out by failing on purpose. The address is the client's own (see TRUSTED_PROXIES).
    """
    email = accounts.normalise_email(request.form.get("email", ""))
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # short keys, no e-mails in the store
    return f"login:{get_remote_address()}:{digest}"


def _failed(response) -> bool:
    """Only failed sign-ins use up the allowance; a successful one redirects."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)  # per address
@limiter.limit(_login_account_limit, methods=["POST"], key_func=_address_account_key,
               deduct_when=_failed)  # per (address, account)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("learn.catalogue"))
    form = LoginForm()
    if request.method == "GET" and not form.email.data:
        form.email.data = session.get("signin_email")  # just registered: the address typed
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
