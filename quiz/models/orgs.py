"""Organisations (clinics, school classes), their members and cohorts, and assignments.

Every row here belongs to exactly one organisation (`org_id`), directly or through its
assignment; pages look rows up through quiz.orgs.tenancy, which scopes every query by the
organisation, so an id of another organisation is simply not found.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..vocab import OrgRole, ReminderKind, check_in
from ._common import utcnow
from .accounts import User
from .bank import QuestionSet


class Organisation(db.Model):
    """A clinic or a school class: its members, cohorts and assignments are kept apart."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class Cohort(db.Model):
    """A group of an organisation's members ("Spring 2027 hires", "PT class of 2027")."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class Membership(db.Model):
    """One person in one organisation, with their role there and (optionally) their cohort.

    A person may belong to several organisations (one row each); within one organisation
    they are in at most one cohort, and moving them is changing `cohort_id`.
    """

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id"),
        check_in("role", OrgRole),
        # The member list and dashboard of one organisation, a cohort at a time.
        Index("ix_membership_org_cohort", "org_id", "cohort_id", "user_id"),
        # "Which organisations is this person in?" (every page's navigation, tenancy checks).
        Index("ix_membership_user", "user_id", "org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=OrgRole.MEMBER.value)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()
    cohort: Mapped[Cohort | None] = relationship()


class Assignment(db.Model):
    """A set assigned to a cohort and/or named people of one organisation, with its rules.

    Who is assigned: the members of `cohort_id` (if set) and the people in
    AssignmentPerson. The rules (pass mark overriding the set's, attempt limit, time limit,
    recertification period) are copied onto each attempt where they must not change later,
    as the pass mark is (Attempt.pass_mark). Dates are timezone-aware; null means "no
    opening date" (open at once) or "no due date".
    """

    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint("pass_mark IS NULL OR (pass_mark >= 0 AND pass_mark <= 100)", name="pass_mark"),
        CheckConstraint("max_attempts IS NULL OR max_attempts >= 1", name="max_attempts"),
        CheckConstraint("time_limit_minutes IS NULL OR time_limit_minutes >= 1", name="time_limit"),
        CheckConstraint("recert_months IS NULL OR recert_months >= 1", name="recert_months"),
        CheckConstraint("opens_at IS NULL OR due_at IS NULL OR opens_at < due_at", name="dates"),
        Index("ix_assignment_org", "org_id", "archived_at", "due_at"),
        Index("ix_assignment_cohort", "cohort_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    set_id: Mapped[str] = mapped_column(ForeignKey("question_set.id"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pass_mark: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    recert_months: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship()
    question_set: Mapped[QuestionSet] = relationship()
    cohort: Mapped[Cohort | None] = relationship()

    def effective_pass_mark(self) -> int | None:
        """The pass mark attempts of this assignment are held to: its own, else the set's."""
        return self.pass_mark if self.pass_mark is not None else self.question_set.pass_mark


class AssignmentPerson(db.Model):
    """A named person an assignment is for (besides, or instead of, a cohort)."""

    __tablename__ = "assignment_person"
    __table_args__ = (Index("ix_assignment_person_user", "user_id"),)

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)


class Invitation(db.Model):
    """An invitation of one e-mail address into an organisation (quiz.orgs.invitations).

    Only the SHA-256 of the one-time link's token is kept. Accepting it either creates the
    invitee's account (they choose their password on the link's page) or, for an address
    that has an account already, adds that account once its owner has signed in.
    """

    __tablename__ = "invitation"
    __table_args__ = (
        check_in("role", OrgRole),
        Index("ix_invitation_org", "org_id", "accepted_at", "created_at"),
        Index("ix_invitation_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default=OrgRole.MEMBER.value)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship()
    cohort: Mapped[Cohort | None] = relationship()


class JoinCode(db.Model):
    """A code (and the link that carries it) that lets anyone who has it join an
    organisation as a member, until it expires, is revoked or has been used `max_uses` times."""

    __tablename__ = "join_code"
    __table_args__ = (
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses"),
        CheckConstraint("uses >= 0", name="uses"),
        Index("ix_join_code_org", "org_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship()
    cohort: Mapped[Cohort | None] = relationship()


class Certificate(db.Model):
    """Proof of one passing attempt of an assignment (quiz.orgs.certificates).

    What the certificate states is copied at issue (learner, set, organisation, score), so
    a later rename does not change a document already handed out. `code` is random (the
    public verification page looks it up); one certificate per passing attempt.
    """

    __tablename__ = "certificate"
    __table_args__ = (
        Index("ix_certificate_org", "org_id", "assignment_id", "user_id"),
        Index("ix_certificate_user", "user_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"), unique=True)
    learner_name: Mapped[str] = mapped_column(String(100))
    set_title: Mapped[str] = mapped_column(String(200))
    org_name: Mapped[str] = mapped_column(String(120))
    score: Mapped[float] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(String(200))


class ReminderSent(db.Model):
    """A reminder mail that went to one person about one assignment: `mail send-due` sends
    each (assignment, person, kind, due date) once. A changed due date arms it again."""

    __tablename__ = "reminder_sent"
    __table_args__ = (
        check_in("kind", ReminderKind),
        UniqueConstraint("assignment_id", "user_id", "kind", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
