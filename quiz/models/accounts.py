"""Accounts: learners, instructors and admins."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

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
    # A deactivated account cannot sign in, and accounts.load_user refuses its sessions.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Whether the user belongs to any organisation: loaded with the signed-in user
    # (accounts.load_user), so pages skip the assignment lookups for everyone else.
    # None when the user was loaded another way (then nobody may rely on it).
    in_orgs: Mapped[bool | None] = query_expression()

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class PasswordReset(db.Model):
    """A one-time, expiring password-reset link that an admin hands to a user.

    Only the SHA-256 of the link's token is stored: the database never holds a usable link.
    """

    __tablename__ = "password_reset"
    __table_args__ = (Index("ix_password_reset_user", "user_id", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
