"""Question types: one module per type (its class, with data keys, validation, layout and
answer tokens, form parsing, grading and export) and its templates in
templates/qtypes/<name>/ (take.html, review.html, edit.html). This is the one registry: adding
a type means its module, its three templates and one entry in the tuple below."""

from __future__ import annotations

from .base import (
    ANSWER_CELLS,
    ENTRY_ID_RE,
    ENTRY_TEXT_MAX,
    PARTS,
    POSITION_RE,
    TOKEN_ALPHABET,
    TOKEN_LENGTH,
    AnswerError,
    Problem,
    QuestionType,
    StatOption,
    _shown,
    new_tokens,
    text_problem,
)
from .choices import _ChoiceType
from .matching import Matching
from .multiple import MultipleResponse
from .ordering import Ordering
from .single import SingleChoice
from .true_false import TrueFalse

TYPES: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleResponse(), TrueFalse(), Matching(), Ordering())
}


def get_type(name: str) -> QuestionType:
    return TYPES[name]


__all__ = [
    "ANSWER_CELLS", "ENTRY_ID_RE", "ENTRY_TEXT_MAX", "PARTS", "POSITION_RE", "TOKEN_ALPHABET", "TOKEN_LENGTH",
    "TYPES", "AnswerError", "Matching", "MultipleResponse", "Ordering", "Problem",
    "QuestionType", "SingleChoice", "StatOption", "TrueFalse", "_ChoiceType", "_shown", "get_type",
    "new_tokens", "text_problem",
]
