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
from .stats import RevisionItemSums

__all__ = [
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
