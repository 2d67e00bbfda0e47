"""Tenancy: who may act in which organisation, and lookups scoped by organisation.

Every page under /orgs/<org_id>/ starts with `org_or_404(current_user, org_id, need)`
and finds its rows with `in_org_or_404` / `member_or_404`, which filter by the
organisation's id in SQL: an id that belongs to another organisation is not found (404),
exactly like an id that exists nowhere, so ids reveal nothing across tenants.

Who may do what inside an organisation:
- MANAGE (invite, cohorts, assignments, certificates, members): its managers, and site admins.
- VIEW (results, the dashboard, attempt reviews of its assignments): managers, its
  instructors, and site admins.
Members (learners) see their own assignments only, through quiz.orgs.results.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from flask import abort
from sqlalchemy import and_, exists, select

from ..extensions import db
from ..models import Assignment, Cohort, Membership, Organisation, User
from ..vocab import OrgRole, Role

T = TypeVar("T")


class Need(Enum):
    MANAGE = frozenset({OrgRole.MANAGER})
    VIEW = frozenset({OrgRole.MANAGER, OrgRole.INSTRUCTOR})


def _signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def _is_admin(user: Any) -> bool:
    return _signed_in(user) and user.role == Role.ADMIN


def org_role(user: Any, org_id: int) -> OrgRole | None:
    """The user's role in the organisation, or None (anonymous, or not a member)."""
    if not _signed_in(user):
        return None
    role = db.session.scalar(select(Membership.role).where(
        Membership.org_id == org_id, Membership.user_id == user.id))
    return OrgRole(role) if role is not None else None


def org_or_404(user: Any, org_id: int, need: Need = Need.MANAGE) -> Organisation:
    """The organisation, if `user` may act in it as `need` says; 404 otherwise (one query).

    Site admins may act in every organisation; everyone else needs a membership with one
    of the roles `need` names, in an active organisation. The 404 does not tell "no such
    organisation" from "not yours".
    """
    if not _signed_in(user):
        abort(404)
    query = select(Organisation).where(Organisation.id == org_id)
    if not _is_admin(user):
        # A deactivated organisation is closed to its own people; site admins still see it
        # (to reactivate it, or to look back at its records).
        query = query.where(Organisation.active, exists().where(
            Membership.org_id == Organisation.id, Membership.user_id == user.id,
            Membership.role.in_([r.value for r in need.value])))
    org = db.session.scalar(query)
    if org is None:
        abort(404)
    return org


def can_act(user: Any, org_id: int, need: Need = Need.MANAGE) -> bool:
    """Whether org_or_404 would let `user` in (for templates and links)."""
    if _is_admin(user):
        return True
    role = org_role(user, org_id)
    return role is not None and role in need.value


def in_org_or_404(model: type[T], org_id: int, object_id: Any) -> T:
    """A row of `model` (which has an `org_id` column) by id, only if it is the organisation's."""
    row = db.session.scalar(select(model).where(model.id == object_id, model.org_id == org_id))
    if row is None:
        abort(404)
    return row


def member_or_404(org_id: int, user_id: int) -> Membership:
    """The membership of a person in this organisation (by user id), or 404."""
    row = db.session.scalar(select(Membership).where(
        Membership.org_id == org_id, Membership.user_id == user_id))
    if row is None:
        abort(404)
    return row


def views_assignment_attempts(user: Any, assignment_id: int | None) -> bool:
    """May `user` review attempts made for this assignment? Its organisation's managers and
    instructors (and site admins, who are staff anyway). One query; False for free practice."""
    if assignment_id is None or not _signed_in(user):
        return False
    return bool(db.session.scalar(select(exists().where(
        Assignment.id == assignment_id, Membership.org_id == Assignment.org_id,
        Membership.user_id == user.id,
        Membership.role.in_([r.value for r in Need.VIEW.value])))))


def my_organisations(user: Any) -> list[tuple[Organisation, OrgRole]]:
    """The organisations the user belongs to, by name, with their role in each."""
    if not _signed_in(user):
        return []
    rows = db.session.execute(
        select(Organisation, Membership.role)
        .join(Membership, and_(Membership.org_id == Organisation.id, Membership.user_id == user.id))
        .where(Organisation.active)
        .order_by(Organisation.name)
    ).all()
    return [(org, OrgRole(role)) for org, role in rows]


def add_member(org: Organisation, user: User, role: OrgRole = OrgRole.MEMBER,
               cohort_id: int | None = None) -> Membership:
    """Put a person into an organisation (or return their existing membership unchanged)."""
    existing = db.session.scalar(select(Membership).where(
        Membership.org_id == org.id, Membership.user_id == user.id))
    if existing is not None:
        return existing
    if cohort_id is not None and db.session.scalar(
            select(Cohort.org_id).where(Cohort.id == cohort_id)) != org.id:
        raise ValueError("That cohort belongs to another organisation.")
    membership = Membership(org_id=org.id, user_id=user.id, role=role.value, cohort_id=cohort_id)
    db.session.add(membership)
    db.session.flush()
    return membership
