"""Ordering: put the steps in their right order by numbering them."""

from __future__ import annotations

from typing import Any

from .. import grading
from .base import POSITION_RE, AnswerError, QuestionType, StatOption, _check_entries


class Ordering(QuestionType):
    name = "ordering"
    label = "Ordering"
    take_template = "qtypes/ordering/take.html"
    review_template = "qtypes/ordering/review.html"
    # The smallest valid data: what tests/test_qtypes_registry.py renders.
    example = {"steps": [{"id": "s1", "text": "Warm up", "feedback": "First."},
                     {"id": "s2", "text": "Stretch", "feedback": "Second."},
                     {"id": "s3", "text": "Cool down", "feedback": "Last."}]}
    data_fields = ("steps",)
    shuffled = "steps"
    tokenised = ("steps",)
    edit_template = "qtypes/ordering/edit.html"
    edit_rows = {"steps": ("text", "feedback")}  # in their right order: position = step number
    min_rows = {"steps": 3}
    answer_cells = "positions"  # step ids in the order given: "step@position" cells

    def stat_options(self, data):
        # Every (step, position) cell; a step's learners choose between its positions. An
        # unused wrong position is no flag: positions are not written distractors.
        steps = data["steps"]
        return [StatOption(f"{s['id']}@{j}", f"{s['text']} at position {j}", j == i + 1, s["id"])
                for i, s in enumerate(steps) for j in range(1, len(steps) + 1)]

    def validate(self, raw):
        return _check_entries(raw.get("steps"), "steps", ("id", "text", "feedback"), 3)

    def data(self, raw):
        return {"steps": [{k: s[k] for k in ("id", "text", "feedback")} for s in raw["steps"]]}

    def export(self, data):
        choices = [
            {"text": s["text"], "correct": True, "position": i + 1, "feedback": s["feedback"]}
            for i, s in enumerate(data["steps"])
        ]
        return {**data, "choices": choices}

    def _shuffle(self, data, rng):
        shuffled = super()._shuffle(data, rng)
        correct = [s["id"] for s in data["steps"]]
        while shuffled["steps"] == correct:  # never serve the answer already in order
            shuffled = super()._shuffle(data, rng)
        return shuffled

    def _field(self, prefix: str, layout: dict[str, Any], step_id: str) -> str:
        return f"{prefix}_{self.token(layout, 'steps', step_id)}"

    def take_view(self, data, layout):
        steps = self._ordered(data, layout)
        return {"steps": [{"token": self.token(layout, "steps", s["id"]), "text": s["text"]}
                          for s in steps],
                "positions": list(range(1, len(steps) + 1))}

    def form_data(self, prefix, answer, layout):
        return {self._field(prefix, layout, step): [str(i + 1)] for i, step in enumerate(answer or [])}

    def read_answer(self, prefix, formdata, data, layout):
        n = len(data["steps"])
        positions: dict[str, int] = {}
        for step in data["steps"]:
            value = formdata.get(self._field(prefix, layout, step["id"]))
            if value in (None, ""):
                continue
            if not (isinstance(value, str) and POSITION_RE.fullmatch(value) and int(value) <= n):
                raise AnswerError(f"Positions go from 1 to {n}.")
            positions[step["id"]] = int(value)
        if not positions:
            return None
        if len(positions) < n:
            raise AnswerError("Give every step a position, or leave them all blank to answer later.")
        if len(set(positions.values())) < n:
            raise AnswerError("Give each step a different position.")
        return sorted(positions, key=positions.get)

    def grade(self, data, answer):
        return grading.grade_ordering([s["id"] for s in data["steps"]], answer or [])

    def review_view(self, data, layout, answer):
        given = {step: i + 1 for i, step in enumerate(answer or [])}
        return {
            "steps": [
                {**s, "position": i + 1, "given": given.get(s["id"]),
                 "correct": given.get(s["id"]) == i + 1}
                for i, s in enumerate(data["steps"])
            ]
        }
