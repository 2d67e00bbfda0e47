"""Unit tests of quiz/policy.py: every kind of user x own / another learner's things."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from quiz import policy
from quiz.extensions import db
from quiz.models import Attempt, User
from quiz.vocab import Role

OWNER_ID, OTHER_ID = 1, 2


def _user(role: str, user_id: int) -> User:
    return User(id=user_id, email=f"{role}{user_id}@example.org", name=role, password_hash="x",
                role=role)


# Each visitor, and whether the thing belongs to them ("own") or to another learner.
VISITORS = {
    "anonymous": AnonymousUserMixin(),
    "learner": _user(Role.LEARNER, OWNER_ID),
    "instructor": _user(Role.INSTRUCTOR, 3),
    "admin": _user(Role.ADMIN, 4),
}
# (visitor, whose) -> (view attempt, take attempt, view progress)
EXPECTED = {
    ("anonymous", "own"): (False, False, False),  # anonymous "own": the owner's id
    ("anonymous", "other"): (False, False, False),
    ("learner", "own"): (True, True, True),
    ("learner", "other"): (False, False, False),
    ("instructor", "own"): (True, True, True),
    ("instructor", "other"): (True, False, True),
    ("admin", "own"): (True, True, True),
    ("admin", "other"): (True, False, True),
}


def _owner_id(visitor: str, whose: str) -> int:
    if whose == "other":
        return OTHER_ID
    return getattr(VISITORS[visitor], "id", OWNER_ID)


@pytest.mark.parametrize(("visitor", "whose"), list(EXPECTED))
def test_attempts_and_progress(visitor, whose):
    user = VISITORS[visitor]
    learner_id = _owner_id(visitor, whose)
    attempt = Attempt(id=10, user_id=learner_id, set_id="s")
    got = (policy.can_view_attempt(user, attempt), policy.can_take_attempt(user, attempt),
           policy.can_view_progress(user, learner_id))
    assert got == EXPECTED[visitor, whose]


@pytest.mark.parametrize(("visitor", "staff"), [
    ("anonymous", False), ("learner", False), ("instructor", True), ("admin", True),
])
def test_roster_and_bank(visitor, staff):
    user = VISITORS[visitor]
    assert policy.can_view_roster(user) is staff
    assert policy.can_edit_bank(user) is staff
    assert policy.is_staff(user) is staff


def test_a_role_given_as_a_plain_string_counts_the_same():
    assert policy.can_view_roster(_user("admin", 5))
    assert not policy.can_view_roster(_user("learner", 6))


def test_templates_get_the_policy(app):
    with app.test_request_context():
        for name in policy.POLICY_FUNCTIONS:
            assert app.jinja_env.globals[name] is policy.POLICY_FUNCTIONS[name]


@pytest.mark.small_bank
def test_visible_learners(app, make_user):
    learner = make_user("learner")
    other = make_user("learner")
    instructor = make_user("instructor")
    admin = make_user("admin")
    with app.app_context():
        def visible(user) -> set[int]:
            return set(db.session.scalars(db.select(User.id).where(policy.visible_learners(user))))

        everyone = {learner["id"], other["id"]}
        assert visible(db.session.get(User, instructor["id"])) == everyone
        assert visible(db.session.get(User, admin["id"])) == everyone
        assert visible(db.session.get(User, learner["id"])) == {learner["id"]}
        assert visible(AnonymousUserMixin()) == set()
