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
