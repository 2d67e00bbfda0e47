"""Self-service password resets (/auth/forgot, quiz/auth/recovery.py): the same answer and
the same statements whether or not an address has an account, a mailed one-time link that
sets the password, throttles, and delivery through a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import event

from quiz import accounts
from quiz.auth.recovery import RESET_MAILS_PER_HOUR, SUBJECT
from quiz.extensions import db
from quiz.mail import read_outbox, send_mail
from quiz.models import AuditEvent, PasswordReset, User

from .conftest import PASSWORD, QueryCounter, _teardown, make_app
from .flows import signed_in
from .test_access import _password_hash
from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, chromium, serving  # noqa: F401 (fixture)
from .test_mail_smtp import link_in, smtp_app, smtp_server  # noqa: F401 (fixtures)

NEW_PASSWORD = "violet tugboat anthem"


def _add_user(app, email="ann@example.org", active=True) -> int:
    with app.app_context():
        user = User(email=email, name="Ann Smith", password_hash=_password_hash(),
                    role="learner", active=active)
        db.session.add(user)
        db.session.commit()
        return user.id


def _reset_with(client, path: str):
    assert client.get(path).status_code == 200
    return client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def test_the_login_page_links_to_the_forgot_page(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/forgot"' in page and "Forgot your password?" in page
    form = client.get("/auth/forgot").get_data(as_text=True)
    assert 'type="email"' in form and "Send me a link" in form


def test_the_mailed_link_sets_a_new_password_once(app, client):
    _add_user(app)
    response = client.post("/auth/forgot", data={"email": "  Ann@Example.ORG "})
    assert (response.status_code, response.headers["Location"]) == (302, "/auth/login")
    with app.app_context():
        [mail] = read_outbox()
        reset = db.session.scalar(db.select(PasswordReset))
        assert reset.created_by_id is None
        assert reset.expires_at - reset.created_at == timedelta(hours=24)
    assert (mail["To"], mail["Subject"]) == ("ann@example.org", SUBJECT)
    text = mail.get_content()
    assert "Hello Ann Smith" in text and "works once" in text
    path = link_in(text)
    assert re.fullmatch(r"/reset/[\w-]{43}", path)
    response = _reset_with(client, path)
    assert (response.status_code, response.headers["Location"]) == (302, "/auth/login")
    login = client.post("/auth/login", data={"email": "ann@example.org", "password": NEW_PASSWORD})
    assert login.status_code == 302
    client.post("/auth/logout")
    assert client.get(path).status_code == 410     # used
    assert "Ask for a new link" in client.get(path).get_data(as_text=True)


def _answer(app, email: str):
    """The response to asking for a link for `email` (followed to the page shown), and
    the statements it ran, each reduced to its verb and table."""
    client = app.test_client()
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.post("/auth/forgot", data={"email": email})
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return (response.status_code, response.headers["Location"], page,
            [_shape(s) for s in counter.statements])


def _shape(statement: str) -> str:
    verb = statement.split()[0].upper()
    table = re.search(r"(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else ''}"


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(app):
    """An address with an active account, one without an account, and a deactivated
    account's: the same redirect, the same page, the same statements; mail only for the first."""
    _add_user(app)
    _add_user(app, "gone@example.org", active=False)
    answers = {email: _answer(app, email) for email in
               ("ann@example.org", "nobody@example.org", "gone@example.org")}
    known = answers["ann@example.org"]
    for email, answer in answers.items():
        assert answer[:3] == known[:3], email
        assert answer[3] == known[3], (email, answer[3], known[3])
    assert "If an account has this address" in known[2]
    assert known[3] == ["SELECT user", "SELECT password_reset", "UPDATE password_reset",
                        "INSERT password_reset", "INSERT audit_event"]
    with app.app_context():
        assert [m["To"] for m in read_outbox()] == ["ann@example.org"]
        assert db.session.scalar(db.select(db.func.count()).select_from(PasswordReset)) == 1
        unknown = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "reset-request")).all()
        assert len(unknown) == 2
        assert not any("nobody" in (e.summary + str(e.detail)) for e in unknown)


def test_an_account_gets_a_few_mails_an_hour_and_the_newest_link_works(app, client):
    _add_user(app)
    for _ in range(RESET_MAILS_PER_HOUR + 2):
        response = client.post("/auth/forgot", data={"email": "ann@example.org"})
        assert response.status_code == 302
    with app.app_context():
        mails = read_outbox()
    assert len(mails) == RESET_MAILS_PER_HOUR
    paths = [link_in(m.get_content()) for m in mails]
    assert client.get(paths[0]).status_code == 410      # voided by the newer ones
    assert _reset_with(client, paths[-1]).status_code == 302


def test_bad_input_and_signed_in_visitors(app, client):
    response = client.post("/auth/forgot", data={"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid e-mail address." in response.get_data(as_text=True)
    assert client.post("/auth/forgot", data={"email": "x@" + "a" * 260 + ".org"}).status_code == 400
    assert client.post("/auth/forgot", data={}).status_code == 400
    learner = signed_in(app, "learner", "lee@example.org")
    assert learner.get("/auth/forgot").headers["Location"] == "/sets"
    with app.app_context():
        assert read_outbox() == []


def test_the_form_needs_its_csrf_token(csrf_app):
    _add_user(csrf_app)
    client = csrf_app.test_client()
    assert client.post("/auth/forgot", data={"email": "ann@example.org"}).status_code == 400
    with csrf_app.app_context():
        assert read_outbox() == []


def test_requests_are_throttled_per_address(tmp_path):
    app = make_app(tmp_path, False, RATELIMIT_ENABLED=True, FORGOT_RATE_LIMIT="3 per minute")
    try:
        client = app.test_client()
        codes = [client.post("/auth/forgot", data={"email": f"p{n}@example.org"}).status_code
                 for n in range(4)]
        assert codes == [302, 302, 302, 429]
        assert client.get("/auth/forgot").status_code == 200     # only POSTs count
    finally:
        _teardown(app)


def test_the_link_arrives_over_smtp_and_works(smtp_app, smtp_server):  # noqa: F811
    _add_user(smtp_app)
    client = smtp_app.test_client()
    response = client.post("/auth/forgot", data={"email": "ann@example.org"}, buffered=True)
    assert response.status_code == 302
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["ann@example.org"]
    [mail] = smtp_server.messages
    assert mail["Subject"] == SUBJECT
    path = link_in(mail.get_content())
    assert _reset_with(client, path).status_code == 302
    assert client.post("/auth/login", data={"email": "ann@example.org",
                                            "password": NEW_PASSWORD}).status_code == 302
    assert client.post("/auth/logout").status_code == 302
    assert client.post("/auth/login", data={"email": "ann@example.org",
                                            "password": PASSWORD}).status_code == 400
    with smtp_app.app_context():
        assert read_outbox() == []


def test_no_mail_for_an_unknown_address_over_smtp(smtp_app, smtp_server):  # noqa: F811
    response = smtp_app.test_client().post("/auth/forgot", data={"email": "nobody@example.org"},
                                           buffered=True)
    assert response.status_code == 302
    assert smtp_server.envelopes == []


# --- in a real browser ---------------------------------------------------------------------------

@pytest.mark.e2e
def test_forgot_password_and_the_outbox_in_chromium(chromium, tmp_path):  # noqa: F811
    """At 1280 and 390 px: ask for a link from the sign-in page; an admin finds the mail in
    the outbox and opens it; the link sets a new password. No CSP violation, nothing wider
    than the window. Screenshots in tmp_path/screenshots (and $QUIZ_SCREENSHOTS)."""
    app = make_app(tmp_path, False, WTF_CSRF_ENABLED=True)
    _add_user(app)
    with app.app_context():
        accounts.create_user("ada@example.org", PASSWORD, "Ada Admin", "admin")
        send_mail("a.very.long.address.of.someone.at.a.clinic@physiotherapy-clinic.example.org",
                  "A rather long subject line that goes on and on about the onboarding check "
                  "and its due date", "x" * 300 + "\nshort line")
        db.session.commit()
    shots = Shots(tmp_path / "screenshots")

    def check(page, name):
        shots(page, name)
        assert page.evaluate("window.__cspViolations") == [], name
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name

    with serving(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), chromium_sandbox=False,
                                    args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(viewport={"width": width, "height": 900})
                context.add_init_script(CSP_RECORDER)
                page = context.new_page()
                page.goto(base + "/auth/login")
                page.get_by_role("link", name="Forgot your password?").click()
                check(page, f"{width}-forgot")
                page.get_by_label("E-mail").fill("ann@example.org")
                page.get_by_role("button", name="Send me a link").click()
                assert page.url == base + "/auth/login"
                assert "If an account has this address" in page.inner_text("main")
                check(page, f"{width}-forgot-sent")
                page.get_by_label("E-mail").fill("ada@example.org")
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.goto(base + "/admin/users")
                page.get_by_role("link", name="the mail outbox").click()
                check(page, f"{width}-outbox")
                page.get_by_role("link", name=SUBJECT).first.click()
                check(page, f"{width}-outbox-message")
                link = re.search(r"http://127\.0\.0\.1:\d+/reset/[\w-]+", page.inner_text("pre"))
                page.goto(base + "/admin/outbox")
                page.get_by_role("link", name="A rather long subject").click()
                check(page, f"{width}-outbox-long")
                page.get_by_role("button", name="Sign out").click()
                page.goto(link.group(0))
                page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
                page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
                page.get_by_role("button", name="Set password").click()
                assert "Your new password is set" in page.inner_text("main")
                context.close()
        finally:
            browser.close()
