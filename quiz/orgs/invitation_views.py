"""Bringing staff in: invitations by e-mail list or CSV (preview, then all or nothing),
join codes, and the invitee's side (accepting, setting a password, joining).

Thin views: quiz/orgs/invitations.py does the work. Manager pages start with
tenancy.org_or_404(current_user, org_id, Need.MANAGE) and find rows with in_org_or_404;
the invitation link (/orgs/invite/<token>) and the join pages (/orgs/join...) are public,
since the person arriving may have no account yet.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user
from sqlalchemy import exists, select

from ..extensions import db, limiter, login_manager
from ..models import Invitation, JoinCode, Membership
from ..models._common import utcnow
from ..vocab import OrgRole, Role
from ..web import allow_upload, url_builder
from . import bp
from . import invitations as inv
from .invitation_forms import AcceptForm, ActionForm, ConfirmForm, InviteForm, JoinCodeForm
from .tenancy import Need, can_act, in_org_or_404, org_or_404

NO_STORE = {"Cache-Control": "no-store"}


def _manages_some_org(user) -> bool:
    """Who may send a CSV larger than the ordinary request limit: admins and managers."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.ADMIN:
        return True
    return bool(db.session.scalar(select(exists().where(
        Membership.user_id == user.id, Membership.role == OrgRole.MANAGER))))


# The file plus the form's few fields and multipart's boundaries.
allow_upload("orgs.invite_new", inv.MAX_CSV_BYTES + 64 * 1024, _manages_some_org)


def _link(token: str) -> str:
    return url_for("orgs.invite", token=token, _external=True)


# --- the manager's side: inviting --------------------------------------------------------

def _form_page(org, form: InviteForm, status: int = 200, error: str | None = None):
    return render_template("orgs/invite_new.html", org=org, form=form, error=error,
                           max_rows=inv.MAX_ROWS), status


@bp.route("/<id:org_id>/invitations/new", methods=["GET", "POST"])
@login_required
def invite_new(org_id: int):
    """GET: the form. POST: read the list or file and show every row with its problems;
    nothing is written."""
    org = org_or_404(current_user, org_id, Need.MANAGE)
    if request.method == "GET":
        form = InviteForm(formdata=None)
        form.set_cohorts(inv.cohort_choices(org.id))
        return _form_page(org, form)
    form = InviteForm()
    cohorts = inv.cohort_choices(org.id)
    form.set_cohorts(cohorts)
    if not form.validate_on_submit():
        return _form_page(org, form, 400)
    upload = form.csv_file.data
    has_file = upload is not None and getattr(upload, "filename", "")
    notes: list[str] = []
    try:
        if has_file and (form.emails.data or "").strip():
            raise inv.InviteFileError("Use either the list of addresses or a CSV file, not both.")
        if has_file:
            data = upload.stream.read(inv.MAX_CSV_BYTES + 1)
            rows, notes = inv.parse_csv(data)
        else:
            rows = inv.parse_email_list(form.emails.data or "")
    except inv.InviteFileError as exc:
        return _form_page(org, form, exc.status, str(exc))
    default_cohort = int(form.cohort.data) if form.cohort.data else None
    inv.check_rows(org.id, rows, utcnow(), default_cohort_id=default_cohort)
    return _preview_page(org, OrgRole(form.role.data), rows, notes, from_file=bool(has_file))


def _preview_page(org, role: OrgRole, rows: list, notes: list[str], *, from_file: bool,
                  status: int = 200, stale: bool = False):
    good = [r for r in rows if r.ok]
    signed = inv.sign_preview(org.id, current_user.id, role, rows) if good else None
    if good and signed is None:
        notes = [*notes, "This list is too large to confirm in one go: split it in two."]
    return render_template("orgs/invite_preview.html", org=org, rows=rows, good=len(good),
                           bad=len(rows) - len(good), role=role, notes=notes, from_file=from_file,
                           stale=stale, form=ConfirmForm(formdata=None, preview=signed),
                           signed=signed), status


@bp.route("/<id:org_id>/invitations/confirm", methods=["POST"])
@login_required
def invite_confirm(org_id: int):
    """Write every previewed invitation in one transaction, or none."""
    org = org_or_404(current_user, org_id, Need.MANAGE)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        role, rows = inv.read_preview(form.preview.data, org.id, current_user.id)
    except inv.PreviewRefused as exc:
        return render_template("error.html", code=400, message=str(exc)), 400
    try:
        made = inv.create_invitations(org, current_user._get_current_object(), role, rows,
                                      utcnow(), _link)
    except inv.StalePreview as exc:
        db.session.rollback()
        return _preview_page(org, role, exc.rows, [], from_file=False, status=409, stale=True)
    db.session.commit()
    flash(f"{len(made)} invitation{'s' if len(made) != 1 else ''} sent.", "success")
    return redirect(url_for("orgs.invite_list", org_id=org_id))


@bp.route("/<id:org_id>/invitations")
@login_required
def invite_list(org_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    page = request.args.get("page", "1")
    listing = inv.list_invitations(org.id, utcnow(), request.args.get("status") or None,
                                   int(page) if page.isdigit() and len(page) < 7 else 1)
    return render_template("orgs/invite_list.html", org=org, listing=listing, now=utcnow(),
                           row_status=inv.row_status, statuses=inv.STATUSES, form=ActionForm(),
                           resend_url=url_builder("orgs.invite_resend", "invitation_id",
                                                  org_id=org.id, status=listing.status),
                           revoke_url=url_builder("orgs.invite_revoke", "invitation_id",
                                                  org_id=org.id, status=listing.status))


def _back_to_list(org_id: int):
    status = request.args.get("status")
    return redirect(url_for("orgs.invite_list", org_id=org_id,
                            status=status if status in inv.STATUSES else None))


@bp.route("/<id:org_id>/invitations/<id:invitation_id>/resend", methods=["POST"])
@login_required
def invite_resend(org_id: int, invitation_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    invitation = in_org_or_404(Invitation, org.id, invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        inv.resend(org, invitation, current_user._get_current_object(), utcnow(), _link)
    except inv.Conflict as exc:
        db.session.rollback()
        return render_template("error.html", code=409, message=str(exc)), 409
    db.session.commit()
    flash(f"A new invitation link went to {invitation.email}; the old one no longer works.",
          "success")
    return _back_to_list(org_id)


@bp.route("/<id:org_id>/invitations/<id:invitation_id>/revoke", methods=["POST"])
@login_required
def invite_revoke(org_id: int, invitation_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    invitation = in_org_or_404(Invitation, org.id, invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        done = inv.revoke(org, invitation, current_user._get_current_object(), utcnow())
    except inv.Conflict as exc:
        db.session.rollback()
        return render_template("error.html", code=409, message=str(exc)), 409
    db.session.commit()
    flash(f"The invitation of {invitation.email} is withdrawn." if done
          else "That invitation was already withdrawn.", "success")
    return _back_to_list(org_id)


@bp.errorhandler(413)
def too_large(error):
    """A CSV over the limit is refused before it is read (web.check_request)."""
    org_id = (request.view_args or {}).get("org_id")
    if request.endpoint == "orgs.invite_new" and can_act(current_user, org_id, Need.MANAGE):
        org = org_or_404(current_user, org_id, Need.MANAGE)
        form = InviteForm(formdata=None)
        form.set_cohorts(inv.cohort_choices(org.id))
        return _form_page(org, form, 413, "The file is larger than 1 MiB: nothing was read. "
                                          "Split it into smaller files.")
    return render_template("error.html", code=413, message=str(error.description)), 413


# --- the manager's side: join codes -------------------------------------------------------

@bp.route("/<id:org_id>/join-codes", methods=["GET", "POST"])
@login_required
def join_codes(org_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    form = JoinCodeForm(formdata=None if request.method == "GET" else request.form)
    cohorts = inv.cohort_choices(org.id)
    form.set_cohorts(cohorts)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                code = inv.create_join_code(
                    org, current_user._get_current_object(), utcnow(), form.days.data,
                    form.max_uses.data, int(form.cohort.data) if form.cohort.data else None)
            except ValueError as exc:
                db.session.rollback()
                form.days.errors = [*form.days.errors, str(exc)]
            else:
                db.session.commit()
                flash(f"New join code: {inv.pretty_code(code.code)}", "success")
                return redirect(url_for("orgs.join_codes", org_id=org_id))
        status = 400
    return render_template("orgs/join_codes.html", org=org, form=form, action=ActionForm(),
                           codes=inv.list_join_codes(org.id), now=utcnow(),
                           code_status=inv.code_status, pretty=inv.pretty_code,
                           revoke_url=url_builder("orgs.join_code_revoke", "code_id",
                                                  org_id=org.id)), status


@bp.route("/<id:org_id>/join-codes/<id:code_id>/revoke", methods=["POST"])
@login_required
def join_code_revoke(org_id: int, code_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    join_code = in_org_or_404(JoinCode, org.id, code_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    done = inv.revoke_join_code(org, join_code, current_user._get_current_object(), utcnow())
    db.session.commit()
    flash("The join code is withdrawn: it no longer lets anyone in." if done
          else "That join code was already withdrawn.", "success")
    return redirect(url_for("orgs.join_codes", org_id=org_id))


# --- the invitee's side -------------------------------------------------------------------

def _refused(exc: inv.LinkError, kind: str = "invitation"):
    return render_template("orgs/invite_invalid.html", message=str(exc), code=exc.status,
                           kind=kind), exc.status, NO_STORE


def _sign_in(user) -> None:
    """As quiz.auth does: a fresh session, holding the account's session token."""
    session.clear()
    login_user(user)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):
    """The one-time link of an invitation (see invitations.py for the cases)."""
    now = utcnow()
    try:
        invitation = inv.find_invitation(token, now)
    except inv.LinkError as exc:
        gone = exc.invitation
        if (gone is not None and current_user.is_authenticated
                and gone.accepted_user_id == current_user.id):
            flash(f"You have joined {gone.organisation.name}.", "success")
            return redirect(url_for("orgs.index"))
        return _refused(exc)
    org = invitation.organisation
    if current_user.is_authenticated:
        return _invite_signed_in(invitation, org, now)
    if inv.account_for(invitation.email) is not None:
        login = url_for("auth.login", next=request.path)
        if request.method == "POST":
            return redirect(login)
        return render_template("orgs/invite_accept.html", invitation=invitation, org=org,
                               mode="sign-in", login=login), 200, NO_STORE
    form = AcceptForm(formdata=request.form if request.method == "POST" else None,
                      name=invitation.name or "")
    form.email = invitation.email
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = inv.accept_new(invitation, form.name.data, form.password.data, now)
            except inv.LinkError as exc:
                db.session.rollback()
                return _refused(exc)
            except inv.accounts.AccountError as exc:
                db.session.rollback()
                form.password.errors = [*form.password.errors, str(exc)]
            else:
                db.session.commit()
                _sign_in(user)
                flash(f"Welcome! Your account is ready and you have joined {org.name}.",
                      "success")
                return redirect(url_for("orgs.index"))
        status = 400
    return render_template("orgs/invite_accept.html", invitation=invitation, org=org,
                           mode="create", form=form), status, NO_STORE


def _invite_signed_in(invitation, org, now):
    user = current_user._get_current_object()
    if inv.accounts.normalise_email(user.email) != invitation.email:
        return _refused(inv.LinkError(inv.wrong_account_message(invitation), 403))
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            joined = inv.accept_existing(invitation, user, now)
        except inv.LinkError as exc:
            db.session.rollback()
            return _refused(exc)
        db.session.commit()
        flash(f"You have joined {org.name}." if joined
              else f"You were a member of {org.name} already.", "success")
        return redirect(url_for("orgs.index"))
    return render_template("orgs/invite_accept.html", invitation=invitation, org=org,
                           mode="join", form=form,
                           member=inv.is_member(org.id, user.id)), 200, NO_STORE


# --- joining with a code ------------------------------------------------------------------

def _join_limit() -> str:
    return current_app.config.get("JOIN_RATE_LIMIT", "30 per minute;300 per day")


@bp.route("/join")
def join_enter():
    """A form to type a code; it sends the code to /orgs/join/<code>."""
    raw = request.args.get("code")
    if raw is not None:
        code = inv.normalise_code(raw)[:40]
        if code:
            return redirect(url_for("orgs.join_code", code=code))
    return render_template("orgs/join_enter.html", empty=raw is not None)


@bp.route("/join/<code>", methods=["GET", "POST"])
@limiter.limit(_join_limit)  # per client address: guessing codes
def join_code(code: str):
    now = utcnow()
    try:
        join = inv.find_join_code(code, now)
    except inv.LinkError as exc:
        return _refused(exc, "code")
    org = join.organisation
    if not current_user.is_authenticated:
        if request.method == "POST":
            return login_manager.unauthorized()
        return render_template("orgs/join_confirm.html", org=org, join=join, mode="anonymous",
                               login=url_for("auth.login", next=request.path),
                               register=url_for("auth.register", next=request.path))
    user = current_user._get_current_object()
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            inv.use_join_code(join, user, now)
        except inv.AlreadyMember:
            db.session.rollback()
            flash(f"You are a member of {org.name} already.", "info")
            return redirect(url_for("orgs.index"))
        except inv.LinkError as exc:
            db.session.rollback()
            return _refused(exc, "code")
        db.session.commit()
        flash(f"You have joined {org.name}.", "success")
        return redirect(url_for("orgs.index"))
    mode = "member" if inv.is_member(org.id, user.id) else "confirm"
    return render_template("orgs/join_confirm.html", org=org, join=join, mode=mode, form=form)
