"""No lazy loads: every page loads what its template shows up front, with the query that
fetches the page's rows, never one relationship at a time while the template renders (the
N+1 pattern a query count catches only once data grows)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from quiz import accounts
from quiz.attempts import save_answers, start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import QuestionSet

from .conftest import PASSWORD, _teardown, make_app
from .test_queries import answers_for, write_mixed_bank


class LazyLoads:
    """Records every ORM statement issued to lazy-load a relationship or an unloaded column."""

    def __init__(self):
        self.loads: list[str] = []

    def __call__(self, state):
        # Lazy loads are SELECTs; other statements (e.g. the statistics' SET jit on
        # PostgreSQL) have no load options to ask about.
        if state.is_select and (state.lazy_loaded_from is not None or state.is_column_load):
            self.loads.append(str(state.statement).split("\n")[0][:120])


@pytest.fixture
def world(tmp_path):
    app = make_app(tmp_path, write_mixed_bank(tmp_path / "bank", per_set=10))
    with app.app_context():
        learner = accounts.create_user("learner@example.org", PASSWORD, "Lee")
        accounts.create_user("staff@example.org", PASSWORD, "Sam", "instructor")
        admin = accounts.create_user("admin@example.org", PASSWORD, "Ada", "admin")
        link = accounts.create_reset_link(admin, learner, timedelta(hours=1))
        sets = {sid: db.session.get(QuestionSet, sid) for sid in ("alpha", "beta", "mixed")}
        for qset in sets.values():
            done = start_attempt(learner, qset)
            assert submit_attempt(done, answers_for(done))
        open_attempt = start_attempt(learner, sets["alpha"])
        save_answers(open_attempt, answers_for(open_attempt, right_every=3))
        db.session.commit()
        ids = {"learner": learner.id, "done": done.id, "open": open_attempt.id,
               "reset": link.token}
    yield app, ids
    _teardown(app)


def _client(app, email):
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


PAGES = [
    ("learner", "/sets"),
    ("learner", "/sets/alpha"),
    ("learner", "/attempts/{open}"),
    ("learner", "/attempts/{done}/review"),
    ("learner", "/progress"),
    ("staff", "/learners/{learner}/progress"),
    ("staff", "/attempts/{done}/review"),
    ("staff", "/staff/learners"),
    ("admin", "/admin/users"),
    ("admin", "/admin/users/{learner}"),
    ("learner", "/account"),
    ("staff", "/reset/{reset}"),
    ("staff", "/studio/"),
    ("staff", "/studio/questions/new?type=matching"),
    ("staff", "/studio/questions/alpha-004/edit"),
    ("staff", "/studio/questions/alpha-004/preview"),
    ("staff", "/studio/questions"),
    ("staff", "/studio/questions/alpha-004"),
    ("staff", "/studio/stats"),
    ("staff", "/studio/stats/sets/alpha"),
    ("staff", "/studio/stats/sets/mixed?attempts=all"),
    ("staff", "/studio/stats/questions/alpha-004"),
    ("staff", "/studio/stats/questions/alpha-003?set=alpha"),
    ("staff", "/studio/stats/key-points/kp-one"),
    ("staff", "/studio/stats/sections/soft-tissue"),
    ("staff", "/studio/import"),
    ("staff", "/studio/export?format=moodle-xml"),
    ("staff", "/studio/export?format=gift"),
    ("admin", "/admin/outbox"),
]


@pytest.mark.parametrize("who, url", PAGES)
def test_page_renders_without_lazy_loads(world, who, url):
    app, ids = world
    client = _client(app, f"{who}@example.org")
    recorder = LazyLoads()
    event.listen(Session, "do_orm_execute", recorder)
    try:
        response = client.get(url.format(**ids))
    finally:
        event.remove(Session, "do_orm_execute", recorder)
    assert response.status_code == 200
    assert recorder.loads == [], recorder.loads


def test_the_recorder_sees_a_lazy_load(world):
    """The check is not vacuous: touching an unloaded relationship is recorded."""
    app, ids = world
    from quiz.models import Attempt

    recorder = LazyLoads()
    with app.app_context():
        attempt = db.session.get(Attempt, ids["done"])
        event.listen(Session, "do_orm_execute", recorder)
        try:
            assert attempt.items[0].revision.key_points
        finally:
            event.remove(Session, "do_orm_execute", recorder)
    assert len(recorder.loads) >= 2
