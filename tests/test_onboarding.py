"""The clinic onboarding check on the shipped bank: 20 questions, 80% pass mark,
every must-know key point drawn, pass / not yet shown on the set page and result."""

from __future__ import annotations

import random

from quiz import attempts as attempt_ops
from quiz.extensions import db
from quiz.models import KeyPoint, QuestionSet

from . import flows


def test_every_draw_tests_each_must_know_key_point_across_topics(app):
    with app.app_context():
        qset = db.session.get(QuestionSet, "onboarding")
        critical = set(db.session.scalars(db.select(KeyPoint.id).where(KeyPoint.must_know)))
        assert critical
        topics_seen = set()
        for seed in range(15):
            drawn = attempt_ops.choose_questions(qset, random.Random(seed))
            assert len(drawn) == 20 and len({q.id for q in drawn}) == 20
            tested = {kp.id for q in drawn for kp in q.current_revision.key_points}
            assert critical <= tested, critical - tested
            topics_seen |= {q.topic_id for q in drawn}
        assert topics_seen == {"basics", "tools", "indications", "reactions", "plan-of-care"}


def _take_onboarding(client, app, right):
    attempt_id = flows.start(client, "onboarding")
    its = flows.items(app, attempt_id)
    assert len(its) == 20
    flows.submit(client, attempt_id, flows.answers(its, right=right))
    return attempt_id


def test_pass_mark_and_result_are_shown(client, auth, app):
    auth.register()
    page = client.get("/sets/onboarding").data.decode()
    assert "Pass mark: <strong>80%</strong>" in page
    assert "must-know" in page

    failed = _take_onboarding(client, app, right=15)  # 75%
    review = client.get(f"/attempts/{failed}/review").data.decode()
    assert "Your result: 75%" in review and "Not yet passed" in review and "pass mark 80%" in review

    passed = _take_onboarding(client, app, right=16)  # 80%
    review = client.get(f"/attempts/{passed}/review").data.decode()
    assert "Your result: 80%" in review and ">Passed<" in review

    page = client.get("/sets/onboarding").data.decode()
    assert "<td>Passed</td>" in page and "<td>Not yet</td>" in page
    catalogue = client.get("/sets").data.decode()
    assert "pass mark 80%" in catalogue and "passed</span>" in catalogue


def test_every_shipped_set_can_be_taken_and_reviewed(client, auth, app):
    """Each set of the shipped bank, including matching and ordering questions, end to end."""
    auth.register()
    with app.app_context():
        set_ids = list(db.session.scalars(db.select(QuestionSet.id).where(QuestionSet.active)))
    qtypes = set()
    for set_id in set_ids:
        attempt_id = flows.start(client, set_id)
        its = flows.items(app, attempt_id)
        qtypes |= {i["qtype"] for i in its}
        page = client.get(f"/attempts/{attempt_id}")
        assert page.status_code == 200
        response = flows.submit(client, attempt_id, flows.answers(its))
        assert response.status_code == 302, (set_id, response.data[:500])
        review = client.get(f"/attempts/{attempt_id}/review")
        assert review.status_code == 200 and b"Your result: 100%" in review.data
    assert qtypes == {"single", "multiple", "true_false", "matching", "ordering"}
    progress = client.get("/progress").data.decode()
    assert "Never attempted" in progress
