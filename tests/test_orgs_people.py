"""Members and cohorts of an organisation; site admins creating organisations (browser, CLI).

The access matrix rows are in tests/test_access_orgs.py (PEOPLE_ROUTES) and
tests/test_access.py (ADMIN_ORG_ROUTES); this file checks what the pages and commands do.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from quiz.attempts import start_attempt, submit_attempt
from quiz.extensions import db
from quiz.mail import read_outbox
from quiz.models import (
    Assignment,
    Attempt,
    AuditEvent,
    Cohort,
    Invitation,
    Membership,
    Organisation,
    QuestionSet,
    User,
)
from quiz.models._common import utcnow
from quiz.orgs import people
from quiz.vocab import OrgRole

from . import flows
from .conftest import PASSWORD
from .test_access import _password_hash
from .test_e2e import chromium  # noqa: F401 (fixture)
from .test_lazy_loads import LazyLoads
from .test_studio_questions import statements

pytestmark = pytest.mark.small_bank


# --- the world ------------------------------------------------------------------------------

def _user(email: str, name: str | None = None, role: str = "learner") -> User:
    user = User(email=email, name=name or email.split("@")[0].title(), role=role,
                password_hash=_password_hash())
    db.session.add(user)
    db.session.flush()
    return user




@pytest.fixture
def world(app):
    """Clinic A: a manager, an instructor, cohorts "Spring" (Ann, Bob) and "Autumn" (Cy),
    Dee in no cohort; Clinic B: its manager, cohort "Spring B" with Eve."""
    with app.app_context():
        manager = _user("manager@example.org", "Mia Manager")
        instructor = _user("ivy@example.org", "Ivy Instructor")
        admin = _user("admin@example.org", "Ada Admin", "admin")
        ann, bob = _user("ann@example.org", "Ann Able"), _user("bob@example.org", "Bob Baker")
        cy, dee = _user("cy@example.org", "Cy Cole"), _user("dee@example.org", "Dee Dunn")
        other, eve = _user("other@example.org", "Oz Other"), _user("eve@example.org", "Eve Evans")
        a, b = Organisation(name="Clinic A"), Organisation(name="Clinic B")
        db.session.add_all([a, b])
        db.session.flush()
        spring, autumn = Cohort(org_id=a.id, name="Spring"), Cohort(org_id=a.id, name="Autumn")
        spring_b = Cohort(org_id=b.id, name="Spring B")
        db.session.add_all([spring, autumn, spring_b])
        db.session.flush()
        db.session.add_all([
            Membership(org_id=a.id, user_id=manager.id, role=OrgRole.MANAGER),
            Membership(org_id=a.id, user_id=instructor.id, role=OrgRole.INSTRUCTOR),
            Membership(org_id=a.id, user_id=ann.id, cohort_id=spring.id),
            Membership(org_id=a.id, user_id=bob.id, cohort_id=spring.id),
            Membership(org_id=a.id, user_id=cy.id, cohort_id=autumn.id),
            Membership(org_id=a.id, user_id=dee.id),
            Membership(org_id=b.id, user_id=other.id, role=OrgRole.MANAGER),
            Membership(org_id=b.id, user_id=eve.id, cohort_id=spring_b.id),
        ])
        db.session.commit()
        return {"a": a.id, "b": b.id, "spring": spring.id, "autumn": autumn.id,
                "spring_b": spring_b.id, "manager": manager.id, "instructor": instructor.id,
                "admin": admin.id, "ann": ann.id, "bob": bob.id, "cy": cy.id, "dee": dee.id,
                "other": other.id, "eve": eve.id}


def cohort_of(app, org_id: int, user_id: int) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Membership.cohort_id).where(
            Membership.org_id == org_id, Membership.user_id == user_id))


def outbox(app):
    with app.app_context():
        return read_outbox()


def audit_actions(app, entity: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == entity).order_by(AuditEvent.id)))


def names(html: str) -> list[str]:
    """The member names of a members page, in order."""
    return re.findall(r'<td><a href="/orgs/\d+/members/\d+">([^<]+)</a>', html)


# --- the member list ------------------------------------------------------------------------

def test_the_list_searches_filters_and_sorts(app, world):
    client = flows.client_for(app, world["manager"])
    base = f"/orgs/{world['a']}/members"
    page = client.get(base).get_data(as_text=True)
    assert names(page) == ["Ann Able", "Bob Baker", "Cy Cole", "Dee Dunn", "Ivy Instructor",
                           "Mia Manager"]
    assert "Eve Evans" not in page  # another organisation's member
    assert names(client.get(base + "?q=BAKER").get_data(as_text=True)) == ["Bob Baker"]
    assert names(client.get(base + "?q=cy@example").get_data(as_text=True)) == ["Cy Cole"]
    assert names(client.get(base + f"?cohort={world['spring']}").get_data(as_text=True)) == [
        "Ann Able", "Bob Baker"]
    assert names(client.get(base + "?cohort=none").get_data(as_text=True)) == [
        "Dee Dunn", "Ivy Instructor", "Mia Manager"]
    assert names(client.get(base + "?role=manager").get_data(as_text=True)) == ["Mia Manager"]
    assert names(client.get(base + "?cohort=none&role=member").get_data(as_text=True)) == ["Dee Dunn"]
    assert names(client.get(base + "?sort=name&dir=desc").get_data(as_text=True))[0] == "Mia Manager"
    # a LIKE wildcard is a plain character
    assert names(client.get(base + "?q=%25").get_data(as_text=True)) == []


def test_the_list_is_paged_by_50(app, world):
    with app.app_context():
        rows = [{"email": f"p{n:03}@example.org", "name": f"Person {n:03}", "role": "learner",
                 "password_hash": "x", "session_token": secrets.token_hex(16)} for n in range(60)]
        db.session.execute(insert(User), rows)
        ids = db.session.scalars(select(User.id).where(User.email.like("p%@example.org")))
        db.session.execute(insert(Membership), [{"org_id": world["a"], "user_id": i,
                                                 "role": "member"} for i in ids])
        db.session.commit()
    client = flows.client_for(app, world["manager"])
    first = client.get(f"/orgs/{world['a']}/members?cohort=none&role=member")
    text = first.get_data(as_text=True)
    assert len(names(text)) == 50 and "1–50 of 61 members" in text
    last = client.get(f"/orgs/{world['a']}/members?cohort=none&role=member&page=99")
    assert len(names(last.get_data(as_text=True))) == 11  # past the end: the last page


@pytest.mark.parametrize(("query", "status"), [
    ("cohort=abc", 400), ("cohort=-1", 400), ("role=owner", 400), ("cohort={spring_b}", 404),
    ("cohort=987654", 404)])
def test_bad_filters_are_4xx(app, world, query, status):
    response = flows.client_for(app, world["manager"]).get(
        f"/orgs/{world['a']}/members?" + query.format(**world))
    assert response.status_code == status


def test_instructors_see_the_list_without_the_changes(app, world):
    client = flows.client_for(app, world["instructor"])
    page = client.get(f"/orgs/{world['a']}/members").get_data(as_text=True)
    assert "Ann Able" in page
    assert 'name="ids"' not in page and "/members/move" not in page
    member = client.get(f"/orgs/{world['a']}/members/{world['ann']}").get_data(as_text=True)
    assert "Ann Able" in member and "/remove" not in member and "/role" not in member
    assert client.post(f"/orgs/{world['a']}/members/move",
                       data={"ids": world["ann"], "target": "none"}).status_code == 404
    assert client.post(f"/orgs/{world['a']}/members/{world['ann']}/remove").status_code == 404
    assert cohort_of(app, world["a"], world["ann"]) == world["spring"]


def test_a_manager_sees_checkboxes_and_the_move_form(app, world):
    page = flows.client_for(app, world["manager"]).get(f"/orgs/{world['a']}/members").get_data(as_text=True)
    assert page.count('name="ids"') == 6
    assert f'<option value="{world["autumn"]}">Autumn</option>' in page


# --- moving people --------------------------------------------------------------------------

def test_a_bulk_move_moves_every_ticked_member_and_audits_each(app, world):
    client = flows.client_for(app, world["manager"])
    response = client.post(f"/orgs/{world['a']}/members/move", data={
        "ids": [world["ann"], world["cy"], world["dee"]], "target": world["autumn"],
        # the list's filter, carried along (its `cohort` is not the target)
        "q": "example", "cohort": world["spring"], "sort": "joined", "dir": "asc", "page": "1"})
    assert response.status_code == 302
    assert f"cohort={world['spring']}" in response.headers["Location"]
    assert "sort=joined" in response.headers["Location"]
    assert [cohort_of(app, world["a"], world[k]) for k in ("ann", "bob", "cy", "dee")] == [
        world["autumn"], world["spring"], world["autumn"], world["autumn"]]
    assert audit_actions(app, "membership") == ["move", "move"]  # Cy was there already
    assert "Moved 2 members" in client.get(response.headers["Location"]).get_data(as_text=True)
    # and out of every cohort
    client.post(f"/orgs/{world['a']}/members/move", data={"ids": [world["ann"]], "target": "none"})
    assert cohort_of(app, world["a"], world["ann"]) is None


@pytest.mark.parametrize(("data", "status"), [
    ({"target": "{autumn}"}, 400),                                  # nobody ticked
    ({"ids": ["{ann}", "{eve}"], "target": "{autumn}"}, 404),       # B's member among them
    ({"ids": ["{ann}", "987654"], "target": "{autumn}"}, 404),      # nobody at all
    ({"ids": ["{ann}", "x"], "target": "{autumn}"}, 400),           # tampered
    ({"ids": ["{ann}", "{bob}"], "target": "{spring_b}"}, 404),     # B's cohort
    ({"ids": ["{ann}", "{bob}"], "target": "987654"}, 404),
    ({"ids": ["{ann}", "{bob}"], "target": ""}, 400),               # no target chosen
    ({"ids": ["{ann}", "{bob}"], "target": "spring"}, 400),
])
def test_a_bad_bulk_move_moves_nobody(app, world, data, status):
    filled = {k: ([v.format(**world) for v in val] if isinstance(val, list) else val.format(**world))
              for k, val in data.items()}
    response = flows.client_for(app, world["manager"]).post(f"/orgs/{world['a']}/members/move", data=filled)
    assert response.status_code == status
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert cohort_of(app, world["a"], world["ann"]) == world["spring"]
    assert cohort_of(app, world["a"], world["bob"]) == world["spring"]
    assert cohort_of(app, world["b"], world["eve"]) == world["spring_b"]
    assert audit_actions(app, "membership") == []


def test_too_many_ticked_is_refused(app, world):
    ids = [str(n) for n in range(1, people.MAX_SELECTION + 2)]
    response = flows.client_for(app, world["manager"]).post(
        f"/orgs/{world['a']}/members/move", data={"ids": ids, "target": "none"})
    assert response.status_code == 400


def test_one_member_moves_from_their_page(app, world):
    client = flows.client_for(app, world["manager"])
    url = f"/orgs/{world['a']}/members/{world['dee']}"
    page = client.get(url).get_data(as_text=True)
    assert "Dee Dunn" in page and "dee@example.org" in page and "No cohort" in page
    response = client.post(url + "/cohort", data={"cohort": world["spring"]})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert cohort_of(app, world["a"], world["dee"]) == world["spring"]
    assert client.post(url + "/cohort", data={"cohort": world["spring_b"]}).status_code == 404
    assert cohort_of(app, world["a"], world["dee"]) == world["spring"]


# --- roles and removal ----------------------------------------------------------------------

def test_roles_change_and_the_last_manager_stays(app, world):
    client = flows.client_for(app, world["manager"])
    a = world["a"]
    me = f"/orgs/{a}/members/{world['manager']}"
    refused = client.post(me + "/role", data={"role": "member"})
    assert refused.status_code == 409
    assert "only manager" in refused.get_data(as_text=True)
    assert client.post(me + "/remove").status_code == 409
    # a second manager, then the first may step down
    assert client.post(f"/orgs/{a}/members/{world['ann']}/role",
                       data={"role": "manager"}).status_code == 302
    assert client.post(me + "/role", data={"role": "instructor"}).status_code == 302
    with app.app_context():
        roles = dict(db.session.execute(select(Membership.user_id, Membership.role)
                                        .where(Membership.org_id == a)).all())
    assert roles[world["ann"]] == "manager" and roles[world["manager"]] == "instructor"
    assert audit_actions(app, "membership") == ["set-role", "set-role"]
    # now an instructor: may look, may not change
    assert client.post(f"/orgs/{a}/members/{world['bob']}/role",
                       data={"role": "manager"}).status_code == 404
    assert client.get(f"/orgs/{a}/members").status_code == 200


def test_a_bad_role_is_400_and_changes_nothing(app, world):
    client = flows.client_for(app, world["manager"])
    for role in ("owner", "", "MANAGER"):
        response = client.post(f"/orgs/{world['a']}/members/{world['ann']}/role", data={"role": role})
        assert response.status_code == 400, role
    with app.app_context():
        assert db.session.scalar(select(Membership.role).where(
            Membership.user_id == world["ann"])) == "member"


def test_removing_a_member_keeps_their_attempts(app, world):
    with app.app_context():
        ann = db.session.get(User, world["ann"])
        attempt = start_attempt(ann, db.session.get(QuestionSet, "alpha"))
        assert submit_attempt(attempt, {})
        db.session.commit()
        attempt_id = attempt.id
    client = flows.client_for(app, world["manager"])
    response = client.post(f"/orgs/{world['a']}/members/{world['ann']}/remove")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{world['a']}/members")
    with app.app_context():
        assert db.session.scalar(select(Membership).where(
            Membership.org_id == world["a"], Membership.user_id == world["ann"])) is None
        assert db.session.get(Attempt, attempt_id) is not None
        assert db.session.get(User, world["ann"]).active
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "remove"))
        assert event.detail["user_id"] == world["ann"] and event.actor_id == world["manager"]
    assert client.get(f"/orgs/{world['a']}/members/{world['ann']}").status_code == 404
    # B's member is not A's to remove
    assert client.post(f"/orgs/{world['a']}/members/{world['eve']}/remove").status_code == 404


def test_site_admins_manage_any_organisation(app, world):
    client = flows.client_for(app, world["admin"])
    assert client.post(f"/orgs/{world['b']}/members/move",
                       data={"ids": [world["eve"]], "target": "none"}).status_code == 302
    assert cohort_of(app, world["b"], world["eve"]) is None


# --- cohorts --------------------------------------------------------------------------------

def test_cohorts_list_create_rename_delete(app, world):
    client = flows.client_for(app, world["manager"])
    url = f"/orgs/{world['a']}/cohorts"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r"Autumn</td>\s*<td data-label=\"Members\"><a [^>]+>1</a>", page)
    assert re.search(r"Spring</td>\s*<td data-label=\"Members\"><a [^>]+>2</a>", page)
    assert "Spring B" not in page
    assert client.post(url, data={"name": "  Winter   hires "}).status_code == 302
    with app.app_context():
        winter = db.session.scalar(select(Cohort).where(Cohort.name == "Winter hires"))
        assert winter.org_id == world["a"]
        winter_id = winter.id
    # the same name in another organisation is fine; in this one (any case) is not
    duplicate = client.post(url, data={"name": "winter HIRES"})
    assert duplicate.status_code == 409 and "already has a cohort" in duplicate.get_data(as_text=True)
    assert flows.client_for(app, world["other"]).post(f"/orgs/{world['b']}/cohorts",
                                             data={"name": "Winter hires"}).status_code == 302
    assert client.post(f"{url}/{winter_id}/rename", data={"name": "spring"}).status_code == 409
    assert client.post(f"{url}/{winter_id}/rename", data={"name": "x" * 101}).status_code == 400
    assert client.post(f"{url}/{winter_id}/rename", data={"name": "Summer"}).status_code == 302
    assert client.post(f"{url}/{world['spring_b']}/rename", data={"name": "Mine"}).status_code == 404
    assert client.post(f"{url}/{world['spring_b']}/delete").status_code == 404
    assert client.post(f"{url}/{winter_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Cohort, winter_id) is None
        assert db.session.scalar(select(Cohort.name).where(Cohort.id == world["spring_b"])) == "Spring B"
    assert audit_actions(app, "cohort") == ["create", "create", "rename", "delete"]


def test_a_cohort_in_use_is_not_deleted_and_the_page_says_why(app, world):
    client = flows.client_for(app, world["manager"])
    url = f"/orgs/{world['a']}/cohorts/{world['spring']}/delete"
    refused = client.post(url)
    assert refused.status_code == 409
    assert "2 members" in refused.get_data(as_text=True)
    client.post(f"/orgs/{world['a']}/members/move",
                data={"ids": [world["ann"], world["bob"]], "target": "none"})
    with app.app_context():
        db.session.add(Assignment(org_id=world["a"], set_id="alpha", cohort_id=world["spring"]))
        db.session.add(Invitation(org_id=world["a"], email="new@example.org", cohort_id=world["spring"],
                                  token_hash="0" * 64, expires_at=utcnow() + timedelta(days=3)))
        db.session.commit()
    refused = client.post(url)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "1 assignment" in text and "1 invitation" in text and "member" not in text.split("in use")[1][:30]
    with app.app_context():
        assert db.session.get(Cohort, world["spring"]) is not None


# --- query counts and lazy loads ------------------------------------------------------------

def _add_members(app, org_id: int, cohort_id: int, count: int, start: int) -> None:
    with app.app_context():
        rows = [{"email": f"m{n}@example.org", "name": f"Member {n:05}", "role": "learner",
                 "password_hash": "x", "session_token": secrets.token_hex(16)}
                for n in range(start, start + count)]
        db.session.execute(insert(User), rows)
        ids = db.session.scalars(select(User.id).where(User.email.in_([r["email"] for r in rows])))
        db.session.execute(insert(Membership), [
            {"org_id": org_id, "user_id": i, "role": "member",
             "cohort_id": cohort_id if i % 2 else None} for i in ids])
        db.session.commit()




def test_the_pages_send_the_same_statements_for_5_and_2000_members(app, world):
    a = world["a"]
    urls = [f"/orgs/{a}/members", f"/orgs/{a}/members?q=example&sort=joined&page=3",
            f"/orgs/{a}/members?cohort={world['spring']}&role=member",
            f"/orgs/{a}/members?cohort=none", f"/orgs/{a}/cohorts", "/orgs/admin"]
    manager, admin = flows.client_for(app, world["manager"]), flows.client_for(app, world["admin"])

    def counts():
        return [statements(app, admin if "admin" in url else manager, url) for url in urls]

    few = counts()
    _add_members(app, a, world["spring"], 2000, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)
                                 .where(Membership.org_id == a)) == 2006
    many = counts()
    assert few == many
    assert few[0] <= 6  # the user, the organisation, the role check, cohorts, count, page
    page = manager.get(f"/orgs/{a}/members?q=member&page=3").get_data(as_text=True)
    assert len(names(page)) == 50 and "101–150 of 2,000 members" in page


@pytest.mark.parametrize(("who", "url"), [
    ("manager", "/orgs/{a}/members"), ("manager", "/orgs/{a}/members/{ann}"),
    ("manager", "/orgs/{a}/cohorts"), ("admin", "/orgs/admin"), ("admin", "/orgs/admin/new"),
    ("instructor", "/orgs/{a}/members"), ("manager", "/orgs/{a}")])
def test_the_pages_render_without_lazy_loads(app, world, who, url):
    client = flows.client_for(app, world[who])
    recorder = LazyLoads()
    event.listen(Session, "do_orm_execute", recorder)
    try:
        response = client.get(url.format(**world))
    finally:
        event.remove(Session, "do_orm_execute", recorder)
    assert response.status_code == 200
    assert recorder.loads == []


def test_the_home_page_links_members_and_cohorts(app, world):
    page = flows.client_for(app, world["manager"]).get(f"/orgs/{world['a']}").get_data(as_text=True)
    assert f'href="/orgs/{world["a"]}/members"' in page
    assert f'href="/orgs/{world["a"]}/cohorts"' in page


# --- site admins: organisations -------------------------------------------------------------

def test_an_admin_creates_an_organisation_with_a_new_manager(app, world, client):
    admin = flows.client_for(app, world["admin"])
    form = admin.get("/orgs/admin/new")
    assert form.status_code == 200 and "Manager&#39;s e-mail" in form.get_data(as_text=True)
    response = admin.post("/orgs/admin/new", data={
        "name": "  Harbour   Physio ", "manager_email": "Hana@Example.org",
        "manager_name": "Hana Harbour"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs/admin")
    listing = admin.get("/orgs/admin").get_data(as_text=True)
    assert "Created Harbour Physio. hana@example.org is its manager" in listing
    assert "Harbour Physio" in listing and "Clinic A" in listing
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Harbour Physio"))
        hana = db.session.scalar(select(User).where(User.email == "hana@example.org"))
        assert hana.name == "Hana Harbour" and hana.role == "learner"
        membership = db.session.scalar(select(Membership).where(Membership.user_id == hana.id))
        assert (membership.org_id, membership.role) == (org.id, "manager")
        org_id = org.id
    assert audit_actions(app, "organisation") == ["create"]
    assert audit_actions(app, "membership") == ["add"]
    [mail] = outbox(app)
    assert mail["To"] == "hana@example.org" and "Harbour Physio" in mail["Subject"]
    link = re.search(r"http://localhost(/reset/\S+)", mail.get_content()).group(1)
    # the random password nobody knows does not sign in; the link sets the manager's own
    assert client.post("/auth/login", data={"email": "hana@example.org",
                                            "password": PASSWORD}).status_code != 302
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": PASSWORD, "confirm": PASSWORD}).status_code == 302
    assert client.get(link).status_code == 410  # once
    assert client.post("/auth/login", data={"email": "hana@example.org",
                                            "password": PASSWORD}).status_code == 302
    assert client.get(f"/orgs/{org_id}/members").status_code == 200


def test_an_existing_account_becomes_the_manager(app, world):
    admin = flows.client_for(app, world["admin"])
    response = admin.post("/orgs/admin/new", data={"name": "Second Clinic",
                                                   "manager_email": "ann@example.org"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 9  # no new account
        org_id = db.session.scalar(select(Organisation.id).where(Organisation.name == "Second Clinic"))
    [mail] = outbox(app)
    assert mail["To"] == "ann@example.org" and "/reset/" not in mail.get_content()
    assert flows.client_for(app, world["ann"]).get(f"/orgs/{org_id}/members").status_code == 200


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"name": "clinic a", "manager_email": "new@example.org"}, 409, "already exists"),
    ({"name": "", "manager_email": "new@example.org"}, 400, "Enter the organisation"),
    ({"name": "x" * 121, "manager_email": "new@example.org"}, 400, "Field cannot be longer"),
    ({"name": "New", "manager_email": "new@example"}, 400, "valid e-mail"),
    ({"name": "New", "manager_email": ""}, 400, "Enter the manager"),
])
def test_a_bad_new_organisation_writes_nothing(app, world, data, status, message):
    response = flows.client_for(app, world["admin"]).post("/orgs/admin/new", data=data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2
        assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    assert outbox(app) == []


def test_a_deactivated_account_cannot_become_manager(app, world):
    with app.app_context():
        db.session.get(User, world["ann"]).active = False
        db.session.commit()
    response = flows.client_for(app, world["admin"]).post(
        "/orgs/admin/new", data={"name": "New", "manager_email": "ann@example.org"})
    assert response.status_code == 409 and "deactivated" in response.get_data(as_text=True)


def test_the_admin_list_counts_members(app, world):
    page = flows.client_for(app, world["admin"]).get("/orgs/admin").get_data(as_text=True)
    row = re.search(r"Clinic A</a></td>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r'data-label="(\w+)">([\d,]+)<', row) == [
        ("Members", "6"), ("Managers", "1"), ("Cohorts", "2")]
    assert flows.client_for(app, world["manager"]).get("/orgs/admin").status_code == 403


def test_an_admin_renames_and_deactivates_an_organisation(app, world):
    admin = flows.client_for(app, world["admin"])
    b = world["b"]
    assert admin.post(f"/orgs/admin/{b}/rename", data={"name": "clinic a"}).status_code == 409
    assert admin.post(f"/orgs/admin/{b}/rename", data={"name": ""}).status_code == 400
    assert admin.post(f"/orgs/admin/{b}/rename", data={"name": "Bay Clinic"}).status_code == 302
    assert admin.post(f"/orgs/admin/{b}/active", data={"active": "maybe"}).status_code == 400
    assert admin.post(f"/orgs/admin/{b}/active", data={"active": "no"}).status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, b)
        assert (org.name, org.active) == ("Bay Clinic", False)
    assert "Bay Clinic" not in flows.client_for(app, world["eve"]).get("/orgs/").get_data(as_text=True)
    assert "inactive" in admin.get("/orgs/admin").get_data(as_text=True)
    # Closed to its own manager while deactivated; site admins still see it.
    for path in (f"/orgs/{b}", f"/orgs/{b}/members", f"/orgs/{b}/dashboard"):
        assert flows.client_for(app, world["other"]).get(path).status_code == 404, path
        assert admin.get(path).status_code == 200, path
    assert admin.post(f"/orgs/admin/{b}/active", data={"active": "yes"}).status_code == 302
    assert "Bay Clinic" in flows.client_for(app, world["eve"]).get("/orgs/").get_data(as_text=True)
    assert flows.client_for(app, world["other"]).get(f"/orgs/{b}").status_code == 200
    assert audit_actions(app, "organisation") == ["rename", "deactivate", "reactivate"]
    # a manager is not a site admin
    assert flows.client_for(app, world["other"]).post(f"/orgs/admin/{b}/rename",
                                             data={"name": "Mine"}).status_code == 403


# --- the command line -----------------------------------------------------------------------

def test_cli_creates_an_organisation_and_prints_the_link(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["orgs", "create", "Lakeside Rehab", "--manager",
                                 "lee@example.org", "--base-url", "https://quiz.example.org"])
    assert result.exit_code == 0, result.output
    assert "manager lee@example.org (new account)" in result.output
    link = re.search(r"https://quiz\.example\.org/reset/\S+", result.output).group(0)
    [mail] = outbox(app)
    assert link in mail.get_content()
    with app.app_context():
        lee = db.session.scalar(select(User).where(User.email == "lee@example.org"))
        assert lee.name == "lee"
        assert db.session.scalar(select(AuditEvent.actor_id).where(
            AuditEvent.entity_type == "organisation")) is None
    listed = runner.invoke(args=["orgs", "list"])
    assert listed.exit_code == 0
    lines = [line.split("\t") for line in listed.output.splitlines()]
    assert [line[1:] for line in lines] == [
        ["Clinic A", "active", "6", "1", "2"], ["Clinic B", "active", "2", "1", "1"],
        ["Lakeside Rehab", "active", "1", "1", "0"]]
    # an existing account: no link
    again = runner.invoke(args=["orgs", "create", "Hillside", "--manager", "ann@example.org"])
    assert again.exit_code == 0 and "existing account" in again.output and "/reset/" not in again.output


@pytest.mark.parametrize("args", [
    ["orgs", "create", "CLINIC B", "--manager", "zed@example.org"],
    ["orgs", "create", "Fine name", "--manager", "not-an-address"],
    ["orgs", "create", "   ", "--manager", "zed@example.org"],
])
def test_cli_refusals_exit_non_zero_and_write_nothing(app, world, args):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert "Error:" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2
        assert db.session.scalar(select(User).where(User.email == "zed@example.org")) is None
    assert outbox(app) == []


# --- CSRF -----------------------------------------------------------------------------------

def test_changes_need_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        manager, ann = _user("m@example.org"), _user("a@example.org")
        org = Organisation(name="Clinic")
        db.session.add(org)
        db.session.flush()
        db.session.add_all([Membership(org_id=org.id, user_id=manager.id, role="manager"),
                            Membership(org_id=org.id, user_id=ann.id)])
        db.session.commit()
        ids = (org.id, manager.id, ann.id)
    client = flows.client_for(csrf_app, ids[1])
    assert client.post(f"/orgs/{ids[0]}/members/{ids[2]}/remove").status_code == 400
    assert client.post(f"/orgs/{ids[0]}/cohorts", data={"name": "Spring"}).status_code == 400
    page = client.get(f"/orgs/{ids[0]}/members/{ids[2]}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"/orgs/{ids[0]}/members/{ids[2]}/remove",
                       data={"csrf_token": token}).status_code == 302


# --- in a real browser ----------------------------------------------------------------------

@pytest.mark.e2e
def test_the_pages_in_chromium_at_desktop_and_phone_widths(app, world, chromium, tmp_path):  # noqa: F811
    """No CSP violation, nothing wider than the window; a bulk move through the page."""
    from playwright.sync_api import expect, sync_playwright

    from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, serving

    _add_members(app, world["a"], world["autumn"], 60, 0)
    a = world["a"]
    pages = {"manager": [f"/orgs/{a}", f"/orgs/{a}/members", f"/orgs/{a}/members?page=2&sort=joined",
                         f"/orgs/{a}/members/{world['ann']}", f"/orgs/{a}/cohorts"],
             "admin": ["/orgs/admin", "/orgs/admin/new"]}
    shots = Shots(tmp_path / "screenshots")
    with serving(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), chromium_sandbox=False,
                                    args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                for who, urls in pages.items():
                    context = browser.new_context(viewport={"width": width, "height": 900})
                    context.add_init_script(CSP_RECORDER)
                    page = context.new_page()
                    page.goto(base + "/auth/login")
                    page.get_by_label("E-mail").fill(f"{who}@example.org")
                    page.get_by_label("Password", exact=True).fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    for url in urls:
                        response = page.goto(base + url)
                        assert response.status == 200, url
                        shots(page, f"{width}-{who}-{url.strip('/').replace('/', '-').split('?')[0]}")
                        assert page.evaluate("window.__cspViolations") == [], url
                        assert page.evaluate(
                            "document.documentElement.scrollWidth <= window.innerWidth"), (url, width)
                    if who == "manager":
                        page.goto(base + f"/orgs/{a}/cohorts")
                        page.locator("summary", has_text="Rename").first.click()
                        shots(page, f"{width}-rename-open")
                        assert page.evaluate(
                            "document.documentElement.scrollWidth <= window.innerWidth"), width
                    if who == "manager" and width == 1280:
                        page.goto(base + f"/orgs/{a}/members?cohort={world['spring']}")
                        page.get_by_label("Choose Ann Able").check()
                        page.get_by_label("Choose Bob Baker").check()
                        page.select_option("#move-cohort", label="Autumn")
                        page.get_by_role("button", name="Move", exact=True).click()
                        expect(page.locator(".flash")).to_contain_text("Moved 2 members")
                        shots(page, "moved")
                    context.close()
        finally:
            browser.close()
    assert cohort_of(app, a, world["ann"]) == world["autumn"]
