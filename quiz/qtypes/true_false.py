"""True or false: the choices 'true' and 'false', served in that order."""

from __future__ import annotations

from .choices import _ChoiceType


class TrueFalse(_ChoiceType):
    name = "true_false"
    label = "True or false"
    take_template = "qtypes/true_false/take.html"
    review_template = "qtypes/true_false/review.html"
    # The smallest valid data: what tests/test_qtypes_registry.py renders.
    example = {"choices": [{"id": "true", "text": "True", "correct": True, "feedback": "Why True."},
                           {"id": "false", "text": "False", "correct": False, "feedback": "Why False."}]}

    def validate_key(self, choices):
        if sorted(c["id"] for c in choices) != ["false", "true"]:
            return [("choices", "a true/false question has exactly the choices 'true' and 'false'")]
        return super().validate_key(choices)

    def _shuffle(self, data, rng):
        # True first, then False: shuffling these would only confuse.
        return {"choices": ["true", "false"]}
