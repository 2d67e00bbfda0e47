"""SQLAlchemy models, split by area."""

from .accounts import User
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
