"""Certificates (quiz/orgs/certificates.py, certificate_pdf.py, certificate_views.py): issued
on a passing assignment attempt only, the PDF's text, the public verification page (valid,
expired, revoked, unknown, rate-limited), revoking, the lists (constant statements, no lazy
loads), the backfill command, and the pages in Chromium at desktop and phone widths."""

from __future__ import annotations

import functools
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from unittest import mock

import pypdf
import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from quiz.attempts import start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import (
    Assignment,
    Attempt,
    AuditEvent,
    Certificate,
    Cohort,
    Membership,
    Organisation,
    QuestionSet,
    User,
)
from quiz.orgs import certificates as certs
from quiz.orgs.certificate_pdf import DEJAVU_DIR, SCALES, CertificateText, _draw, _Page, render_pdf
from quiz.orgs.results import add_months
from quiz.vocab import AttemptStatus, AuditEntity, OrgRole

from . import bankgen
from .conftest import PASSWORD, QueryCounter, _teardown, make_app
from .test_access import _password_hash
from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, chromium, serving  # noqa: F401 (fixture)
from .test_lazy_loads import LazyLoads
from .test_queries import answers_for
from .test_studio_questions import statements

pytestmark = pytest.mark.small_bank

NAME = "Zoë Ñúñez"
FIXED = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


# --- a world: one clinic, its manager, instructor and a member, one assignment --------------

def _user(email: str, name: str, role: str = "learner") -> User:
    user = User(email=email, name=name, password_hash=_password_hash(), role=role)
    db.session.add(user)
    db.session.flush()
    return user


def take(user: User, assignment: Assignment | None, right: bool) -> Attempt:
    """Start and submit an attempt at set alpha (for `assignment`, or free practice)."""
    attempt = start_attempt(user, db.session.get(QuestionSet, "alpha"))
    if assignment is not None:
        attempt.assignment_id = assignment.id
        attempt.pass_mark = assignment.pass_mark
    else:
        attempt.pass_mark = 50
    answers = answers_for(attempt, right_every=1) if right else {}
    assert submit_attempt(attempt, answers)
    return attempt


@pytest.fixture
def clinic(app):
    """Clinic Aurora: manager, instructor, member Zoë (in the cohort), an outsider, an admin;
    an assignment of alpha (pass mark 50, recertification every 12 months)."""
    with app.app_context():
        users = {
            "manager": _user("manager@example.org", "Mara Manager"),
            "instructor": _user("instructor@example.org", "Ian Instructor"),
            "member": _user("zoe@example.org", NAME),
            "outsider": _user("outsider@example.org", "Otto Outsider"),
            "admin": _user("admin@example.org", "Ada Admin", "admin"),
        }
        org = Organisation(name="Clinic Aurora")
        db.session.add(org)
        db.session.flush()
        cohort = Cohort(org_id=org.id, name="Spring 2027 hires")
        db.session.add(cohort)
        db.session.flush()
        db.session.add_all([
            Membership(org_id=org.id, user_id=users["manager"].id, role=OrgRole.MANAGER),
            Membership(org_id=org.id, user_id=users["instructor"].id, role=OrgRole.INSTRUCTOR),
            Membership(org_id=org.id, user_id=users["member"].id, role=OrgRole.MEMBER,
                       cohort_id=cohort.id),
        ])
        assignment = Assignment(org_id=org.id, set_id="alpha", cohort_id=cohort.id, pass_mark=50,
                                recert_months=12)
        db.session.add(assignment)
        db.session.commit()
        return {"org": org.id, "assignment": assignment.id,
                "users": {k: u.id for k, u in users.items()},
                "tokens": {k: u.session_token for k, u in users.items()}}


def sign_in(client, clinic, role: str):
    with client.session_transaction() as session:
        session["_user_id"] = clinic["tokens"][role]
        session["_fresh"] = True
    return client


def _get(model, id_):
    return db.session.get(model, id_)


def pass_once(app, clinic) -> int:
    """The member passes the assignment; the certificate's id."""
    with app.app_context():
        attempt = take(_get(User, clinic["users"]["member"]), _get(Assignment, clinic["assignment"]), True)
        db.session.commit()
        return db.session.scalar(select(Certificate.id).where(Certificate.attempt_id == attempt.id))


# --- codes -----------------------------------------------------------------------------------

def test_codes_are_random_unique_and_unambiguous():
    codes = [certs.new_code() for _ in range(20_000)]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}", c) for c in codes)
    # Not sequential: consecutive codes differ almost everywhere, and every character of the
    # alphabet turns up about equally often in every position.
    differing = [sum(a != b for a, b in zip(x, y, strict=True))
                 for x, y in zip(codes, codes[1:], strict=False)]
    assert sum(differing) / len(differing) > 11
    assert codes != sorted(codes)
    for position in range(12):
        counts = Counter(code[position] for code in codes)
        assert set(counts) == set(certs.CODE_ALPHABET)
        expected = len(codes) / len(certs.CODE_ALPHABET)
        assert all(0.7 * expected < n < 1.3 * expected for n in counts.values())


@pytest.mark.parametrize(("raw", "code"), [
    ("ABCDEFGHJKMN", "ABCDEFGHJKMN"),
    ("abcd-efgh-jkmn", "ABCDEFGHJKMN"),
    (" abcd efgh jkmn ", "ABCDEFGHJKMN"),
    ("ABCDEFGHJKM", None),        # too short
    ("ABCDEFGHJKMNP", None),      # too long
    ("ABCDEFGHJKM0", None),       # 0, O, 1, I and L are never used
    ("ABCDEFGHJKMO", None),
    ("ABCDEFGHJKML", None),
    ("ABCD%EFGHJKMN", None),
    ("", None),
    (None, None),
    ("A" * 500, None),
])
def test_codes_are_normalised_then_matched_exactly(raw, code):
    assert certs.normalise_code(raw) == code


def test_status_at_a_fixed_clock():
    class Cert:
        revoked_at = None
        expires_at = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

    cert = Cert()
    assert certs.certificate_status(cert, FIXED - timedelta(seconds=1)) == certs.CertificateStatus.VALID
    assert certs.certificate_status(cert, FIXED) == certs.CertificateStatus.EXPIRED
    cert.expires_at = datetime(2027, 3, 1, 12, 0)  # SQLite gives naive UTC back
    assert certs.certificate_status(cert, FIXED) == certs.CertificateStatus.EXPIRED
    cert.expires_at = None
    assert certs.certificate_status(cert, FIXED + timedelta(days=9999)) == certs.CertificateStatus.VALID
    cert.revoked_at = FIXED
    assert certs.certificate_status(cert, FIXED) == certs.CertificateStatus.REVOKED


# --- issuing ---------------------------------------------------------------------------------

def test_a_pass_issues_a_certificate_with_the_facts(app, clinic):
    with app.app_context():
        member = _get(User, clinic["users"]["member"])
        attempt = take(member, _get(Assignment, clinic["assignment"]), True)
        db.session.commit()
        cert = db.session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))
        assert cert is not None
        assert (cert.learner_name, cert.set_title, cert.org_name, cert.score) == (
            NAME, "Alpha set", "Clinic Aurora", 100.0)
        assert (cert.org_id, cert.assignment_id, cert.user_id) == (
            clinic["org"], clinic["assignment"], member.id)
        submitted = attempt.submitted_at.replace(tzinfo=UTC)
        assert cert.issued_at.replace(tzinfo=UTC) == submitted
        assert cert.expires_at.replace(tzinfo=UTC) == add_months(submitted, 12)
        assert certs.normalise_code(cert.code) == cert.code
        assert cert.revoked_at is None


def test_no_recertification_means_no_expiry(app, clinic):
    with app.app_context():
        _get(Assignment, clinic["assignment"]).recert_months = None
        db.session.commit()
    cert_id = pass_once(app, clinic)
    with app.app_context():
        assert _get(Certificate, cert_id).expires_at is None


def test_a_fail_issues_nothing_and_each_pass_its_own(app, clinic):
    with app.app_context():
        member = _get(User, clinic["users"]["member"])
        assignment = _get(Assignment, clinic["assignment"])
        take(member, assignment, False)
        db.session.commit()
        assert db.session.scalar(select(db.func.count()).select_from(Certificate)) == 0
        first, second = take(member, assignment, True), take(member, assignment, True)
        db.session.commit()
        codes = db.session.scalars(select(Certificate.code).where(
            Certificate.attempt_id.in_([first.id, second.id]))).all()
        assert len(set(codes)) == 2


def test_free_practice_issues_nothing(app, clinic):
    with app.app_context():
        take(_get(User, clinic["users"]["member"]), None, True)  # passes its pass mark of 50
        db.session.commit()
        assert db.session.scalar(select(db.func.count()).select_from(Certificate)) == 0


def _submit_statements(app, user_id: int, assignment_id: int | None, right: bool,
                       hook: bool = True) -> list[str]:
    """The statements submit_attempt sends (the attempt started and loaded beforehand)."""
    with app.app_context():
        user = _get(User, user_id)
        attempt = start_attempt(user, db.session.get(QuestionSet, "alpha"))
        attempt.assignment_id = assignment_id
        attempt.pass_mark = 50
        answers = answers_for(attempt, right_every=1) if right else {}
        db.session.flush()
        for item in attempt.items:  # loaded, as the submit view has them
            assert item.revision.data
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            if hook:
                assert submit_attempt(attempt, answers)
            else:
                with mock.patch("quiz.orgs.certificates.issue_if_passed"):
                    assert submit_attempt(attempt, answers)
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        db.session.commit()
        return counter.statements


def test_the_hook_adds_no_statement_to_a_submit_not_for_an_assignment(app, clinic):
    member, outsider = clinic["users"]["member"], clinic["users"]["outsider"]
    # Free practice that passes: the same statements as with the hook switched off.
    with_hook = _submit_statements(app, member, None, True)
    without = _submit_statements(app, outsider, None, True, hook=False)
    assert len(with_hook) == len(without)
    assert not [s for s in with_hook if "certificate" in s.lower()]
    # An assignment attempt that fails: nothing either.
    failed = _submit_statements(app, member, clinic["assignment"], False)
    assert len(failed) == len(without)
    # A pass: one SELECT of the facts and one INSERT, nothing more.
    passed = _submit_statements(app, member, clinic["assignment"], True)
    assert len(passed) == len(without) + 2
    assert sum("certificate" in s.lower() for s in passed) == 1  # the INSERT


def test_backfill_issues_missing_certificates_once(app, clinic, runner):
    with app.app_context():
        member = _get(User, clinic["users"]["member"])
        assignment = _get(Assignment, clinic["assignment"])
        with mock.patch("quiz.orgs.certificates.issue_if_passed"):  # passes from before
            passed = take(member, assignment, True)
            take(member, assignment, False)
            take(member, None, True)
        db.session.commit()
        passed_id, submitted_at = passed.id, passed.submitted_at
    result = runner.invoke(args=["certificates", "backfill"])
    assert result.exit_code == 0, result.output
    assert "1 certificate(s) issued." in result.output
    assert "0 certificate(s) issued." in runner.invoke(args=["certificates", "backfill"]).output
    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        assert cert.attempt_id == passed_id
        assert cert.issued_at.replace(tzinfo=UTC) == submitted_at.replace(tzinfo=UTC)


# --- the PDF ---------------------------------------------------------------------------------

def pdf_text(body: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    return reader.pages[0].extract_text()


def test_the_learner_downloads_the_pdf_with_every_fact(app, clinic, client):
    cert_id = pass_once(app, clinic)
    with app.app_context():
        cert = _get(Certificate, cert_id)
        code, expires = cert.code, cert.expires_at
    response = sign_in(client, clinic, "member").get(f"/certificates/{cert_id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename=certificate-alpha-set-{code}.pdf"
    text = pdf_text(response.data)
    for fact in (NAME, "Alpha set", "100%", "Clinic Aurora", certs.display_code(code),
                 f"http://localhost/verify/{code}", f"Valid until {expires.day} {expires:%B %Y}"):
        assert fact in text, fact
    assert "REVOKED" not in text
    # The managers, instructors and admins may too; the outsider may not.
    for role, status in (("manager", 200), ("instructor", 200), ("admin", 200), ("outsider", 404)):
        other = app.test_client()
        assert sign_in(other, clinic, role).get(f"/certificates/{cert_id}.pdf").status_code == status


def _text(name: str = NAME, **changes) -> CertificateText:
    values = dict(learner_name=name, set_title="Alpha set", org_name="Clinic Aurora", score=87.5,
                  issued_at=FIXED, expires_at=None, revoked_at=None, code="ABCD-EFGH-JKMN",
                  verify_url="https://quiz.example.org/verify/ABCDEFGHJKMN")
    return CertificateText(**{**values, **changes})


def test_the_pdf_without_the_dejavu_font_still_prints_latin_names(tmp_path):
    """Helvetica (Latin-1) instead of DejaVu: Zoë Ñúñez as typed, other letters lose
    their accents, the rest becomes '?', and nothing fails."""
    text = pdf_text(render_pdf(_text(), font_dir=str(tmp_path / "no-fonts")))
    assert NAME in text and "88%" in text and "1 March 2027" in text
    text = pdf_text(render_pdf(_text("Łukasz Dvořák 王 – “Al”"), font_dir=None))
    assert "Lukasz Dvorák ? - \"Al\"" in text  # á is Latin-1, ř is not


def test_the_pdf_with_dejavu_keeps_every_european_letter():
    text = pdf_text(render_pdf(_text("Łukasz Dvořák Ørsted 王\x00"),))
    assert "Łukasz Dvořák Ørsted ?" in text  # the CJK letter is not in DejaVu Sans


def test_a_long_title_and_a_revoked_certificate(tmp_path):
    long_title = "IASTM onboarding check: tools, indications, contraindications and aftercare " * 2
    body = render_pdf(_text(set_title=long_title, revoked_at=FIXED + timedelta(days=3),
                            expires_at=datetime(2028, 3, 1, tzinfo=UTC)))
    text = pdf_text(body)
    assert "REVOKED on 4 March 2027" in text and "Valid until 1 March 2028" in text
    assert "aftercare" in text
    assert render_pdf(_text()) == render_pdf(_text())  # deterministic
    # The longest name, title and organisation the columns hold: set smaller until they fit.
    extreme = _text("W" * 100, set_title="M" * 200, org_name="O" * 120, revoked_at=FIXED,
                    expires_at=FIXED)
    for scale, fits in ((1.0, False), (SCALES[-1], True)):
        page = _Page(DEJAVU_DIR)
        assert _draw(page, extreme, scale) is fits
        page.close()
    assert "W" * 20 in pdf_text(render_pdf(extreme))


# --- verification ----------------------------------------------------------------------------

def test_verification_of_a_valid_certificate_shows_the_facts_only(app, clinic, client):
    cert_id = pass_once(app, clinic)
    with app.app_context():
        cert = _get(Certificate, cert_id)
        code, issued = cert.code, cert.issued_at
    for path in (f"/verify/{code}", f"/verify/{certs.display_code(code).lower()}"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        for fact in (NAME, "Alpha set", "Clinic Aurora", "100%", issued.strftime("%d %b %Y"),
                     certs.display_code(code), "Valid"):
            assert fact in page.replace("&#39;", "'"), fact
        for secret in ("zoe@example.org", "/attempts/", f"/orgs/{clinic['org']}",
                       f"/certificates/{cert_id}"):
            assert secret not in page, secret
        assert response.headers["X-Robots-Tag"] == "noindex"
    # The typed form sends a good code on to its page.
    response = client.get("/verify", query_string={"code": certs.display_code(code).lower()})
    assert response.status_code == 302 and response.headers["Location"] == f"/verify/{code}"


def test_verification_of_an_expired_and_a_revoked_certificate(app, clinic, client):
    cert_id = pass_once(app, clinic)
    with app.app_context():
        cert = _get(Certificate, cert_id)
        cert.issued_at, cert.expires_at = datetime(2020, 1, 6, tzinfo=UTC), datetime(2021, 1, 6, tzinfo=UTC)
        code = cert.code
        db.session.commit()
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Expired" in page and "06 Jan 2021" in page
    manager = sign_in(app.test_client(), clinic, "manager")
    response = manager.post(f"/orgs/{clinic['org']}/certificates/{cert_id}/revoke",
                            data={"reason": "Passed on someone else's account"})
    assert response.status_code == 302
    response = client.get(f"/verify/{code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Revoked" in page and "no longer valid" in page
    assert "someone else" not in page  # the reason stays inside the organisation


def test_an_unknown_code_is_a_friendly_404(client, app):
    for path in ("/verify/ABCDEFGHJKMN", "/verify/nope", "/verify/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404
        assert "No certificate has this code" in response.get_data(as_text=True)
    response = client.get("/verify?code=hello")
    assert response.status_code == 400
    assert "A code has 12 letters and digits" in response.get_data(as_text=True)


def test_unknown_codes_are_rate_limited_and_real_ones_are_not_counted(tmp_path):
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), RATELIMIT_ENABLED=True,
                   VERIFY_RATE_LIMIT="5 per minute")
    try:
        with app.app_context():
            user = _user("x@example.org", "X")
            org = Organisation(name="Org")
            db.session.add(org)
            db.session.flush()
            assignment = Assignment(org_id=org.id, set_id="alpha", pass_mark=50)
            db.session.add(assignment)
            db.session.flush()
            attempt = take(user, assignment, True)
            db.session.commit()
            code = db.session.scalar(select(Certificate.code).where(Certificate.attempt_id == attempt.id))
        client = app.test_client()
        for _ in range(8):  # a real code uses none of the allowance
            assert client.get(f"/verify/{code}").status_code == 200
        for n in range(5):
            assert client.get(f"/verify/{certs.new_code()}").status_code == 404, n
        response = client.get(f"/verify/{certs.new_code()}")
        assert response.status_code == 429
        assert "Too many attempts" in response.get_data(as_text=True)
    finally:
        _teardown(app)


# --- revoking --------------------------------------------------------------------------------

def test_revoking_is_audited_final_and_a_second_time_is_409(app, clinic):
    cert_id = pass_once(app, clinic)
    url = f"/orgs/{clinic['org']}/certificates/{cert_id}/revoke"
    manager = sign_in(app.test_client(), clinic, "manager")
    assert manager.post(url, data={"reason": "x" * 201}).status_code == 400
    with app.app_context():
        assert _get(Certificate, cert_id).revoked_at is None
    response = manager.post(url, data={"reason": "  Issued   by mistake "})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/orgs/{clinic['org']}/certificates/{cert_id}"
    with app.app_context():
        cert = _get(Certificate, cert_id)
        assert cert.revoked_at is not None and cert.revoke_reason == "Issued by mistake"
        assert cert.revoked_by_id == clinic["users"]["manager"]
        revoked_at = cert.revoked_at
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == AuditEntity.CERTIFICATE)).all()
        assert [(e.entity_id, e.action, e.actor_id) for e in events] == [
            (str(cert_id), "revoke", clinic["users"]["manager"])]
        assert events[0].detail["reason"] == "Issued by mistake"
    response = manager.post(url, data={"reason": "Again"})
    assert response.status_code == 409
    assert "already revoked" in response.get_data(as_text=True)
    with app.app_context():
        cert = _get(Certificate, cert_id)
        assert (cert.revoked_at, cert.revoke_reason) == (revoked_at, "Issued by mistake")
        assert db.session.scalar(select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_type == AuditEntity.CERTIFICATE)) == 1
    page = manager.get(f"/orgs/{clinic['org']}/certificates/{cert_id}").get_data(as_text=True)
    assert "Issued by mistake" in page and "Revoke this certificate" not in page
    # The instructor sees the page but may not revoke.
    instructor = sign_in(app.test_client(), clinic, "instructor")
    assert instructor.get(f"/orgs/{clinic['org']}/certificates/{cert_id}").status_code == 200
    assert instructor.post(url, data={"reason": "No"}).status_code == 404


def test_revoking_in_the_domain_refuses_an_empty_reason_and_a_second_revoke(app, clinic):
    cert_id = pass_once(app, clinic)
    with app.app_context():
        cert, manager = _get(Certificate, cert_id), _get(User, clinic["users"]["manager"])
        with pytest.raises(certs.CertificateError, match="Say why"):
            certs.revoke(cert, manager, " \n ", FIXED)
        certs.revoke(cert, manager, "Wrong person", FIXED)
        with pytest.raises(certs.AlreadyRevoked):
            certs.revoke(cert, manager, "Again", FIXED)
        assert certs.certificate_status(cert, FIXED) == certs.CertificateStatus.REVOKED


def test_the_revoke_form_needs_its_csrf_token(csrf_app):
    with csrf_app.app_context():
        manager, member = _user("m@example.org", "M"), _user("l@example.org", "L")
        org = Organisation(name="Org")
        db.session.add(org)
        db.session.flush()
        db.session.add_all([Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER),
                            Membership(org_id=org.id, user_id=member.id)])
        assignment = Assignment(org_id=org.id, set_id="alpha", pass_mark=50)
        db.session.add(assignment)
        db.session.flush()
        take(member, assignment, True)
        db.session.commit()
        cert = db.session.scalar(select(Certificate))
        ids, token = (org.id, cert.id), manager.session_token
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
    assert client.post(f"/orgs/{ids[0]}/certificates/{ids[1]}/revoke",
                       data={"reason": "No token"}).status_code == 400
    with csrf_app.app_context():
        assert _get(Certificate, ids[1]).revoked_at is None


# --- the lists -------------------------------------------------------------------------------

def add_certificates(app, clinic, n: int, start: int = 0) -> None:
    """n certificates for n new members (attempts and rows written directly): every third
    expired, every fifth revoked, issued over the last days."""
    with app.app_context():
        now = datetime.now(UTC)
        for i in range(start, start + n):
            user = _user(f"person{i}@example.org", f"Person {i:05d}")
            issued = now - timedelta(days=i % 400 + 1)
            attempt = Attempt(user_id=user.id, set_id="alpha", status=AttemptStatus.SUBMITTED,
                              submitted_at=issued, score=80.0, pass_mark=50,
                              assignment_id=clinic["assignment"])
            db.session.add(attempt)
            db.session.flush()
            db.session.add(Certificate(
                code=certs.new_code(), org_id=clinic["org"], assignment_id=clinic["assignment"],
                user_id=user.id, attempt_id=attempt.id, learner_name=user.name,
                set_title="Alpha set", org_name="Clinic Aurora", score=80.0, issued_at=issued,
                expires_at=now - timedelta(days=1) if i % 3 == 0 else now + timedelta(days=300),
                revoked_at=now if i % 5 == 0 else None))
        db.session.commit()




def test_the_organisations_list_filters_searches_and_pages(app, clinic):
    add_certificates(app, clinic, 15)
    manager = sign_in(app.test_client(), clinic, "manager")
    base = f"/orgs/{clinic['org']}/certificates"

    def names(query: str = "") -> list[str]:
        page = manager.get(base + query).get_data(as_text=True)
        return re.findall(r"<a href=\"/orgs/\d+/certificates/\d+\">([^<]+)</a>", page)

    assert len(names()) == 15
    revoked = {f"Person {i:05d}" for i in range(15) if i % 5 == 0}
    expired = {f"Person {i:05d}" for i in range(15) if i % 3 == 0} - revoked
    assert set(names("?status=revoked")) == revoked
    assert set(names("?status=expired")) == expired
    assert set(names("?status=valid")) == {f"Person {i:05d}" for i in range(15)} - revoked - expired
    assert names("?q=person+00007") == ["Person 00007"]
    assert names("?q=%25") == []  # LIKE wildcards are plain characters
    assert len(names("?status=bogus&page=x")) == 15
    # The member's own certificate is on the list too, once issued.
    pass_once(app, clinic)
    assert names("?q=zo")[0] == NAME


def test_the_lists_send_the_same_statements_for_few_and_many(app, clinic):
    manager = sign_in(app.test_client(), clinic, "manager")
    member = sign_in(app.test_client(), clinic, "member")
    base = f"/orgs/{clinic['org']}/certificates"
    urls = [base, base + "?status=valid", base + "?q=person&status=expired", base + "?page=2"]
    add_certificates(app, clinic, 6)  # one of each status, on one page
    pass_once(app, clinic)
    small = [statements(app, manager, url) for url in urls] + [statements(app, member, "/certificates")]
    add_certificates(app, clinic, 234, start=6)
    for _ in range(4):
        pass_once(app, clinic)
    large = [statements(app, manager, url) for url in urls] + [statements(app, member, "/certificates")]
    assert small == large
    page = manager.get(base).get_data(as_text=True)
    assert "1–50 of 245 certificates" in page and 'rel="next"' in page


@pytest.mark.parametrize(("who", "url"), [
    ("manager", "/orgs/{org}/certificates"),
    ("manager", "/orgs/{org}/certificates/{cert}"),
    ("manager", "/orgs/{org}"),
    ("member", "/certificates"),
    ("member", "/progress"),
    ("member", "/verify/{code}"),
    ("member", "/verify"),
])
def test_pages_render_without_lazy_loads(app, clinic, who, url):
    cert_id = pass_once(app, clinic)
    with app.app_context():
        code = _get(Certificate, cert_id).code
    client = sign_in(app.test_client(), clinic, who)
    recorder = LazyLoads()
    event.listen(Session, "do_orm_execute", recorder)
    try:
        response = client.get(url.format(org=clinic["org"], cert=cert_id, code=code))
    finally:
        event.remove(Session, "do_orm_execute", recorder)
    assert response.status_code == 200
    assert recorder.loads == [], recorder.loads


def test_my_certificates_lists_only_mine_and_is_linked(app, clinic):
    cert_id = pass_once(app, clinic)
    add_certificates(app, clinic, 2)
    member = sign_in(app.test_client(), clinic, "member")
    page = member.get("/certificates").get_data(as_text=True)
    assert f"/certificates/{cert_id}.pdf" in page and "Clinic Aurora" in page
    assert "Person 0000" not in page and page.count(".pdf\"") == 1
    assert 'href="/certificates"' in member.get("/account").get_data(as_text=True)
    outsider = sign_in(app.test_client(), clinic, "outsider")
    assert "No certificates yet" in outsider.get("/certificates").get_data(as_text=True)
    manager = sign_in(app.test_client(), clinic, "manager")
    assert f'href="/orgs/{clinic["org"]}/certificates"' in manager.get(
        f"/orgs/{clinic['org']}").get_data(as_text=True)


# --- in a real browser -----------------------------------------------------------------------

def _look(page, shots, base: str, width: int, url: str, status: int, name: str) -> None:
    """Open `url`: its status, a screenshot, no CSP violation, nothing wider than the window."""
    response = page.goto(base + url)
    assert response.status == status, url
    shots(page, f"{width}-{name}")
    assert page.evaluate("window.__cspViolations") == [], url
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (url, width)


@pytest.mark.e2e
def test_the_pages_in_chromium_at_desktop_and_phone_widths(chromium, tmp_path):  # noqa: F811
    """The verification page (valid, revoked, unknown), the form, the organisation's list, one
    certificate and "My certificates": no CSP violation, nothing wider than the window."""
    from quiz import accounts

    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), WTF_CSRF_ENABLED=True)
    with app.app_context():
        manager = accounts.create_user("mara@example.org", PASSWORD, "Mara Manager")
        member = accounts.create_user("zoe@example.org", PASSWORD, "Zoë Ñúñez-Castellanos de la Fuente")
        org = Organisation(name="Aurora Physiotherapy and Sports Rehabilitation Clinic")
        db.session.add(org)
        db.session.flush()
        db.session.add_all([Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER),
                            Membership(org_id=org.id, user_id=member.id)])
        assignment = Assignment(org_id=org.id, set_id="alpha", pass_mark=50, recert_months=12)
        db.session.add(assignment)
        db.session.flush()
        take(member, assignment, True)
        take(member, assignment, True)
        db.session.commit()
        clinic = {"org": org.id, "assignment": assignment.id}
        cert_ids = db.session.scalars(select(Certificate.id).order_by(Certificate.id)).all()
        certs.revoke(_get(Certificate, cert_ids[0]), manager, "Issued by mistake", datetime.now(UTC))
        db.session.commit()
        codes = db.session.scalars(select(Certificate.code).order_by(Certificate.id)).all()
    add_certificates(app, clinic, 60)
    shots = Shots(tmp_path / "screenshots")
    with serving(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), chromium_sandbox=False,
                                    args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                for who in ("anonymous", "mara@example.org", "zoe@example.org"):
                    context = browser.new_context(viewport={"width": width, "height": 900},
                                                  accept_downloads=True)
                    context.add_init_script(CSP_RECORDER)
                    page = context.new_page()
                    check = functools.partial(_look, page, shots, base, width)

                    if who != "anonymous":
                        page.goto(base + "/auth/login")
                        page.get_by_label("E-mail").fill(who)
                        page.get_by_label("Password", exact=True).fill(PASSWORD)
                        page.get_by_role("button", name="Sign in").click()
                        page.wait_for_url(re.compile(r"/sets$"))
                    if who == "anonymous":
                        check(f"/verify/{codes[1]}", 200, "verify-valid")
                        assert page.locator(".verify-status").inner_text().startswith("Valid")
                        check(f"/verify/{codes[0]}", 200, "verify-revoked")
                        assert page.locator(".verify-status").inner_text().startswith("Revoked")
                        check("/verify/ABCDEFGHJKMN", 404, "verify-unknown")
                        page.get_by_label("Verification code").fill(certs.display_code(codes[1]).lower())
                        page.get_by_role("button", name="Check").click()
                        page.wait_for_url(re.compile(f"/verify/{codes[1]}$"))
                        check("/verify", 200, "verify-form")
                    elif who.startswith("mara"):
                        check(f"/orgs/{clinic['org']}", 200, "org-home")
                        page.get_by_role("link", name="Certificates issued").click()
                        page.wait_for_url(re.compile(r"/certificates$"))
                        check(f"/orgs/{clinic['org']}/certificates", 200, "org-list")
                        check(f"/orgs/{clinic['org']}/certificates?status=revoked", 200, "org-list-revoked")
                        check(f"/orgs/{clinic['org']}/certificates/{cert_ids[0]}", 200, "certificate-revoked")
                        check(f"/orgs/{clinic['org']}/certificates/{cert_ids[1]}", 200, "certificate")
                        with page.expect_download() as download:
                            page.get_by_role("link", name="Download the PDF").click()
                        assert download.value.suggested_filename.endswith(f"{codes[1]}.pdf")
                    else:
                        check("/account", 200, "account")
                        page.get_by_role("link", name="My certificates").click()
                        page.wait_for_url(re.compile(r"/certificates$"))
                        check("/certificates", 200, "mine")
                        assert page.locator("table.certificates tbody tr").count() == 2
                    context.close()
        finally:
            browser.close()
