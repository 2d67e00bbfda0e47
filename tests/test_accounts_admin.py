"""Accounts in the browser: the admin's user list and changes, reset links, /account, the CLI."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from quiz import accounts
from quiz.extensions import db
from quiz.models import AuditEvent, PasswordReset, User

from .conftest import PASSWORD
from .test_security import page_token

pytestmark = pytest.mark.small_bank

NEW_PASSWORD = "violet tugboat anthem"


def signed_in(app, user) -> object:
    client = app.test_client()
    response = client.post("/auth/login", data={"email": user["email"], "password": user["password"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def is_signed_in(client) -> bool:
    return client.get("/sets").status_code == 200


def get_user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def events(app, user_id: int) -> list[tuple[int | None, str]]:
    with app.app_context():
        return [(e.actor_id, e.action) for e in db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.entity_type == "user",
                                        AuditEvent.entity_id == str(user_id))
            .order_by(AuditEvent.id))]


def reset_link(admin_client, user_id: int) -> str:
    response = admin_client.post(f"/admin/users/{user_id}/reset-link")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    url = re.search(r'id="reset-url"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert url, "the link is shown in a copy-friendly field"
    return url.group(1).removeprefix("http://localhost")


@pytest.fixture
def people(app, make_user):
    return {"admin": make_user("admin"), "learner": make_user("learner"),
            "instructor": make_user("instructor")}


# --- deactivate and reactivate ------------------------------------------------------------

def test_deactivating_ends_the_sessions_at_once_and_blocks_sign_in(app, people):
    admin = signed_in(app, people["admin"])
    learner = people["learner"]
    learner_client = signed_in(app, learner)
    second_device = signed_in(app, learner)
    assert is_signed_in(learner_client) and is_signed_in(second_device)

    response = admin.post(f"/admin/users/{learner['id']}/deactivate")
    assert response.status_code == 302
    assert "deactivated" in admin.get(response.headers["Location"]).get_data(as_text=True)

    # The very next request of every existing session is signed out.
    for client in (learner_client, second_device):
        response = client.get("/sets")
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # Signing in again is refused with the same message as a wrong password.
    fresh = app.test_client()
    refused = fresh.post("/auth/login", data={"email": learner["email"], "password": PASSWORD})
    wrong = app.test_client().post("/auth/login", data={"email": learner["email"],
                                                       "password": "wrong password here"})
    assert refused.status_code == wrong.status_code == 400
    assert "do not match an account" in refused.get_data(as_text=True)
    assert refused.get_data(as_text=True) == wrong.get_data(as_text=True)
    assert not is_signed_in(fresh)
    user = get_user(app, learner["id"])
    assert user.active is False

    # Reactivated: the old password works again.
    assert admin.post(f"/admin/users/{learner['id']}/reactivate").status_code == 302
    assert is_signed_in(signed_in(app, learner))
    admin_id = people["admin"]["id"]
    assert events(app, learner["id"]) == [(admin_id, "deactivate"), (admin_id, "reactivate")]


def test_a_stolen_session_cookie_of_a_deactivated_account_stays_dead(app, people):
    """Reactivating does not revive sessions from before the deactivation."""
    learner_client = signed_in(app, people["learner"])
    with app.app_context():
        user = db.session.get(User, people["learner"]["id"])
        accounts.deactivate(None, user)
        db.session.commit()
        accounts.reactivate(None, user)
        db.session.commit()
    assert not is_signed_in(learner_client)


def test_load_user_refuses_an_inactive_account_even_with_its_current_token(app, people):
    """The session check itself, apart from the token rotation that deactivating also does."""
    learner_client = signed_in(app, people["learner"])
    with app.app_context():
        db.session.get(User, people["learner"]["id"]).active = False
        db.session.commit()
    assert not is_signed_in(learner_client)


def test_repeated_deactivate_changes_nothing_more(app, people):
    admin = signed_in(app, people["admin"])
    uid = people["learner"]["id"]
    admin.post(f"/admin/users/{uid}/deactivate")
    token = get_user(app, uid).session_token
    response = admin.post(f"/admin/users/{uid}/deactivate", follow_redirects=True)
    assert "already deactivated" in response.get_data(as_text=True)
    assert get_user(app, uid).session_token == token
    assert [a for _, a in events(app, uid)] == ["deactivate"]


# --- roles and the last-admin guard -------------------------------------------------------

def test_role_change_is_validated_and_audited(app, people):
    admin = signed_in(app, people["admin"])
    uid = people["learner"]["id"]
    response = admin.post(f"/admin/users/{uid}/role", data={"role": "superuser"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert get_user(app, uid).role == "learner"
    assert events(app, uid) == []

    assert admin.post(f"/admin/users/{uid}/role", data={"role": "instructor"}).status_code == 302
    assert get_user(app, uid).role == "instructor"
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.entity_type == "user"))
        assert (event.actor_id, event.action, event.detail) == (
            people["admin"]["id"], "set-role", {"old": "learner", "new": "instructor"})


def test_the_last_admin_cannot_demote_or_deactivate_themselves(app, people):
    admin = signed_in(app, people["admin"])
    aid = people["admin"]["id"]
    for url, data in ((f"/admin/users/{aid}/role", {"role": "learner"}),
                      (f"/admin/users/{aid}/deactivate", {})):
        response = admin.post(url, data=data)
        assert response.status_code == 409, url
        assert "only active admin" in response.get_data(as_text=True)
    user = get_user(app, aid)
    assert (user.role, user.active) == ("admin", True)
    assert events(app, aid) == []
    assert is_signed_in(admin)


def test_with_a_second_admin_an_admin_may_step_down(app, people, make_user):
    other = make_user("admin")
    admin = signed_in(app, people["admin"])
    aid = people["admin"]["id"]
    assert admin.post(f"/admin/users/{aid}/role", data={"role": "instructor"}).status_code == 302
    assert get_user(app, aid).role == "instructor"
    assert admin.get("/admin/users").status_code == 403  # no longer an admin
    # The remaining admin is now the last one: the guard holds for them.
    second = signed_in(app, other)
    assert second.post(f"/admin/users/{other['id']}/deactivate").status_code == 409


def test_a_deactivated_admin_does_not_count_as_an_active_admin(app, people, make_user):
    other = make_user("admin")
    admin = signed_in(app, people["admin"])
    assert admin.post(f"/admin/users/{other['id']}/deactivate").status_code == 302
    response = admin.post(f"/admin/users/{people['admin']['id']}/role", data={"role": "learner"})
    assert response.status_code == 409


# --- password-reset links -----------------------------------------------------------------

def test_a_reset_link_works_once(app, people):
    admin = signed_in(app, people["admin"])
    learner = people["learner"]
    learner_client = signed_in(app, learner)
    path = reset_link(admin, learner["id"])
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalar(db.select(PasswordReset))
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert stored.created_by_id == people["admin"]["id"]
    # Shown once: the account page afterwards does not hold it.
    assert token not in admin.get(f"/admin/users/{learner['id']}").get_data(as_text=True)

    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert learner["email"] not in page.get_data(as_text=True)
    # The password policy applies; a refused password leaves the link usable.
    weak = visitor.post(path, data={"password": "password", "confirm": "password"})
    assert weak.status_code == 400 and "most common passwords" in weak.get_data(as_text=True)
    done = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"

    assert not is_signed_in(learner_client)  # the old sessions ended
    assert app.test_client().post("/auth/login", data={
        "email": learner["email"], "password": PASSWORD}).status_code == 400
    assert is_signed_in(signed_in(app, {**learner, "password": NEW_PASSWORD}))

    for method in ("get", "post"):
        again = getattr(app.test_client(), method)(
            path, data={"password": "another fine phrase", "confirm": "another fine phrase"})
        assert again.status_code == 410
        assert "already been used" in again.get_data(as_text=True)
    assert is_signed_in(signed_in(app, {**learner, "password": NEW_PASSWORD}))
    assert [a for _, a in events(app, learner["id"])] == ["reset-link", "reset-password"]


def test_an_expired_link_fails(app, people):
    admin = signed_in(app, people["admin"])
    path = reset_link(admin, people["learner"]["id"])
    with app.app_context():
        reset = db.session.scalar(db.select(PasswordReset))
        reset.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    for response in (app.test_client().get(path),
                     app.test_client().post(path, data={"password": NEW_PASSWORD,
                                                        "confirm": NEW_PASSWORD})):
        assert response.status_code == 410
        assert "expired" in response.get_data(as_text=True)
    assert PasswordHasher().verify(get_user(app, people["learner"]["id"]).password_hash, PASSWORD)


def test_links_expire_after_the_configured_hours(app, people):
    app.config["PASSWORD_RESET_HOURS"] = 2
    admin = signed_in(app, people["admin"])
    reset_link(admin, people["learner"]["id"])
    with app.app_context():
        reset = db.session.scalar(db.select(PasswordReset))
        valid = accounts.aware(reset.expires_at) - accounts.aware(reset.created_at)
    assert valid == timedelta(hours=2)


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 300, "%2e%2e", "nope"])
def test_unknown_or_tampered_tokens_are_404(app, people, token):
    admin = signed_in(app, people["admin"])
    real = reset_link(admin, people["learner"]["id"]).rsplit("/", 1)[1]
    for path in (f"/reset/{token}", f"/reset/{real[:-1]}{'A' if real[-1] != 'A' else 'B'}"):
        response = app.test_client().post(path, data={"password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
        assert response.status_code == 404, path
        assert "not valid" in response.get_data(as_text=True)


def test_a_new_link_voids_the_older_one_and_deactivation_voids_all(app, people):
    admin = signed_in(app, people["admin"])
    uid = people["learner"]["id"]
    first = reset_link(admin, uid)
    second = reset_link(admin, uid)
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200
    admin.post(f"/admin/users/{uid}/deactivate")
    assert app.test_client().get(second).status_code in (404, 410)
    # No link for a deactivated account.
    response = admin.post(f"/admin/users/{uid}/reset-link")
    assert response.status_code == 409 and "reactivate it" in response.get_data(as_text=True)


# --- each user's own account --------------------------------------------------------------

def test_change_own_name(app, people):
    client = signed_in(app, people["learner"])
    assert "Learner" in client.get("/account").get_data(as_text=True)
    assert client.post("/account/name", data={"name": "  Lee   Park "}).status_code == 302
    assert get_user(app, people["learner"]["id"]).name == "Lee Park"
    assert "Lee Park" in client.get("/account").get_data(as_text=True)
    too_long = client.post("/account/name", data={"name": "x" * 101})
    assert too_long.status_code == 400
    assert get_user(app, people["learner"]["id"]).name == "Lee Park"
    uid = people["learner"]["id"]
    assert events(app, uid) == [(uid, "rename")]


def test_privileged_fields_on_the_account_forms_change_nothing(app, people):
    client = signed_in(app, people["learner"])
    client.post("/account/name", data={"name": "Lee", "role": "admin", "active": "0",
                                       "email": "root@example.org"})
    user = get_user(app, people["learner"]["id"])
    assert (user.name, user.role, user.active, user.email) == (
        "Lee", "learner", True, people["learner"]["email"])


def test_change_own_password_keeps_this_session_and_ends_the_others(app, people):
    learner = people["learner"]
    client, elsewhere = signed_in(app, learner), signed_in(app, learner)
    wrong = client.post("/account/password", data={
        "current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    weak = client.post("/account/password", data={
        "current": PASSWORD, "password": learner["email"], "confirm": learner["email"]})
    assert weak.status_code == 400 and "must not be your e-mail" in weak.get_data(as_text=True)
    mismatch = client.post("/account/password", data={
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400
    assert is_signed_in(elsewhere)  # nothing changed yet
    assert PasswordHasher().verify(get_user(app, learner["id"]).password_hash, PASSWORD)

    token = get_user(app, learner["id"]).session_token
    done = client.post("/account/password", data={
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert get_user(app, learner["id"]).session_token != token
    assert is_signed_in(client)
    assert not is_signed_in(elsewhere)
    assert is_signed_in(signed_in(app, {**learner, "password": NEW_PASSWORD}))
    assert [a for _, a in events(app, learner["id"])] == ["change-password"]


# --- the user list ------------------------------------------------------------------------

def _add_users(app, n: int, role: str = "learner", start: int = 0, **fields):
    with app.app_context():
        db.session.add_all(User(email=f"{role}{i:03}@example.org", name=f"{role.title()} {i:03}",
                                password_hash="x", role=role, **fields)
                           for i in range(start, start + n))
        db.session.commit()


ROW_RE = re.compile(r'<tr[^>]*>\s*<td><a href="/admin/users/\d+">([^<]*)</a>', re.S)


def _names(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return ROW_RE.findall(response.get_data(as_text=True)), response.get_data(as_text=True)


def test_user_list_searches_filters_sorts_and_pages(app, people):
    admin = signed_in(app, people["admin"])
    _add_users(app, 55)
    _add_users(app, 2, role="instructor", start=10, active=False)
    names, page = _names(admin, "/admin/users")
    assert len(names) == 50 and "1–50 of 60 accounts" in page
    assert 'href="/admin/users?sort=name&amp;dir=asc&amp;page=2" rel="next"' in page
    names2, _ = _names(admin, "/admin/users?page=2")
    assert len(names2) == 10 and not set(names) & set(names2)

    names, page = _names(admin, "/admin/users?q=LEARNER%20007")
    assert names == ["Learner 007"]
    names, _ = _names(admin, "/admin/users?role=instructor")
    assert names == ["Instructor", "Instructor 010", "Instructor 011"]
    names, _ = _names(admin, "/admin/users?status=inactive")
    assert names == ["Instructor 010", "Instructor 011"]
    names, _ = _names(admin, "/admin/users?role=instructor&status=active")
    assert names == ["Instructor"]
    names, _ = _names(admin, "/admin/users?q=%25")  # LIKE wildcards are literal
    assert names == []
    # Sign-ins: the admin signed in, so leads "last sign-in" (newest first).
    names, page = _names(admin, "/admin/users?sort=login")
    assert names[0] == "Admin"
    names, _ = _names(admin, "/admin/users?sort=email&dir=desc")
    assert names[:2] == ["Learner", "Learner 054"]  # learner2@ sorts after learner054@
    # Bad arguments fall back to the defaults.
    names, _ = _names(admin, "/admin/users?role=root&status=x&sort=bogus&dir=up&page=999")
    assert len(names) == 10  # the last page


def test_sign_in_records_last_login(app, people):
    assert get_user(app, people["learner"]["id"]).last_login_at is None
    signed_in(app, people["learner"])
    assert get_user(app, people["learner"]["id"]).last_login_at is not None
    app.test_client().post("/auth/login", data={"email": people["instructor"]["email"],
                                                "password": "wrong password here"})
    assert get_user(app, people["instructor"]["id"]).last_login_at is None


def test_user_list_query_count_does_not_grow(app, people, count_queries):
    admin = signed_in(app, people["admin"])
    _add_users(app, 2)  # 5 accounts
    with count_queries() as few:
        assert admin.get("/admin/users").status_code == 200
    _add_users(app, 55, start=100)  # 60 accounts: two pages
    with count_queries() as many:
        assert admin.get("/admin/users").status_code == 200
    assert few.count == many.count <= 3
    with count_queries() as detail:
        assert admin.get(f"/admin/users/{people['learner']['id']}").status_code == 200
    assert detail.count <= 4


def test_nav_links(app, people):
    admin_page = signed_in(app, people["admin"]).get("/sets").get_data(as_text=True)
    assert 'href="/admin/users"' in admin_page and 'href="/account"' in admin_page
    for role in ("learner", "instructor"):
        page = signed_in(app, people[role]).get("/sets").get_data(as_text=True)
        assert 'href="/admin/users"' not in page and 'href="/account"' in page


# --- nobody else reaches the admin pages --------------------------------------------------

ADMIN_POSTS = [("role", {"role": "admin"}), ("deactivate", {}), ("reactivate", {}),
               ("reset-link", {})]


@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_no_admin_page_or_action_for_learners_and_instructors(app, people, role):
    client = signed_in(app, people[role])
    target = people["learner"]["id"] if role == "instructor" else people["instructor"]["id"]
    for url in ("/admin/users", f"/admin/users/{target}", f"/admin/users/{people[role]['id']}"):
        assert client.get(url).status_code == 403, url
    for own in (people[role]["id"], target):
        for action, data in ADMIN_POSTS:
            assert client.post(f"/admin/users/{own}/{action}", data=data).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PasswordReset)) == 0
        roles = dict(db.session.execute(db.select(User.id, User.role)).all())
    assert roles[people[role]["id"]] == role
    assert events(app, people[role]["id"]) == events(app, target) == []


def test_admin_actions_need_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        admin = accounts.create_user("boss@example.org", PASSWORD, "Boss", "admin")
        learner = accounts.create_user("lee@example.org", PASSWORD, "Lee", "learner")
        db.session.commit()
        admin_id, learner_id = admin.id, learner.id
    client = csrf_app.test_client()
    client.post("/auth/login", data={"email": "boss@example.org", "password": PASSWORD,
                                     "csrf_token": page_token(client, "/auth/login")})
    assert is_signed_in(client)
    url = f"/admin/users/{learner_id}/deactivate"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": "garbage"}).status_code == 400
    assert get_user(csrf_app, learner_id).active is True
    token = page_token(client, f"/admin/users/{learner_id}")
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    assert get_user(csrf_app, learner_id).active is False
    assert admin_id


# --- the command line ---------------------------------------------------------------------

def test_cli_list_set_role_deactivate_reactivate(app, runner, people):
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    rows = [line.split("\t") for line in lines]
    assert {r[0] for r in rows} == {people[k]["email"] for k in people}
    assert all(len(r) == 5 for r in rows)
    learner = people["learner"]["email"]
    assert [r[0] for r in rows if r[2] == "learner"] == [learner]
    only = runner.invoke(args=["users", "list", "--role", "instructor"]).output.splitlines()
    assert [line.split("\t")[0] for line in only] == [people["instructor"]["email"]]

    result = runner.invoke(args=["users", "set-role", learner.upper(), "instructor"])
    assert result.exit_code == 0 and "is now instructor" in result.output
    result = runner.invoke(args=["users", "deactivate", learner])
    assert result.exit_code == 0
    assert learner not in runner.invoke(args=["users", "list"]).output
    inactive = runner.invoke(args=["users", "list", "--inactive"]).output.splitlines()
    assert [line.split("\t")[:4] for line in inactive] == [[learner, "Learner", "instructor",
                                                            "inactive"]]
    assert runner.invoke(args=["users", "reactivate", learner]).exit_code == 0
    assert get_user(app, people["learner"]["id"]).active is True
    assert events(app, people["learner"]["id"]) == [(None, "set-role"), (None, "deactivate"),
                                                   (None, "reactivate")]


@pytest.mark.parametrize("args", [
    ["users", "set-role", "nobody@example.org", "admin"],
    ["users", "deactivate", "nobody@example.org"],
    ["users", "reactivate", "nobody@example.org"],
])
def test_cli_unknown_address(runner, people, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "no account has the address nobody@example.org" in result.output


def test_cli_invalid_role_and_last_admin(app, runner, people):
    result = runner.invoke(args=["users", "set-role", people["learner"]["email"], "root"])
    assert result.exit_code == 1 and "Role must be one of" in result.output
    assert runner.invoke(args=["users", "list", "--role", "root"]).exit_code == 2
    for args in (["users", "set-role", people["admin"]["email"], "learner"],
                 ["users", "deactivate", people["admin"]["email"]]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "only active admin" in result.output
    admin = get_user(app, people["admin"]["id"])
    assert (admin.role, admin.active) == ("admin", True)
    assert events(app, people["admin"]["id"]) == []
