"""Access matrix of the organisation routes, and the cross-tenant test.

Like tests/test_access.py (whose coverage test counts these rows too), a data table:
ORG_ROUTES x ORG_ROLES with the exact response expected. To add a route, add a row.

Visitors:
  anonymous       not signed in
  outsider        a learner in no organisation
  member          a member (learner) of organisation A, in cohort A
  org_instructor  an instructor of organisation A
  manager         a manager of organisation A
  other_manager   a manager of organisation B
  admin           a site admin (may act in every organisation)

Two organisations, A and B, are built alike (`build_org`): each has a cohort, a member in
it, an assignment of set `alpha` to the cohort, a submitted attempt of it that failed and a
later one that passed, with its certificate. Path placeholders are organisation A's ids:
{org}, {cohort}, {assignment}, {member} (the member's user id), {attempt} (the failed one),
{certificate}, and {certificate_code} (its verification code, not swapped by the
cross-tenant test: the verification page is public), {invitation} and {join_code} (a
pending invitation of a new address and a join code, by id), {invite_token} and {code}
(their link's token and the code); {me} is the visitor's own user id; {missing} exists
nowhere.
Add a placeholder by adding the object to `build_org` (for both organisations) and its key
to TENANT_KEYS.

The cross-tenant test signs in as A's manager and requests every route with B's ids in
place of A's, one placeholder at a time and all together: every such request is a 404.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from quiz.attempts import start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import (
    Assignment,
    Certificate,
    Cohort,
    Invitation,
    JoinCode,
    Membership,
    Organisation,
    QuestionSet,
    User,
)
from quiz.models._common import utcnow
from quiz.vocab import OrgRole

from .test_access import (
    BAD,
    FORBIDDEN,
    LOGIN,
    MISSING_ID,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    Redirect,
    _password_hash,
    to,
)
from .test_queries import answers_for

pytestmark = pytest.mark.small_bank

ORG_ROLES = ("anonymous", "outsider", "member", "org_instructor", "manager", "other_manager", "admin")
# Placeholders that name an object of one organisation (swapped by the cross-tenant test).
TENANT_KEYS = ("org", "cohort", "assignment", "member", "attempt", "invitation", "join_code",
               "certificate")


def oexpect(*, everyone=None, signed_in=None, not_managers=None, viewers=None, anonymous=None,
            outsider=None, member=None, org_instructor=None, manager=None, other_manager=None,
            admin=None) -> dict[str, int | Redirect]:
    """Expected outcome per visitor; the most specific argument wins.

    Groups: signed_in (all but anonymous); not_managers (outsider, member, org_instructor,
    other_manager: everyone signed in who may not manage organisation A); viewers
    (org_instructor, manager, admin: who may see A's results).
    """
    out: dict[str, int | Redirect] = {}
    groups = [
        (everyone, ORG_ROLES),
        (signed_in, ORG_ROLES[1:]),
        (not_managers, ("outsider", "member", "org_instructor", "other_manager")),
        (viewers, ("org_instructor", "manager", "admin")),
    ]
    for value, roles in groups:
        if value is not None:
            out.update(dict.fromkeys(roles, value))
    specific = (anonymous, outsider, member, org_instructor, manager, other_manager, admin)
    for role, value in zip(ORG_ROLES, specific, strict=True):
        if value is not None:
            out[role] = value
    missing = set(ORG_ROLES) - set(out)
    if missing:
        raise ValueError(f"no expectation for {sorted(missing)}")
    return out


@dataclass(frozen=True)
class OrgRoute:
    method: str
    path: str
    expected: dict[str, int | Redirect]
    data: dict[str, str] = field(default_factory=dict)
    # False for routes that are not scoped by organisation (a public verification page).
    cross_tenant: bool = True

    @property
    def probes_missing(self) -> bool:
        return "{missing}" in self.path


def manage_only(ok=OK) -> dict[str, int | Redirect]:
    """A manager's page: A's manager and admins get `ok`, everyone else signed in 404."""
    return oexpect(anonymous=LOGIN, not_managers=NOT_FOUND, manager=ok, admin=ok)


def view_only(ok=OK) -> dict[str, int | Redirect]:
    """A results page: A's managers, instructors and admins get `ok`, others 404."""
    return oexpect(anonymous=LOGIN, signed_in=NOT_FOUND, viewers=ok)


ORG_ROUTES: list[OrgRoute] = [
    # The organisations one belongs to: anyone signed in (a list of their own).
    OrgRoute("GET", "/orgs/", oexpect(anonymous=LOGIN, signed_in=OK)),
    OrgRoute("POST", "/orgs/", oexpect(everyone=NOT_ALLOWED)),
    # An organisation's home: its managers and instructors, and admins.
    OrgRoute("GET", "/orgs/{org}", view_only()),
    OrgRoute("GET", "/orgs/{missing}", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}", oexpect(everyone=NOT_ALLOWED)),
    # A review of an attempt made for A's assignment: its learner, A's viewers, admins.
    OrgRoute("GET", "/attempts/{attempt}/review",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND, member=OK, viewers=OK)),
]

# One list per area of the onboarding work (issue 10), so that each adds rows in its place.
# Members and cohorts.
CONFLICT = 409
PEOPLE_ROUTES: list[OrgRoute] = [
    # The member list: viewers (instructors read only); bad filters are 4xx, never a 500.
    OrgRoute("GET", "/orgs/{org}/members", view_only()),
    OrgRoute("GET", "/orgs/{org}/members?q=mem&cohort={cohort}&role=member&sort=joined&dir=asc",
             view_only()),
    OrgRoute("GET", "/orgs/{org}/members?cohort=none&page=9", view_only()),
    OrgRoute("GET", "/orgs/{org}/members?cohort={missing}",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/members?cohort=spring", view_only(BAD)),
    OrgRoute("GET", "/orgs/{org}/members?role=boss", view_only(BAD)),
    OrgRoute("GET", "/orgs/{missing}/members", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/members", oexpect(everyone=NOT_ALLOWED)),
    # Bulk move: nobody ticked is a 400 (the ids themselves: tests/test_orgs_people.py).
    OrgRoute("POST", "/orgs/{org}/members/move", manage_only(BAD), data={"target": "none"}),
    OrgRoute("POST", "/orgs/{missing}/members/move", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND),
             data={"target": "none"}),
    OrgRoute("GET", "/orgs/{org}/members/move", oexpect(everyone=NOT_ALLOWED)),
    # One member.
    OrgRoute("GET", "/orgs/{org}/members/{member}", view_only()),
    OrgRoute("GET", "/orgs/{org}/members/{missing}", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/members/{member}/cohort",
             manage_only(to("/orgs/{org}/members/{member}")), data={"cohort": "none"}),
    OrgRoute("POST", "/orgs/{org}/members/{member}/cohort", manage_only(NOT_FOUND),
             data={"cohort": str(MISSING_ID)}),
    OrgRoute("POST", "/orgs/{org}/members/{member}/cohort", manage_only(BAD), data={"cohort": "x"}),
    OrgRoute("POST", "/orgs/{org}/members/{missing}/cohort",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND), data={"cohort": "none"}),
    OrgRoute("GET", "/orgs/{org}/members/{member}/cohort", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("POST", "/orgs/{org}/members/{member}/role",
             manage_only(to("/orgs/{org}/members/{member}")), data={"role": "instructor"}),
    OrgRoute("POST", "/orgs/{org}/members/{member}/role", manage_only(BAD), data={"role": "boss"}),
    # The only manager demoting themselves: refused (admins are not members: 404).
    OrgRoute("POST", "/orgs/{org}/members/{me}/role",
             oexpect(anonymous=LOGIN, not_managers=NOT_FOUND, manager=CONFLICT, admin=NOT_FOUND),
             data={"role": "member"}),
    OrgRoute("POST", "/orgs/{org}/members/{missing}/role",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND), data={"role": "member"}),
    OrgRoute("GET", "/orgs/{org}/members/{member}/role", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("POST", "/orgs/{org}/members/{member}/remove", manage_only(to("/orgs/{org}/members"))),
    OrgRoute("POST", "/orgs/{org}/members/{me}/remove",
             oexpect(anonymous=LOGIN, not_managers=NOT_FOUND, manager=CONFLICT, admin=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/members/{missing}/remove",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/members/{member}/remove", oexpect(everyone=NOT_ALLOWED)),
    # Cohorts: viewers see the list, managers change it.
    OrgRoute("GET", "/orgs/{org}/cohorts", view_only()),
    OrgRoute("GET", "/orgs/{missing}/cohorts", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/cohorts", manage_only(to("/orgs/{org}/cohorts")),
             data={"name": "Autumn hires"}),
    OrgRoute("POST", "/orgs/{org}/cohorts", manage_only(CONFLICT), data={"name": "hires a"}),
    OrgRoute("POST", "/orgs/{org}/cohorts", manage_only(BAD), data={"name": "  "}),
    OrgRoute("POST", "/orgs/{missing}/cohorts", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND),
             data={"name": "Autumn hires"}),
    OrgRoute("POST", "/orgs/{org}/cohorts/{cohort}/rename", manage_only(to("/orgs/{org}/cohorts")),
             data={"name": "Spring hires"}),
    OrgRoute("POST", "/orgs/{org}/cohorts/{cohort}/rename", manage_only(BAD), data={"name": ""}),
    OrgRoute("POST", "/orgs/{org}/cohorts/{missing}/rename",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND), data={"name": "Spring hires"}),
    OrgRoute("GET", "/orgs/{org}/cohorts/{cohort}/rename", oexpect(everyone=NOT_ALLOWED)),
    # A's cohort has a member and an assignment: it cannot be deleted.
    OrgRoute("POST", "/orgs/{org}/cohorts/{cohort}/delete", manage_only(CONFLICT)),
    OrgRoute("POST", "/orgs/{org}/cohorts/{missing}/delete",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/cohorts/{cohort}/delete", oexpect(everyone=NOT_ALLOWED)),
]
# Invitations and join codes.
INVITE_DATA = {"emails": "new.hire@example.org\nsecond.hire@example.org", "role": "member",
               "cohort": ""}
ACCEPT_DATA = {"name": "Nia Newhire", "password": "violet tugboat anthem",
               "confirm": "violet tugboat anthem"}
CODE_DATA = {"days": "14", "max_uses": "", "cohort": ""}
TO_INVITATIONS = Redirect("/orgs/{org}/invitations")
TO_CODES = Redirect("/orgs/{org}/join-codes")
TO_ORGS = Redirect("/orgs/")
NOT_ORG = oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)
INVITATION_ROUTES: list[OrgRoute] = [
    OrgRoute("GET", "/orgs/{org}/invitations", manage_only()),
    OrgRoute("GET", "/orgs/{org}/invitations?status=pending&page=2", manage_only()),
    OrgRoute("GET", "/orgs/{org}/invitations?status=bogus&page=x", manage_only()),
    OrgRoute("GET", "/orgs/{missing}/invitations", NOT_ORG),
    OrgRoute("POST", "/orgs/{org}/invitations", oexpect(everyone=NOT_ALLOWED)),
    # The form, and its preview (which writes nothing).
    OrgRoute("GET", "/orgs/{org}/invitations/new", manage_only()),
    OrgRoute("POST", "/orgs/{org}/invitations/new", manage_only(), data=INVITE_DATA),
    OrgRoute("POST", "/orgs/{org}/invitations/new", manage_only(BAD), data={"emails": " "}),
    OrgRoute("POST", "/orgs/{missing}/invitations/new", NOT_ORG, data=INVITE_DATA),
    # The confirm needs the preview's signed rows: forged -> 400.
    OrgRoute("POST", "/orgs/{org}/invitations/confirm", manage_only(BAD), data={"preview": "x.y"}),
    OrgRoute("POST", "/orgs/{missing}/invitations/confirm", NOT_ORG, data={"preview": "x.y"}),
    OrgRoute("GET", "/orgs/{org}/invitations/confirm", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("POST", "/orgs/{org}/invitations/{invitation}/resend", manage_only(TO_INVITATIONS)),
    OrgRoute("POST", "/orgs/{org}/invitations/{missing}/resend", manage_only(NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/invitations/{invitation}/resend", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("POST", "/orgs/{org}/invitations/{invitation}/revoke", manage_only(TO_INVITATIONS)),
    OrgRoute("POST", "/orgs/{org}/invitations/{missing}/revoke", manage_only(NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/invitations/{invitation}/revoke", oexpect(everyone=NOT_ALLOWED)),
    # Join codes: the list with its form; revoking.
    OrgRoute("GET", "/orgs/{org}/join-codes", manage_only()),
    OrgRoute("GET", "/orgs/{missing}/join-codes", NOT_ORG),
    OrgRoute("POST", "/orgs/{org}/join-codes", manage_only(TO_CODES), data=CODE_DATA),
    OrgRoute("POST", "/orgs/{org}/join-codes", manage_only(BAD), data={**CODE_DATA, "days": "0"}),
    OrgRoute("POST", "/orgs/{org}/join-codes/{join_code}/revoke", manage_only(TO_CODES)),
    OrgRoute("POST", "/orgs/{org}/join-codes/{missing}/revoke", manage_only(NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/join-codes/{join_code}/revoke", oexpect(everyone=NOT_ALLOWED)),
    # The invitation link (of a new address): anyone holding it, but signed in with another
    # account it is a 403; not signed in, it creates the account, joins and signs in.
    OrgRoute("GET", "/orgs/invite/{invite_token}", oexpect(anonymous=OK, signed_in=FORBIDDEN),
             cross_tenant=False),
    OrgRoute("POST", "/orgs/invite/{invite_token}",
             oexpect(anonymous=TO_ORGS, signed_in=FORBIDDEN), data=ACCEPT_DATA, cross_tenant=False),
    OrgRoute("POST", "/orgs/invite/{invite_token}", oexpect(anonymous=BAD, signed_in=FORBIDDEN),
             data={**ACCEPT_DATA, "confirm": "something else"}, cross_tenant=False),
    OrgRoute("GET", "/orgs/invite/{missing}", oexpect(everyone=NOT_FOUND), cross_tenant=False),
    OrgRoute("POST", "/orgs/invite/{missing}", oexpect(everyone=NOT_FOUND), data=ACCEPT_DATA,
             cross_tenant=False),
    OrgRoute("PUT", "/orgs/invite/{invite_token}", oexpect(everyone=NOT_ALLOWED),
             cross_tenant=False),
    # Joining with a code: the form to type one, the code's page, joining (signed in).
    OrgRoute("GET", "/orgs/join", oexpect(everyone=OK), cross_tenant=False),
    OrgRoute("GET", "/orgs/join?code=abcde-fghjk", oexpect(everyone=Redirect("/orgs/join/ABCDEFGHJK")),
             cross_tenant=False),
    OrgRoute("POST", "/orgs/join", oexpect(everyone=NOT_ALLOWED), cross_tenant=False),
    OrgRoute("GET", "/orgs/join/{code}", oexpect(everyone=OK), cross_tenant=False),
    # Members of A (manager, member, instructor) are told so; the others join.
    OrgRoute("POST", "/orgs/join/{code}", oexpect(anonymous=LOGIN, signed_in=TO_ORGS),
             cross_tenant=False),
    OrgRoute("GET", "/orgs/join/{missing}", oexpect(everyone=NOT_FOUND), cross_tenant=False),
    OrgRoute("POST", "/orgs/join/{missing}", oexpect(everyone=NOT_FOUND), cross_tenant=False),
    OrgRoute("PUT", "/orgs/join/{code}", oexpect(everyone=NOT_ALLOWED), cross_tenant=False),
]
# Assignments (the manager's side and the learner's).
# The form posts lack a cohort and people (the data cannot name A's ids): a manager gets 422.
ASSIGNMENT_FORM = {"set_id": "alpha", "pass_mark": "101"}
ASSIGNMENT_LIST = Redirect("/orgs/{org}/assignments")
ASSIGNMENT_ROUTES: list[OrgRoute] = [
    OrgRoute("GET", "/orgs/{org}/assignments", manage_only()),
    OrgRoute("GET", "/orgs/{missing}/assignments", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/assignments/new", manage_only()),
    OrgRoute("POST", "/orgs/{org}/assignments/new", manage_only(422), data=ASSIGNMENT_FORM),
    OrgRoute("GET", "/orgs/{missing}/assignments/new", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("GET", "/orgs/{org}/assignments/{assignment}/edit", manage_only()),
    OrgRoute("POST", "/orgs/{org}/assignments/{assignment}/edit", manage_only(422),
             data=ASSIGNMENT_FORM),
    OrgRoute("GET", "/orgs/{org}/assignments/{missing}/edit",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/assignments/{assignment}/archive", manage_only(ASSIGNMENT_LIST)),
    OrgRoute("GET", "/orgs/{org}/assignments/{assignment}/archive", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("POST", "/orgs/{org}/assignments/{missing}/archive",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/assignments/{assignment}/restore", manage_only(ASSIGNMENT_LIST)),
    OrgRoute("GET", "/orgs/{org}/assignments/{assignment}/restore", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("POST", "/orgs/{org}/assignments/{missing}/restore",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    # The learner's Start: only a person assigned (A's member, in the cohort); others 404.
    # A's member has passed it already (build_org), so theirs is refused with a 409; starting
    # as an assigned person: tests/test_orgs_assignments.py.
    OrgRoute("POST", "/orgs/assignments/{assignment}/start",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND, member=CONFLICT)),
    OrgRoute("GET", "/orgs/assignments/{assignment}/start", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("POST", "/orgs/assignments/{missing}/start", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
]
# The manager's dashboard and its CSV.
DASHBOARD_ROUTES: list[OrgRoute] = [
    OrgRoute("GET", "/orgs/{org}/dashboard", view_only()),
    OrgRoute("GET", "/orgs/{org}/dashboard?cohort={cohort}&status=not_passed&in={assignment}"
             "&sort=a{assignment}&dir=desc", view_only()),
    OrgRoute("GET", "/orgs/{missing}/dashboard", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/dashboard", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("GET", "/orgs/{org}/dashboard.csv", view_only()),
    OrgRoute("GET", "/orgs/{org}/dashboard.csv?cohort={cohort}&in={assignment}&status=passed",
             view_only()),
    OrgRoute("GET", "/orgs/{missing}/dashboard.csv", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/dashboard.csv", oexpect(everyone=NOT_ALLOWED)),
]
# Certificates (an organisation's list, a PDF, revoking).
ORG_CERTIFICATE_ROUTES: list[OrgRoute] = [
    # The list and one certificate: A's managers, instructors, admins (others 404).
    OrgRoute("GET", "/orgs/{org}/certificates", view_only()),
    OrgRoute("GET", "/orgs/{org}/certificates?q=member&status=valid&page=2", view_only()),
    OrgRoute("GET", "/orgs/{org}/certificates?status=bogus&page=x", view_only()),
    OrgRoute("GET", "/orgs/{missing}/certificates", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/certificates", oexpect(everyone=NOT_ALLOWED)),
    OrgRoute("GET", "/orgs/{org}/certificates/{certificate}", view_only()),
    OrgRoute("GET", "/orgs/{org}/certificates/{missing}", oexpect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    OrgRoute("POST", "/orgs/{org}/certificates/{certificate}", oexpect(everyone=NOT_ALLOWED)),
    # Revoking: A's managers and admins; a reason is required.
    OrgRoute("POST", "/orgs/{org}/certificates/{certificate}/revoke",
             manage_only(Redirect("/orgs/{org}/certificates/{certificate}")),
             data={"reason": "Issued by mistake"}),
    OrgRoute("POST", "/orgs/{org}/certificates/{certificate}/revoke", manage_only(BAD),
             data={"reason": "  "}),
    OrgRoute("POST", "/orgs/{org}/certificates/{missing}/revoke",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND), data={"reason": "Issued by mistake"}),
    OrgRoute("GET", "/orgs/{org}/certificates/{certificate}/revoke", oexpect(everyone=NOT_ALLOWED)),
    # The PDF: its learner, A's managers and instructors, admins; 404 for anyone else.
    OrgRoute("GET", "/certificates/{certificate}.pdf",
             oexpect(anonymous=LOGIN, signed_in=NOT_FOUND, member=OK, viewers=OK)),
    # The public verification page of A's certificate: everyone (not organisation-scoped).
    OrgRoute("GET", "/verify/{certificate_code}", oexpect(everyone=OK), cross_tenant=False),
]
ORG_ROUTES += (PEOPLE_ROUTES + INVITATION_ROUTES + ASSIGNMENT_ROUTES + DASHBOARD_ROUTES
               + ORG_CERTIFICATE_ROUTES)


# --- the world ----------------------------------------------------------------------------

def _user(email: str, role: str = "learner") -> User:
    user = User(email=email, name=email.split("@")[0].replace(".", " ").title(),
                password_hash=_password_hash(), role=role)
    db.session.add(user)
    db.session.flush()
    return user


def build_org(label: str, manager: User, member: User, instructor: User | None = None) -> dict:
    """One organisation with a cohort, a member in it, an assignment and a submitted attempt.

    Returns the ids the placeholders name (TENANT_KEYS). Extend it (for both organisations)
    when a route needs a new kind of object.
    """
    org = Organisation(name=f"Clinic {label}")
    db.session.add(org)
    db.session.flush()
    cohort = Cohort(org_id=org.id, name=f"Hires {label}")
    db.session.add(cohort)
    db.session.flush()
    db.session.add_all([
        Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER),
        Membership(org_id=org.id, user_id=member.id, role=OrgRole.MEMBER, cohort_id=cohort.id),
    ])
    if instructor is not None:
        db.session.add(Membership(org_id=org.id, user_id=instructor.id, role=OrgRole.INSTRUCTOR))
    assignment = Assignment(org_id=org.id, set_id="alpha", cohort_id=cohort.id, pass_mark=50,
                            created_by_id=manager.id)
    db.session.add(assignment)
    db.session.flush()
    attempt = start_attempt(member, db.session.get(QuestionSet, "alpha"))
    attempt.assignment_id = assignment.id
    attempt.pass_mark = assignment.pass_mark
    assert submit_attempt(attempt, {})
    # Invitations and join codes: a pending invitation of a new address, an open join code.
    invite_token = f"invitation-token-of-{label}-" + "x" * 24
    code = ("ABCDEFGHJK" if label == "A" else "BCDEFGHJKM")
    later = utcnow() + timedelta(days=14)
    invitation = Invitation(org_id=org.id, email=f"invitee.{label.lower()}@example.org",
                            token_hash=hashlib.sha256(invite_token.encode()).hexdigest(),
                            cohort_id=cohort.id, created_by_id=manager.id, expires_at=later)
    join_code = JoinCode(org_id=org.id, code=code, expires_at=later, created_by_id=manager.id)
    db.session.add_all([invitation, join_code])
    db.session.flush()
    # A second attempt, all right: it passes, and its certificate is issued on submit.
    passed = start_attempt(member, db.session.get(QuestionSet, "alpha"))
    passed.assignment_id = assignment.id
    passed.pass_mark = assignment.pass_mark
    assert submit_attempt(passed, answers_for(passed, right_every=1))
    certificate = db.session.scalar(db.select(Certificate).where(Certificate.attempt_id == passed.id))
    return {"org": org.id, "cohort": cohort.id, "assignment": assignment.id,
            "member": member.id, "attempt": attempt.id, "invitation": invitation.id,
            "join_code": join_code.id, "invite_token": invite_token, "code": code,
            "certificate": certificate.id, "certificate_code": certificate.code}


@pytest.fixture
def org_world(app):
    with app.app_context():
        users = {
            "outsider": _user("outsider@example.org"),
            "member": _user("member@example.org"),
            "org_instructor": _user("org.instructor@example.org"),
            "manager": _user("manager@example.org"),
            "other_manager": _user("other.manager@example.org"),
            "member_b": _user("member.b@example.org"),
            "admin": _user("admin@example.org", "admin"),
        }
        a = build_org("A", users["manager"], users["member"], users["org_instructor"])
        b = build_org("B", users["other_manager"], users["member_b"])
        db.session.commit()
        return {
            "a": a, "b": b,
            "users": {role: u.id for role, u in users.items()},
            "tokens": {role: u.session_token for role, u in users.items()},
        }


def sign_in(client, world, role: str) -> None:
    if role == "anonymous":
        return
    with client.session_transaction() as session:
        session["_user_id"] = world["tokens"][role]
        session["_fresh"] = True


def fill(path: str, ids: dict, me: int) -> str:
    return path.format(**ids, me=me, missing=MISSING_ID)


def check_response(response, expected, path: str, label: str) -> None:
    if isinstance(expected, int):
        assert response.status_code == expected, f"{label}: {response.status_code}"
        return
    assert response.status_code == 302, f"{label}: {response.status_code}"
    location = urlsplit(response.headers["Location"])
    if expected.target is None:
        assert location.path == "/auth/login", label
        assert parse_qs(location.query).get("next") == [path], label
    else:
        assert re.fullmatch(expected.target, location.path), (label, location.path)


CASES = [pytest.param(route, role, id=f"{route.method} {route.path} [{role}]")
         for route in ORG_ROUTES for role in ORG_ROLES]


@pytest.mark.parametrize(("route", "role"), CASES)
def test_org_access(client, org_world, route: OrgRoute, role: str):
    sign_in(client, org_world, role)
    me = org_world["users"].get(role, org_world["users"]["member"])
    path = fill(route.path, org_world["a"], me)
    expected = route.expected[role]
    if isinstance(expected, Redirect) and expected.target:
        expected = Redirect(fill(expected.target, org_world["a"], me))
    response = client.open(path, method=route.method, data=route.data)
    check_response(response, expected, path, f"{route.method} {path} as {role}")


def _foreign_variants(route: OrgRoute, world) -> list[tuple[str, str]]:
    """(label, path) with B's ids in place of A's: each placeholder alone, then all."""
    keys = [k for k in TENANT_KEYS if "{" + k + "}" in route.path]
    me = world["users"]["manager"]
    variants = []
    for key in keys:
        ids = {**world["a"], key: world["b"][key]}
        variants.append((f"B's {key}", fill(route.path, ids, me)))
    if len(keys) > 1:
        variants.append(("all of B's ids", fill(route.path, world["b"], me)))
    return variants


TENANT_ROUTES = [pytest.param(route, id=f"{route.method} {route.path}") for route in ORG_ROUTES
                 if route.cross_tenant and any("{" + k + "}" in route.path for k in TENANT_KEYS)
                 and NOT_ALLOWED not in set(route.expected.values())]


@pytest.mark.parametrize("route", TENANT_ROUTES)
def test_another_organisations_ids_are_not_found(client, org_world, route: OrgRoute):
    """A's manager, with B's ids in the path: 404, whatever the route and method."""
    sign_in(client, org_world, "manager")
    for label, path in _foreign_variants(route, org_world):
        response = client.open(path, method=route.method, data=route.data)
        assert response.status_code == 404, f"{route.method} {path} ({label}): {response.status_code}"


def test_cross_tenant_test_covers_routes():
    """The cross-tenant test is not vacuous: it has routes with organisation ids."""
    assert TENANT_ROUTES


def test_org_matrix_rows_name_every_role():
    for route in ORG_ROUTES:
        assert set(route.expected) == set(ORG_ROLES), route


def test_org_world_keeps_the_tenants_apart(app, org_world):
    """The world is what the docstring says: disjoint ids, B's objects in B."""
    for key in TENANT_KEYS:
        assert org_world["a"][key] != org_world["b"][key], key
    with app.app_context():
        assert db.session.get(Cohort, org_world["b"]["cohort"]).org_id == org_world["b"]["org"]
        assert db.session.get(Assignment, org_world["b"]["assignment"]).org_id == org_world["b"]["org"]
