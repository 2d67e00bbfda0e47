"""SQLAlchemy models, split by area."""

from .accounts import PasswordReset, User
from .attempts import Attempt, AttemptQuestion, LearnerQuestionLatest
from .audit import AuditEvent
from .bank import (
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
    RevisionKeyPoint,
    Section,
    Topic,
)
from .orgs import (
    Assignment,
    AssignmentPerson,
    Certificate,
    Cohort,
    Invitation,
    JoinCode,
    Membership,
    Organisation,
    ReminderSent,
)
from .stats import RevisionItemSums

__all__ = [
    "Assignment",
    "AssignmentPerson",
    "Certificate",
    "Invitation",
    "JoinCode",
    "ReminderSent",
    "Cohort",
    "Membership",
    "Organisation",
    "Attempt",
    "AttemptQuestion",
    "AuditEvent",
    "KeyPoint",
    "LearnerQuestionLatest",
    "PasswordReset",
    "Question",
    "QuestionRevision",
    "QuestionSet",
    "RevisionItemSums",
    "RevisionKeyPoint",
    "Section",
    "Topic",
    "User",
]
