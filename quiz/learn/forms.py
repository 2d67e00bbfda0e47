"""The attempt form. Its answer inputs are rendered straight from each question type's take macro
(templates/qtypes/<name>/take.html) and read back by each type's `read_answer` from the posted
fields; the form class itself only carries the CSRF token and the two buttons, so nothing is
built per request."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SubmitField

from ..models import Attempt
from ..question_types import TYPES, AnswerError


class StartForm(FlaskForm):
    submit = SubmitField("Start")


class AttemptForm(FlaskForm):
    save = SubmitField("Save and finish later")
    finish = SubmitField("Submit answers")


def prefix(item) -> str:
    return f"q{item.id}"


def saved_values(attempt: Attempt) -> MultiDict:
    """The field values that show the attempt's saved answers, as a browser would post them."""
    values: MultiDict = MultiDict()
    for item in attempt.items:
        if item.answer is not None:
            fields = TYPES[item.revision.qtype].form_data(prefix(item), item.answer, item.layout)
            for name, field_values in fields.items():
                values.setlist(name, field_values)
    return values


def read_answers(formdata: MultiDict, attempt: Attempt,
                 require_all: bool) -> tuple[dict[int, Any], dict[int, str]]:
    """Answers by attempt-question id, and a message for each question that needs attention:
    invalid input, or (with require_all, when submitting) no answer. Only what was sent
    counts: an omitted field is unanswered, not "as saved"."""
    answers: dict[int, Any] = {}
    errors: dict[int, str] = {}
    for item in attempt.items:
        qtype = TYPES[item.revision.qtype]
        try:
            answers[item.id] = qtype.read_answer(prefix(item), formdata, item.revision.data,
                                                 item.layout)
        except AnswerError as exc:
            errors[item.id] = str(exc)
    if require_all and not errors:
        errors = {i: "Answer this question before submitting." for i, a in answers.items() if a is None}
    return answers, errors
