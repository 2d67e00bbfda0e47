"""Select all that apply: at least one correct choice, partial credit."""

from __future__ import annotations

from .. import grading
from .choices import _ChoiceType


class MultipleResponse(_ChoiceType):
    name = "multiple"
    label = "Select all that apply"
    take_template = "qtypes/multiple/take.html"
    review_template = "qtypes/multiple/review.html"
    edit_template = "qtypes/multiple/edit.html"
    answer_cells = "elements"  # each ticked choice's id
    # The smallest valid data: what tests/test_qtypes_registry.py renders.
    example = {"choices": [{"id": "a", "text": "Fascia", "correct": True, "feedback": "Why Fascia."},
                           {"id": "b", "text": "Tendon", "correct": True, "feedback": "Why Tendon."},
                           {"id": "c", "text": "Bone", "correct": False, "feedback": "Why Bone."}]}

    def validate_key(self, choices):
        if not any(c["correct"] for c in choices):
            return [("choices", "needs at least one correct choice")]
        return []

    def form_data(self, prefix, answer, layout):
        return {prefix: [self.token(layout, "choices", c) for c in answer]}

    def read_answer(self, prefix, formdata, data, layout):
        values = [v for v in formdata.getlist(prefix) if v != ""]
        if not values:
            return None
        return sorted({self.untoken(layout, "choices", data, v) for v in values})

    def grade(self, data, answer):
        correct = [c["id"] for c in data["choices"] if c["correct"]]
        return grading.grade_multiple(correct, answer or [])

    def _chosen(self, answer):
        return set(answer or [])
