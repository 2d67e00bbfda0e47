"""The latest-answer summary (learner_question_latest) and the paged progress page.

The summary must always equal its definition: for each learner and question, the answer
of the submitted attempt with the latest submitted_at, ties broken by the higher attempt
id (the window query the progress page used to run on every request).
"""

from __future__ import annotations

import random
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from quiz import accounts
from quiz import attempts as attempt_ops
from quiz import progress as progress_ops
from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, LearnerQuestionLatest, QuestionSet, User

from . import bankgen, flows
from .conftest import PASSWORD, make_app
from .test_queries import right_answer, wrong_answer

pytestmark = pytest.mark.small_bank

COLUMNS = ("user_id", "question_id", "attempt_id", "attempt_question_id", "revision_id", "score")


def summary_rows() -> set[tuple]:
    return {tuple(getattr(r, c) for c in COLUMNS)
            for r in db.session.scalars(db.select(LearnerQuestionLatest))}


def reference_rows() -> set[tuple]:
    """The definition, computed in Python from every submitted answer."""
    latest: dict[tuple, tuple] = {}
    rows = db.session.execute(
        db.select(Attempt.user_id, AttemptQuestion.question_id, Attempt.submitted_at,
                  Attempt.id, AttemptQuestion.id, AttemptQuestion.revision_id, AttemptQuestion.score)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.status == "submitted")
    )
    for user_id, question_id, at, attempt_id, item_id, revision_id, score in rows:
        key = (user_id, question_id)
        if key not in latest or (at, attempt_id) > latest[key][0]:
            latest[key] = ((at, attempt_id), (user_id, question_id, attempt_id, item_id, revision_id,
                                              score))
    return {row for _, row in latest.values()}


def definition_rows() -> set[tuple]:
    """The window query (latest_answers_definition) that rebuild_latest_answers inserts."""
    return {tuple(r[:6]) for r in db.session.execute(progress_ops.latest_answers_definition())}


def _answers(attempt, rng: random.Random) -> dict:
    out = {}
    for item in attempt.items:
        roll = rng.random()
        if roll < 0.1:
            continue  # left unanswered: scores 0
        make = right_answer if roll < 0.6 else wrong_answer
        out[item.id] = make(item.revision.qtype, item.revision.data)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_incremental_summary_matches_the_definition_and_a_rebuild(app, monkeypatch, seed):
    """Random histories, with submit times that tie and that go back in time."""
    rng = random.Random(seed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    # Few distinct times: ties (broken by attempt id) and later submits with earlier times.
    monkeypatch.setattr(attempt_ops, "utcnow", lambda: base + timedelta(minutes=rng.randint(0, 4)))
    with app.app_context():
        users = [accounts.create_user(f"p{i}@example.org", PASSWORD, f"P{i}") for i in range(3)]
        sets = [db.session.get(QuestionSet, s) for s in ("alpha", "beta", "mixed")]
        for _ in range(rng.randint(5, 25)):
            user, qset = rng.choice(users), rng.choice(sets)
            attempt = attempt_ops.start_attempt(user, qset, rng)
            if rng.random() < 0.15:
                attempt_ops.save_answers(attempt, _answers(attempt, rng))  # stays open
            else:
                assert attempt_ops.submit_attempt(attempt, _answers(attempt, rng))
            if rng.random() < 0.5:
                db.session.commit()
        db.session.commit()
        incremental = summary_rows()
        assert incremental == reference_rows() == definition_rows()
        assert progress_ops.rebuild_latest_answers() == len(incremental)
        db.session.commit()
        assert summary_rows() == incremental

        # The progress figures read from the summary agree with the definition.
        for user in users:
            mine = [r for r in incremental if r[0] == user.id]
            by_topic = {t.topic_id: t for t in progress_ops.topic_progress(user.id)}
            for topic in ("alpha", "beta"):
                answered = [r for r in mine if r[1].startswith(topic)]
                assert by_topic[topic].answered == len(answered)
                assert by_topic[topic].correct == sum(1 for r in answered if r[5] >= 1.0)
            unanswered = {q for q, _, _ in progress_ops.unanswered_questions(user.id)}
            assert unanswered == {f"{t}-00{i}" for t in ("alpha", "beta") for i in (1, 2, 3)} - {
                r[1] for r in mine}


def test_an_earlier_answer_never_replaces_a_later_one(app):
    """The upsert's WHERE: later submitted_at wins; on a tie, the higher attempt id."""
    with app.app_context():
        user = accounts.create_user("u@example.org", PASSWORD, "U")
        first = attempt_ops.start_attempt(user, db.session.get(QuestionSet, "alpha"))
        second = attempt_ops.start_attempt(user, db.session.get(QuestionSet, "mixed"))
        db.session.flush()
        item = first.items[0]
        later = datetime(2026, 5, 1, 12, tzinfo=UTC)

        def record(attempt_id, at, score):
            progress_ops.record_latest_answers(user.id, attempt_id, at,
                                               [(item.question_id, item.id, item.revision_id, score)])
            row = db.session.execute(
                db.select(LearnerQuestionLatest.attempt_id, LearnerQuestionLatest.score)
            ).one()
            db.session.expire_all()
            return tuple(row)

        assert record(first.id, later, 1.0) == (first.id, 1.0)
        assert record(second.id, later - timedelta(seconds=1), 0.0) == (first.id, 1.0)  # earlier
        lower, higher = sorted([first.id, second.id])
        assert record(higher, later, 0.5) == (higher, 0.5)  # a tie: the higher attempt id
        assert record(lower, later, 0.0) == (higher, 0.5)
        assert record(lower, later + timedelta(microseconds=1), 0.25) == (lower, 0.25)
        db.session.rollback()


def test_racing_submits_of_one_learner_leave_the_latest_answers(tmp_path):
    """Two attempts of one learner with common questions, submitted at the same moment."""
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"))
    setup = app.test_client()
    setup.post("/auth/register", data={"name": "R", "email": "r@example.org",
                                       "password": "racing-password", "confirm": "racing-password"})
    setup.post("/auth/login", data={"email": "r@example.org", "password": "racing-password"})
    cookie = setup.get_cookie("session").value
    for _ in range(3):
        first, second = flows.start(setup, "alpha"), flows.start(setup, "mixed")  # share questions
        forms = [(first, flows.answers(flows.items(app, first), right=3)),
                 (second, flows.answers(flows.items(app, second), right=0))]
        barrier = threading.Barrier(2)
        results: list[int] = []

        def go(attempt_id, form, barrier=barrier, results=results):
            c = app.test_client()
            c.set_cookie("session", cookie)
            barrier.wait()
            results.append(flows.submit(c, attempt_id, form).status_code)

        threads = [threading.Thread(target=go, args=f) for f in forms]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [302, 302]
        with app.app_context():
            assert summary_rows() == reference_rows()
            db.session.remove()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _learner_with_attempts(app, n: int, email: str = "h@example.org") -> int:
    with app.app_context():
        user = accounts.create_user(email, PASSWORD, "Hana")
        alpha = db.session.get(QuestionSet, "alpha")
        rng = random.Random(n)
        for _ in range(n):
            attempt = attempt_ops.start_attempt(user, alpha, rng)
            assert attempt_ops.submit_attempt(attempt, _answers(attempt, rng))
        db.session.commit()
        return user.id


def _signed_in(app, email):
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def _history_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/attempts/(\d+)/review">Review</a>', page)]


def test_history_is_paged_newest_first_and_the_trend_shows_the_last_30(app, make_user, count_queries):
    user_id = _learner_with_attempts(app, 45)
    client = _signed_in(app, "h@example.org")
    with app.app_context():
        newest_first = db.session.scalars(
            db.select(Attempt.id).where(Attempt.user_id == user_id)
            .order_by(Attempt.submitted_at.desc(), Attempt.id.desc())).all()

    first = client.get("/progress").data.decode()
    assert _history_ids(first) == newest_first[:20]
    assert "(page 1 of 3)" in first and "Attempts 1–20 of 45" in first
    assert 'href="/progress?page=2#history" rel="next">Older attempts' in first
    assert "Newer attempts" not in first
    assert first.count("<circle ") == 30
    assert "45 attempts (the chart shows the last 30)" in first
    assert "Scores of the last 30 of 45 attempts" in first

    second = client.get("/progress?page=2").data.decode()
    assert _history_ids(second) == newest_first[20:40]
    assert 'href="/progress#history" rel="prev">← Newer attempts' in second
    assert 'href="/progress?page=3#history"' in second
    # Everything else on the page is the same whatever the history page.
    def strip(html: str) -> str:
        """The page's main content without the history section."""
        main = re.search(r"<main.*?</main>", html, flags=re.S).group(0)
        return re.sub(r"<h2 id=\"history\">.*?<h2>Never", "", main, flags=re.S)

    assert strip(second) == strip(first)

    counts = []
    for n in (1, 2, 3):
        with count_queries() as counter:
            assert client.get(f"/progress?page={n}").status_code == 200
        counts.append(counter.count)
    assert counts[1] == counts[2] == counts[0] + 1  # a later page: one query with an offset

    third = client.get("/progress?page=3").data.decode()
    assert _history_ids(third) == newest_first[40:]
    assert "Older attempts" not in third and "Attempts 41–45 of 45" in third

    for bad in ("4", "0", "-1", "9" * 40, "abc", "", "1.5", " 2", "+2", "\u0663", "\u00b2"):
        assert client.get("/progress", query_string={"page": bad}).status_code == 404, bad
    assert client.get("/progress?page=%00").status_code == 400  # NUL bytes are refused app-wide

    staff = make_user("instructor")
    staff_client = _signed_in(app, staff["email"])
    page = staff_client.get(f"/learners/{user_id}/progress?page=2").data.decode()
    assert "Progress of Hana" in page
    assert _history_ids(page) == newest_first[20:40]
    assert f'href="/learners/{user_id}/progress?page=3#history"' in page
    assert f'href="/learners/{user_id}/progress#history"' in page
    assert strip(page).replace("Progress of Hana", "Your progress") == strip(second)
    assert staff_client.get(f"/learners/{user_id}/progress?page=9").status_code == 404


def test_few_attempts_have_no_pager(app):
    _learner_with_attempts(app, 3)
    page = _signed_in(app, "h@example.org").get("/progress").data.decode()
    assert len(_history_ids(page)) == 3
    assert "Older attempts" not in page and "page 1 of" not in page
    assert "3 attempts; latest" in page and "Scores of 3 attempts" in page


def test_rebuild_command_restores_the_summary(app, runner):
    _learner_with_attempts(app, 4)
    with app.app_context():
        before = summary_rows()
        assert before
        db.session.execute(db.delete(LearnerQuestionLatest))
        db.session.commit()
    result = runner.invoke(args=["progress", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"{len(before)} row(s)" in result.output
    with app.app_context():
        assert summary_rows() == before


def test_the_migration_fills_the_summary_for_existing_attempts(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from quiz import create_app
    from quiz.bank import read_bank
    from quiz.bank.loader import load_bank

    from .conftest import database_url_for_tests

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": database_url_for_tests(tmp_path, "m.sqlite"),
                      "BANK_PATH": str(bankgen.write_bank(tmp_path / "bank"))})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        bank, _ = read_bank(app.config["BANK_PATH"])
        load_bank(bank)
        db.session.commit()
    _learner_with_attempts(app, 5)
    with app.app_context():
        expected = summary_rows()
        assert expected == reference_rows()
        db.session.remove()
        downgrade(directory=directory, revision="3e8d41c7a6b2")
        assert "learner_question_latest" not in inspect(db.engine).get_table_names()
        upgrade(directory=directory)
        assert summary_rows() == expected
        db.session.remove()
        if db.engine.dialect.name != "sqlite":  # a SQLite file goes with tmp_path
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


def test_progress_domain_functions_read_the_summary(app):
    """learner_progress answers the page's questions, and a missing page is PageNotFound."""
    user_id = _learner_with_attempts(app, 25)
    with app.app_context():
        user = db.session.get(User, user_id)
        p = progress_ops.learner_progress(user, page=2)
        assert (p.attempts, p.pages, p.page, len(p.history), len(p.trend)) == (25, 2, 2, 5, 25)
        assert p.has_newer and not p.has_older
        with pytest.raises(progress_ops.PageNotFound):
            progress_ops.learner_progress(user, page=3)
