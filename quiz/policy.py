"""Who may see and do what: the one place access rules live.

Views and templates ask these functions instead of comparing ids and roles themselves.
Each takes the user (Flask-Login's current_user, possibly anonymous) and returns a bool,
except `visible_learners`, a SQL condition on User. What a refusal looks like (404 so
that ids reveal nothing, 403 for the staff pages) stays the views' business.

The rules:
- A learner sees and takes their own attempts and sees their own progress.
- Instructors and admins (staff) also see every learner's attempts and progress, and the
  learner roster; they never take another learner's attempt.
- An organisation's managers and instructors review the attempts made for its
  assignments (quiz.orgs.tenancy, which holds every other rule inside an organisation).
- Staff may edit the question bank (the studio).
- Admins alone manage accounts (list, roles, deactivate, reset links); every signed-in
  user manages their own name and password.
- Anonymous users may do none of this.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, and_

from .models import Attempt, User
from .orgs.tenancy import views_assignment_attempts
from .vocab import STAFF_ROLES, Role


def _signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_staff(user: Any) -> bool:
    """An instructor or admin (signed in)."""
    return _signed_in(user) and user.role in STAFF_ROLES


def _is_self(user: Any, user_id: int | None) -> bool:
    return _signed_in(user) and user_id is not None and user.id == user_id


def can_view_attempt(user: Any, attempt: Attempt) -> bool:
    """Review an attempt: its learner, staff, or the managers and instructors of the
    organisation whose assignment it was made for."""
    if _is_self(user, attempt.user_id) or is_staff(user):
        return True
    return views_assignment_attempts(user, getattr(attempt, "assignment_id", None))


def can_take_attempt(user: Any, attempt: Attempt) -> bool:
    """Answer, save and submit an attempt: only its own learner, staff included."""
    return _is_self(user, attempt.user_id)


def can_view_progress(user: Any, learner_id: int) -> bool:
    """A learner's progress page: the learner themselves, or staff."""
    return _is_self(user, learner_id) or is_staff(user)


def can_view_roster(user: Any) -> bool:
    """The staff learner roster."""
    return is_staff(user)


def can_edit_bank(user: Any) -> bool:
    """Change the question bank: instructors and admins."""
    return is_staff(user)


def is_admin(user: Any) -> bool:
    return _signed_in(user) and user.role == Role.ADMIN


def can_manage_users(user: Any) -> bool:
    """The account pages under /admin/users: admins only."""
    return is_admin(user)


def can_manage_own_account(user: Any) -> bool:
    """/account (name and password): anyone signed in."""
    return _signed_in(user)


def visible_learners(user: Any) -> ColumnElement[bool]:
    """A WHERE condition on User: the learners `user` may list. Staff see every learner;
    a learner only themselves; anonymous users nobody."""
    learners = User.role == Role.LEARNER
    if is_staff(user):
        return learners
    if _signed_in(user):
        return and_(learners, User.id == user.id)
    return and_(learners, User.id.is_(None))  # id is the primary key: never null


POLICY_FUNCTIONS = {
    "is_staff": is_staff,
    "can_view_attempt": can_view_attempt,
    "can_take_attempt": can_take_attempt,
    "can_view_progress": can_view_progress,
    "can_view_roster": can_view_roster,
    "can_edit_bank": can_edit_bank,
    "can_manage_users": can_manage_users,
    "can_manage_own_account": can_manage_own_account,
}


def register_policy(app: Flask) -> None:
    """Make the policy functions Jinja globals: `{% if can_view_roster(current_user) %}`."""
    app.jinja_env.globals.update(POLICY_FUNCTIONS)
