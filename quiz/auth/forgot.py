"""/auth/forgot: "Forgot your password?" — ask for a reset link by e-mail (recovery.py).

Every request gets the same answer (a redirect to the sign-in page with the same message),
whether or not the address has an account; POSTs are throttled per client address like
sign-in (FORGOT_RATE_LIMIT).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from .. import accounts
from ..extensions import db, limiter
from ..mail import site_url
from . import bp
from .recovery import request_password_reset

FORGOT_RATE_LIMIT = "5 per minute;20 per hour"  # default; QUIZ_FORGOT_RATE_LIMIT overrides
SENT_MESSAGE = ("If an account has this address, a link to choose a new password is on its way "
                "to it. The link works once, for {hours} hours. No mail? Check the address and "
                "your spam folder, or ask again in a few minutes.")


class ForgotForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)],
                       description="The address you sign in with.")
    submit = SubmitField("Send me a link")

    def validate_email(self, field) -> None:
        if not accounts.EMAIL_RE.match(accounts.normalise_email(field.data or "")):
            raise ValidationError("Enter a valid e-mail address.")


def _forgot_limit() -> str:
    return current_app.config.get("FORGOT_RATE_LIMIT", FORGOT_RATE_LIMIT)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_forgot_limit, methods=["POST"])  # per client address
def forgot():
    if current_user.is_authenticated:
        return redirect(url_for("learn.catalogue"))
    form = ForgotForm()
    if form.validate_on_submit():
        hours = current_app.config["PASSWORD_RESET_HOURS"]
        request_password_reset(form.email.data, timedelta(hours=hours),
                               lambda token: site_url("account.reset", token=token))
        db.session.commit()
        flash(SENT_MESSAGE.format(hours=hours), "success")
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/forgot.html", form=form), status
