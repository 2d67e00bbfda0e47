"""Accounts: learners, instructors and admins."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..vocab import STAFF_ROLES, Role, check_in
from ._common import utcnow


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (
        check_in("role", Role),
        # The staff roster: learners in name order, a page at a time, and their count
        # (an index-only scan). E-mail order uses the unique index on email.
        Index("ix_user_role_name", "role", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see accounts.normalise_email), so unique regardless of case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.LEARNER.value)
    # Flask-Login stores this token, not the id: rotating it on sign-out makes every
    # copy of the old session cookie worthless.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
