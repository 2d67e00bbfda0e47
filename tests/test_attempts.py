"""Taking a set: pinning, shuffling, resuming, saving, scoring once, bad input."""

from __future__ import annotations

import random
import re
import threading

import pytest

from quiz import accounts
from quiz import attempts as attempt_ops
from quiz.bank import read_bank
from quiz.bank.loader import import_bank, load_bank
from quiz.extensions import db
from quiz.models import Attempt, QuestionSet, User

from . import bankgen, flows
from .conftest import make_app

pytestmark = pytest.mark.small_bank


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]*"', "", html)


@pytest.fixture
def learner(auth, client):
    auth.register()
    client.get("/sets")  # shows (and so clears) the welcome message
    return auth


def test_start_pins_questions_and_order_stays_on_reload(client, learner, app):
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    assert [i["question_id"] for i in its] == ["alpha-001", "alpha-002", "alpha-003"]
    first = _without_tokens(client.get(f"/attempts/{attempt_id}").data.decode())
    second = _without_tokens(client.get(f"/attempts/{attempt_id}").data.decode())
    assert first == second
    # The page shows choices in the pinned, shuffled order.
    html = first
    for item in its:
        texts = [f"Choice {c} of {item['question_id']}" for c in item["layout"]["choices"]]
        positions = [html.index(t) for t in texts]
        assert positions == sorted(positions)


def test_shuffle_differs_between_attempts():
    """The layout comes from a per-attempt random source (seeded here to be deterministic)."""
    from quiz.question_types import TYPES

    data = bankgen.single("x-001", n=5)
    layouts = {tuple(TYPES["single"].layout(data, random.Random(seed))["choices"]) for seed in range(20)}
    assert len(layouts) > 1


def test_starting_again_resumes_the_open_attempt(client, learner, app):
    first = flows.start(client, "alpha")
    assert flows.start(client, "alpha") == first
    page = client.get("/sets").data.decode()
    assert f"/attempts/{first}" in page and "Resume" in page


def test_save_keeps_answers_for_later(client, learner, app):
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    form = flows.right_answer(its[0])
    response = flows.submit(client, attempt_id, form, button="save")
    assert response.status_code == 302
    assert flows.items(app, attempt_id)[0]["answer"] == flows.key(its[0])  # stored as bank ids
    page = client.get(f"/attempts/{attempt_id}").data.decode()
    chosen = form[f"q{its[0]['id']}"]
    checked = re.findall(r"<input[^>]*checked[^>]*>", page)
    assert len(checked) == 1, checked
    assert f'name="q{its[0]["id"]}"' in checked[0] and f'value="{chosen}"' in checked[0]
    assert "1 answered so far" in page
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).status == "in_progress"


def test_submit_scores_on_the_server_and_shows_the_review(client, learner, app):
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    response = flows.submit(client, attempt_id, flows.answers(its, right=2))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/attempts/{attempt_id}/review"
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "submitted"
        assert attempt.points == 2 and attempt.score == pytest.approx(66.7)
        assert [i.score for i in attempt.items] == [1.0, 1.0, 0.0]
    review = client.get(f"/attempts/{attempt_id}/review").data.decode()
    assert "Your result: 67%" in review


def test_missing_answer_is_a_form_error_and_saves_nothing(client, learner, app):
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    form = flows.answers(its[:2])
    response = flows.submit(client, attempt_id, form)
    assert response.status_code == 400
    assert b"Answer this question before submitting." in response.data
    assert b"1 question needs your attention" in response.data
    assert b'<a href="#question-3">Question 3</a>' in response.data
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "in_progress" and attempt.score is None
        assert all(i.answer is None for i in attempt.items)


@pytest.mark.parametrize("bad", ["zz", "true", "", None])
def test_foreign_or_unknown_choice_is_rejected(client, learner, app, bad):
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    form = flows.answers(its)
    if bad is None:  # a choice id of another question in the same attempt: ids overlap, so
        # use the beta set's true/false id instead, which no alpha question has.
        bad = "false"
    form[f"q{its[1]['id']}"] = bad
    response = flows.submit(client, attempt_id, form)
    assert response.status_code == 400
    expected = b"Answer this question" if bad == "" else b"not one of this question"
    assert expected in response.data
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "in_progress" and attempt.score is None
        assert all(i.answer is None for i in attempt.items)


def test_unknown_field_for_item_of_other_attempt_changes_nothing(client, learner, app):
    first = flows.start(client, "alpha")
    second = flows.start(client, "beta")
    its_beta = flows.items(app, second)
    its_alpha = flows.items(app, first)
    # Smuggle answers for the beta attempt's items into a submit of the alpha attempt.
    form = {**flows.answers(its_alpha), **flows.answers(its_beta)}
    assert flows.submit(client, first, form).status_code == 302
    assert all(i["answer"] is None for i in flows.items(app, second))


def test_second_submit_shows_existing_result_and_keeps_the_score(client, learner, app):
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    flows.submit(client, attempt_id, flows.answers(its, right=1))
    again = flows.submit(client, attempt_id, flows.answers(its))  # all right this time
    assert again.status_code == 302
    assert again.headers["Location"] == f"/attempts/{attempt_id}/review"
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.points == 1
    followed = client.get(again.headers["Location"])
    assert b"Your result: 33%" in followed.data


def test_concurrent_submits_score_once(tmp_path):
    """Two submits racing on one attempt: exactly one scores, the other sees the result."""
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"))
    setup = app.test_client()
    setup.post("/auth/register", data={"name": "R", "email": "r@example.org",
                                       "password": "racing-password", "confirm": "racing-password"})
    # Registering does not sign in (it must not tell a taken address from a new one).
    setup.post("/auth/login", data={"email": "r@example.org", "password": "racing-password"})
    attempt_id = flows.start(setup, "alpha")
    its = flows.items(app, attempt_id)
    cookie = setup.get_cookie("session").value
    forms = [flows.answers(its, right=3), flows.answers(its, right=0)]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def go(form):
        c = app.test_client()
        c.set_cookie("session", cookie)
        barrier.wait()
        results.append(flows.submit(c, attempt_id, form).status_code)

    threads = [threading.Thread(target=go, args=(f,)) for f in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [302, 302]
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "submitted"
        assert attempt.points in (0, 3)
        # Every item carries the answers of the same (winning) submit.
        scores = {i.score for i in attempt.items}
        assert scores == ({1.0} if attempt.points == 3 else {0.0})
        db.session.remove()
        db.engine.dispose()


def test_submitted_attempt_page_redirects_to_review(client, learner, app):
    attempt_id = flows.start(client, "alpha")
    flows.submit(client, attempt_id, flows.answers(flows.items(app, attempt_id)))
    response = client.get(f"/attempts/{attempt_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")


def test_unfinished_review_redirects_owner_to_the_attempt(client, learner, app):
    attempt_id = flows.start(client, "alpha")
    response = client.get(f"/attempts/{attempt_id}/review")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/attempts/{attempt_id}"


def test_mixed_set_draws_across_topics_and_pins_the_draw(client, learner, app):
    attempt_id = flows.start(client, "mixed")
    its = flows.items(app, attempt_id)
    assert len(its) == 4
    assert len({i["question_id"] for i in its}) == 4
    # Reload: the same draw.
    assert flows.items(app, attempt_id) == its
    with app.app_context():
        qset = db.session.get(QuestionSet, "mixed")
        user = db.session.scalar(db.select(User))
        draws = {
            tuple(q.id for q in attempt_ops.choose_questions(qset, random.Random(seed)))
            for seed in range(30)
        }
    assert len(draws) > 1  # a new draw each attempt
    assert all(len(d) == 4 for d in draws)
    assert user.role == "learner"


def test_must_know_key_points_are_always_drawn(app, tmp_path):
    """Each must-know key point is tested in every draw; the rest is random."""
    questions = {
        "alpha": [bankgen.single(f"alpha-{i:03}") for i in range(1, 9)],
        "beta": [bankgen.single("beta-001", kp="kp-two"), bankgen.single("beta-002", kp="kp-two")],
    }
    sets = [{"id": "gate", "title": "Gate", "kind": "random", "count": 3, "topics": "all",
             "include_must_know": True, "pass_mark": 80}]
    bank, problems = read_bank(bankgen.write_bank(tmp_path / "b", questions=questions, sets=sets))
    assert problems == []
    seen = set()
    with app.app_context():
        import_bank(bank, retire_missing=True)  # beta-003 (also must-know) leaves the draw
        db.session.commit()
        qset = db.session.get(QuestionSet, "gate")
        for seed in range(40):
            drawn = {q.id for q in attempt_ops.choose_questions(qset, random.Random(seed))}
            assert len(drawn) == 3
            assert drawn & {"beta-001", "beta-002"}, drawn
            seen |= drawn
    # Neither the critical questions nor the others are fixed: each draw varies.
    assert {"beta-001", "beta-002"} <= seen
    assert len(seen & {f"alpha-{i:03}" for i in range(1, 9)}) >= 6


def test_attempt_keeps_its_revision_when_the_bank_changes(client, learner, app, tmp_path):
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    flows.submit(client, attempt_id, flows.answers(its))
    questions = bankgen.default_questions()
    questions["alpha"][0]["prompt"] = "A brand new wording?"
    questions["alpha"][0]["choices"][0]["correct"] = False
    questions["alpha"][0]["choices"][1]["correct"] = True
    bank, _ = read_bank(bankgen.write_bank(tmp_path / "v2", questions=questions))
    with app.app_context():
        load_bank(bank)
        db.session.commit()
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.points == 3
    review = client.get(f"/attempts/{attempt_id}/review").data.decode()
    assert "Prompt of alpha-001?" in review and "A brand new wording?" not in review
    assert "Your result: 100%" in review
    fresh = flows.start(client, "alpha")
    assert "A brand new wording?" in client.get(f"/attempts/{fresh}").data.decode()


def test_empty_set_start_gives_a_clear_message(client, learner, app):
    with app.app_context():
        qset = QuestionSet(id="empty", title="Empty", kind="random", draw_count=3,
                           draw_topics=["nothing"])
        db.session.add(qset)
        db.session.commit()
    response = client.post("/sets/empty/start", follow_redirects=True)
    assert b"This set has no questions yet." in response.data


def test_a_post_counts_only_what_it_sends(client, learner, app):
    """A saved answer is not silently resubmitted: an omitted field is unanswered."""
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    flows.submit(client, attempt_id, flows.answers(its), button="save")
    response = flows.submit(client, attempt_id, flows.answers(its[1:]))  # first one omitted
    assert response.status_code == 400
    assert b"Answer this question before submitting." in response.data
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).status == "in_progress"


def test_many_learners_at_once_never_hit_a_locked_database(tmp_path):
    """Concurrent writes (start, save, submit) from several learners all succeed."""
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"))
    with app.app_context():
        users = []
        for i in range(6):
            users.append(accounts.create_user(f"c{i}@example.org", "concurrent pw", f"C{i}").email)
        db.session.commit()
    statuses: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(users))

    def learner(email):
        try:
            c = app.test_client()
            c.post("/auth/login", data={"email": email, "password": "concurrent pw"})
            barrier.wait()
            for set_id in ("alpha", "beta", "mixed"):
                attempt_id = flows.start(c, set_id)
                its = flows.items(app, attempt_id)
                statuses.append(flows.submit(c, attempt_id, flows.answers(its[:1]), "save").status_code)
                statuses.append(flows.submit(c, attempt_id, flows.answers(its)).status_code)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=learner, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert statuses == [302] * (len(users) * 6)
    with app.app_context():
        scores = db.session.scalars(db.select(Attempt.score)).all()
        assert len(scores) == len(users) * 3 and set(scores) == {100.0}


def test_a_late_save_cannot_change_a_submitted_attempt(client, learner, app):
    """A save that loaded the attempt before another request submitted it changes nothing."""
    attempt_id = flows.start(client, "alpha")
    its = flows.items(app, attempt_id)
    with app.app_context():
        stale = attempt_ops.load_attempt(attempt_id)  # loaded while in progress
        other = app.test_client()
        other.set_cookie("session", client.get_cookie("session").value)
        assert flows.submit(other, attempt_id, flows.answers(its, right=3)).status_code == 302
        wrong = {i["id"]: flows.wrong_answer(i)[f"q{i['id']}"] for i in its}
        with pytest.raises(attempt_ops.AttemptError):
            attempt_ops.save_answers(stale, wrong)
        db.session.rollback()
    answers = [i["answer"] for i in flows.items(app, attempt_id)]
    assert answers == [flows.key(i) for i in its]
    response = flows.submit(client, attempt_id, flows.answers(its, right=0), button="save")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")
