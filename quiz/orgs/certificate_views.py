"""Certificates: a learner's PDFs, an organisation's list and revoking, the public
verification page.

Two blueprints. The organisation's pages are on `orgs` (/orgs/<org_id>/certificates...),
scoped by tenancy like every page there. The pages that are not an organisation's live on
`public_bp` ("certificates", registered in create_app): the public verification page
(/verify, /verify/<code>: no sign-in, short enough to print), the learner's own list
(/certificates) and the PDF (/certificates/<id>.pdf: its learner, the organisation's
managers and instructors, site admins; 404 for anyone else). Its CLI group is
`flask --app wsgi certificates ...`.
"""

from __future__ import annotations

import re

import click
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db, limiter
from ..models import Certificate
from ..models._common import utcnow
from ..web import page_number
from . import bp
from . import certificates as certs
from .certificate_pdf import DEJAVU_DIR, CertificateText, render_pdf
from .tenancy import Need, can_act, in_org_or_404, org_or_404

public_bp = Blueprint("certificates", __name__, cli_group="certificates")

# Failed look-ups (unknown codes) per client address; a real code never uses any up.
VERIFY_RATE_LIMIT = "20 per minute;200 per day"


class VerifyForm(FlaskForm):
    """The code typed on /verify (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    code = StringField("Verification code", validators=[DataRequired(), Length(max=64)])


class RevokeForm(FlaskForm):
    reason = StringField("Reason", validators=[
        DataRequired("Say why the certificate is revoked."),
        Length(max=certs.MAX_REASON, message=f"Keep the reason to {certs.MAX_REASON} characters.")])


# --- public: verification ------------------------------------------------------------------

def _verify_limit() -> str:
    return current_app.config.get("VERIFY_RATE_LIMIT", VERIFY_RATE_LIMIT)


def _not_found(response) -> bool:
    return response.status_code == 404


@public_bp.route("/verify")
def verify_form():
    """A form to type a code; a well-formed one is sent on to its page."""
    form = VerifyForm(request.args)
    if "code" not in request.args:
        return render_template("orgs/certificate_verify.html", form=VerifyForm(formdata=None))
    code = certs.normalise_code(form.code.data) if form.validate() else None
    if code is None:
        form.code.errors = [*form.code.errors] or [
            f"A code has {certs.CODE_LENGTH} letters and digits, like ABCD-EFGH-JKMN."]
        return render_template("orgs/certificate_verify.html", form=form), 400
    return redirect(url_for("certificates.verify", code=code))


@public_bp.route("/verify/<code>")
@limiter.limit(_verify_limit, key_func=lambda: f"verify:{get_remote_address()}", deduct_when=_not_found)
def verify(code: str):
    """Whether a certificate is valid, expired or revoked, with the facts it states and
    nothing else. Unknown codes: a friendly 404 (rate-limited per address)."""
    cert = certs.find_by_code(code)
    form = VerifyForm(formdata=None)
    if cert is None:
        return render_template("orgs/certificate_verify.html", form=form, missing=True), 404
    response = current_app.make_response(render_template(
        "orgs/certificate_verify.html", form=form, cert=cert,
        status=certs.certificate_status(cert, utcnow()), code=certs.display_code(cert.code)))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- the learner's own, and the PDF --------------------------------------------------------

@public_bp.route("/certificates")
@login_required
def mine():
    """The signed-in person's certificates, newest first."""
    now = utcnow()
    rows = [(cert, certs.certificate_status(cert, now))
            for cert in certs.my_certificates(current_user.id)]
    return render_template("orgs/certificates_mine.html", certificates=rows,
                           display_code=certs.display_code)


def _file_name(cert: Certificate) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", cert.set_title.lower()).strip("-")[:40] or "set"
    return f"certificate-{slug}-{cert.code}.pdf"


@public_bp.route("/certificates/<id:certificate_id>.pdf")
@login_required
def pdf(certificate_id: int):
    cert = db.session.get(Certificate, certificate_id)
    if cert is None or not certs.can_download(current_user, cert):
        abort(404)
    text = CertificateText(
        learner_name=cert.learner_name, set_title=cert.set_title, org_name=cert.org_name,
        score=cert.score, issued_at=cert.issued_at, expires_at=cert.expires_at,
        revoked_at=cert.revoked_at, code=certs.display_code(cert.code),
        verify_url=url_for("certificates.verify", code=cert.code, _external=True))
    body = render_pdf(text, current_app.config.get("CERTIFICATE_FONT_DIR", DEJAVU_DIR))
    response = Response(body, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=_file_name(cert))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@public_bp.cli.command("backfill")
def backfill_command() -> None:
    """Issue certificates for passing assignment attempts made before certificates existed."""
    issued = certs.backfill()
    db.session.commit()
    click.echo(f"{len(issued)} certificate(s) issued.")


# --- the organisation's list, one certificate, revoking ------------------------------------

@bp.route("/<id:org_id>/certificates")
@login_required
def certificates(org_id: int):
    """The organisation's certificates: 50 a page, by status, searched by name."""
    org = org_or_404(current_user, org_id, Need.VIEW)
    listing = certs.org_certificate_page(org.id, utcnow(), request.args.get("q", ""),
                                         request.args.get("status", ""),
                                         page_number(request.args.get("page")))
    return render_template("orgs/certificates.html", org=org, listing=listing, now=utcnow(),
                           statuses=certs.STATUS_CHOICES, status_of=certs.certificate_status,
                           display_code=certs.display_code)


def _certificate_page(org, cert: Certificate, form: RevokeForm, status: int = 200, error: str = ""):
    return render_template(
        "orgs/certificate.html", org=org, cert=cert, form=form, error=error,
        status=certs.certificate_status(cert, utcnow()), code=certs.display_code(cert.code),
        can_manage=can_act(current_user, org.id, Need.MANAGE)), status


@bp.route("/<id:org_id>/certificates/<id:certificate_id>")
@login_required
def certificate(org_id: int, certificate_id: int):
    org = org_or_404(current_user, org_id, Need.VIEW)
    cert = in_org_or_404(Certificate, org.id, certificate_id)
    return _certificate_page(org, cert, RevokeForm(formdata=None))


@bp.route("/<id:org_id>/certificates/<id:certificate_id>/revoke", methods=["POST"])
@login_required
def revoke_certificate(org_id: int, certificate_id: int):
    """Revoke (final): 400 without a reason, 409 if it was revoked already."""
    org = org_or_404(current_user, org_id, Need.MANAGE)
    cert = in_org_or_404(Certificate, org.id, certificate_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _certificate_page(org, cert, form, 400)
    try:
        certs.revoke(cert, current_user._get_current_object(), form.reason.data, utcnow())
    except certs.AlreadyRevoked as exc:  # nothing was written
        return _certificate_page(org, cert, RevokeForm(formdata=None), 409, str(exc))
    except certs.CertificateError as exc:
        form.reason.errors = [str(exc)]
        return _certificate_page(org, cert, form, 400)
    db.session.commit()
    flash(f"Certificate {certs.display_code(cert.code)} is revoked. Its verification page says so.",
          "success")
    return redirect(url_for("orgs.certificate", org_id=org_id, certificate_id=certificate_id))
