"""Single choice: one correct choice among several."""

from __future__ import annotations

from .base import POSITION_RE
from .choices import _ChoiceType


class SingleChoice(_ChoiceType):
    name = "single"
    label = "Single choice"
    take_template = "qtypes/single/take.html"
    review_template = "qtypes/single/review.html"
    # The smallest valid data: what tests/test_qtypes_registry.py renders.
    example = {"choices": [{"id": "a", "text": "Fascia", "correct": True, "feedback": "Why Fascia."},
                           {"id": "b", "text": "Bone", "correct": False, "feedback": "Why Bone."}]}
    edit_template = "qtypes/single/edit.html"

    def read_edit(self, formdata, known=None):
        # One radio group, `choices-correct`, whose value is the right row's number in the form.
        from .rows import read_rows
        problems = []
        rows = read_rows(formdata, "choices", self.edit_rows["choices"], known, problems)
        chosen = formdata.get("choices-correct")
        if chosen not in (None, "") and not (chosen == "0" or POSITION_RE.fullmatch(chosen)):
            problems.append(("choices", "the correct choice could not be read: reload the editor"))
        for i, entry in rows:
            entry["correct"] = chosen == str(i)
        return {"choices": [entry for _, entry in rows]}, problems
