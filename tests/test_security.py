"""Security: CSRF, response headers and cookies, mass assignment, XSS in authored text,
no answer leaks before submission, and the login redirect.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from quiz import accounts
from quiz.attempts import start_attempt
from quiz.extensions import db
from quiz.models import Attempt, QuestionSet, User

from . import bankgen, flows
from .conftest import PASSWORD, _teardown, make_app

TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


# --- helpers ------------------------------------------------------------------------------

def scrape_token(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1) or match.group(2)


def page_token(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return scrape_token(response.get_data(as_text=True))


def new_user(app, email: str, role: str = "learner") -> int:
    with app.app_context():
        user = accounts.create_user(email, PASSWORD, role.title(), role)
        db.session.commit()
        return user.id


def sign_in(client, email: str, csrf: bool = False) -> None:
    data = {"email": email, "password": PASSWORD}
    if csrf:
        data["csrf_token"] = page_token(client, "/auth/login")
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def open_attempt(app, user_id: int, set_id: str = "alpha") -> int:
    with app.app_context():
        attempt = start_attempt(db.session.get(User, user_id), db.session.get(QuestionSet, set_id))
        db.session.commit()
        return attempt.id


def answer_form(app, attempt_id: int, right: bool = True) -> dict[str, Any]:
    """Form fields (answer tokens) answering every question of an attempt, all right or all wrong."""
    return flows.answers(flows.items(app, attempt_id), right=None if right else 0)


def attempt_state(app, attempt_id: int) -> tuple:
    with app.app_context():
        a = db.session.get(Attempt, attempt_id)
        return (a.user_id, a.set_id, a.status, a.submitted_at, a.score, a.points, a.pass_mark,
                tuple((i.id, repr(i.answer), i.score) for i in a.items))


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


@pytest.fixture
def bank_app(tmp_path):
    """make(questions=..., **write_bank kwargs) -> an app on a fresh database with that bank."""
    apps = []

    def _make(questions=None, root: Path | None = None, **kwargs):
        root = root or bankgen.write_bank(tmp_path / "bank", questions, **kwargs)
        app = make_app(tmp_path, root)
        apps.append(app)
        return app

    yield _make
    for app in apps:
        _teardown(app)


# --- (a) CSRF -----------------------------------------------------------------------------

@pytest.fixture
def csrf_world(csrf_app):
    learner = new_user(csrf_app, "learner@example.org")
    return {"learner": learner, "open": open_attempt(csrf_app, learner)}


@dataclass(frozen=True)
class CsrfCase:
    name: str
    signed_in: bool
    form_page: str  # where the real form (and its token) is
    url: str
    data: Callable[[Any, dict], dict]
    state: Callable[[Any, Any, dict], Any]  # what a successful POST changes


def _signed_in_status(client) -> int:
    return client.get("/sets").status_code


CSRF_CASES = [
    CsrfCase(
        "register", False, "/auth/register", "/auth/register",
        lambda app, w: {"name": "New", "email": "new@example.org", "password": PASSWORD,
                        "confirm": PASSWORD},
        lambda app, client, w: (count(app, User), _signed_in_status(client)),
    ),
    CsrfCase(
        "login", False, "/auth/login", "/auth/login",
        lambda app, w: {"email": "learner@example.org", "password": PASSWORD},
        lambda app, client, w: _signed_in_status(client),
    ),
    CsrfCase(
        "logout", True, "/sets", "/auth/logout",
        lambda app, w: {},
        lambda app, client, w: (
            _signed_in_status(client),
            count(app, User, User.id == w["learner"], User.session_token == w["token"]),
        ),
    ),
    CsrfCase(
        "start", True, "/sets/beta", "/sets/beta/start",
        lambda app, w: {},
        lambda app, client, w: count(app, Attempt, Attempt.user_id == w["learner"]),
    ),
    CsrfCase(
        "finish attempt", True, "/attempts/{open}", "/attempts/{open}",
        lambda app, w: {**answer_form(app, w["open"]), "finish": "Submit answers"},
        lambda app, client, w: attempt_state(app, w["open"]),
    ),
    CsrfCase(
        "save attempt", True, "/attempts/{open}", "/attempts/{open}",
        lambda app, w: {**answer_form(app, w["open"]), "save": "Save and finish later"},
        lambda app, client, w: attempt_state(app, w["open"]),
    ),
    CsrfCase(
        "account name", True, "/account", "/account/name",
        lambda app, w: {"name": "Someone Else"},
        lambda app, client, w: _user_fields(app, w["learner"]),
    ),
    CsrfCase(
        "account password", True, "/account", "/account/password",
        lambda app, w: {"current": PASSWORD, "password": "violet tugboat anthem",
                        "confirm": "violet tugboat anthem"},
        lambda app, client, w: _user_fields(app, w["learner"]),
    ),
]


def _user_fields(app, user_id: int) -> tuple:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.name, user.password_hash, user.session_token


def _prepare(csrf_app, csrf_world, case: CsrfCase):
    client = csrf_app.test_client()
    if case.signed_in:
        sign_in(client, "learner@example.org", csrf=True)
    with csrf_app.app_context():
        token = db.session.get(User, csrf_world["learner"]).session_token
    world = {**csrf_world, "token": token}
    return client, world, case.url.format(**world), case.form_page.format(**world)


def _other_session_token(csrf_app) -> str:
    return page_token(csrf_app.test_client(), "/auth/login")


BAD_TOKENS = ["missing", "empty", "garbage", "other session"]


@pytest.mark.parametrize("bad", BAD_TOKENS)
@pytest.mark.parametrize("case", CSRF_CASES, ids=lambda c: c.name)
def test_post_without_valid_csrf_token_is_refused_and_changes_nothing(csrf_app, csrf_world, case,
                                                                      bad):
    client, world, url, form_page = _prepare(csrf_app, csrf_world, case)
    page_token(client, form_page)  # the session does hold a token; the POST just lacks it
    data = case.data(csrf_app, world)
    if bad != "missing":
        data["csrf_token"] = {"empty": "", "garbage": "not-a-token",
                              "other session": _other_session_token(csrf_app)}[bad]
    before = case.state(csrf_app, client, world)

    response = client.post(url, data=data)

    assert response.status_code == 400
    assert case.state(csrf_app, client, world) == before


@pytest.mark.parametrize("case", CSRF_CASES, ids=lambda c: c.name)
def test_post_with_csrf_token_from_the_page_works(csrf_app, csrf_world, case):
    client, world, url, form_page = _prepare(csrf_app, csrf_world, case)
    data = {**case.data(csrf_app, world), "csrf_token": page_token(client, form_page)}
    before = case.state(csrf_app, client, world)

    response = client.post(url, data=data)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert case.state(csrf_app, client, world) != before


def test_csrf_protected_finish_scores_only_with_token(csrf_app, csrf_world):
    client = csrf_app.test_client()
    sign_in(client, "learner@example.org", csrf=True)
    url = f"/attempts/{csrf_world['open']}"
    data = {**answer_form(csrf_app, csrf_world["open"]), "finish": "Submit answers"}
    assert client.post(url, data=data).status_code == 400
    with csrf_app.app_context():
        assert db.session.get(Attempt, csrf_world["open"]).score is None
    response = client.post(url, data={**data, "csrf_token": page_token(client, url)})
    assert response.status_code == 302
    with csrf_app.app_context():
        attempt = db.session.get(Attempt, csrf_world["open"])
        assert attempt.status == "submitted" and attempt.score == 100


# --- (b) headers and cookies --------------------------------------------------------------

def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = [t.lower() for t in tokens[1:]]
    return directives


def assert_security_headers(response) -> None:
    directives = csp_directives(response)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, "CSP restricts no scripts"
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "*" not in script_src
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.small_bank
@pytest.mark.parametrize(("method", "path", "signed_in", "status"), [
    ("GET", "/", False, 200),
    ("GET", "/auth/login", False, 200),
    ("GET", "/auth/register", False, 200),
    ("GET", "/sets", False, 302),
    ("GET", "/sets", True, 200),
    ("GET", "/sets/alpha", True, 200),
    ("GET", "/attempts/{open}", True, 200),
    ("GET", "/progress", True, 200),
    ("GET", "/no-such-page", True, 404),
    ("GET", "/auth/logout", True, 405),
])
def test_security_headers(app, client, auth, make_user, method, path, signed_in, status):
    user = make_user("learner")
    if signed_in:
        auth.login(user["email"])
    path = path.format(open=open_attempt(app, user["id"]))
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_security_headers(response)


def cookie_attributes(response, name: str) -> dict[str, str]:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            attrs = {}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attrs[key.lower()] = value
            return attrs
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


@pytest.mark.small_bank
def test_session_cookie_is_httponly_and_samesite_lax(client, auth, make_user):
    user = make_user("learner")
    response = auth.login(user["email"])
    assert response.status_code == 302
    attrs = cookie_attributes(response, "session")
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "lax"


@pytest.mark.small_bank
def test_session_cookie_after_registration_is_httponly_and_samesite_lax(auth):
    response = auth.register(email="fresh@example.org")
    assert response.status_code == 302
    attrs = cookie_attributes(response, "session")
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "lax"


def test_session_cookie_is_secure_behind_https(tmp_path):
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), PREFERRED_URL_SCHEME="https")
    try:
        new_user(app, "learner@example.org")
        client = app.test_client()
        response = client.post("/auth/login", data={"email": "learner@example.org",
                                                    "password": PASSWORD},
                               base_url="https://localhost")
        assert response.status_code == 302
        attrs = cookie_attributes(response, "session")
        assert "secure" in attrs and "httponly" in attrs
    finally:
        _teardown(app)


@pytest.mark.small_bank
def test_a_copied_session_cookie_dies_with_sign_out(app, make_user):
    """Sign-out rotates the account's session token: a stolen copy of the cookie stops working."""
    user = make_user("learner")
    victim, thief = app.test_client(), app.test_client()
    sign_in(victim, user["email"])
    thief.set_cookie("session", victim.get_cookie("session").value)
    assert thief.get("/sets").status_code == 200
    assert victim.post("/auth/logout").status_code == 302
    response = thief.get("/sets")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/auth/login"


# --- (c) mass assignment ------------------------------------------------------------------

@pytest.mark.small_bank
@pytest.mark.parametrize("extra", [
    {"role": "admin"},
    {"role": "instructor"},
    {"role": "admin", "is_staff": "1", "is_admin": "1"},
    {"session_token": "attacker-chosen-token", "id": "4242"},
])
def test_register_ignores_extra_fields(app, client, make_user, extra):
    other = make_user("learner")
    response = client.post("/auth/register", data={
        "name": "Mallory", "email": "mallory@example.org", "password": PASSWORD,
        "confirm": PASSWORD, **extra,
    })
    assert response.status_code == 302
    sign_in(client, "mallory@example.org")
    with app.app_context():
        user = accounts.find_user("mallory@example.org")
        assert user.role == "learner"
        assert not user.is_staff
        assert user.session_token != "attacker-chosen-token"
        assert user.id != 4242
    # The new session has no staff powers either.
    assert client.get(f"/learners/{other['id']}/progress").status_code == 404


@pytest.mark.small_bank
def test_attempt_save_ignores_extra_fields(app, client, auth, make_user):
    owner, other = make_user("learner"), make_user("learner")
    attempt_id = open_attempt(app, owner["id"])
    auth.login(owner["email"])
    before = attempt_state(app, attempt_id)
    extra = {"score": "100", "points": "99", "status": "submitted", "user_id": str(other["id"]),
             "set_id": "beta", "pass_mark": "0", "submitted_at": "2020-01-01T00:00:00",
             "id": "4242"}

    response = client.post(f"/attempts/{attempt_id}", data={**extra, "save": "Save"})

    assert response.status_code == 302
    assert attempt_state(app, attempt_id) == before
    assert count(app, Attempt, Attempt.user_id == other["id"]) == 0


@pytest.mark.small_bank
def test_attempt_finish_ignores_extra_fields(app, client, auth, make_user):
    owner, other = make_user("learner"), make_user("learner")
    attempt_id = open_attempt(app, owner["id"])
    auth.login(owner["email"])
    data = {**answer_form(app, attempt_id, right=False), "finish": "Submit answers",
            "score": "100", "points": "99", "status": "in_progress", "user_id": str(other["id"]),
            "pass_mark": "0"}

    response = client.post(f"/attempts/{attempt_id}", data=data)

    assert response.status_code == 302
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.user_id == owner["id"]
        assert attempt.status == "submitted"
        assert attempt.score == 0 and attempt.points == 0
        assert attempt.pass_mark == db.session.get(QuestionSet, "alpha").pass_mark


@pytest.mark.small_bank
def test_start_ignores_extra_fields(app, client, auth, make_user):
    owner, other = make_user("learner"), make_user("learner")
    auth.login(owner["email"])
    response = client.post("/sets/alpha/start", data={"user_id": str(other["id"]),
                                                     "set_id": "beta", "status": "submitted"})
    assert response.status_code == 302
    attempt_id = int(urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1])
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert (attempt.user_id, attempt.set_id, attempt.status) == (owner["id"], "alpha",
                                                                     "in_progress")
    assert count(app, Attempt, Attempt.user_id == other["id"]) == 0


@pytest.mark.small_bank
def test_answers_for_another_attempts_questions_are_ignored(app, client, auth, make_user):
    owner, other = make_user("learner"), make_user("learner")
    mine, theirs = open_attempt(app, owner["id"]), open_attempt(app, other["id"])
    theirs_before = attempt_state(app, theirs)
    auth.login(owner["email"])
    foreign = answer_form(app, theirs)

    response = client.post(f"/attempts/{mine}", data={**foreign, "save": "Save"})
    assert response.status_code == 302
    response = client.post(f"/attempts/{mine}",
                           data={**foreign, **answer_form(app, mine), "finish": "Submit"})
    assert response.status_code == 302
    assert attempt_state(app, theirs) == theirs_before


# --- (d) authored text renders inert ------------------------------------------------------

EVIL_TITLE = "<script>alert('t')</script><img src=x onerror=\"alert(8)\"> \" onmouseover=\"alert(9)"
EVIL = ("<script>alert('xss')</script> <img src=x onerror=\"alert(1)\"> "
        "[click me](javascript:alert(1)) <a href=\"javascript:alert(2)\">raw</a> "
        "<javascript:alert(3)> [x](JaVaScRiPt:alert(4)) [y](&#106;avascript:alert(5)) "
        "<svg onload=alert(6)> \" onmouseover=\"alert(7)")

FORBIDDEN_TAGS = {"script", "img", "iframe", "object", "embed", "frame", "base", "link", "style"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


class Page(HTMLParser):
    """Every start tag (with attributes) and the visible text of an HTML page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)

    def classes(self) -> set[str]:
        return {c for _, attrs in self.tags for k, v in attrs if k == "class" for c in (v or "").split()}


def active_content(html: str) -> list[str]:
    """Script-capable markup in a page: tags, event handlers, javascript: URLs."""
    found = []
    page = Page(html)
    for tag, attrs in page.tags:
        if tag in FORBIDDEN_TAGS and not (tag == "link" and dict(attrs).get("rel") in ("stylesheet", "icon")
                                          and (dict(attrs).get("href") or "").startswith("/static/")):
            found.append(f"<{tag}> {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}=...>")
            squashed = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name in URL_ATTRS and squashed.startswith(("javascript:", "vbscript:", "data:text")):
                found.append(f"<{tag} {name}={value!r}>")
    return found


def evil_bank(root: Path) -> Path:
    def poison(q: dict) -> dict:
        q["prompt"] = f"Prompt {q['id']} {EVIL}"
        q["explanation"] = f"Explanation {EVIL}"
        for entries in ("choices", "options", "pairs", "steps"):
            for entry in q.get(entries, []):
                entry["text"] = f"{entry['id']} {EVIL}"
                if "feedback" in entry:
                    entry["feedback"] = f"Feedback {EVIL}"
        return q

    questions = {
        "alpha": [poison(bankgen.single("alpha-001")), poison(bankgen.multiple("alpha-002")),
                  poison(bankgen.true_false("alpha-003")), poison(bankgen.matching("alpha-004")),
                  poison(bankgen.ordering("alpha-005"))],
        "beta": [poison(bankgen.single("beta-001"))],
    }
    key_points = [{**kp, "text": f"{kp['text']} {EVIL}"} for kp in bankgen.KEY_POINTS]
    # Titles are at most 200 characters, so they get the shorter payload.
    topics = [{**t, "title": f"{t['title']} {EVIL_TITLE}", "description": EVIL} for t in bankgen.TOPICS]
    sets = [{**s, "title": f"{s['title']} {EVIL_TITLE}", "description": EVIL}
            for s in bankgen.default_sets()]
    root = bankgen.write_bank(root, questions, sets=sets, key_points=key_points, topics=topics)
    kp_file = root / "key_points.yaml"
    doc = yaml.safe_load(kp_file.read_text(encoding="utf-8"))
    for section in doc["sections"]:
        section["title"] = f"{section['title']} {EVIL_TITLE}"
    kp_file.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return root


def test_authored_text_renders_inert(tmp_path, bank_app):
    app = bank_app(root=evil_bank(tmp_path / "bank"))
    learner = new_user(app, "learner@example.org")
    new_user(app, "staff@example.org", "instructor")
    client = app.test_client()
    sign_in(client, "learner@example.org")

    response = client.post("/sets/alpha/start")
    attempt_url = response.headers["Location"]
    attempt_id = int(attempt_url.rsplit("/", 1)[1])
    pages = {"catalogue": client.get("/sets"), "set page": client.get("/sets/alpha"),
             "attempt page": client.get(attempt_url)}
    wrong = client.post(attempt_url, data={**answer_form(app, attempt_id, right=False),
                                           "finish": "Submit"})
    assert wrong.status_code == 302
    pages["review page"] = client.get(f"{attempt_url}/review")
    pages["progress page"] = client.get("/progress")
    staff = app.test_client()
    sign_in(staff, "staff@example.org")
    pages["staff review"] = staff.get(f"{attempt_url}/review")
    pages["staff progress"] = staff.get(f"/learners/{learner}/progress")

    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        assert not active_content(html), (name, active_content(html))
        # The text is shown (escaped), not silently dropped: the test is not vacuous.
        assert "&lt;script&gt;" in html, name
    review = pages["review page"].get_data(as_text=True)
    assert "click me" in review and "Feedback" in review and "Explanation" in review


# --- (e) nothing about the answer before submission ---------------------------------------

def telltale_bank(root: Path) -> Path:
    """A bank whose feedback and explanations are unique strings, so leaks are easy to see."""
    def mark(q: dict) -> dict:
        q["explanation"] = f"EXPLSECRET-{q['id']}"
        for entries in ("choices", "pairs", "steps"):
            for entry in q.get(entries, []):
                entry["feedback"] = f"FBKSECRET-{q['id']}-{entry['id']}"
        return q

    questions = {
        "alpha": [mark(bankgen.single("alpha-001")), mark(bankgen.multiple("alpha-002")),
                  mark(bankgen.true_false("alpha-003")), mark(bankgen.matching("alpha-004")),
                  mark(bankgen.ordering("alpha-005")), mark(bankgen.matching("alpha-006")),
                  mark(bankgen.ordering("alpha-007"))],
        "beta": [mark(bankgen.single("beta-001"))],
    }
    return bankgen.write_bank(root, questions)


SECRET_RE = re.compile(r"FBKSECRET|EXPLSECRET")
CORRECTNESS_CLASSES = {"right", "wrong", "correct", "incorrect", "pass", "chosen", "partial"}


def leaks(html: str, fresh: bool) -> list[str]:
    """Anything on a take page that tells the answer."""
    found = [m.group(0) for m in SECRET_RE.finditer(html)]
    page = Page(html)
    found += [f"class {c}" for c in page.classes() & CORRECTNESS_CLASSES]
    for tag, attrs in page.tags:
        for name, value in attrs:
            if "correct" in name or "match" in name or "answer" in name:
                found.append(f"<{tag} {name}={value!r}>")
            if fresh and name in ("checked", "selected"):
                found.append(f"<{tag} {name}> preselected")
    text = " ".join(page.text)
    found += [f"text: {m.group(0)}" for m in re.finditer(r"\b(in)?correct\b|right answer", text, re.I)]
    return found


def test_attempt_page_shows_nothing_about_the_answers(tmp_path, bank_app):
    app = bank_app(root=telltale_bank(tmp_path / "bank"))
    new_user(app, "learner@example.org")
    client = app.test_client()
    sign_in(client, "learner@example.org")
    attempt_url = client.post("/sets/alpha/start").headers["Location"]
    attempt_id = int(attempt_url.rsplit("/", 1)[1])

    fresh = client.get(attempt_url)
    assert fresh.status_code == 200
    html = fresh.get_data(as_text=True)
    assert not leaks(html, fresh=True), leaks(html, fresh=True)
    # Every question is there (the check is not vacuous), and steps are never served in order.
    for qid in ("alpha-001", "alpha-002", "alpha-003", "alpha-004", "alpha-005"):
        assert qid in html
    with app.app_context():
        for item in db.session.get(Attempt, attempt_id).items:
            if item.revision.qtype == "ordering":
                served = item.layout["steps"]
                assert served != sorted(served)
                section = html.split(f"Order {item.question_id}.")[1].split("</section>")[0]
                positions = [section.index(f"Step {s}<") for s in ("s1", "s2", "s3", "s4")]
                assert positions != sorted(positions), "steps are shown in the right order"

    # Saved (right) answers: the page shows the learner's choices, still nothing more.
    right = answer_form(app, attempt_id, right=True)
    saved = client.post(attempt_url, data={**right, "save": "Save"}, follow_redirects=True)
    assert saved.status_code == 200
    assert not leaks(saved.get_data(as_text=True), fresh=False)

    # An invalid answer (a matching question half paired) is re-shown with a 400: no leaks either.
    match = next(i for i in flows.items(app, attempt_id) if i["qtype"] == "matching")
    half = {**right, flows.field(match, "pairs", "fever"): ""}
    invalid = client.post(attempt_url, data={**half, "finish": "Submit"})
    assert invalid.status_code == 400
    assert not leaks(invalid.get_data(as_text=True), fresh=False)
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).status == "in_progress"

    # After submission the review does show them: the telltales are real.
    done = client.post(attempt_url, data={**right, "finish": "Submit"})
    assert done.status_code == 302
    review = client.get(f"{attempt_url}/review").get_data(as_text=True)
    assert "FBKSECRET-alpha-004-red" in review and "EXPLSECRET-alpha-005" in review


# --- (f) no open redirect after sign-in ---------------------------------------------------

def browser_target(location: str, page: str = "https://quiz.example/auth/login") -> str:
    """Where a browser goes for this Location header (WHATWG URL rules for https pages).

    Browsers drop tabs and newlines, trim spaces and control characters, and read a
    backslash as a slash, so "/\\evil.example" is "//evil.example", another host.
    """
    c0_and_space = "".join(map(chr, range(0x21)))
    cleaned = re.sub(r"[\t\n\r]", "", location).strip(c0_and_space).replace("\\", "/")
    return urljoin(page, cleaned)


def test_browser_target_helper():
    assert urlsplit(browser_target("/sets")).netloc == "quiz.example"
    assert urlsplit(browser_target("/\\evil.example")).netloc == "evil.example"
    assert urlsplit(browser_target("/%5Cevil.example")).netloc == "quiz.example"
    assert urlsplit(browser_target(" //evil.example")).netloc == "evil.example"


OFF_SITE = [
    "https://evil.example",
    "http://evil.example/sets",
    "//evil.example",
    "///evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "\\\\evil.example",
]
# Local-looking paths that browsers would read as another host; the app may keep them
# (Werkzeug percent-encodes the backslash) as long as the redirect stays on this site.
TRICKY = ["/\\evil.example", "/\\/evil.example", "/%5C%5Cevil.example"]


@pytest.mark.small_bank
@pytest.mark.parametrize("target", OFF_SITE + TRICKY)
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user("learner")
    response = client.post("/auth/login", query_string={"next": target},
                           data={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(browser_target(location)).netloc == "quiz.example", (target, location)
    if target in OFF_SITE:
        assert location == "/sets", f"next={target!r} -> {location!r}"


@pytest.mark.small_bank
def test_login_follows_a_local_next(client, make_user):
    user = make_user("learner")
    response = client.post("/auth/login", query_string={"next": "/progress"},
                           data={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/progress"


# --- (g) request limits -------------------------------------------------------------------

def _users(app) -> int:
    return count(app, User)


@pytest.mark.small_bank
@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_a_40_mb_post_is_refused_before_it_is_read(app, client, make_user, path):
    make_user("learner", email="victim@example.org")
    huge = "x" * (40 * 1024 * 1024)
    response = client.post(path, data={"email": "victim@example.org", "password": PASSWORD,
                                       "confirm": PASSWORD, "name": huge})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert _users(app) == 1
    assert client.get("/sets").status_code == 302  # nobody signed in


@pytest.mark.small_bank
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_5000_field_post_is_refused(app, client, encoding):
    data = {"name": "Many", "email": "many@example.org", "password": PASSWORD, "confirm": PASSWORD}
    data.update({f"f{i}": "1" for i in range(5000)})
    if encoding == "multipart":
        # Encoded here, as bytes: the test client would spool a body this size to a temporary
        # file that it never closes.
        boundary, body = encode_multipart(MultiDict(data))
        response = client.post("/auth/register", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")
    else:
        response = client.post("/auth/register", data=data)
    assert response.status_code == 413
    assert _users(app) == 0


@pytest.mark.small_bank
def test_a_5000_field_attempt_post_saves_nothing(app, client, auth, make_user):
    user = make_user("learner")
    attempt_id = open_attempt(app, user["id"])
    auth.login(user["email"])
    before = attempt_state(app, attempt_id)
    data = {**answer_form(app, attempt_id), "save": "Save",
            **{f"junk{i}": "1" for i in range(5000)}}
    assert client.post(f"/attempts/{attempt_id}", data=data).status_code == 413
    assert attempt_state(app, attempt_id) == before


def _big_questions() -> list[dict]:
    """25 questions with many fields each: the largest attempt forms a bank may well hold."""
    questions = []
    for i in range(25):
        qid = f"alpha-{i + 1:03}"
        if i % 3 == 0:
            q = bankgen.ordering(qid)
            q["steps"] = [{"id": f"a-rather-long-step-id-{n:02}", "text": f"Step {n}",
                           "feedback": "Why."} for n in range(1, 11)]
        elif i % 3 == 1:
            q = bankgen.matching(qid)
            q["pairs"] = [{"id": f"a-rather-long-pair-id-{n:02}", "text": f"Pair {n}",
                           "match": "yes" if n % 2 else "no", "feedback": "Listed."}
                          for n in range(1, 11)]
        else:
            q = bankgen.multiple(qid, correct=tuple("abcdefgh"), n=8)
        questions.append(q)
    return questions


def test_the_largest_legitimate_forms_stay_well_within_the_limits(tmp_path, bank_app):
    from urllib.parse import urlencode

    app = bank_app(questions={"alpha": _big_questions(), "beta": [bankgen.single("beta-001")]})
    learner = new_user(app, "learner@example.org")
    attempt_id = open_attempt(app, learner)
    client = app.test_client()
    sign_in(client, "learner@example.org")
    data = {**answer_form(app, attempt_id), "csrf_token": "x" * 100, "finish": "Submit answers"}
    pairs = [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
    body = urlencode(pairs)
    assert len(pairs) > 200  # the case is really large
    assert len(pairs) * 3 < app.config["MAX_FORM_PARTS"]
    assert len(body) * 3 < app.config["MAX_FORM_MEMORY_SIZE"] < app.config["MAX_CONTENT_LENGTH"]
    for encoding in ("application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post(f"/attempts/{attempt_id}", data={**data, "save": "Save"},
                               content_type=encoding)
        assert response.status_code == 302, (encoding, response.status_code)
    response = client.post(f"/attempts/{attempt_id}", data=data)
    assert response.status_code == 302
    assert attempt_state(app, attempt_id)[4] == 100


# --- (h) path and form values in range ----------------------------------------------------

OUT_OF_RANGE = ["2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
                "99999999999999999999999999", "1" + "0" * 5000, "0", "-1", "\u0661", "\uff11",
                "1.0", "0x10", " 1"]


@pytest.mark.small_bank
@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize(("method", "pattern"), [
    ("GET", "/attempts/{}"), ("POST", "/attempts/{}"), ("GET", "/attempts/{}/review"),
    ("GET", "/learners/{}/progress"),
])
def test_ids_out_of_range_are_404(app, client, make_user, value, method, pattern):
    staff = make_user("admin")
    sign_in(client, staff["email"])
    response = client.open(pattern.format(value), method=method, data={"save": "Save"})
    assert response.status_code == 404
    assert "We could not find that page" in response.get_data(as_text=True)


@pytest.mark.small_bank
def test_the_largest_id_in_range_is_a_plain_404(app, client, make_user):
    sign_in(client, make_user("admin")["email"])
    assert client.get("/attempts/2147483647").status_code == 404
    assert client.get("/learners/2147483647/progress").status_code == 404


def test_every_numeric_route_parameter_is_range_checked(app):
    from werkzeug.routing.converters import NumberConverter

    from quiz.web import MAX_ID, IdConverter

    numeric = []
    for rule in app.url_map.iter_rules():
        for name, converter in (rule._converters or {}).items():
            assert not isinstance(converter, NumberConverter), f"{rule.rule}: <{name}> is unbounded"
            if isinstance(converter, IdConverter):
                numeric.append(rule.rule)
    assert len(numeric) >= 3, numeric
    assert MAX_ID == 2**31 - 1


NUL_CASES = [
    ("GET", "/auth/login", {"next": "/sets\x00"}, None),
    ("GET", "/auth/login", {"x\x00": "1"}, None),
    ("POST", "/auth/login", None, {"email": "victim@example.org\x00", "password": PASSWORD}),
    ("POST", "/auth/login", None, {"email": "victim@example.org", "password": PASSWORD + "\x00"}),
    ("POST", "/auth/register", None, {"name": "N\x00", "email": "n@example.org",
                                      "password": PASSWORD, "confirm": PASSWORD}),
    ("POST", "/auth/register", None, {"name": "N", "email": "n@example.org", "password": PASSWORD,
                                      "confirm": PASSWORD, "extra\x00": ""}),
    ("GET", "/sets/alpha\x00", None, None),
    ("GET", "/sets/al%00pha", None, None),
    ("POST", "/sets/alpha%00/start", None, None),
]


@pytest.mark.small_bank
@pytest.mark.parametrize(("method", "path", "query", "form"), NUL_CASES)
def test_nul_bytes_anywhere_are_400_and_change_nothing(app, client, make_user, method, path, query,
                                                       form):
    user = make_user("learner", email="victim@example.org")
    if path.startswith("/sets"):
        sign_in(client, user["email"])
    response = client.open(path, method=method, query_string=query, data=form)
    assert response.status_code == 400, response.status_code
    assert _users(app) == 1
    assert count(app, Attempt) == 0
    if not path.startswith("/sets"):
        assert client.get("/sets").status_code == 302  # nobody signed in


@pytest.mark.small_bank
def test_a_nul_byte_in_an_answer_is_400_and_saves_nothing(app, client, auth, make_user):
    user = make_user("learner")
    attempt_id = open_attempt(app, user["id"])
    auth.login(user["email"])
    before = attempt_state(app, attempt_id)
    data = {key: (value + "\x00" if isinstance(value, str) else value)
            for key, value in answer_form(app, attempt_id).items()}
    for button in ("save", "finish"):
        response = client.post(f"/attempts/{attempt_id}", data={**data, button: "Go"})
        assert response.status_code == 400
    assert attempt_state(app, attempt_id) == before


# --- (i) error pages and private files ----------------------------------------------------

@pytest.fixture
def failing_app(tmp_path):
    """The app as in production (exceptions become 500 pages) with a view that fails after a write."""
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), PROPAGATE_EXCEPTIONS=False)
    seen = {}

    def write_then_fail():
        user = User(email="ghost@example.org", name="Ghost", password_hash="x", role="admin")
        db.session.add(user)
        db.session.flush()
        seen["user"] = user
        raise RuntimeError("boom after a write")

    def break_the_transaction():
        db.session.add(User(email="ghost@example.org", name="Ghost", password_hash="x"))
        db.session.flush()
        db.session.add(User(email="ghost@example.org", name="Twin", password_hash="x"))
        db.session.flush()  # IntegrityError: the transaction is now unusable

    # POST: GET requests only read (on PostgreSQL a write in one is refused outright).
    app.add_url_rule("/test/fail", view_func=write_then_fail, methods=["POST"])
    app.add_url_rule("/test/break", view_func=break_the_transaction, methods=["POST"])

    @app.teardown_request
    def record(exc):
        # What the error handler left: the flushed row must be gone before teardown.
        if "user" in seen:
            from sqlalchemy import inspect as sa_inspect
            seen["persistent_at_teardown"] = sa_inspect(seen["user"]).persistent

    yield app, seen
    _teardown(app)


def assert_own_page(response, text: str) -> None:
    html = response.get_data(as_text=True)
    assert "IASTM Quiz</title>" in html and 'class="site"' in html, html[:300]
    assert text in html
    assert "Traceback" not in html and "RuntimeError" not in html and "boom" not in html
    assert_security_headers(response)


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_failing_view_gets_our_500_page_and_writes_nothing(failing_app, signed_in):
    app, seen = failing_app
    new_user(app, "learner@example.org")
    client = app.test_client()
    if signed_in:
        sign_in(client, "learner@example.org")
    response = client.post("/test/fail")
    assert response.status_code == 500
    assert_own_page(response, "Something went wrong on our side")
    assert seen["persistent_at_teardown"] is False  # rolled back by the handler
    assert count(app, User, User.email == "ghost@example.org") == 0
    if signed_in:
        assert "Learner" in response.get_data(as_text=True)  # the page still knows who is here


def test_a_broken_transaction_still_gets_our_500_page(failing_app):
    app, _ = failing_app
    new_user(app, "learner@example.org")
    client = app.test_client()
    sign_in(client, "learner@example.org")
    response = client.post("/test/break")
    assert response.status_code == 500
    assert_own_page(response, "Something went wrong on our side")
    assert count(app, User, User.email == "ghost@example.org") == 0
    assert client.get("/sets").status_code == 200  # the next request is fine


@pytest.mark.small_bank
@pytest.mark.parametrize(("request_args", "status", "text"), [
    ({"path": "/attempts/not-a-number"}, 404, "We could not find that page"),
    ({"path": "/auth/login", "query_string": {"next": "\x00"}}, 400, "could not be understood"),
    ({"path": "/auth/login", "method": "POST", "data": {"email": "x" * 300_000}}, 413, "too large"),
])
def test_friendly_error_pages(client, request_args, status, text):
    response = client.open(**request_args)
    assert response.status_code == status
    assert_own_page(response, text)


def test_sqlite_database_and_instance_folder_are_private(tmp_path, monkeypatch):
    import os
    import stat

    from quiz import create_app

    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    old_umask = os.umask(0o022)  # a usual umask: without care the files would be world-readable
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "x"}, instance_path=str(instance))
        with app.app_context():
            db.create_all()
            assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
            files = sorted(instance.glob("quiz.sqlite*"))
            assert [f.name for f in files][:1] == ["quiz.sqlite"]
            for path in files:  # the database, and its -wal and -shm files while open
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            db.engine.dispose()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_rate_limits_are_checked_in_their_views_not_on_every_request(tmp_path):
    """The sign-in and registration limits are route decorators (checked when their view
    runs; tests/test_auth.py shows they still answer 429). Flask-Limiter's app-wide hook
    only adds default and application limits, which are not set, so it is dropped."""
    from quiz import create_app
    from quiz.extensions import limiter

    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'l.sqlite'}"})
    manager = limiter.limit_manager
    assert not (manager.default_limits or manager.application_limits)
    hooks = [getattr(h, "__func__", h) for h in app.before_request_funcs[None]]
    assert type(limiter)._check_request_limit not in hooks
    assert manager._decorated_limits  # the decorators registered their limits


POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql"))


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL only: GET requests read in autocommit "
                                         "there (set TEST_DATABASE_URL to run it)")
def test_get_requests_read_without_a_transaction_and_cannot_write(tmp_path):
    """quiz.web.register_read_only_requests: a GET reads on an autocommit connection (no
    BEGIN, no ROLLBACK), a POST in a transaction, and a GET that tries to write is stopped
    before anything reaches the database."""
    from sqlalchemy import event as sa_event

    from quiz.web import WriteInReadRequest

    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"))
    app.config["PROPAGATE_EXCEPTIONS"] = True

    def autocommit() -> str:
        dbapi = db.session.connection().connection.dbapi_connection
        return f"{db.session.scalar(db.select(db.func.count()).select_from(User))} {dbapi.autocommit}"

    @app.get("/_test/write")
    def write_on_get():
        accounts.create_user("sneaky@example.org", PASSWORD, "Sneaky")
        db.session.commit()
        return "written"

    app.add_url_rule("/_test/read", "read", autocommit, methods=["GET", "POST"])
    try:
        with app.app_context():
            engine = db.engine
        sent: list[str] = []
        sa_event.listen(engine, "before_cursor_execute",
                        lambda conn, cursor, statement, *args: sent.append(statement))
        client = app.test_client()
        assert client.get("/_test/read").get_data(as_text=True) == "0 True"
        assert client.post("/_test/read").get_data(as_text=True) == "0 False"
        with pytest.raises(WriteInReadRequest):
            client.get("/_test/write")
        assert not any(statement.lstrip().upper().startswith("INSERT") for statement in sent)
        with app.app_context():
            assert db.session.scalar(
                db.select(User).where(User.email == "sneaky@example.org")) is None
    finally:
        _teardown(app)
