"""The attempt form: one WTForms field (or a few) per served question, built per attempt."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import SubmitField

from ..models import Attempt
from ..question_types import TYPES, AnswerError


class StartForm(FlaskForm):
    submit = SubmitField("Start")


class _AttemptFormBase(FlaskForm):
    save = SubmitField("Save and finish later")
    finish = SubmitField("Submit answers")


def prefix(item) -> str:
    return f"q{item.id}"


def build_attempt_form(attempt: Attempt, show_saved: bool = True) -> FlaskForm:
    """A form with the attempt's question fields; on GET filled with the saved answers.

    On POST only what was sent counts (an omitted field is unanswered, not "as saved").
    """
    fields: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for item in attempt.items:
        qtype, rev = TYPES[item.revision.qtype], item.revision
        fields.update(qtype.form_fields(prefix(item), rev.data, item.layout))
        if show_saved and item.answer is not None:
            data.update(qtype.form_data(prefix(item), item.answer, item.layout))
    form_class = type("AttemptForm", (_AttemptFormBase,), fields)
    return form_class(data=data)


def read_answers(form: FlaskForm, attempt: Attempt,
                 require_all: bool) -> tuple[dict[int, Any], dict[int, str]]:
    """Answers by attempt-question id, and a message for each question that needs attention:
    invalid input, or (with require_all, when submitting) no answer."""
    answers: dict[int, Any] = {}
    errors: dict[int, str] = {}
    for item in attempt.items:
        qtype = TYPES[item.revision.qtype]
        try:
            answers[item.id] = qtype.read_answer(prefix(item), form, item.revision.data,
                                                 item.layout)
        except AnswerError as exc:
            errors[item.id] = str(exc)
    if require_all and not errors:
        errors = {i: "Answer this question before submitting." for i, a in answers.items() if a is None}
    return answers, errors
