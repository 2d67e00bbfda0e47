"""SQLAlchemy models, split by area."""

from .accounts import ROLES, User
from .attempts import Attempt, AttemptQuestion, LearnerQuestionLatest
from .bank import (
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
    RevisionKeyPoint,
    Section,
    Topic,
)

__all__ = [
    "ROLES",
    "Attempt",
    "AttemptQuestion",
    "KeyPoint",
    "LearnerQuestionLatest",
    "Question",
    "QuestionRevision",
    "QuestionSet",
    "RevisionKeyPoint",
    "Section",
    "Topic",
    "User",
]
