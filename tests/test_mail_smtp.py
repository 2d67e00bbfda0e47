"""Mail over SMTP (quiz/mail/delivery.py) through a real local server (aiosmtpd), undelivered
mail kept in the outbox, and the admins' outbox pages (quiz/admin/outbox.py)."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from quiz import create_app
from quiz.extensions import db
from quiz.mail import build_message, read_outbox, read_undelivered, send_mail
from quiz.mail.delivery import FAILED, UNDELIVERED, MailConfigError, MailSettings, deliver, write_eml
from quiz.mail.outbox import PER_PAGE

from .conftest import PASSWORD, _teardown, make_app
from .flows import signed_in
from .test_studio_questions import statements


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """What the local SMTP server was given: one entry per message."""

    envelopes: list = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)   # recipients to refuse (550)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class SMTPServer:
    def __init__(self, handler: Received, port: int) -> None:
        self.handler, self.port = handler, port

    @property
    def messages(self):
        return self.handler.messages

    @property
    def envelopes(self):
        return self.handler.envelopes


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """aiosmtpd on 127.0.0.1 and a free port; yields it, with what arrived."""
    handler = Received()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServer(handler, port)
    finally:
        controller.stop()


def smtp_config(port: int, **extra) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_SECURITY": "none",
            "MAIL_TIMEOUT": 5, "MAIL_SENDER": "Quiz <quiz@example.org>", **extra}


@pytest.fixture
def smtp_app(tmp_path, smtp_server):
    app = make_app(tmp_path, False, **smtp_config(smtp_server.port))
    yield app
    _teardown(app)


def link_in(text: str) -> str:
    return re.search(r"http://localhost(/\S+)", text).group(1)


# --- settings --------------------------------------------------------------------------------

def test_settings_come_from_quiz_mail_environment_variables(tmp_path, monkeypatch):
    """QUIZ_MAIL_* reach app.config (parsed as JSON by Flask), and are converted here."""
    for name, value in {"MAIL_SERVER": "smtp.example.org", "MAIL_PORT": "2525",
                        "MAIL_USERNAME": "quiz", "MAIL_PASSWORD": "1234",
                        "MAIL_SECURITY": "ssl", "MAIL_TIMEOUT": "7.5"}.items():
        monkeypatch.setenv(f"QUIZ_{name}", value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path / "instance"))
    settings = MailSettings.from_config(app.config, app.instance_path)
    assert settings == MailSettings(outbox=tmp_path / "instance" / "outbox",
                                    server="smtp.example.org", port=2525, username="quiz",
                                    password="1234", security="ssl", timeout=7.5)


def test_settings_defaults_and_mistakes(tmp_path):
    assert MailSettings.from_config({}, str(tmp_path)) == MailSettings(outbox=tmp_path / "outbox")
    assert MailSettings.from_config({"MAIL_SERVER": "mx"}, "/i").port == 587  # starttls
    assert MailSettings.from_config({"MAIL_SERVER": "mx", "MAIL_SECURITY": "ssl"}, "/i").port == 465
    with pytest.raises(MailConfigError, match="MAIL_SECURITY"):
        MailSettings.from_config({"MAIL_SERVER": "mx", "MAIL_SECURITY": "tls1.0"}, "/i")
    with pytest.raises(MailConfigError, match="MAIL_PORT"):
        MailSettings.from_config({"MAIL_SERVER": "mx", "MAIL_PORT": "twenty-five"}, "/i")


# --- delivery --------------------------------------------------------------------------------

def test_committed_mail_goes_out_over_smtp_not_to_the_outbox(smtp_app, smtp_server):
    with smtp_app.app_context():
        send_mail("ann@example.org", "Welcome", "Hello Ann")
        send_mail("bob@example.org", "Welcome too", "Hello Bob")
        assert smtp_server.messages == []           # queued, not sent
        db.session.commit()
        assert read_outbox() == [] and read_undelivered() == []
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["ann@example.org"], ["bob@example.org"]]
    assert smtp_server.envelopes[0].mail_from == "quiz@example.org"
    first = smtp_server.messages[0]
    assert (first["Subject"], first["To"]) == ("Welcome", "ann@example.org")
    assert first.get_content().strip() == "Hello Ann"


def test_a_rollback_sends_nothing(smtp_app, smtp_server):
    with smtp_app.app_context():
        send_mail("ann@example.org", "Welcome", "Hello Ann")
        db.session.rollback()
        db.session.commit()
    assert smtp_server.envelopes == []


def test_in_a_request_smtp_delivery_waits_until_the_response_is_sent(smtp_app, smtp_server):
    """The request that queues mail answers first; the mail goes out when the server closes
    the response (so a slow mail server never delays, nor reveals anything by, a page)."""
    with smtp_app.app_context():
        db.session.add(_user("ann@example.org"))
        db.session.commit()
    client = smtp_app.test_client()
    response = client.post("/auth/forgot", data={"email": "ann@example.org"})
    assert response.status_code == 302
    assert smtp_server.envelopes == []
    response.close()
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["ann@example.org"]]


def test_smtp_login(tmp_path):
    """MAIL_USERNAME / MAIL_PASSWORD log in (the test server allows it without TLS); a wrong
    password keeps the message undelivered."""
    handler = Received()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"quiz", b"s3cret pass")
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        settings = MailSettings(outbox=tmp_path / "outbox", server="127.0.0.1", port=port,
                                security="none", username="quiz", password="s3cret pass")
        app = make_app(tmp_path, False)
        with app.app_context():
            assert deliver([build_message("ann@example.org", "Hi", "x")], settings) == []
            wrong = MailSettings(**{**settings.__dict__, "password": "guess", "timeout": 2})
            [kept] = deliver([build_message("bob@example.org", "Hi", "y")], wrong)
        _teardown(app)
    finally:
        controller.stop()
    assert [e.rcpt_tos for e in handler.envelopes] == [["ann@example.org"]]
    # (aiosmtpd refuses PLAIN, then lets smtplib's LOGIN fallback time out: a reason either way)
    reason = message_from_bytes(kept.read_bytes(), policy=policy.default)[UNDELIVERED]
    assert reason.strip().startswith(("SMTPAuthenticationError", "SMTPServerDisconnected"))


def test_smtp_down_the_request_still_succeeds_and_the_mail_is_kept(tmp_path, caplog, monkeypatch):
    """Nothing listens on the port: the forgot-password request answers as always, and the
    message lands in outbox/failed/, marked undelivered with the reason, and is logged."""
    # Alembic's fileConfig (migration tests) disables loggers that existed before it ran.
    monkeypatch.setattr(logging.getLogger("quiz.mail"), "disabled", False)
    app = make_app(tmp_path, False, **smtp_config(free_port()))
    try:
        with app.app_context():
            db.session.add(_user("ann@example.org"))
            db.session.commit()
        client = app.test_client()
        with caplog.at_level(logging.ERROR, logger="quiz.mail"):
            response = client.post("/auth/forgot", data={"email": "ann@example.org"},
                                   buffered=True)
        assert response.status_code == 302
        assert response.headers["Location"] == "/auth/login"
        with app.app_context():
            assert read_outbox() == []
            [kept] = read_undelivered()
        assert kept["To"] == "ann@example.org"
        assert kept[UNDELIVERED].strip().startswith("ConnectionRefusedError")
        assert "/reset/" in kept.get_content()      # nothing lost: the link is in it
        assert "ann@example.org" in caplog.text and "not delivered" in caplog.text
        # ... and the admins see it, marked, in the outbox.
        admin = signed_in(app, "admin", "ada@example.org")
        page = admin.get("/admin/outbox").get_data(as_text=True)
        assert "ann@example.org" in page and "undelivered" in page
    finally:
        _teardown(app)


def test_a_refused_recipient_is_kept_and_the_others_go_out(smtp_app, smtp_server):
    smtp_server.handler.refuse.add("gone@example.org")
    with smtp_app.app_context():
        for to in ("ann@example.org", "gone@example.org", "bob@example.org"):
            send_mail(to, "Note", f"Hello {to}")
        db.session.commit()
        [kept] = read_undelivered()
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["ann@example.org"], ["bob@example.org"]]
    assert kept["To"] == "gone@example.org"
    assert "SMTPRecipientsRefused" in kept[UNDELIVERED] and "550" in kept[UNDELIVERED]


def test_a_misconfigured_server_keeps_mail_and_fails_no_request(tmp_path):
    app = make_app(tmp_path, False, **smtp_config(25, MAIL_SECURITY="tls1.0"))
    try:
        with app.app_context():
            db.session.add(_user("ann@example.org"))
            db.session.commit()
        response = app.test_client().post("/auth/forgot", data={"email": "ann@example.org"})
        assert response.status_code == 302
        with app.app_context():
            [kept] = read_undelivered()
        assert "MAIL_SECURITY" in kept[UNDELIVERED]
        result = app.test_cli_runner().invoke(args=["mail", "send-due"])
        assert result.exit_code == 1 and "MAIL_SECURITY" in result.output
    finally:
        _teardown(app)


def test_cli_test_and_retry(tmp_path, smtp_server):
    """`mail test ADDRESS` reports whether the server took it; `mail retry` sends the
    undelivered messages again and removes those that went out."""
    app = make_app(tmp_path, False, **smtp_config(smtp_server.port))
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["mail", "test", "ann@example.org"])
        assert result.exit_code == 0, result.output
        assert "Sent to ann@example.org" in result.output
        assert [e.rcpt_tos for e in smtp_server.envelopes] == [["ann@example.org"]]
        with app.app_context():
            down = MailSettings(outbox=tmp_path / "outbox", server="127.0.0.1", port=free_port(),
                                security="none")
            deliver([build_message("bob@example.org", "Kept", "Hello Bob")], down)
            assert len(read_undelivered()) == 1
        result = runner.invoke(args=["mail", "retry"])
        assert result.exit_code == 0, result.output
        assert "1 of 1 undelivered message sent" in result.output
        assert smtp_server.envelopes[-1].rcpt_tos == ["bob@example.org"]
        assert UNDELIVERED not in smtp_server.messages[-1]
        with app.app_context():
            assert read_undelivered() == []
    finally:
        _teardown(app)
    (tmp_path / "b").mkdir()
    outbox_only = make_app(tmp_path / "b", False, MAIL_OUTBOX=str(tmp_path / "b-outbox"))
    try:
        result = outbox_only.test_cli_runner().invoke(args=["mail", "test", "cy@example.org"])
        assert result.exit_code == 0 and "No mail server is configured" in result.output
        with outbox_only.app_context():
            assert [m["To"] for m in read_outbox()] == ["cy@example.org"]
    finally:
        _teardown(outbox_only)


# --- the admins' outbox ----------------------------------------------------------------------

def _user(email: str, role: str = "learner"):
    from quiz.models import User

    from .test_access import _password_hash
    return User(email=email, name=email.split("@")[0].title(), password_hash=_password_hash(),
                role=role)


def _fill_outbox(outbox: Path, count: int, *, start: int = 0) -> list[str]:
    """`count` messages with names in time order (the newest last)."""
    names = []
    for n in range(start, start + count):
        message = build_message(f"person{n}@example.org", f"Message {n}", f"Body {n}")
        path = outbox / f"2027031{n // 100000}T{n % 1000000:06d}000000-{n:08x}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(message.as_bytes(policy=policy.default))
        names.append(path.name)
    return names


def test_the_outbox_lists_newest_first_in_pages(app):
    outbox = Path(app.config["MAIL_OUTBOX"])
    with app.app_context():
        names = _fill_outbox(outbox, PER_PAGE + 5)
    admin = signed_in(app, "admin", "ada@example.org")
    first = admin.get("/admin/outbox").get_data(as_text=True)
    assert f"1–{PER_PAGE} of {PER_PAGE + 5} messages" in first
    subjects = re.findall(r">Message (\d+)<", first)
    assert subjects == [str(n) for n in range(PER_PAGE + 4, 4, -1)]   # newest first
    assert f"/admin/outbox/{names[-1]}" in first and "person54@example.org" in first
    second = admin.get("/admin/outbox?page=2").get_data(as_text=True)
    assert re.findall(r">Message (\d+)<", second) == ["4", "3", "2", "1", "0"]
    # a page past the end shows the last one; nonsense means page 1
    assert admin.get("/admin/outbox?page=9").get_data(as_text=True) == second
    assert "Message 54<" in admin.get("/admin/outbox?page=-1").get_data(as_text=True)


def test_a_message_page_shows_the_text_escaped(app):
    with app.app_context():
        message = build_message("ann@example.org", "<script>alert(1)</script> hi",
                                "Dear <b>Ann</b>,\n<img src=x onerror=alert(2)>\nline three")
        path = write_eml(Path(app.config["MAIL_OUTBOX"]), message)
    admin = signed_in(app, "admin", "ada@example.org")
    listing = admin.get("/admin/outbox").get_data(as_text=True)
    assert "<script>alert(1)" not in listing and "&lt;script&gt;alert(1)" in listing
    response = admin.get(f"/admin/outbox/{path.name}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "Dear &lt;b&gt;Ann&lt;/b&gt;," in page and "line three" in page
    assert "ann@example.org" in page


def test_only_listed_names_are_readable(app, tmp_path):
    """Names of another form, files outside the folders, and missing files are 404."""
    outbox = Path(app.config["MAIL_OUTBOX"])
    with app.app_context():
        [name] = _fill_outbox(outbox, 1)
        kept = write_eml(outbox / FAILED, build_message("bob@example.org", "Kept", "Hello"))
    (outbox / "notes.eml").write_text("Subject: private\n\nnot a message of the app\n")
    (tmp_path / "20270315T120000000000-deadbeef.eml").write_text("Subject: outside\n\nsecret\n")
    admin = signed_in(app, "admin", "ada@example.org")
    assert admin.get(f"/admin/outbox/{name}").status_code == 200
    assert admin.get(f"/admin/outbox/{kept.name}").status_code == 200     # failed/ too
    listing = admin.get("/admin/outbox").get_data(as_text=True)
    assert "private" not in listing and "2 messages" in listing
    for bad in ("notes.eml", "20270315T120000000000-deadbeef.eml", f"failed%2F{kept.name}",
                f"..%2F{name}", "..%2F..%2Fsecret_key", name.upper(),
                f"%2E%2E%2F{name}", f"{name}.eml"):
        assert admin.get(f"/admin/outbox/{bad}").status_code == 404, bad


def test_a_real_message_is_for_admins_only(app):
    with app.app_context():
        path = write_eml(Path(app.config["MAIL_OUTBOX"]), build_message("a@example.org", "S", "T"))
    url = f"/admin/outbox/{path.name}"
    assert app.test_client().get(url).status_code == 302           # to sign in
    assert signed_in(app, "learner", "lee@example.org").get(url).status_code == 403
    assert signed_in(app, "instructor", "ivy@example.org").get(url).status_code == 403
    assert signed_in(app, "admin", "ada@example.org").get(url).status_code == 200


def test_the_outbox_page_sends_the_same_statements_for_few_and_many_messages(app):
    outbox = Path(app.config["MAIL_OUTBOX"])
    admin = signed_in(app, "admin", "ada@example.org")
    with app.app_context():
        _fill_outbox(outbox, 3)
    few = [statements(app, admin, url) for url in ("/admin/outbox", "/admin/outbox?page=2")]
    with app.app_context():
        _fill_outbox(outbox, 400, start=3)
    many = [statements(app, admin, url) for url in ("/admin/outbox", "/admin/outbox?page=2")]
    assert few == many


def test_the_outbox_says_where_mail_goes(app, tmp_path):
    admin = signed_in(app, "admin", "ada@example.org")
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "No mail server is configured" in page and "The outbox is empty." in page
    app.config.update(smtp_config(2525))
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "Mail goes out through 127.0.0.1:2525" in page
    assert PASSWORD not in page
