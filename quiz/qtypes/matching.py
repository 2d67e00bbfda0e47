"""Matching: pair each item with one option (options may be used more than once)."""

from __future__ import annotations

from typing import Any

from .. import grading
from .base import AnswerError, QuestionType, StatOption, _check_entries, _shown


class Matching(QuestionType):
    name = "matching"
    label = "Matching"
    take_template = "qtypes/matching/take.html"
    review_template = "qtypes/matching/review.html"
    # The smallest valid data: what tests/test_qtypes_registry.py renders.
    example = {"options": [{"id": "x", "text": "Muscle"}, {"id": "y", "text": "Bone"}],
               "pairs": [{"id": "p", "text": "Biceps", "match": "x", "feedback": "A muscle."},
                         {"id": "q", "text": "Femur", "match": "y", "feedback": "A bone."}]}
    data_fields = ("options", "pairs")
    shuffled = "pairs"
    tokenised = ("options", "pairs")
    edit_template = "qtypes/matching/edit.html"
    # Options first: the pairs' "match" lists them. A match is posted as the option's id.
    edit_rows = {"options": ("text",), "pairs": ("text", "match", "feedback")}
    min_rows = {"options": 2, "pairs": 3}
    answer_cells = "entries"  # {pair id: option id}: one "pair>option" cell per item

    def stat_options(self, data):
        # Every (item, option) cell; an item's learners choose between its cells.
        return [StatOption(f"{p['id']}>{o['id']}", f"{p['text']} → {o['text']}",
                           o["id"] == p["match"], p["id"], o["id"] != p["match"])
                for p in data["pairs"] for o in data["options"]]

    def validate(self, raw):
        problems = _check_entries(raw.get("options"), "options", ("id", "text"), 2)
        problems += _check_entries(
            raw.get("pairs"), "pairs", ("id", "text", "match", "feedback"), 2
        )
        if problems:
            return problems
        option_ids = {o["id"] for o in raw["options"]}
        for i, pair in enumerate(raw["pairs"]):
            match = pair.get("match")
            if not isinstance(match, str) or match not in option_ids:
                problems.append((f"pairs[{i}].match", f"{_shown(match)} is not an option id"))
        return problems

    def data(self, raw):
        return {
            "options": [{"id": o["id"], "text": o["text"]} for o in raw["options"]],
            "pairs": [{k: p[k] for k in ("id", "text", "match", "feedback")} for p in raw["pairs"]],
        }

    def export(self, data):
        # Choices in export form: each item with its right option, so generic tools can read it.
        options = {o["id"]: o["text"] for o in data["options"]}
        choices = [
            {"text": f"{p['text']} -> {options[p['match']]}", "correct": True,
             "feedback": p["feedback"]}
            for p in data["pairs"]
        ]
        return {**data, "choices": choices}

    def _shuffle(self, data, rng):
        options = [o["id"] for o in data["options"]]
        rng.shuffle(options)
        return {**super()._shuffle(data, rng), "options": options}

    def take_view(self, data, layout):
        return {
            "options": [{"token": self.token(layout, "options", o["id"]), "text": o["text"]}
                        for o in self._ordered(data, layout, "options")],
            "pairs": [{"token": self.token(layout, "pairs", p["id"]), "text": p["text"]}
                      for p in self._ordered(data, layout)],
        }

    def _field(self, prefix: str, layout: dict[str, Any], pair_id: str) -> str:
        return f"{prefix}_{self.token(layout, 'pairs', pair_id)}"

    def form_data(self, prefix, answer, layout):
        return {self._field(prefix, layout, item): [self.token(layout, "options", option)]
                for item, option in (answer or {}).items()}

    def read_answer(self, prefix, formdata, data, layout):
        answer = {}
        for pair in data["pairs"]:
            value = formdata.get(self._field(prefix, layout, pair["id"]))
            if value in (None, ""):
                continue
            answer[pair["id"]] = self.untoken(layout, "options", data, value)
        if not answer:
            return None
        if len(answer) < len(data["pairs"]):
            raise AnswerError("Pair every item, or leave them all blank to answer later.")
        return answer

    def grade(self, data, answer):
        key = {p["id"]: p["match"] for p in data["pairs"]}
        return grading.grade_matching(key, answer or {})

    def review_view(self, data, layout, answer):
        options = {o["id"]: o["text"] for o in data["options"]}
        answer = answer or {}
        return {
            "pairs": [
                {**p, "chosen": options.get(answer.get(p["id"]), "—"),
                 "right": options[p["match"]], "correct": answer.get(p["id"]) == p["match"]}
                for p in self._ordered(data, layout)
            ]
        }
