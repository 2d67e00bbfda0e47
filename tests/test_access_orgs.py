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
cross-tenant test: the verification page is public); {me} is the visitor's own user id;
{missing} exists nowhere.
Add a placeholder by adding the object to `build_org` (for both organisations) and its key
to TENANT_KEYS.

The cross-tenant test signs in as A's manager and requests every route with B's ids in
place of A's, one placeholder at a time and all together: every such request is a 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest

from quiz.attempts import start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import Assignment, Certificate, Cohort, Membership, Organisation, QuestionSet, User
from quiz.vocab import OrgRole

from .test_access import BAD, LOGIN, MISSING_ID, NOT_ALLOWED, NOT_FOUND, OK, Redirect, _password_hash
from .test_queries import answers_for

pytestmark = pytest.mark.small_bank

ORG_ROLES = ("anonymous", "outsider", "member", "org_instructor", "manager", "other_manager", "admin")
# Placeholders that name an object of one organisation (swapped by the cross-tenant test).
TENANT_KEYS = ("org", "cohort", "assignment", "member", "attempt", "certificate")


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
PEOPLE_ROUTES: list[OrgRoute] = [
]
# Invitations and join codes.
INVITATION_ROUTES: list[OrgRoute] = [
]
# Assignments (the manager's side and the learner's).
ASSIGNMENT_ROUTES: list[OrgRoute] = [
]
# The manager's dashboard and its CSV.
DASHBOARD_ROUTES: list[OrgRoute] = [
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
    db.session.flush()
    # A second attempt, all right: it passes, and its certificate is issued on submit.
    passed = start_attempt(member, db.session.get(QuestionSet, "alpha"))
    passed.assignment_id = assignment.id
    passed.pass_mark = assignment.pass_mark
    assert submit_attempt(passed, answers_for(passed, right_every=1))
    certificate = db.session.scalar(db.select(Certificate).where(Certificate.attempt_id == passed.id))
    return {"org": org.id, "cohort": cohort.id, "assignment": assignment.id,
            "member": member.id, "attempt": attempt.id, "certificate": certificate.id,
            "certificate_code": certificate.code}


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
