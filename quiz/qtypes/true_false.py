"""True or false: the choices 'true' and 'false', served in that order."""

from __future__ import annotations

from .choices import _ChoiceType


class TrueFalse(_ChoiceType):
    name = "true_false"
    label = "True or false"
    take_template = "qtypes/true_false/take.html"
    review_template = "qtypes/true_false/review.html"
    edit_template = "qtypes/true_false/edit.html"
    edit_rows = {}  # always the two choices 'true' and 'false': nothing to add or remove
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

    # The edit part: which statement is right (`tf-answer`: true or false) and the feedback
    # for each answer (`tf-true-feedback`, `tf-false-feedback`).
    def edit_values(self, data):
        choices = {c["id"]: c for c in data.get("choices") or []}
        answer = next((c["id"] for c in choices.values() if c.get("correct")), "")
        return {"answer": answer,
                "feedback": {key: str(choices.get(key, {}).get("feedback") or "")
                             for key in ("true", "false")}}

    def blank_values(self, taken):
        return {"answer": "", "feedback": {"true": "", "false": ""}}

    def add_row(self, values, kind, taken):
        raise KeyError(kind)  # no lists to add to

    def read_edit(self, formdata, known=None):
        from .rows import clean_text
        problems = []
        answer = formdata.get("tf-answer")
        if answer not in (None, "", "true", "false"):
            problems.append(("choices", "the answer must be true or false"))
        return {"choices": [
            {"id": key, "text": key.title(), "correct": answer == key,
             "feedback": clean_text(formdata.get(f"tf-{key}-feedback", ""))}
            for key in ("true", "false")
        ]}, problems
