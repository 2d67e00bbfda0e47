"""Question types: everything type-specific lives in one class per type.

A type knows how to validate its bank data, lay out a question for one attempt
(shuffled order), build and read the answer fields of the attempt form, score an
answer (through the pure functions in grading.py), and describe the question for
review and export. Adding a type (say, hotspot) means adding one class here, its
two macros in templates/learn/_types.html, and registering it in TYPES.
"""

from __future__ import annotations

import random
import re
import reprlib
import secrets
from abc import ABC, abstractmethod
from typing import Any

from . import grading

Problem = tuple[str, str]  # (field, message)
ENTRY_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # used with fullmatch: "a\n" is no id
# The longest text each entry field may hold (question_bank/README.md, "What the checker refuses").
ENTRY_TEXT_MAX = {"text": 500, "feedback": 1000}
# Control characters other than newline and tab, and the zero-width characters that alone are no text.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE_TABLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))  # zero-width


# Answer tokens: what the browser sees and sends instead of the bank's ids. Upper case, so a
# token can never equal a bank id (lower case), and drawn from `secrets`, never from the
# attempt's shuffling generator, so nothing about the key can be predicted from them.
TOKEN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - not a password
TOKEN_LENGTH = 8
POSITION_RE = re.compile(r"[1-9][0-9]{0,2}")  # ASCII digits only: "²".isdigit() is True


def new_tokens(ids: list[str]) -> dict[str, str]:
    """A fresh random token for each bank id, all different."""
    tokens: dict[str, str] = {}
    used: set[str] = set()
    for entry_id in ids:
        token = ""
        while not token or token in used:
            token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        used.add(token)
        tokens[entry_id] = token
    return tokens


class AnswerError(ValueError):
    """An answer the learner (or a tampered form) sent that cannot be accepted."""


def _is_text(value: Any) -> bool:
    return text_problem(value) is None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def text_problem(value: Any, max_length: int | None = None) -> str | None:
    """Why value is not acceptable bank text (a message for a Problem), or None if it is."""
    if value is None:
        return "is missing or empty"
    if not isinstance(value, str):
        return f"must be text, not {_kind(value)}"
    control = _CONTROL_RE.search(value)
    if control:
        return f"contains the control character U+{ord(control.group()):04X}"
    if not value.translate(_INVISIBLE_TABLE).strip():
        return "is missing or empty"
    if max_length is not None and len(value) > max_length:
        return f"is longer than {max_length} characters"
    return None


def _shown(value: Any) -> str:
    """A value for a message, quoted, short, and safe to build whatever its nesting."""
    return repr(value) if isinstance(value, str) and len(value) <= 60 else reprlib.repr(value)


def _check_entries(entries: Any, field: str, keys: tuple[str, ...], min_count: int) -> list[Problem]:
    """Common checks for a list of {id, text, ...} entries."""
    if not isinstance(entries, list) or len(entries) < min_count:
        return [(field, f"needs a list of at least {min_count} entries")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{field}[{i}]"
        if not isinstance(entry, dict):
            problems.append((where, "must be a mapping with id and text"))
            continue
        unknown = set(entry) - set(keys)
        if unknown:
            problems.append((where, f"unknown field(s): {', '.join(sorted(map(str, unknown)))}"))
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not ENTRY_ID_RE.fullmatch(entry_id):
            problems.append((f"{where}.id", "is missing or not lowercase letters, digits, dashes"))
        elif entry_id in seen:
            problems.append((f"{where}.id", f"duplicate id '{entry_id}'"))
        else:
            seen.add(entry_id)
        for key in ("text", "feedback"):
            if key in keys:
                message = text_problem(entry.get(key), ENTRY_TEXT_MAX[key])
                if message:
                    problems.append((f"{where}.{key}", message))
    return problems


class QuestionType(ABC):
    name: str = ""
    label: str = ""
    data_fields: tuple[str, ...] = ()
    shuffled: str = ""  # the data list whose order is shuffled per attempt
    tokenised: tuple[str, ...] = ()  # the data lists whose ids the browser only sees as tokens

    # --- authoring -----------------------------------------------------------------
    @abstractmethod
    def validate(self, raw: dict[str, Any]) -> list[Problem]:
        """Problems with the type-specific fields of a bank entry."""

    def data(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The answer data stored on a revision, from a validated bank entry."""
        return {key: raw[key] for key in self.data_fields}

    def export(self, data: dict[str, Any]) -> dict[str, Any]:
        return dict(data)

    # --- taking --------------------------------------------------------------------
    def layout(self, data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """What an attempt pins for this question: the served order of the shuffled entries,
        and a random token for every entry the browser refers to (see `token`)."""
        return {**self._shuffle(data, rng), "tokens": self._new_tokens(data)}

    def _shuffle(self, data: dict[str, Any], rng: random.Random) -> dict[str, list[str]]:
        ids = [entry["id"] for entry in data[self.shuffled]]
        rng.shuffle(ids)
        return {self.shuffled: ids}

    def _new_tokens(self, data: dict[str, Any]) -> dict[str, dict[str, str]]:
        return {kind: new_tokens([e["id"] for e in data[kind]]) for kind in self.tokenised}

    def _ordered(self, data: dict[str, Any], layout: dict[str, Any],
                 kind: str | None = None) -> list[dict[str, Any]]:
        """The entries of a list in served order (bank order where the layout has none)."""
        kind = kind or self.shuffled
        if kind not in layout:
            return list(data[kind])
        by_id = {entry["id"]: entry for entry in data[kind]}
        return [by_id[i] for i in layout[kind] if i in by_id]

    @staticmethod
    def token(layout: dict[str, Any], kind: str, entry_id: str) -> str:
        """The token the browser sees for a bank id. Layouts pinned before tokens existed
        have none: there the id is its own token."""
        return layout.get("tokens", {}).get(kind, {}).get(entry_id, entry_id)

    @staticmethod
    def untoken(layout: dict[str, Any], kind: str, data: dict[str, Any], value: Any) -> str:
        """The bank id behind a token the browser sent; AnswerError for anything else."""
        tokens = layout.get("tokens", {}).get(kind)
        if tokens is None:
            tokens = {e["id"]: e["id"] for e in data[kind]}
        for entry_id, token in tokens.items():
            if value == token:
                return entry_id
        raise AnswerError("That answer is not one of this question's options.")

    @abstractmethod
    def form_data(self, prefix: str, answer: Any, layout: dict[str, Any]) -> dict[str, list[str]]:
        """The field values (tokens, positions) that show a saved answer (bank ids) again:
        {field name: [values]}, as a browser would post them."""

    @abstractmethod
    def read_answer(self, prefix: str, formdata: Any, data: dict[str, Any],
                    layout: dict[str, Any]) -> Any:
        """The answer in bank ids from the posted fields (a MultiDict, e.g. request.form),
        None if unanswered; AnswerError if it cannot be right (an unknown token, a missing
        part). The one place a type parses what a browser sends."""

    @abstractmethod
    def take_view(self, data: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        """What the attempt page may show: texts in served order, each with its token (never
        the bank id), no correctness, no feedback."""

    # --- scoring and review ----------------------------------------------------------
    @abstractmethod
    def grade(self, data: dict[str, Any], answer: Any) -> float:
        ...

    @abstractmethod
    def review_view(self, data: dict[str, Any], layout: dict[str, Any], answer: Any) -> dict:
        ...


class _ChoiceType(QuestionType):
    data_fields = ("choices",)
    shuffled = "choices"
    tokenised = ("choices",)
    entry_keys = ("id", "text", "correct", "feedback")

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

    def _chosen(self, answer) -> set[str]:
        return {answer} if answer else set()

    def review_view(self, data, layout, answer):
        chosen = self._chosen(answer)
        return {
            "choices": [
                {**c, "chosen": c["id"] in chosen} for c in self._ordered(data, layout)
            ]
        }


class SingleChoice(_ChoiceType):
    name = "single"
    label = "Single choice"


class TrueFalse(_ChoiceType):
    name = "true_false"
    label = "True or false"

    def validate_key(self, choices):
        if sorted(c["id"] for c in choices) != ["false", "true"]:
            return [("choices", "a true/false question has exactly the choices 'true' and 'false'")]
        return super().validate_key(choices)

    def _shuffle(self, data, rng):
        # True first, then False: shuffling these would only confuse.
        return {"choices": ["true", "false"]}


class MultipleResponse(_ChoiceType):
    name = "multiple"
    label = "Select all that apply"

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


class Matching(QuestionType):
    name = "matching"
    label = "Matching"
    data_fields = ("options", "pairs")
    shuffled = "pairs"
    tokenised = ("options", "pairs")

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


class Ordering(QuestionType):
    name = "ordering"
    label = "Ordering"
    data_fields = ("steps",)
    shuffled = "steps"
    tokenised = ("steps",)

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


TYPES: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleResponse(), TrueFalse(), Matching(), Ordering())
}


def get_type(name: str) -> QuestionType:
    return TYPES[name]
