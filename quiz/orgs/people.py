"""Members and cohorts of an organisation, and the organisations themselves (site admins).

Domain functions: they take models and plain values, write their audit events with the
change and only flush; the views and the `orgs` CLI commit. Every refusal is a
PeopleError whose `status` is the HTTP answer (400 bad input, 404 an id that is not this
organisation's, 409 a conflict with the current state) and nothing is written: checks run
before the first change, and a bulk move is one UPDATE.

Rules:
- An organisation's name is unique (case-insensitive here; the database's unique index
  backs it up); so is a cohort's name within its organisation.
- An organisation always keeps a manager: the last one can be neither demoted nor removed
  (their rows are read FOR UPDATE on PostgreSQL before they are counted).
- Removing a member deletes the membership only: their attempts stay, and they drop off
  the organisation's assignments (results.assignees joins memberships).
- A cohort is deleted only when nothing refers to it: no members, no assignment (archived
  ones included), no open invitation or live join code. Deleting a cohort with members
  would silently change who is assigned work (assignments name cohorts), so its members
  are moved first, on purpose.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import accounts, audit
from ..extensions import db
from ..mail import send_mail
from ..models import Assignment, Cohort, Invitation, JoinCode, Membership, Organisation, User
from ..staff.roster import PER_PAGE, RosterPage, clean_query, like_pattern
from ..vocab import AuditEntity, OrgRole
from .tenancy import add_member

ORG_NAME_MAX, COHORT_NAME_MAX = 120, 100
MAX_SELECTION = 500  # ticked members in one bulk move (a page shows PER_PAGE)
NO_COHORT = "none"  # the cohort filter's value for members in no cohort
SORTS = {"name": "asc", "joined": "desc"}  # each sort key with the direction it opens in
# How long a new manager's link to choose a password works (config ORG_MANAGER_LINK_HOURS).
MANAGER_LINK_HOURS = 72


class PeopleError(ValueError):
    """A change or a request that cannot be done as asked; `status` is the HTTP answer."""

    status = 400


class NotInOrganisation(PeopleError):
    """An id (cohort, member) that is not this organisation's: the same as no such id."""

    status = 404


class Conflict(PeopleError):
    status = 409


class DuplicateName(Conflict):
    pass


class LastManager(Conflict):
    pass


class CohortInUse(Conflict):
    pass


def clean_name(raw: str | None, limit: int, what: str) -> str:
    """One line of text: inner whitespace collapsed, 1 to `limit` characters."""
    name = " ".join((raw or "").split())
    if not name or len(name) > limit:
        raise PeopleError(f"Enter a name for the {what} of 1 to {limit} characters.")
    return name


def parse_org_role(raw: str | None) -> OrgRole:
    try:
        return OrgRole(raw or "")
    except ValueError:
        raise PeopleError(f"Role must be one of: {', '.join(OrgRole)}.") from None


def _membership_audit(actor: User | None, membership_id: int, action: str, summary: str,
                      **detail) -> None:
    audit.record(actor, AuditEntity.MEMBERSHIP, membership_id, action, summary, detail)


# --- organisations (site admins) -------------------------------------------------------------

@dataclass
class NewOrganisation:
    org: Organisation
    manager: User
    created_account: bool  # the manager's account was made now (they set its password)
    link: str | None  # the one-time password link mailed to a new manager


# `external(endpoint, **values)` builds an absolute URL (url_for(..., _external=True) in a
# request; the CLI's own builder outside one).
UrlBuilder = Callable[..., str]


def _org_name_taken(name: str, except_id: int | None = None) -> bool:
    query = select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    if except_id is not None:
        query = query.where(Organisation.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def manager_link_lifetime(config) -> timedelta:
    return timedelta(hours=int(config.get("ORG_MANAGER_LINK_HOURS", MANAGER_LINK_HOURS)))


def create_organisation(actor: User | None, name: str, manager_email: str,
                        manager_name: str | None, *, external: UrlBuilder,
                        link_valid_for: timedelta) -> NewOrganisation:
    """A new organisation and its first manager, who is mailed about it.

    An address with an account: that account becomes the manager (it must be active). An
    address without one: an account is made with a random password nobody knows and a
    one-time link (accounts.create_reset_link) is mailed, so the manager sets their own.
    A taken name (any case) is DuplicateName; nothing is written on any refusal.
    """
    name = clean_name(name, ORG_NAME_MAX, "organisation")
    email = accounts.normalise_email(manager_email or "")
    if not accounts.EMAIL_RE.match(email) or len(email) > 254:
        raise PeopleError("Enter a valid e-mail address for the manager.")
    person = " ".join((manager_name or "").split())
    if len(person) > 100:
        raise PeopleError("The manager's name can have at most 100 characters.")
    if _org_name_taken(name):
        raise DuplicateName(f"An organisation named “{name}” already exists.")
    user = accounts.find_user(email)
    created = user is None
    if user is None:
        try:  # a random password nobody knows: the manager chooses theirs through the link
            user = accounts.create_user(email, secrets.token_urlsafe(32),
                                        person or email.split("@")[0])
        except accounts.AccountError as exc:  # e.g. the address registered a moment ago
            raise Conflict(str(exc)) from None
        db.session.flush()
    elif not user.active:
        raise Conflict(f"The account {email} is deactivated: reactivate it first, or name "
                       "another manager.")
    org = Organisation(name=name)
    try:
        with db.session.begin_nested():  # a concurrent creation of the same name loses here
            db.session.add(org)
    except IntegrityError:
        raise DuplicateName(f"An organisation named “{name}” already exists.") from None
    membership = add_member(org, user, OrgRole.MANAGER)
    audit.record(actor, AuditEntity.ORGANISATION, org.id, "create", f"Created organisation {name}",
                 {"manager": email, "new_account": created})
    _membership_audit(actor, membership.id, "add", f"{email} is manager of {name}",
                      org_id=org.id, user_id=user.id, role=OrgRole.MANAGER.value)
    link = None
    home = external("orgs.home", org_id=org.id)
    if created:
        reset = accounts.create_reset_link(actor, user, link_valid_for)
        link = external("account.reset", token=reset.token)
        send_mail(email, f"You manage {name} on the IASTM training quiz", (
            f"Hello {user.name},\n\nAn account was made for you as the manager of {name}.\n"
            f"Choose your password with this link (it works once, until "
            f"{reset.reset.expires_at:%d %B %Y %H:%M} UTC):\n\n{link}\n\n"
            f"Then sign in with {email} and open your organisation:\n{home}\n"))
    else:
        send_mail(email, f"You manage {name} on the IASTM training quiz", (
            f"Hello {user.name},\n\nYou are now the manager of {name}. Sign in with your "
            f"account ({email}) and open it:\n{home}\n"))
    return NewOrganisation(org, user, created, link)


def rename_organisation(actor: User | None, org: Organisation, name: str) -> bool:
    """A new name (unique, any case); False if it is the same."""
    name = clean_name(name, ORG_NAME_MAX, "organisation")
    if name == org.name:
        return False
    if _org_name_taken(name, except_id=org.id):
        raise DuplicateName(f"An organisation named “{name}” already exists.")
    old = org.name
    try:
        with db.session.begin_nested():
            org.name = name
    except IntegrityError:
        raise DuplicateName(f"An organisation named “{name}” already exists.") from None
    audit.record(actor, AuditEntity.ORGANISATION, org.id, "rename",
                 f"Organisation {old} renamed {name}", {"old": old, "new": name})
    return True


def set_organisation_active(actor: User | None, org: Organisation, active: bool) -> bool:
    """Deactivate (or reactivate) an organisation; nothing is deleted. False if unchanged."""
    if org.active == active:
        return False
    org.active = active
    audit.record(actor, AuditEntity.ORGANISATION, org.id,
                 "reactivate" if active else "deactivate",
                 f"Organisation {org.name} {'reactivated' if active else 'deactivated'}")
    db.session.flush()
    return True


@dataclass
class OrgRow:
    id: int
    name: str
    active: bool
    created_at: datetime
    members: int  # everyone in it, whatever their role
    managers: int
    cohorts: int


def organisation_rows() -> list[OrgRow]:
    """Every organisation by name with its counts, in one statement."""
    people = (select(Membership.org_id, func.count().label("members"),
                     func.sum(case((Membership.role == OrgRole.MANAGER.value, 1), else_=0))
                     .label("managers"))
              .group_by(Membership.org_id).subquery())
    cohorts = (select(Cohort.org_id, func.count().label("cohorts"))
               .group_by(Cohort.org_id).subquery())
    rows = db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.active, Organisation.created_at,
               func.coalesce(people.c.members, 0), func.coalesce(people.c.managers, 0),
               func.coalesce(cohorts.c.cohorts, 0))
        .outerjoin(people, people.c.org_id == Organisation.id)
        .outerjoin(cohorts, cohorts.c.org_id == Organisation.id)
        .order_by(func.lower(Organisation.name), Organisation.id))
    return [OrgRow(*row) for row in rows]


# --- the member list ---------------------------------------------------------------------------

@dataclass
class MemberRow:
    user_id: int
    name: str
    email: str
    role: str
    cohort_id: int | None
    cohort_name: str | None
    joined_at: datetime
    active: bool  # the account (a deactivated one cannot sign in)


@dataclass
class MemberPage(RosterPage):
    cohort: str = ""  # "" every cohort, NO_COHORT, or a cohort id as text
    role: str = ""  # "" every role

    @property
    def filtered(self) -> bool:
        return bool(self.query or self.cohort or self.role)


@dataclass
class CohortRow:
    id: int
    name: str
    members: int
    created_at: datetime


def cohort_rows(org_id: int) -> list[CohortRow]:
    """The organisation's cohorts by name with their member counts (one statement)."""
    counts = (select(Membership.cohort_id, func.count().label("n"))
              .where(Membership.org_id == org_id, Membership.cohort_id.is_not(None))
              .group_by(Membership.cohort_id).subquery())
    rows = db.session.execute(
        select(Cohort.id, Cohort.name, func.coalesce(counts.c.n, 0), Cohort.created_at)
        .outerjoin(counts, counts.c.cohort_id == Cohort.id)
        .where(Cohort.org_id == org_id)
        .order_by(func.lower(Cohort.name), Cohort.id))
    return [CohortRow(*row) for row in rows]


def parse_cohort_filter(raw: str | None, cohorts: Sequence[CohortRow]) -> str:
    """"" (every cohort), NO_COHORT, or the id of one of `cohorts` (as text).

    A number that is not one of this organisation's cohorts is NotInOrganisation (404),
    anything else that is not a number a PeopleError (400)."""
    raw = (raw or "").strip()
    if raw in ("", NO_COHORT):
        return raw
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        raise PeopleError("Choose a cohort from the list.")
    if int(raw) not in {c.id for c in cohorts}:
        raise NotInOrganisation("There is no such cohort in this organisation.")
    return str(int(raw))


def member_page(org_id: int, cohorts: Sequence[CohortRow], query: str = "", cohort: str = "",
                role: str = "", sort: str = "name", direction: str | None = None,
                page: int = 1) -> MemberPage:
    """One page (PER_PAGE) of the organisation's members in two statements (count, page).

    `query` is a case-insensitive substring of the name or e-mail; `cohort` as
    parse_cohort_filter; `role` "" or an OrgRole (else 400). Unknown sorts and directions
    fall back to name order, a page past the end shows the last one.
    """
    cohort = parse_cohort_filter(cohort, cohorts)
    if role:
        role = parse_org_role(role).value
    sort = sort if sort in SORTS else "name"
    direction = direction if direction in ("asc", "desc") else SORTS[sort]
    query = clean_query(query)

    where = [Membership.org_id == org_id]
    if query:
        pattern = like_pattern(query.lower())
        where.append(or_(func.lower(User.name).like(pattern, escape="\\"),
                         User.email.like(pattern, escape="\\")))
    if cohort == NO_COHORT:
        where.append(Membership.cohort_id.is_(None))
    elif cohort:
        where.append(Membership.cohort_id == int(cohort))
    if role:
        where.append(Membership.role == role)

    total = db.session.scalar(
        select(func.count()).select_from(Membership).join(User, User.id == Membership.user_id)
        .where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows: list[MemberRow] = []
    if total:
        key = User.name if sort == "name" else Membership.joined_at
        first = key.asc() if direction == "asc" else key.desc()
        stmt = (select(User.id, User.name, User.email, Membership.role, Membership.cohort_id,
                       Cohort.name, Membership.joined_at, User.active)
                .select_from(Membership)
                .join(User, User.id == Membership.user_id)
                .outerjoin(Cohort, Cohort.id == Membership.cohort_id)
                .where(*where)
                .order_by(first, User.name if sort != "name" else User.id, User.id)
                .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
        rows = [MemberRow(*row) for row in db.session.execute(stmt)]
    return MemberPage(rows, total, page, pages, query, sort, direction, cohort=cohort, role=role)


def membership_with_person(org_id: int, user_id: int) -> Membership | None:
    """One membership with its person and cohort loaded (for the member's page)."""
    return db.session.scalar(
        select(Membership).options(db.joinedload(Membership.user), db.joinedload(Membership.cohort))
        .where(Membership.org_id == org_id, Membership.user_id == user_id))


# --- changes to members ----------------------------------------------------------------------------

def move_members(actor: User | None, org: Organisation, user_ids: Sequence[int],
                 cohort_id: int | None) -> int:
    """Put these members (user ids) into the cohort (None: no cohort), all or none.

    Refused: no one ticked, too many, a cohort or a person not of this organisation (404:
    nothing moves). Returns how many actually changed cohort (the others were in it).
    """
    ids = set(user_ids)
    if not ids:
        raise PeopleError("Tick at least one member to move.")
    if len(ids) > MAX_SELECTION:
        raise PeopleError(f"Move at most {MAX_SELECTION} members at a time.")
    target = "no cohort"
    if cohort_id is not None:
        name = db.session.scalar(select(Cohort.name).where(Cohort.id == cohort_id,
                                                           Cohort.org_id == org.id))
        if name is None:
            raise NotInOrganisation("There is no such cohort in this organisation.")
        target = f"cohort {name}"
    rows = db.session.execute(
        select(Membership.id, Membership.user_id, Membership.cohort_id, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org.id, Membership.user_id.in_(sorted(ids)))
        .with_for_update(of=Membership)).all()
    if len(rows) != len(ids):
        raise NotInOrganisation("Someone in the selection is not a member of this organisation.")
    changed = [row for row in rows if row.cohort_id != cohort_id]
    if changed:
        db.session.execute(
            update(Membership).where(Membership.id.in_([row.id for row in changed]))
            .values(cohort_id=cohort_id).execution_options(synchronize_session="fetch"))
        for row in changed:
            _membership_audit(actor, row.id, "move", f"{row.email} moved to {target} in {org.name}",
                              org_id=org.id, user_id=row.user_id, old=row.cohort_id, new=cohort_id)
    db.session.flush()
    return len(changed)


def _check_leaves_a_manager(org: Organisation, membership: Membership) -> None:
    """Refuse a change that takes `membership` out of the managers if nobody would remain."""
    if membership.role != OrgRole.MANAGER:
        return
    managers = db.session.scalars(
        select(Membership.id).where(Membership.org_id == org.id,
                                    Membership.role == OrgRole.MANAGER.value)
        .order_by(Membership.id).with_for_update()).all()
    if set(managers) <= {membership.id}:
        raise LastManager(f"This is the only manager of {org.name}: make someone else a manager "
                          "first, so that someone can still run it.")


def set_member_role(actor: User | None, org: Organisation, membership: Membership,
                    role: str) -> bool:
    """Give a member another role in the organisation; False if they already have it."""
    new = parse_org_role(role)
    old = membership.role
    if new == old:
        return False
    _check_leaves_a_manager(org, membership)
    membership.role = new.value
    _membership_audit(actor, membership.id, "set-role",
                      f"Role of {membership.user.email} in {org.name}: {old} → {new}",
                      org_id=org.id, user_id=membership.user_id, old=old, new=new.value)
    db.session.flush()
    return True


def remove_member(actor: User | None, org: Organisation, membership: Membership) -> None:
    """Take a person out of the organisation (their attempts stay; their account too)."""
    _check_leaves_a_manager(org, membership)
    _membership_audit(actor, membership.id, "remove",
                      f"{membership.user.email} removed from {org.name}",
                      org_id=org.id, user_id=membership.user_id, role=membership.role,
                      cohort_id=membership.cohort_id)
    db.session.delete(membership)
    db.session.flush()


# --- cohorts ---------------------------------------------------------------------------------------

def _cohort_name_taken(org_id: int, name: str, except_id: int | None = None) -> bool:
    query = select(Cohort.id).where(Cohort.org_id == org_id, func.lower(Cohort.name) == name.lower())
    if except_id is not None:
        query = query.where(Cohort.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def _duplicate_cohort(name: str) -> DuplicateName:
    return DuplicateName(f"This organisation already has a cohort named “{name}”.")


def create_cohort(actor: User | None, org: Organisation, name: str) -> Cohort:
    name = clean_name(name, COHORT_NAME_MAX, "cohort")
    if _cohort_name_taken(org.id, name):
        raise _duplicate_cohort(name)
    cohort = Cohort(org_id=org.id, name=name)
    try:
        with db.session.begin_nested():
            db.session.add(cohort)
    except IntegrityError:
        raise _duplicate_cohort(name) from None
    audit.record(actor, AuditEntity.COHORT, cohort.id, "create",
                 f"Cohort {name} created in {org.name}", {"org_id": org.id})
    return cohort


def rename_cohort(actor: User | None, org: Organisation, cohort: Cohort, name: str) -> bool:
    """A new name (unique in the organisation); False if it is the same."""
    name = clean_name(name, COHORT_NAME_MAX, "cohort")
    if name == cohort.name:
        return False
    if _cohort_name_taken(org.id, name, except_id=cohort.id):
        raise _duplicate_cohort(name)
    old = cohort.name
    try:
        with db.session.begin_nested():
            cohort.name = name
    except IntegrityError:
        raise _duplicate_cohort(name) from None
    audit.record(actor, AuditEntity.COHORT, cohort.id, "rename",
                 f"Cohort {old} renamed {name} in {org.name}",
                 {"org_id": org.id, "old": old, "new": name})
    return True


def cohort_uses(cohort: Cohort, now: datetime) -> dict[str, int]:
    """What still refers to a cohort (one statement): members, assignments, open
    invitations and live join codes."""
    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    row = db.session.execute(select(
        count(Membership, Membership.cohort_id == cohort.id),
        count(Assignment, Assignment.cohort_id == cohort.id),
        count(Invitation, Invitation.cohort_id == cohort.id, Invitation.accepted_at.is_(None),
              Invitation.revoked_at.is_(None), Invitation.expires_at > now),
        count(JoinCode, JoinCode.cohort_id == cohort.id, JoinCode.revoked_at.is_(None),
              JoinCode.expires_at > now),
    )).one()
    return dict(zip(("members", "assignments", "invitations", "join codes"), row, strict=True))


def delete_cohort(actor: User | None, org: Organisation, cohort: Cohort, now: datetime) -> None:
    """Delete a cohort nothing refers to any more (CohortInUse, 409, says what does)."""
    uses = {what: n for what, n in cohort_uses(cohort, now).items() if n}
    if uses:
        listed = ", ".join(f"{n} {what if n != 1 else what.rstrip('s')}" for what, n in uses.items())
        raise CohortInUse(f"Cohort {cohort.name} is still in use ({listed}). Move its members "
                          "to another cohort, and change or archive what names it, first.")
    audit.record(actor, AuditEntity.COHORT, cohort.id, "delete",
                 f"Cohort {cohort.name} deleted from {org.name}", {"org_id": org.id})
    db.session.delete(cohort)
    db.session.flush()

