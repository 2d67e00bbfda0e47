"""The staff roster: learners with activity and onboarding-check results."""

from __future__ import annotations

import re

import pytest

from quiz.extensions import db
from quiz.models import QuestionSet

from . import flows

pytestmark = pytest.mark.small_bank


def _learner_takes(app, email, name, right):
    client = app.test_client()
    client.post("/auth/register", data={"name": name, "email": email, "password": "long enough pw",
                                        "confirm": "long enough pw"})
    # Registering does not sign in (it must not tell a taken address from a new one).
    client.post("/auth/login", data={"email": email, "password": "long enough pw"})
    attempt_id = flows.start(client, "mixed")
    flows.submit(client, attempt_id, flows.answers(flows.items(app, attempt_id), right=right))


def _gate_mixed_set(app):
    with app.app_context():
        db.session.get(QuestionSet, "mixed").pass_mark = 75
        db.session.commit()


def test_roster_shows_learners_and_onboarding_results(app, make_user):
    _gate_mixed_set(app)
    _learner_takes(app, "ana@example.org", "Ana", right=4)   # 100%: passed
    _learner_takes(app, "ben@example.org", "Ben", right=2)   # 50%: not yet
    make_user("learner", email="cy@example.org")             # never took anything
    staff = make_user("instructor")
    client = app.test_client()
    client.post("/auth/login", data={"email": staff["email"], "password": staff["password"]})
    page = client.get("/staff/learners").data.decode()
    rows = {name: row for name, row in re.findall(r"<tr>\s*<td>(\w+)<br>(.*?)</tr>", page, re.S)}
    assert set(rows) == {"Ana", "Ben", "Learner"}
    assert "best 100%" in rows["Ana"] and "passed</span>" in rows["Ana"]
    assert "best 50%" in rows["Ben"] and "not yet</span>" in rows["Ben"]
    assert "not taken" in rows["Learner"]
    assert "Instructor" not in page.split("<tbody>")[1]  # staff are not listed as learners
    assert 'href="/staff/learners"' in page  # in the staff navigation


def test_roster_query_count_does_not_grow_with_learners(app, make_user, count_queries):
    staff = make_user("admin")
    client = app.test_client()
    client.post("/auth/login", data={"email": staff["email"], "password": staff["password"]})
    _learner_takes(app, "one@example.org", "One", right=1)
    with count_queries() as few:
        assert client.get("/staff/learners").status_code == 200
    for i in range(8):
        _learner_takes(app, f"l{i}@example.org", f"L{i}", right=i % 4)
    with count_queries() as many:
        assert client.get("/staff/learners").status_code == 200
    assert few.count == many.count


def test_a_later_pass_mark_change_rewrites_no_verdict(app, make_user):
    """Attempts keep the pass mark they were taken under: roster and catalogue agree."""
    _gate_mixed_set(app)  # 75%
    client = app.test_client()
    client.post("/auth/register", data={"name": "Dee", "email": "dee@example.org",
                                        "password": "long enough pw", "confirm": "long enough pw"})
    # Registering does not sign in (it must not tell a taken address from a new one).
    client.post("/auth/login", data={"email": "dee@example.org", "password": "long enough pw"})
    attempt_id = flows.start(client, "mixed")
    flows.submit(client, attempt_id, flows.answers(flows.items(app, attempt_id), right=3))  # 75%
    with app.app_context():
        db.session.get(QuestionSet, "mixed").pass_mark = 90
        db.session.commit()
    catalogue = client.get("/sets").data.decode()
    assert re.search(r"Mixed</a>.*?75%.*?passed</span>", catalogue, re.S)
    staff = make_user("instructor")
    other = app.test_client()
    other.post("/auth/login", data={"email": staff["email"], "password": staff["password"]})
    roster = other.get("/staff/learners").data.decode()
    assert "best 75%" in roster and "passed</span>" in roster


# --- the paged roster -------------------------------------------------------------------

PAGE_RE = re.compile(r"<tr>\s*<td>([^<]*)<br>", re.S)


def _add_learners(app, people, attempts=()):
    """Learners straight into the database (no argon2 per user): people = [(name, email)],
    attempts = [(email, minutes_ago, score, pass_mark)] submitted attempts of 'mixed'."""
    from datetime import UTC, datetime, timedelta

    from quiz.models import Attempt, User

    with app.app_context():
        users = {email: User(email=email, name=name, password_hash="x", role="learner")
                 for name, email in people}
        db.session.add_all(users.values())
        db.session.flush()
        now = datetime.now(UTC)
        for email, minutes_ago, score, mark in attempts:
            at = now - timedelta(minutes=minutes_ago)
            db.session.add(Attempt(user_id=users[email].id, set_id="mixed", status="submitted",
                                   started_at=at, submitted_at=at, score=score, pass_mark=mark))
        db.session.commit()


@pytest.fixture
def staff_client(app, make_user):
    staff = make_user("instructor")
    client = app.test_client()
    client.post("/auth/login", data={"email": staff["email"], "password": staff["password"]})
    return client


def _names(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.get_data(as_text=True)
    return PAGE_RE.findall(page), page


def test_fifty_one_learners_make_two_pages(app, staff_client):
    _add_learners(app, [(f"Learner {i:02}", f"l{i:02}@example.org") for i in range(51)])
    first, page = _names(staff_client, "/staff/learners")
    assert first == [f"Learner {i:02}" for i in range(50)]
    assert "1–50 of 51 learners" in page
    assert 'href="/staff/learners?sort=name&amp;dir=asc&amp;page=2" rel="next"' in page
    assert 'rel="prev"' not in page
    second, page = _names(staff_client, "/staff/learners?sort=name&dir=asc&page=2")
    assert second == ["Learner 50"]
    assert "51–51 of 51 learners" in page
    assert 'href="/staff/learners?sort=name&amp;dir=asc" rel="prev"' in page
    assert 'rel="next"' not in page
    assert '<span class="page current" aria-current="page">2</span>' in page


def test_sort_orders(app, staff_client):
    _add_learners(
        app,
        [("Cara", "zed@example.org"), ("Abe", "yan@example.org"), ("Bo", "xu@example.org"),
         ("Dan", "wu@example.org")],
        attempts=[("zed@example.org", 5, 40.0, 75),      # Cara: active 5 min ago, not yet 40%
                  ("yan@example.org", 60, 90.0, 75),     # Abe: an hour ago, passed 90%
                  ("xu@example.org", 30, 80.0, 75),      # Bo: half an hour ago, passed 80%
                  ("xu@example.org", 90, 50.0, None)],   # an ungated attempt counts as activity
    )                                                    # Dan: never active
    expected = {
        "": ["Abe", "Bo", "Cara", "Dan"],
        "?sort=name&dir=desc": ["Dan", "Cara", "Bo", "Abe"],
        "?sort=email": ["Dan", "Bo", "Abe", "Cara"],
        "?sort=email&dir=desc": ["Cara", "Abe", "Bo", "Dan"],
        "?sort=active": ["Cara", "Bo", "Abe", "Dan"],               # most recent first
        "?sort=active&dir=asc": ["Dan", "Abe", "Bo", "Cara"],       # never active first
        "?sort=result": ["Abe", "Bo", "Cara", "Dan"],               # passed, best first
        "?sort=result&dir=asc": ["Dan", "Cara", "Bo", "Abe"],
    }
    for query, names in expected.items():
        assert _names(staff_client, "/staff/learners" + query)[0] == names, query
    _, page = _names(staff_client, "/staff/learners?sort=active")
    assert 'aria-sort="descending"' in page
    assert "best 90%" in page and "not taken" in page


def test_search_by_name_or_email_case_insensitive(app, staff_client):
    _add_learners(app, [("Ana Moreno", "ana@example.org"), ("Ben Stone", "ben@clinic.test"),
                        ("Cy Anand", "cy@example.org"), ("Per_cent", "pc@example.org")])
    assert _names(staff_client, "/staff/learners?q=ANA")[0] == ["Ana Moreno", "Cy Anand"]
    names, page = _names(staff_client, "/staff/learners?q=Clinic.TEST")
    assert names == ["Ben Stone"]
    assert "1–1 of 1 learner matching “Clinic.TEST”" in page
    # LIKE wildcards are literal characters in a search.
    assert _names(staff_client, "/staff/learners?q=_")[0] == ["Per_cent"]
    assert _names(staff_client, "/staff/learners?q=%25")[0] == []
    # Sort links and pages keep the search.
    assert 'href="/staff/learners?q=ANA&amp;sort=email"' in _names(
        staff_client, "/staff/learners?q=ANA")[1]


def test_search_pages_keep_search_and_sort(app, staff_client):
    _add_learners(app, [(f"Match {i:02}", f"m{i:02}@example.org") for i in range(55)]
                  + [("Other", "other@example.org")])
    names, page = _names(staff_client, "/staff/learners?q=match&sort=name&dir=desc")
    assert names[0] == "Match 54" and len(names) == 50
    assert "1–50 of 55 learners matching “match”" in page
    assert 'href="/staff/learners?q=match&amp;sort=name&amp;dir=desc&amp;page=2" rel="next"' in page
    names, _ = _names(staff_client, "/staff/learners?q=match&sort=name&dir=desc&page=2")
    assert names == [f"Match {i:02}" for i in range(4, -1, -1)]


def test_empty_states(app, staff_client):
    names, page = _names(staff_client, "/staff/learners")
    assert names == [] and "No learners yet." in page
    _add_learners(app, [("Ana", "ana@example.org")])
    names, page = _names(staff_client, "/staff/learners?q=%3Cb%3Ezed")
    assert names == []
    assert "No learner matches “&lt;b&gt;zed”." in page
    assert 'class="pager"' not in page


@pytest.mark.parametrize("query", [
    "sort=password_hash", "sort=", "sort=name;drop", "dir=sideways", "dir=",
    "page=-1", "page=0", "page=abc", "page=1.5", "page=", "page=%EF%BC%92",
    "page=99999999999999999999999999", "page=9223372036854775808", "page=2&page=x",
    "q=" + "x" * 10_000, "q=%25%5F%5C", "q=%FF%FE", "sort=active&page=-5",
])
def test_bad_roster_input_gets_a_sane_default(app, staff_client, query):
    _add_learners(app, [("Ana", "ana@example.org"), ("Ben", "ben@example.org")])
    response = staff_client.get("/staff/learners?" + query)
    assert response.status_code == 200, query
    page = response.get_data(as_text=True)
    if query.startswith("q="):
        assert "No learner matches" in page and len(page) < 20_000
    else:
        assert PAGE_RE.findall(page), query


def test_a_huge_page_shows_the_last_page(app, staff_client):
    _add_learners(app, [(f"L{i:02}", f"l{i:02}@example.org") for i in range(51)])
    names, page = _names(staff_client, "/staff/learners?page=999999")
    assert names == ["L50"] and "51–51 of 51" in page


@pytest.mark.parametrize("query", ["q=a%00b", "sort=na%00me", "page=1%00"])
def test_nul_bytes_are_refused(staff_client, query):
    assert staff_client.get("/staff/learners?" + query).status_code == 400


@pytest.mark.parametrize("query", ["", "?q=ana&sort=active&page=2"])
def test_learners_cannot_reach_the_roster(app, make_user, query):
    learner = make_user("learner")
    client = app.test_client()
    client.post("/auth/login", data={"email": learner["email"], "password": learner["password"]})
    response = client.get("/staff/learners" + query)
    assert response.status_code == 403
    # The page's random CSRF token (the sign-out form) may hold any letters: leave it out.
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))
    assert "ana" not in page.lower() and "Find a learner" not in page
