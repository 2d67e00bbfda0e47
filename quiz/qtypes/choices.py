"""The choice types' common base: a list of choices with a correct flag each."""

from __future__ import annotations

from typing import Any

from .. import grading
from .base import Problem, QuestionType, StatOption, _check_entries


class _ChoiceType(QuestionType):
    data_fields = ("choices",)
    shuffled = "choices"
    tokenised = ("choices",)
    entry_keys = ("id", "text", "correct", "feedback")
    edit_rows = {"choices": ("text", "correct", "feedback")}
    min_rows = {"choices": 4}
    answer_cells = "value"  # the chosen choice's id

    def validate(self, raw: dict[str, Any]) -> list[Problem]:
        choices = raw.get("choices")
        problems = _check_entries(choices, "choices", self.entry_keys, 2)
        if problems and not isinstance(choices, list):
            return problems
        for i, choice in enumerate(choices):
            if isinstance(choice, dict) and not isinstance(choice.get("correct"), bool):
                problems.append((f"choices[{i}].correct", "must be true or false"))
        if not problems:
            problems += self.validate_key(choices)
        return problems

    def validate_key(self, choices: list[dict]) -> list[Problem]:
        if sum(1 for c in choices if c["correct"]) != 1:
            return [("choices", "needs exactly one correct choice")]
        return []

    def data(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {"choices": [{k: c[k] for k in self.entry_keys} for c in raw["choices"]]}

    def take_view(self, data, layout):
        return {"choices": [{"token": self.token(layout, "choices", c["id"]), "text": c["text"]}
                            for c in self._ordered(data, layout)]}

    def form_data(self, prefix, answer, layout):
        return {prefix: [self.token(layout, "choices", answer)]}

    def read_answer(self, prefix, formdata, data, layout):
        value = formdata.get(prefix)
        if value in (None, ""):
            return None
        return self.untoken(layout, "choices", data, value)

    def grade(self, data, answer):
        correct = next(c["id"] for c in data["choices"] if c["correct"])
        return grading.grade_single(correct, answer)

    def stat_options(self, data):
        return [StatOption(c["id"], c["text"], bool(c["correct"]), "", not c["correct"])
                for c in data["choices"]]

    def _chosen(self, answer) -> set[str]:
        return {answer} if answer else set()

    def review_view(self, data, layout, answer):
        chosen = self._chosen(answer)
        return {
            "choices": [
                {**c, "chosen": c["id"] in chosen} for c in self._ordered(data, layout)
            ]
        }
