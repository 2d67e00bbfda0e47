"""Review after submission, and each learner's progress page."""

from __future__ import annotations

import re

import pytest

from quiz import progress as progress_ops
from quiz.extensions import db
from quiz.models import User

from . import bankgen, flows
from .conftest import make_app


@pytest.fixture
def all_types_app(tmp_path):
    questions = {
        "alpha": [bankgen.single("alpha-001"), bankgen.multiple("alpha-002", correct=("a", "b")),
                  bankgen.ordering("alpha-003")],
        "beta": [bankgen.true_false("beta-001"), bankgen.matching("beta-002")],
    }
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank", questions=questions))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _learner(app, email="l@example.org"):
    client = app.test_client()
    client.post("/auth/register", data={"name": "L", "email": email, "password": "long enough pw",
                                        "confirm": "long enough pw"})
    # Registering does not sign in (it must not tell a taken address from a new one).
    client.post("/auth/login", data={"email": email, "password": "long enough pw"})
    client.get("/sets")
    return client


def test_every_type_can_be_taken_scored_and_reviewed(all_types_app):
    app = all_types_app
    client = _learner(app)
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    page = client.get(f"/attempts/{attempt_id}").data.decode()
    assert "· Select all that apply" in page and "Number the steps" in page
    form = flows.answers(its)
    multi = next(i for i in its if i["qtype"] == "multiple")
    form[f"q{multi['id']}"] = [flows.token(multi, "choices", c) for c in "ac"]  # one right, one wrong: 0
    order = next(i for i in its if i["qtype"] == "ordering")
    # s2, s3, s4, s1: one step out of place -> 2/3
    form.update({flows.field(order, "steps", "s1"): "4", flows.field(order, "steps", "s2"): "1",
                 flows.field(order, "steps", "s3"): "2", flows.field(order, "steps", "s4"): "3"})
    assert flows.submit(client, attempt_id, form).status_code == 302
    scores = {i["qtype"]: i["score"] for i in flows.items(app, attempt_id)}
    assert scores == {"single": 1.0, "multiple": 0.0, "ordering": pytest.approx(2 / 3)}
    review = client.get(f"/attempts/{attempt_id}/review").data.decode()
    assert "partly correct" in review
    assert "Why s1" in review  # ordering feedback per step

    beta = flows.start(client, "beta")
    its = flows.items(app, beta)
    form = flows.answers(its)
    match = next(i for i in its if i["qtype"] == "matching")
    form[flows.field(match, "pairs", "fever")] = flows.token(match, "options", "yes")  # 2 of 3 right
    flows.submit(client, beta, form)
    scores = {i["qtype"]: i["score"] for i in flows.items(app, beta)}
    assert scores == {"true_false": 1.0, "matching": pytest.approx(2 / 3)}
    review = client.get(f"/attempts/{beta}/review").data.decode()
    assert "Not listed." in review and "Not described" in review


@pytest.mark.parametrize("value, message", [
    ("9", b"Positions go from 1 to 4."),
    ("0", b"Positions go from 1 to 4."),
    ("-1", b"Positions go from 1 to 4."),
    ("\u00b2", b"Positions go from 1 to 4."),  # a digit to str.isdigit(), not to int()
    ("\u0663", b"Positions go from 1 to 4."),  # Arabic-Indic three: int() would accept it
    (" 2", b"Positions go from 1 to 4."),
    ("1" * 5000, b"Positions go from 1 to 4."),
    ("2", b"Give each step a different position."),
    ("", b"Give every step a position"),
])
def test_ordering_bad_input(all_types_app, value, message):
    client = _learner(all_types_app)
    attempt_id = flows.start(client, "alpha")
    its = flows.items(all_types_app, attempt_id)
    form = flows.answers(its)
    order = next(i for i in its if i["qtype"] == "ordering")
    form[flows.field(order, "steps", "s1")] = value
    response = flows.submit(client, attempt_id, form)
    assert response.status_code == 400 and message in response.data
    assert all(i["answer"] is None for i in flows.items(all_types_app, attempt_id))


def test_matching_tampered_option_is_rejected(all_types_app):
    client = _learner(all_types_app)
    attempt_id = flows.start(client, "beta")
    its = flows.items(all_types_app, attempt_id)
    form = flows.answers(its)
    match = next(i for i in its if i["qtype"] == "matching")
    form[flows.field(match, "pairs", "red")] = "maybe"
    response = flows.submit(client, attempt_id, form)
    assert response.status_code == 400 and b"not one of this question" in response.data


def test_multiple_tampered_choice_is_rejected(all_types_app):
    client = _learner(all_types_app)
    attempt_id = flows.start(client, "alpha")
    its = flows.items(all_types_app, attempt_id)
    form = flows.answers(its)
    multi = next(i for i in its if i["qtype"] == "multiple")
    form[f"q{multi['id']}"] = [flows.token(multi, "choices", "a"), "nope"]
    assert flows.submit(client, attempt_id, form).status_code == 400


@pytest.mark.small_bank
def test_review_shows_choice_answer_feedback_explanation_and_source(client, auth, app):
    auth.register()
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    form = flows.answers(its, right=0)
    flows.submit(client, attempt_id, form)
    review = client.get(f"/attempts/{attempt_id}/review").data.decode()
    for item in its:
        qid = item["question_id"]
        assert f"Prompt of {qid}?" in review
        assert f"Explanation of {qid}." in review
        for c in "abc":
            assert f"Feedback {c} of {qid}" in review
    assert review.count("your answer") == 3
    assert review.count("correct answer") == 3
    assert review.count("Source: article section “What is soft tissue?”") == 3
    assert "Soft tissue includes fascia." in review  # the key point tested


@pytest.mark.small_bank
def test_progress_mastery_history_unanswered_and_weakest(client, auth, app):
    auth.register()
    page = client.get("/progress").data.decode()
    assert "No submitted attempts yet." in page
    assert "(6 questions)" in page

    first = flows.start(client, "alpha")
    flows.submit(client, first, flows.answers(flows.items(app, first), right=1))
    second = flows.start(client, "alpha")
    flows.submit(client, second, flows.answers(flows.items(app, second), right=3))
    beta = flows.start(client, "beta")
    flows.submit(client, beta, flows.answers(flows.items(app, beta), right=1))

    page = client.get("/progress").data.decode()
    # Mastery uses the latest answer per question: alpha 3/3, beta 1/3.
    assert re.search(r"Alpha topic</td>\s*<td class=\"meter\"><progress value=\"100\"", page)
    assert re.search(r"Beta topic</td>\s*<td class=\"meter\"><progress value=\"33\"", page)
    assert "Mastery is the share of a topic" in page
    assert "Your weakest topic is <strong>Beta topic</strong>" in page
    assert 'href="/sets/beta">Practise Beta topic' in page
    assert "(0 questions)" in page
    assert page.count('/review">Review</a>') == 3
    points = re.search(r'<polyline points="([^"]+)"', page).group(1).split()
    assert points == ["0.0,40.0", "150.0,0.0", "300.0,40.0"]  # 33.3%, 100%, 33.3%
    assert page.count("<circle ") == 3
    assert "Missed:" in page


@pytest.mark.small_bank
def test_progress_domain_functions(client, auth, app):
    auth.register()
    attempt = flows.start(client, "beta")
    flows.submit(client, attempt, flows.answers(flows.items(app, attempt), right=2))
    with app.app_context():
        user = db.session.scalar(db.select(User))
        p = progress_ops.learner_progress(user)
        by_topic = {t.topic_id: t for t in p.topics}
        assert (by_topic["beta"].total, by_topic["beta"].answered, by_topic["beta"].correct) == (3, 3, 2)
        assert by_topic["alpha"].answered == 0
        assert p.weakest.topic_id == "alpha"
        assert [e.score for e in p.history] == [pytest.approx(66.7)]
        assert len(p.unanswered) == 3
        kp = {k.key_point_id: k for k in p.key_points}
        assert (kp["kp-two"].answered, kp["kp-two"].missed) == (3, 1)


def test_progress_trend_points():
    entries = [progress_ops.HistoryEntry(1, "s", None, 0.0, None),
               progress_ops.HistoryEntry(2, "s", None, 100.0, None)]
    assert progress_ops.trend_points(entries) == [(0.0, 60.0), (300.0, 0.0)]
    assert progress_ops.trend_points(entries[:1]) == [(0.0, 60.0)]
    assert progress_ops.trend_points([]) == []


@pytest.mark.small_bank
def test_catalogue_shows_counts_best_and_latest(client, auth, app):
    auth.register()
    first = flows.start(client, "alpha")
    flows.submit(client, first, flows.answers(flows.items(app, first), right=3))
    second = flows.start(client, "alpha")
    flows.submit(client, second, flows.answers(flows.items(app, second), right=1))
    page = client.get("/sets").data.decode()
    row = re.search(r"Alpha set</a>.*?</tr>", page, re.S).group(0)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[:3] == ["3", "100%", "33%"]  # questions, best, latest
    mixed = re.search(r"Mixed</a>.*?</tr>", page, re.S).group(0)
    assert re.findall(r"<td>([^<]*)</td>", mixed)[:3] == ["4", "–", "–"]


@pytest.mark.small_bank
def test_staff_review_names_the_learner(client, auth, app, make_user):
    auth.register(name="Lee Learner")
    attempt_id = flows.start(client, "alpha")
    flows.submit(client, attempt_id, flows.answers(flows.items(app, attempt_id)))
    auth.logout()
    staff = make_user("instructor")
    auth.login(staff["email"], staff["password"])
    review = client.get(f"/attempts/{attempt_id}/review").data.decode()
    assert "Result of Lee Learner: 100%" in review
    assert "Your result" not in review
