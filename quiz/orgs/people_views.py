"""Members and cohorts of an organisation: the member list, moving people between
cohorts, roles; site admins create organisations and their first manager.

Thin: each view checks who may act (tenancy.org_or_404; site admins for /orgs/admin),
reads a form, calls quiz.orgs.people, commits once and redirects. A refusal
(people.PeopleError) rolls back and shows the page again with the message and the error's
status (400, 404, 409).
"""

from __future__ import annotations

from functools import partial

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import policy
from ..extensions import db
from ..models import Organisation
from ..models._common import utcnow
from ..vocab import OrgRole
from ..web import page_number, url_builder
from . import bp, people
from .people import NO_COHORT, PER_PAGE, PeopleError
from .people_forms import (
    ActionForm,
    CohortForm,
    MemberCohortForm,
    MemberRoleForm,
    MoveForm,
    NewOrganisationForm,
    OrgActiveForm,
    OrgNameForm,
    target_cohort,
)
from .tenancy import Need, can_act, in_org_or_404, member_or_404, org_or_404

LIST_ARGS = ("q", "cohort", "role", "sort", "dir", "page")


def _actor():
    return current_user._get_current_object()


def _error_page(exc: PeopleError):
    return render_template("error.html", code=exc.status, message=str(exc)), exc.status


# --- the member list -------------------------------------------------------------------------

def _list_args(source) -> dict[str, str]:
    """The list's filter, sort and page as given (the bulk form carries them along)."""
    return {k: source.get(k, "") for k in LIST_ARGS if source.get(k)}


def _members_page(org, args: dict[str, str], *, status: int = 200, error: str | None = None,
                  move_form: MoveForm | None = None):
    cohorts = people.cohort_rows(org.id)
    listing = people.member_page(
        org.id, cohorts, query=args.get("q", ""), cohort=args.get("cohort", ""),
        role=args.get("role", ""), sort=args.get("sort", "name"), direction=args.get("dir"),
        page=page_number(args.get("page")))
    keep = {k: v for k, v in (("q", listing.query), ("cohort", listing.cohort),
                              ("role", listing.role)) if v}

    def list_url(page=1, sort=None, direction=None):
        return url_for("orgs.members", org_id=org.id, **keep, sort=sort or listing.sort,
                       dir=direction or (None if sort else listing.direction),
                       page=page if page > 1 else None)

    return render_template(
        "orgs/members.html", org=org, listing=listing, cohorts=cohorts, roles=list(OrgRole),
        no_cohort=NO_COHORT, per_page=PER_PAGE, list_url=list_url, error=error,
        page_url=lambda n: list_url(page=n, sort=listing.sort, direction=listing.direction),
        can_manage=can_act(current_user, org.id, Need.MANAGE),
        move_form=move_form or MoveForm(formdata=None),
        member_url=url_builder("orgs.member", "user_id", org_id=org.id),
        hidden={k: v for k, v in (*keep.items(), ("sort", listing.sort),
                                  ("dir", listing.direction), ("page", str(listing.page)))},
    ), status


@bp.route("/<id:org_id>/members")
@login_required
def members(org_id: int):
    """The organisation's people, 50 a page: managers and admins change, instructors look."""
    org = org_or_404(current_user, org_id, Need.VIEW)
    try:
        return _members_page(org, request.args)
    except PeopleError as exc:
        return _error_page(exc)


@bp.route("/<id:org_id>/members/move", methods=["POST"])
@login_required
def move_members(org_id: int):
    """Move the ticked members to a cohort (or to none): every one of them, or nobody."""
    org = org_or_404(current_user, org_id, Need.MANAGE)
    form = MoveForm()
    args = _list_args(request.form)
    try:
        if not form.validate_on_submit():
            raise PeopleError(" ".join(e for errs in form.errors.values() for e in errs)
                              or "The form was not valid.")
        moved = people.move_members(_actor(), org, form.ids.data, target_cohort(form.target.data))
    except PeopleError as exc:
        db.session.rollback()
        try:
            return _members_page(org, args, status=exc.status, error=str(exc), move_form=form)
        except PeopleError:
            return _members_page(org, {}, status=exc.status, error=str(exc), move_form=form)
    db.session.commit()
    flash(f"Moved {moved} member{'s' if moved != 1 else ''}." if moved
          else "Nothing changed: they were already there.", "success")
    return redirect(url_for("orgs.members", org_id=org_id, **args))


# --- one member ------------------------------------------------------------------------------

def _member_page(org, user_id: int, *, status: int = 200, error: str | None = None,
                 role_form: MemberRoleForm | None = None):
    membership = people.membership_with_person(org.id, user_id)
    if membership is None:
        abort(404)
    return render_template(
        "orgs/member.html", org=org, m=membership, cohorts=people.cohort_rows(org.id),
        no_cohort=NO_COHORT, error=error, can_manage=can_act(current_user, org.id, Need.MANAGE),
        cohort_form=MemberCohortForm(formdata=None),
        role_form=role_form or MemberRoleForm(formdata=None, role=membership.role),
        action_form=ActionForm(formdata=None), roles=list(OrgRole),
    ), status


@bp.route("/<id:org_id>/members/<id:user_id>")
@login_required
def member(org_id: int, user_id: int):
    org = org_or_404(current_user, org_id, Need.VIEW)
    return _member_page(org, user_id)


def _member_change(org_id: int, user_id: int, change, done):
    """Run `change(org, membership)` for a manager; commit, or show the refusal."""
    org = org_or_404(current_user, org_id, Need.MANAGE)
    membership = member_or_404(org.id, user_id)
    try:
        result = change(org, membership)
    except PeopleError as exc:
        db.session.rollback()
        return _member_page(org, user_id, status=exc.status, error=str(exc))
    db.session.commit()
    message, target = done(result)
    flash(message, "success")
    return redirect(target)


@bp.route("/<id:org_id>/members/<id:user_id>/cohort", methods=["POST"])
@login_required
def member_cohort(org_id: int, user_id: int):
    def change(org, membership):
        form = MemberCohortForm()
        if not form.validate_on_submit():
            raise PeopleError("Choose the cohort to move to.")
        return people.move_members(_actor(), org, [membership.user_id],
                                   target_cohort(form.cohort.data))

    return _member_change(org_id, user_id, change, lambda moved: (
        "Moved." if moved else "Nothing changed: already there.",
        url_for("orgs.member", org_id=org_id, user_id=user_id)))


@bp.route("/<id:org_id>/members/<id:user_id>/role", methods=["POST"])
@login_required
def member_role(org_id: int, user_id: int):
    def change(org, membership):
        form = MemberRoleForm()
        if not form.validate_on_submit():
            raise PeopleError(f"Role must be one of: {', '.join(OrgRole)}.")
        return people.set_member_role(_actor(), org, membership, form.role.data)

    return _member_change(org_id, user_id, change, lambda changed: (
        "Role changed." if changed else "Nothing changed: they already had that role.",
        url_for("orgs.member", org_id=org_id, user_id=user_id)))


@bp.route("/<id:org_id>/members/<id:user_id>/remove", methods=["POST"])
@login_required
def member_remove(org_id: int, user_id: int):
    me = current_user.id

    def change(org, membership):
        if not ActionForm().validate_on_submit():
            raise PeopleError("The form was not valid: reload the page and try again.")
        name = membership.user.name
        people.remove_member(_actor(), org, membership)
        return name

    def done(name):
        if user_id == me and not policy.is_admin(current_user):
            return "You left the organisation.", url_for("orgs.index")
        return (f"{name} is no longer a member (their attempts are kept).",
                url_for("orgs.members", org_id=org_id))

    return _member_change(org_id, user_id, change, done)


# --- cohorts ---------------------------------------------------------------------------------

def _cohorts_page(org, *, status: int = 200, error: str | None = None,
                  form: CohortForm | None = None, failed: int | None = None):
    cohorts = people.cohort_rows(org.id)
    return render_template(
        "orgs/cohorts.html", org=org, cohorts=cohorts, error=error, failed=failed,
        can_manage=can_act(current_user, org.id, Need.MANAGE),
        form=form or CohortForm(formdata=None), action_form=ActionForm(formdata=None),
        members_url=partial(url_for, "orgs.members", org_id=org.id),
    ), status


@bp.route("/<id:org_id>/cohorts", methods=["GET", "POST"])
@login_required
def cohorts(org_id: int):
    """The cohorts with their member counts; POST (managers) creates one."""
    if request.method == "GET":
        return _cohorts_page(org_or_404(current_user, org_id, Need.VIEW))
    org = org_or_404(current_user, org_id, Need.MANAGE)
    form = CohortForm()
    try:
        if not form.validate_on_submit():
            raise PeopleError(" ".join(e for errs in form.errors.values() for e in errs))
        cohort = people.create_cohort(_actor(), org, form.name.data)
    except PeopleError as exc:
        db.session.rollback()
        return _cohorts_page(org, status=exc.status, error=str(exc), form=form)
    name = cohort.name
    db.session.commit()
    flash(f"Cohort {name} created.", "success")
    return redirect(url_for("orgs.cohorts", org_id=org_id))


@bp.route("/<id:org_id>/cohorts/<id:cohort_id>/rename", methods=["POST"])
@login_required
def cohort_rename(org_id: int, cohort_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    cohort = in_org_or_404(people.Cohort, org.id, cohort_id)
    form = CohortForm()
    try:
        if not form.validate_on_submit():
            raise PeopleError(" ".join(e for errs in form.errors.values() for e in errs))
        changed = people.rename_cohort(_actor(), org, cohort, form.name.data)
    except PeopleError as exc:
        db.session.rollback()
        return _cohorts_page(org, status=exc.status, error=str(exc), failed=cohort_id)
    name = cohort.name
    db.session.commit()
    flash(f"Cohort renamed {name}." if changed else "Nothing changed: same name.", "success")
    return redirect(url_for("orgs.cohorts", org_id=org_id))


@bp.route("/<id:org_id>/cohorts/<id:cohort_id>/delete", methods=["POST"])
@login_required
def cohort_delete(org_id: int, cohort_id: int):
    org = org_or_404(current_user, org_id, Need.MANAGE)
    cohort = in_org_or_404(people.Cohort, org.id, cohort_id)
    try:
        if not ActionForm().validate_on_submit():
            raise PeopleError("The form was not valid: reload the page and try again.")
        name = cohort.name
        people.delete_cohort(_actor(), org, cohort, utcnow())
    except PeopleError as exc:
        db.session.rollback()
        return _cohorts_page(org, status=exc.status, error=str(exc))
    db.session.commit()
    flash(f"Cohort {name} deleted.", "success")
    return redirect(url_for("orgs.cohorts", org_id=org_id))


# --- site admins: every organisation, a new one ----------------------------------------------

def _admins_only() -> None:
    if not policy.can_manage_users(current_user):
        abort(403)


def _admin_list(status: int = 200, error: str | None = None, failed: int | None = None):
    return render_template("orgs/admin_orgs.html", rows=people.organisation_rows(),
                           home_url=url_builder("orgs.home", "org_id"), error=error,
                           failed=failed, action_form=ActionForm(formdata=None)), status


@bp.route("/admin")
@login_required
def admin_orgs():
    """Every organisation with its member, manager and cohort counts (site admins)."""
    _admins_only()
    return _admin_list()


def _admin_change(org_id: int, form_class, change):
    _admins_only()
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    form = form_class()
    try:
        if not form.validate_on_submit():
            raise PeopleError(" ".join(e for errs in form.errors.values() for e in errs)
                              or "The form was not valid.")
        changed = change(org, form)
    except PeopleError as exc:
        db.session.rollback()
        return _admin_list(exc.status, str(exc), failed=org_id)
    name = org.name
    db.session.commit()
    flash(f"{name}: saved." if changed else f"{name}: nothing changed.", "success")
    return redirect(url_for("orgs.admin_orgs"))


@bp.route("/admin/<id:org_id>/rename", methods=["POST"])
@login_required
def admin_rename_org(org_id: int):
    return _admin_change(org_id, OrgNameForm, lambda org, form: people.rename_organisation(
        _actor(), org, form.name.data))


@bp.route("/admin/<id:org_id>/active", methods=["POST"])
@login_required
def admin_org_active(org_id: int):
    return _admin_change(org_id, OrgActiveForm, lambda org, form: people.set_organisation_active(
        _actor(), org, form.active.data == "yes"))


@bp.route("/admin/new", methods=["GET", "POST"])
@login_required
def admin_new_org():
    """A new organisation and its first manager (mailed a link to set a password if new)."""
    _admins_only()
    form = NewOrganisationForm()
    if request.method == "GET":
        return render_template("orgs/admin_new.html", form=form, error=None)
    try:
        if not form.validate_on_submit():
            raise PeopleError("Correct the marked fields.")
        created = people.create_organisation(
            _actor(), form.name.data, form.manager_email.data, form.manager_name.data,
            external=partial(url_for, _external=True),
            link_valid_for=people.manager_link_lifetime(current_app.config))
    except PeopleError as exc:
        db.session.rollback()
        return render_template("orgs/admin_new.html", form=form, error=str(exc)), exc.status
    name, email, new = created.org.name, created.manager.email, created.created_account
    db.session.commit()
    flash(f"Created {name}. {email} is its manager"
          + (": a new account, mailed a link to choose a password." if new
             else " (an existing account, told by mail)."), "success")
    return redirect(url_for("orgs.admin_orgs"))
