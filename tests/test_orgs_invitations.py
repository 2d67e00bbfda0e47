"""Bringing staff in (quiz/orgs/invitations.py, invitation_views.py): the CSV and list
parsers, the preview (writes nothing) and the confirm (all or nothing, signed), the mailed
one-time links and every way they can be refused, join codes and their race for the last use,
the invitations list's statement count, and the pages in Chromium."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, func, select

from quiz import accounts
from quiz.extensions import db
from quiz.mail import read_outbox
from quiz.models import AuditEvent, Cohort, Invitation, JoinCode, Membership, Organisation, User
from quiz.models._common import utcnow
from quiz.orgs import invitations as inv
from quiz.vocab import OrgRole

from .conftest import PASSWORD, QueryCounter

pytestmark = pytest.mark.small_bank

NEW_PASSWORD = "violet tugboat anthem"


# --- the CSV and list parsers (no database) ---------------------------------------------------

def csv_bytes(text: str, bom: bool = False) -> bytes:
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def test_a_good_file_with_a_bom_is_read_row_by_row():
    rows, notes = inv.parse_csv(csv_bytes(
        "Name,E-mail,Cohort\r\nAlex Morgan, Alex.Morgan@Example.org ,Spring\r\n\r\n"
        "Zoë Ünal,zoe@example.org,\r\n", bom=True))
    assert [(r.line, r.email, r.name, r.cohort_name, r.errors) for r in rows] == [
        (2, "alex.morgan@example.org", "Alex Morgan", "Spring", []),
        (4, "zoe@example.org", "Zoë Ünal", "", []),
    ]
    assert notes == []


def test_semicolons_extra_columns_and_no_cohort_column():
    rows, notes = inv.parse_csv(csv_bytes("email;name;phone\na@example.org;Ann;123\n"))
    assert [(r.email, r.name, r.cohort_name) for r in rows] == [("a@example.org", "Ann", "")]
    assert notes == ["Column “phone” is not used (the columns are name, e-mail, cohort)."]


@pytest.mark.parametrize(("data", "message", "status"), [
    (csv_bytes("name,cohort\nAnn,Spring\n"), "Missing: e-mail", 400),
    (csv_bytes("e-mail\na@example.org\n"), "Missing: name", 400),
    (b"", "The file is empty", 400),
    (csv_bytes("\n\n"), "The file is empty", 400),
    (csv_bytes("name,e-mail,cohort\n"), "nobody in it", 400),
    ("name,e-mail\nZoë,z@example.org\n".encode("latin-1"), "not UTF-8", 400),
    (b"name,e-mail\nA,a@example.org\x00\n", "NUL", 400),
    (csv_bytes("name,e-mail\n" + "A,a@example.org\n" * (inv.MAX_ROWS + 1)), "more than 2000 rows", 413),
    (csv_bytes("name,e-mail\n" + "x" * (inv.MAX_CSV_BYTES + 1)), "larger than 1 MiB", 413),
])
def test_a_file_that_cannot_be_used_is_refused_whole(data, message, status):
    with pytest.raises(inv.InviteFileError, match=message) as caught:
        inv.parse_csv(data)
    assert caught.value.status == status


def test_bad_addresses_names_and_short_rows_are_row_errors():
    rows, _ = inv.parse_csv(csv_bytes(
        "name,e-mail,cohort\nAnn,not-an-address,\nBob,,\n" + "C" * 101 + ",c@example.org,\n"
        "Dee,d@example.org\n"))
    assert [r.errors for r in rows] == [
        ["Not a valid e-mail address."],
        ["No e-mail address."],
        ["The name is longer than 100 characters."],
        ["This row has fewer cells than the header: a column is missing."],
    ]


def test_the_list_takes_lines_and_commas_and_skips_blanks():
    rows = inv.parse_email_list("a@example.org, B@example.org\n\n  c@example.org;nope\n")
    assert [(r.line, r.email, r.ok) for r in rows] == [
        (1, "a@example.org", True), (2, "b@example.org", True), (3, "c@example.org", True),
        (4, "nope", False)]
    with pytest.raises(inv.InviteFileError, match="at least one"):
        inv.parse_email_list(" \n , ")
    with pytest.raises(inv.InviteFileError, match="at most 2000"):
        inv.parse_email_list("\n".join(f"p{i}@example.org" for i in range(inv.MAX_ROWS + 1)))


def test_join_codes_are_random_unambiguous_and_typed_loosely():
    codes = {inv.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(inv.CODE_ALPHABET) for c in codes)
    assert not set("01IO") & set(inv.CODE_ALPHABET)
    assert inv.normalise_code(" abcde-fghjk ") == "ABCDEFGHJK"
    assert inv.pretty_code("ABCDEFGHJK") == "ABCDE-FGHJK"


# --- a world: organisation A (manager, member, cohort) and B --------------------------------

@pytest.fixture
def world(app):
    with app.app_context():
        users = {}
        for key, email in (("manager", "manager@example.org"), ("member", "member@example.org"),
                           ("known", "known@example.org"), ("other", "other@example.org"),
                           ("manager_b", "manager.b@example.org")):
            users[key] = accounts.create_user(email, PASSWORD, key.replace("_", " ").title())
        db.session.flush()
        a, b = Organisation(name="Clinic A"), Organisation(name="Clinic B")
        db.session.add_all([a, b])
        db.session.flush()
        spring = Cohort(org_id=a.id, name="Spring 2027 hires")
        b_cohort = Cohort(org_id=b.id, name="B hires")
        db.session.add_all([spring, b_cohort])
        db.session.flush()
        db.session.add_all([
            Membership(org_id=a.id, user_id=users["manager"].id, role=OrgRole.MANAGER),
            Membership(org_id=a.id, user_id=users["member"].id, role=OrgRole.MEMBER),
            Membership(org_id=b.id, user_id=users["manager_b"].id, role=OrgRole.MANAGER),
        ])
        db.session.commit()
        return {"a": a.id, "b": b.id, "spring": spring.id, "b_cohort": b_cohort.id,
                "users": {k: u.id for k, u in users.items()},
                "tokens": {k: u.session_token for k, u in users.items()}}


def sign_in(client, world, who: str):
    with client.session_transaction() as session:
        session["_user_id"] = world["tokens"][who]
        session["_fresh"] = True
    return client


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def preview(client, org_id: int, **data):
    return client.post(f"/orgs/{org_id}/invitations/new", data=data)


def signed_field(response) -> str:
    found = re.search(r'name="preview" type="hidden" value="([^"]+)"',
                      response.get_data(as_text=True))
    assert found, "no confirm form"
    return found.group(1)


def invite(client, world, emails: str, **extra):
    response = preview(client, world["a"], emails=emails, role="member", cohort="", **extra)
    assert response.status_code == 200
    return client.post(f"/orgs/{world['a']}/invitations/confirm",
                       data={"preview": signed_field(response)})


def links(app) -> dict[str, str]:
    """The invitation link in each mail of the outbox, by recipient (the latest wins)."""
    found = {}
    with app.app_context():
        for message in read_outbox():
            match = re.search(r"http://localhost(/orgs/invite/\S+)", message.get_content())
            if match:
                found[message["To"]] = match.group(1)
    return found


# --- the preview ------------------------------------------------------------------------------

def test_the_preview_marks_every_problem_and_writes_nothing(app, client, world):
    sign_in(client, world, "manager")
    with app.app_context():
        db.session.add(Invitation(org_id=world["a"], email="pending@example.org",
                                  token_hash="0" * 64, expires_at=utcnow() + timedelta(days=3)))
        db.session.commit()
    data = csv_bytes(
        "name,e-mail,cohort\n"
        "New Hire,new@example.org,spring 2027 HIRES\n"
        "Member,MEMBER@example.org,\n"
        "Pending,pending@example.org,\n"
        "Unknown,unknown.cohort@example.org,Autumn\n"
        "Again,new@example.org,\n"
        "Bad,bad-address,\n"
        "B's cohort,b.cohort@example.org,B hires\n", bom=True)
    from io import BytesIO
    before = count(app, Invitation)
    response = client.post(f"/orgs/{world['a']}/invitations/new", data={
        "csv_file": (BytesIO(data), "staff.csv"), "role": "member", "cohort": "", "emails": ""},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Already a member of this organisation." in page
    assert "Already invited, and the invitation is pending" in page
    assert "No cohort called “Autumn” here" in page
    assert "No cohort called “B hires” here" in page  # another organisation's cohort
    assert "Repeats the address of line 2." in page
    assert "Not a valid e-mail address." in page
    assert "Skip the 6 rows with problems and invite 1" in page
    assert "Spring 2027 hires" in page  # the cohort by name, any case
    assert count(app, Invitation) == before
    assert read_outbox_count(app) == 0


def read_outbox_count(app) -> int:
    with app.app_context():
        return len(read_outbox())


def test_a_list_and_a_file_together_or_nothing_at_all_is_a_400(app, client, world):
    from io import BytesIO
    sign_in(client, world, "manager")
    response = client.post(f"/orgs/{world['a']}/invitations/new", data={
        "csv_file": (BytesIO(b"name,e-mail\nA,a@example.org\n"), "a.csv"),
        "emails": "b@example.org", "role": "member"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not both" in response.get_data(as_text=True)
    response = preview(client, world["a"], emails="", role="member")
    assert response.status_code == 400
    response = preview(client, world["a"], emails="a@example.org", role="manager")
    assert response.status_code == 400  # managers are not invited by list
    response = preview(client, world["a"], emails="a@example.org", role="member",
                       cohort=str(world["b_cohort"]))
    assert response.status_code == 400  # B's cohort is no choice in A


def post_file(client, url: str, data: bytes, **fields):
    """A multipart POST whose encoded body (a temporary file when large) is closed after."""
    from io import BytesIO

    from werkzeug.test import EnvironBuilder
    builder = EnvironBuilder(path=url, method="POST", content_type="multipart/form-data",
                             data={"csv_file": (BytesIO(data), "staff.csv"), **fields})
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def test_a_file_over_the_limit_is_413_with_the_form(app, client, world):
    sign_in(client, world, "manager")
    big = b"name,e-mail\n" + b"A,a@example.org\n" * 70_000
    url = f"/orgs/{world['a']}/invitations/new"
    response = post_file(client, url, big, role="member")
    assert response.status_code == 413
    assert "larger than 1 MiB" in response.get_data(as_text=True)
    # Just over 1 MiB, within the body limit: the parser refuses it.
    response = post_file(client, url, big[:inv.MAX_CSV_BYTES + 10], role="member")
    assert response.status_code == 413
    assert "larger than 1 MiB" in response.get_data(as_text=True)
    # An outsider cannot make the app read a large body at all.
    sign_in(client, world, "other")
    response = post_file(client, url, big[:400_000], role="member")
    assert response.status_code == 413
    assert "csv_file" not in response.get_data(as_text=True)


# --- the confirm ------------------------------------------------------------------------------

def test_confirm_writes_every_invitation_and_mails_a_working_link(app, client, world):
    sign_in(client, world, "manager")
    app.config["INVITATION_DAYS"] = 5
    response = preview(client, world["a"], emails="ann@example.org\nbob@example.org",
                       role="member", cohort=str(world["spring"]))
    response = client.post(f"/orgs/{world['a']}/invitations/confirm",
                           data={"preview": signed_field(response)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/orgs/{world['a']}/invitations"
    with app.app_context():
        made = db.session.scalars(select(Invitation).where(Invitation.org_id == world["a"])
                                  .order_by(Invitation.email)).all()
        assert [(i.email, i.role, i.cohort_id) for i in made] == [
            ("ann@example.org", "member", world["spring"]),
            ("bob@example.org", "member", world["spring"])]
        for i in made:
            assert timedelta(days=4, hours=23) < inv.aware(i.expires_at) - inv.aware(i.created_at) \
                <= timedelta(days=5)
        hashes = {i.email: i.token_hash for i in made}
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "invite")) == 1
    found = links(app)
    assert set(found) == {"ann@example.org", "bob@example.org"}
    for email, path in found.items():
        token = path.rsplit("/", 1)[1]
        assert len(token) >= 40 and token not in hashes.values()
        assert hashes[email] == inv._hash(token)  # only the SHA-256 is stored
    # Follow Ann's link: a new address, so the page offers to create the account.
    anon = app.test_client()
    page = anon.get(found["ann@example.org"])
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "ann@example.org" in text and "Choose a password" in text
    # A weak password: the policy's message, nothing written.
    weak = anon.post(found["ann@example.org"], data={"name": "Ann", "password": "password1",
                                                     "confirm": "password1"})
    assert weak.status_code == 400
    assert "most common passwords" in weak.get_data(as_text=True)
    assert count(app, User, User.email == "ann@example.org") == 0
    done = anon.post(found["ann@example.org"], data={"name": "Ann Archer", "password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/orgs/"
    orgs_page = anon.get("/orgs/")  # signed in as the new account
    assert orgs_page.status_code == 200 and "Clinic A" in orgs_page.get_data(as_text=True)
    with app.app_context():
        ann = accounts.find_user("ann@example.org")
        assert ann.name == "Ann Archer" and ann.role == "learner"
        membership = db.session.scalar(select(Membership).where(Membership.user_id == ann.id))
        assert (membership.org_id, membership.role, membership.cohort_id) == (
            world["a"], "member", world["spring"])
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == "ann@example.org"))
        assert invitation.accepted_at is not None and invitation.accepted_user_id == ann.id
        assert accounts.authenticate("ann@example.org", NEW_PASSWORD) is not None
    # The link is used up: 410, even for its owner after signing out.
    again = app.test_client().get(found["ann@example.org"])
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_confirm_is_all_or_nothing_when_the_organisation_changed(app, client, world):
    sign_in(client, world, "manager")
    response = preview(client, world["a"], emails="c1@example.org\nc2@example.org\nc3@example.org",
                       role="member", cohort="")
    signed = signed_field(response)
    # Meanwhile another manager invites c2.
    with app.app_context():
        db.session.add(Invitation(org_id=world["a"], email="c2@example.org", token_hash="1" * 64,
                                  expires_at=utcnow() + timedelta(days=3)))
        db.session.commit()
    before = count(app, Invitation)
    response = client.post(f"/orgs/{world['a']}/invitations/confirm", data={"preview": signed})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Nothing was sent" in page and "Already invited" in page
    assert count(app, Invitation) == before
    assert read_outbox_count(app) == 0
    # The page offers the two that are still possible, and that confirm works.
    response = client.post(f"/orgs/{world['a']}/invitations/confirm",
                           data={"preview": signed_field(response)})
    assert response.status_code == 302
    assert set(links(app)) == {"c1@example.org", "c3@example.org"}


def test_the_same_preview_confirmed_twice_invites_once(app, client, world):
    sign_in(client, world, "manager")
    signed = signed_field(preview(client, world["a"], emails="d@example.org", role="member"))
    assert client.post(f"/orgs/{world['a']}/invitations/confirm",
                       data={"preview": signed}).status_code == 302
    assert client.post(f"/orgs/{world['a']}/invitations/confirm",
                       data={"preview": signed}).status_code == 409
    assert count(app, Invitation, Invitation.email == "d@example.org") == 1
    assert read_outbox_count(app) == 1


def test_a_tampered_or_foreign_preview_is_a_400_and_writes_nothing(app, client, world):
    sign_in(client, world, "manager")
    signed = signed_field(preview(client, world["a"], emails="e@example.org", role="member"))
    body, _, signature = signed.rpartition(".")
    for forged in (signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"),
                   body + ".x" + signature, "", "not.a.preview"):
        response = client.post(f"/orgs/{world['a']}/invitations/confirm", data={"preview": forged})
        assert response.status_code == 400, forged
    # A payload signed with the app's key for another organisation (B, by B's manager) is
    # still refused in A, and A's preview is refused for B's manager.
    with app.test_request_context():
        rows = inv.parse_email_list("e@example.org")
        b_signed = inv.sign_preview(world["b"], world["users"]["manager_b"], OrgRole.MEMBER, rows)
        other_user = inv.sign_preview(world["a"], world["users"]["member"], OrgRole.MEMBER, rows)
        as_manager = inv.sign_preview(world["a"], world["users"]["manager"], OrgRole.MANAGER, rows)
    for foreign in (b_signed, other_user, as_manager):
        assert client.post(f"/orgs/{world['a']}/invitations/confirm",
                           data={"preview": foreign}).status_code == 400
    assert count(app, Invitation) == 0
    assert read_outbox_count(app) == 0


def test_an_old_preview_is_refused(app, world, monkeypatch):
    with app.test_request_context():
        rows = inv.parse_email_list("f@example.org")
        signed = inv.sign_preview(world["a"], 1, OrgRole.MEMBER, rows)
        assert inv.read_preview(signed, world["a"], 1)[1][0].email == "f@example.org"
        import time
        real = time.time()
        monkeypatch.setattr(time, "time", lambda: real - inv.PREVIEW_MAX_AGE - 60)
        old = inv.sign_preview(world["a"], 1, OrgRole.MEMBER, rows)
        monkeypatch.undo()
        with pytest.raises(inv.PreviewRefused, match="two hours old"):
            inv.read_preview(old, world["a"], 1)
        empty = inv._serializer().dumps({"o": world["a"], "u": 1, "r": "member", "rows": []})
        with pytest.raises(inv.PreviewRefused):
            inv.read_preview(empty, world["a"], 1)


def test_two_thousand_rows_fit_the_confirm_field(app, world):
    with app.test_request_context():
        rows = inv.parse_email_list("\n".join(f"first{i}.last{i}@clinic-example.org"
                                              for i in range(inv.MAX_ROWS)))
        for row in rows:
            row.name = f"First{row.line} Last{row.line}"
        signed = inv.sign_preview(world["a"], 1, OrgRole.MEMBER, rows)
        assert signed is not None and len(signed) < inv.MAX_PREVIEW_FIELD
        assert len(inv.read_preview(signed, world["a"], 1)[1]) == inv.MAX_ROWS


# --- the invitee's side -----------------------------------------------------------------------

def make_invitation(app, world, email: str, **values) -> str:
    token = inv._new_token()
    with app.app_context():
        db.session.add(Invitation(org_id=world["a"], email=email, token_hash=inv._hash(token),
                                  role=values.pop("role", "member"),
                                  expires_at=values.pop("expires_at", utcnow() + timedelta(days=3)),
                                  **values))
        db.session.commit()
    return token


def test_unknown_used_revoked_and_expired_links(app, client, world):
    assert client.get("/orgs/invite/" + "x" * 43).status_code == 404
    assert client.get("/orgs/invite/short").status_code == 404
    now = utcnow()
    cases = {
        "revoked": (make_invitation(app, world, "r@example.org", revoked_at=now), "withdrawn"),
        "expired": (make_invitation(app, world, "x@example.org", expires_at=now - timedelta(1)),
                    "has expired"),
        "used": (make_invitation(app, world, "u@example.org", accepted_at=now), "already been used"),
    }
    for token, message in cases.values():
        for method in ("GET", "POST"):
            response = client.open(f"/orgs/invite/{token}", method=method, data={
                "name": "X", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
            assert response.status_code == 410, (message, method)
            assert message in response.get_data(as_text=True)
    assert count(app, User, User.email.in_(["r@example.org", "x@example.org", "u@example.org"])) == 0


def test_an_existing_account_signs_in_and_joins_once(app, client, world):
    token = make_invitation(app, world, "known@example.org", role="instructor",
                            cohort_id=world["spring"])
    path = f"/orgs/invite/{token}"
    page = client.get(path)
    assert page.status_code == 200 and "Sign in to join" in page.get_data(as_text=True)
    # Posting signed out goes to sign-in, with the way back.
    response = client.post(path, data={"name": "X", "password": NEW_PASSWORD,
                                       "confirm": NEW_PASSWORD})
    login = urlsplit(response.headers["Location"])
    assert login.path == "/auth/login" and parse_qs(login.query)["next"] == [path]
    assert count(app, Membership, Membership.user_id == world["users"]["known"]) == 0
    response = client.post(f"/auth/login?next={path}", data={"email": "known@example.org",
                                                             "password": PASSWORD})
    assert response.headers["Location"] == path
    assert "Join Clinic A" in client.get(path).get_data(as_text=True)
    first = client.post(path)
    assert first.status_code == 302 and first.headers["Location"] == "/orgs/"
    second = client.post(path)  # a double submit: no 500, no second membership
    assert second.status_code == 302 and second.headers["Location"] == "/orgs/"
    with app.app_context():
        rows = db.session.scalars(select(Membership).where(
            Membership.user_id == world["users"]["known"])).all()
        assert [(m.org_id, m.role, m.cohort_id) for m in rows] == [
            (world["a"], "instructor", world["spring"])]


def test_signed_in_as_someone_else_is_a_clear_403(app, client, world):
    for email in ("known@example.org", "brand.new@example.org"):
        token = make_invitation(app, world, email)
        sign_in(client, world, "other")
        for method in ("GET", "POST"):
            response = client.open(f"/orgs/invite/{token}", method=method)
            assert response.status_code == 403
            text = response.get_data(as_text=True)
            assert f"This invitation is for {email}" in text and "Sign out" in text
    assert count(app, Membership, Membership.user_id == world["users"]["other"]) == 0
    assert count(app, Invitation, Invitation.accepted_at.is_not(None)) == 0


def test_a_new_account_double_submit_creates_one_account(app, world):
    token = make_invitation(app, world, "twice@example.org")
    data = {"name": "Tw Ice", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    first, second = app.test_client(), app.test_client()  # the second still signed out
    assert first.post(f"/orgs/invite/{token}", data=data).status_code == 302
    response = second.post(f"/orgs/invite/{token}", data=data)
    assert response.status_code == 410
    assert count(app, User, User.email == "twice@example.org") == 1
    assert count(app, Membership, Membership.org_id == world["a"]) == 3


def test_an_account_made_meanwhile_is_asked_to_sign_in(app, world):
    token = make_invitation(app, world, "race@example.org")
    client = app.test_client()
    assert "Choose a password" in client.get(f"/orgs/invite/{token}").get_data(as_text=True)
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == "race@example.org"))
        accounts.create_user("race@example.org", PASSWORD, "Racer")
        db.session.commit()
        with pytest.raises(inv.LinkError) as caught:
            inv.accept_new(invitation, "Racer", NEW_PASSWORD, utcnow())
        assert caught.value.status == 409
        db.session.rollback()
    # Through the page, the existing account now means "sign in".
    assert "Sign in to join" in client.get(f"/orgs/invite/{token}").get_data(as_text=True)


def test_resend_voids_the_old_link_and_revoke_ends_it(app, client, world):
    sign_in(client, world, "manager")
    invite(client, world, "g@example.org")
    old = links(app)["g@example.org"]
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id).where(Invitation.email == "g@example.org"))
        # expired: resend revives it with a new expiry
        db.session.execute(db.update(Invitation).where(Invitation.id == invitation_id)
                           .values(expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    assert app.test_client().get(old).status_code == 410
    response = client.post(f"/orgs/{world['a']}/invitations/{invitation_id}/resend")
    assert response.status_code == 302
    new = links(app)["g@example.org"]
    assert new != old
    assert app.test_client().get(old).status_code == 404  # its hash is gone
    assert app.test_client().get(new).status_code == 200
    response = client.post(f"/orgs/{world['a']}/invitations/{invitation_id}/revoke")
    assert response.status_code == 302
    assert app.test_client().get(new).status_code == 410
    # Revoking twice says so; resending a withdrawn one is a 409; B's manager gets 404.
    assert client.post(f"/orgs/{world['a']}/invitations/{invitation_id}/revoke").status_code == 302
    assert client.post(f"/orgs/{world['a']}/invitations/{invitation_id}/resend").status_code == 409
    other = sign_in(app.test_client(), world, "manager_b")
    assert other.post(f"/orgs/{world['b']}/invitations/{invitation_id}/revoke").status_code == 404


def test_an_accepted_invitation_cannot_be_revoked_or_resent(app, client, world):
    token = make_invitation(app, world, "known@example.org")
    sign_in(client, world, "known")
    assert client.post(f"/orgs/invite/{token}").status_code == 302
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    sign_in(client, world, "manager")
    assert client.post(f"/orgs/{world['a']}/invitations/{invitation_id}/revoke").status_code == 409
    assert client.post(f"/orgs/{world['a']}/invitations/{invitation_id}/resend").status_code == 409


# --- the list ---------------------------------------------------------------------------------

def add_invitations(app, org_id: int, n: int, start: int = 0) -> None:
    now = utcnow()
    with app.app_context():
        db.session.add_all([Invitation(
            org_id=org_id, email=f"bulk{i}@example.org", token_hash=f"{i:064d}",
            expires_at=now + timedelta(days=(i % 3) - 1),
            accepted_at=now if i % 5 == 0 else None,
            revoked_at=now if i % 7 == 0 else None) for i in range(start, start + n)])
        db.session.commit()


def statements(app, client, url: str) -> tuple[int, str]:
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
        assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count, response.get_data(as_text=True)


def test_the_list_sends_the_same_statements_for_few_and_many(app, client, world):
    sign_in(client, world, "manager")
    urls = [f"/orgs/{world['a']}/invitations", f"/orgs/{world['a']}/invitations?status=pending",
            f"/orgs/{world['a']}/invitations?status=accepted&page=2"]
    add_invitations(app, world["a"], 5)
    add_invitations(app, world["b"], 3, start=10_000)
    few = [statements(app, client, url)[0] for url in urls]
    add_invitations(app, world["a"], 400, start=5)
    many = [statements(app, client, url) for url in urls]
    assert few == [n for n, _ in many]
    assert max(few) <= 4  # the user, the organisation, the counts, the page
    page = many[0][1]
    assert page.count("<tr>") == inv.PAGE_SIZE + 1 and "Page 1 of 9" in page
    assert "bulk10000@example.org" not in page  # B's
    with app.app_context():
        listing = inv.list_invitations(world["a"], utcnow())
        assert sum(listing.counts.values()) == 405
        assert listing.counts["accepted"] == 81


def test_the_list_shows_statuses_and_actions(app, client, world):
    sign_in(client, world, "manager")
    add_invitations(app, world["a"], 8)
    text = client.get(f"/orgs/{world['a']}/invitations?status=pending").get_data(as_text=True)
    with app.app_context():
        pending = db.session.scalars(select(Invitation.email).where(
            Invitation.org_id == world["a"], inv._pending(utcnow()))).all()
    assert pending and all(email in text for email in pending)
    assert text.count(">Resend</button>") == len(pending)
    assert "Pending (" in text and "Accepted (" in text


def test_the_home_page_links_here_for_managers_only(app, client, world):
    sign_in(client, world, "manager")
    text = client.get(f"/orgs/{world['a']}").get_data(as_text=True)
    assert f'href="/orgs/{world["a"]}/invitations/new"' in text
    assert f'href="/orgs/{world["a"]}/join-codes"' in text


def test_the_pages_render_without_lazy_loads(app, client, world):
    from sqlalchemy.orm import Session

    from .test_lazy_loads import LazyLoads

    code = make_code(app, world, cohort_id=world["spring"])
    add_invitations(app, world["a"], 6)
    new_token = make_invitation(app, world, "lazy@example.org", cohort_id=world["spring"])
    known_token = make_invitation(app, world, "known@example.org", cohort_id=world["spring"])
    a = world["a"]
    pages = [(None, f"/orgs/invite/{new_token}"), (None, f"/orgs/invite/{known_token}"),
             (None, f"/orgs/join/{code}"), ("known", f"/orgs/invite/{known_token}"),
             ("other", f"/orgs/join/{code}"), ("manager", f"/orgs/{a}/invitations"),
             ("manager", f"/orgs/{a}/invitations/new"), ("manager", f"/orgs/{a}/join-codes")]
    for who, url in pages:
        visitor = sign_in(app.test_client(), world, who) if who else app.test_client()
        recorder = LazyLoads()
        event.listen(Session, "do_orm_execute", recorder)
        try:
            response = visitor.get(url)
        finally:
            event.remove(Session, "do_orm_execute", recorder)
        assert response.status_code == 200, url
        assert recorder.loads == [], (url, recorder.loads)


# --- join codes -------------------------------------------------------------------------------

def make_code(app, world, **values) -> str:
    with app.app_context():
        org = db.session.get(Organisation, world["a"])
        manager = db.session.get(User, world["users"]["manager"])
        code = inv.create_join_code(org, manager, utcnow(), values.pop("days", 7), **values)
        db.session.commit()
        return code.code


def test_a_manager_creates_lists_and_revokes_codes(app, client, world):
    sign_in(client, world, "manager")
    response = client.post(f"/orgs/{world['a']}/join-codes", data={
        "days": "10", "max_uses": "3", "cohort": str(world["spring"])})
    assert response.status_code == 302
    with app.app_context():
        code = db.session.scalar(select(JoinCode))
        assert (code.max_uses, code.uses, code.cohort_id) == (3, 0, world["spring"])
        assert inv.aware(code.expires_at) - inv.aware(code.created_at) == timedelta(days=10)
    text = client.get(f"/orgs/{world['a']}/join-codes").get_data(as_text=True)
    assert inv.pretty_code(code.code) in text and "0 of 3" in text
    for bad in ({"days": "400"}, {"days": "7", "max_uses": "0"},
                {"days": "7", "cohort": str(world["b_cohort"])}):
        assert client.post(f"/orgs/{world['a']}/join-codes", data=bad).status_code == 400
    assert count(app, JoinCode) == 1
    assert client.post(f"/orgs/{world['a']}/join-codes/{code.id}/revoke").status_code == 302
    assert app.test_client().get(f"/orgs/join/{code.code}").status_code == 410
    other = sign_in(app.test_client(), world, "manager_b")
    assert other.post(f"/orgs/{world['b']}/join-codes/{code.id}/revoke").status_code == 404


def test_joining_with_a_code(app, client, world):
    code = make_code(app, world, max_uses=2, cohort_id=world["spring"])
    # Typed loosely on the form.
    response = client.get("/orgs/join?code=" + inv.pretty_code(code).lower())
    assert response.headers["Location"] == f"/orgs/join/{code}"
    # Signed out: sign in or register, and back.
    text = client.get(f"/orgs/join/{code}").get_data(as_text=True)
    assert f"/auth/login?next=/orgs/join/{code}" in text
    assert f"/auth/register?next=/orgs/join/{code}" in text
    registered = client.post(f"/auth/register?next=/orgs/join/{code}", data={
        "name": "Jo Iner", "email": "joiner@example.org", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert registered.headers["Location"] == f"/auth/login?next=/orgs/join/{code}"
    response = client.post(f"/auth/login?next=/orgs/join/{code}",
                           data={"email": "joiner@example.org", "password": NEW_PASSWORD})
    assert response.headers["Location"] == f"/orgs/join/{code}"
    assert "Join Clinic A" in client.get(f"/orgs/join/{code}").get_data(as_text=True)
    assert client.post(f"/orgs/join/{code}").headers["Location"] == "/orgs/"
    # Twice: told so, no second membership, no use counted.
    assert "already" in client.get(f"/orgs/join/{code}").get_data(as_text=True)
    assert client.post(f"/orgs/join/{code}").status_code == 302
    with app.app_context():
        joiner = accounts.find_user("joiner@example.org")
        rows = db.session.scalars(select(Membership).where(Membership.user_id == joiner.id)).all()
        assert [(m.org_id, m.role, m.cohort_id) for m in rows] == [(world["a"], "member", world["spring"])]
        assert db.session.scalar(select(JoinCode.uses)) == 1
    # The member of A is told so too, and uses nothing.
    sign_in(client, world, "member")
    assert client.post(f"/orgs/join/{code}").status_code == 302
    # The second use; then it is used up.
    sign_in(client, world, "other")
    assert client.post(f"/orgs/join/{code}").headers["Location"] == "/orgs/"
    sign_in(client, world, "known")
    response = client.get(f"/orgs/join/{code}")
    assert response.status_code == 410 and "used as often" in response.get_data(as_text=True)
    assert client.post(f"/orgs/join/{code}").status_code == 410
    assert count(app, Membership, Membership.user_id == world["users"]["known"]) == 0


def test_unknown_and_expired_codes(app, client, world):
    assert client.get("/orgs/join/ABCDEFGHJK").status_code == 404
    assert client.get("/orgs/join/abc").status_code == 404
    assert client.get("/orgs/join/0000000000").status_code == 404
    code = make_code(app, world)
    with app.app_context():
        db.session.execute(db.update(JoinCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    sign_in(client, world, "other")
    for method in ("GET", "POST"):
        response = client.open(f"/orgs/join/{code}", method=method)
        assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert client.get("/orgs/join?code=").status_code == 200


def test_the_last_use_is_counted_in_sql_not_from_what_was_read(app, world):
    """A request that read the code while one use was left, and joins after someone else
    took it, is refused: the check is the UPDATE's WHERE, not the value in memory."""
    code = make_code(app, world, max_uses=1)
    with app.app_context():
        stale = db.session.scalar(select(JoinCode).where(JoinCode.code == code))
        assert stale.uses == 0
        with app.app_context():  # another request, its own session
            inv.use_join_code(inv.find_join_code(code, utcnow()),
                              db.session.get(User, world["users"]["other"]), utcnow())
            db.session.commit()
        with pytest.raises(inv.LinkError) as caught:
            inv.use_join_code(stale, db.session.get(User, world["users"]["known"]), utcnow())
        assert caught.value.status == 410
        db.session.rollback()
    assert count(app, Membership, Membership.org_id == world["a"]) == 3
    assert count(app, JoinCode, JoinCode.uses == 1) == 1


def test_two_people_racing_for_the_last_use(app, world):
    code = make_code(app, world, max_uses=1)
    clients = [sign_in(app.test_client(), world, who) for who in ("other", "known")]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def join(client):
        barrier.wait()
        results.append(client.post(f"/orgs/join/{code}").status_code)

    threads = [threading.Thread(target=join, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [302, 410]
    assert count(app, Membership, Membership.user_id.in_(
        [world["users"]["other"], world["users"]["known"]])) == 1
    assert count(app, JoinCode, JoinCode.uses == 1) == 1


# --- CSRF -------------------------------------------------------------------------------------

def test_the_confirm_and_the_join_need_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        manager = accounts.create_user("m@example.org", PASSWORD, "M")
        org = Organisation(name="Clinic C")
        db.session.add(org)
        db.session.flush()
        db.session.add(Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER))
        code = inv.create_join_code(org, manager, utcnow(), 3)
        db.session.commit()
        org_id, token, code_value = org.id, manager.session_token, code.code
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
    assert client.post(f"/orgs/{org_id}/invitations/new", data={"emails": "a@example.org"}
                       ).status_code == 400
    assert client.post(f"/orgs/join/{code_value}").status_code == 400
    assert count(csrf_app, Invitation) == 0


# --- the pages in Chromium --------------------------------------------------------------------

@pytest.mark.e2e
def test_the_pages_in_chromium_at_desktop_and_phone_widths(app, world, tmp_path):
    from playwright.sync_api import sync_playwright

    from .test_e2e import CHROMIUM, CHROMIUM_ARGS, CSP_RECORDER, Shots, serving

    if not CHROMIUM.exists():
        pytest.skip("Debian Chromium not installed")
    code = make_code(app, world, max_uses=5, cohort_id=world["spring"])
    add_invitations(app, world["a"], 12)
    invite_token = make_invitation(app, world, "new.person.with.a.long.address@example-clinic.org",
                                   name="New Person", cohort_id=world["spring"])
    shots = Shots(tmp_path / "screenshots")
    a = world["a"]
    manager_pages = [f"/orgs/{a}", f"/orgs/{a}/invitations/new", f"/orgs/{a}/invitations",
                     f"/orgs/{a}/join-codes"]
    with serving(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), chromium_sandbox=False,
                                    args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(viewport={"width": width, "height": 900})
                context.add_init_script(CSP_RECORDER)
                page = context.new_page()

                def check(name: str, page=page, width=width) -> None:
                    shots(page, f"{width}-{name}")
                    assert page.evaluate("window.__cspViolations") == [], name
                    assert page.evaluate(
                        "document.documentElement.scrollWidth <= window.innerWidth"), (name, width)

                # The invitee, signed out.
                assert page.goto(f"{base}/orgs/invite/{invite_token}").status == 200
                check("invite-accept")
                assert page.goto(f"{base}/orgs/invite/{'y' * 43}").status == 404
                check("invite-unknown")
                assert page.goto(f"{base}/orgs/join").status == 200
                check("join-enter")
                page.get_by_label("Join code").fill(inv.pretty_code(code).lower())
                page.get_by_role("button", name="Continue").click()
                assert page.url.endswith(f"/orgs/join/{code}")
                check("join-anonymous")
                # The manager.
                page.goto(f"{base}/auth/login")
                page.get_by_label("E-mail").fill("manager@example.org")
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                for url in manager_pages:
                    assert page.goto(base + url).status == 200, url
                    check(url.strip("/").replace("/", "-"))
                page.goto(f"{base}/orgs/{a}/invitations/new")
                page.get_by_label("E-mail addresses").fill(
                    f"w{width}@example.org, member@example.org\nnot-an-address")
                page.get_by_label("Cohort", exact=True).select_option(str(world["spring"]))
                page.get_by_role("button", name="Preview").click()
                check("invite-preview")
                page.get_by_role("button", name=re.compile("invite 1")).click()
                assert page.url.endswith(f"/orgs/{a}/invitations")
                check("invite-list-after")
                assert page.goto(f"{base}/orgs/join/{code}").status == 200
                check("join-confirm")
                context.close()
        finally:
            browser.close()
