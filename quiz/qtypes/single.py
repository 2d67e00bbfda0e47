"""Single choice: one correct choice among several."""

from __future__ import annotations

from .choices import _ChoiceType


class SingleChoice(_ChoiceType):
    name = "single"
    label = "Single choice"
    take_template = "qtypes/single/take.html"
    review_template = "qtypes/single/review.html"
    # The smallest valid data: what tests/test_qtypes_registry.py renders.
    example = {"choices": [{"id": "a", "text": "Fascia", "correct": True, "feedback": "Why Fascia."},
                           {"id": "b", "text": "Bone", "correct": False, "feedback": "Why Bone."}]}
