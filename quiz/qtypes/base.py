"""What every question type shares: the QuestionType base class, answer tokens, AnswerError
and the validation helpers for bank entries. One module per type beside this one; the
registry is in __init__.py."""

from __future__ import annotations

import random
import re
import reprlib
import secrets
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

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


# What every registered type provides; the last four are its edit part (the studio editor).
PARTS = ("name", "label", "data_fields", "take_template", "review_template", "example", "validate", "data",
         "layout", "take_view", "review_view", "form_data", "read_answer", "grade", "export",
         "edit_template", "edit_values", "read_edit", "blank_values", "answer_cells", "stat_options")

# How a stored answer (JSON, bank ids) splits into the cells item analysis counts
# (quiz/stats/analysis.py expands them in SQL with the databases' JSON table functions):
ANSWER_CELLS = (
    "value",      # the answer is one id (a JSON string): that id
    "elements",   # a JSON list of ids: each id
    "entries",    # a JSON object {a: b}: "a>b" for each entry
    "positions",  # a JSON list in order: "id@position" (1-based) for each element
)


class StatOption(NamedTuple):
    """One cell of a type's distractor analysis (quiz.stats.model.OptionStats).

    `group`: the cells one learner chooses between (a whole choice question; one matching
    item; one ordering step), so a distractor is compared with the key of its own group.
    `flag_unused`: whether nobody choosing it is worth a flag (a distractor that does not
    distract), not for cells that only exist as combinations (a step at a wrong position)."""

    key: str
    label: str
    correct: bool
    group: str = ""
    flag_unused: bool = False

# New entry ids look like the bank's: four lower-case letters and digits, random.
NEW_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
NEW_ID_LENGTH = 4
MAX_ROWS = 30  # rows one list of the editor may post: more is a tampered form


def new_entry_id(taken: set[str]) -> str:
    """A random four-character id not in `taken` (the ids already used in the question)."""
    while True:
        entry_id = "".join(secrets.choice(NEW_ID_ALPHABET) for _ in range(NEW_ID_LENGTH))
        if entry_id not in taken and entry_id not in ("true", "false"):
            return entry_id


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
    """One question type: its data keys, validation, layout and tokens, form parsing,
    grading, the views its templates show, and export. The parts every type provides are
    listed in PARTS (tests/test_qtypes_registry.py checks them)."""

    name: str = ""
    label: str = ""
    # Its templates, each defining one macro: `take(name, view, values)` for the attempt page,
    # `review(view)` for the review page (rendered by learn/attempt.html and learn/review.html).
    take_template: str = ""
    review_template: str = ""
    example: dict[str, Any] = {}  # the smallest valid data of this type (its data_fields)
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

    # --- editing (the studio editor) -------------------------------------------------
    # `edit_template` defines one macro, `edit(values, errors)`: the type's fields of the
    # editor form, from `edit_values` (or `blank_values`), with the errors by field path as
    # `validate` names them ("choices[1].text"). `read_edit` reads them back. Lists are edited
    # as rows (quiz/qtypes/rows.py): the lists and the keys each row edits are `edit_rows`.
    edit_template: str = ""
    edit_rows: dict[str, tuple[str, ...]] = {}
    min_rows: dict[str, int] = {}  # the rows a new question starts with

    def edit_values(self, data: dict[str, Any]) -> dict[str, Any]:
        """The editor's values from stored data (a revision's or `read_edit`'s)."""
        from .rows import row_from_entry
        return {kind: [row_from_entry(e, keys, i) for i, e in enumerate(data.get(kind) or [])]
                for kind, keys in self.edit_rows.items()}

    def blank_values(self, taken: set[str]) -> dict[str, Any]:
        """The values of a new question: `min_rows` empty rows per list, each with a fresh id
        (added to `taken`, the ids already used in the question)."""
        values = {}
        for kind in self.edit_rows:
            values[kind] = []
            for _ in range(self.min_rows.get(kind, 0)):
                self.add_row(values, kind, taken)
        return values

    def add_row(self, values: dict[str, Any], kind: str, taken: set[str]) -> dict[str, Any]:
        """Append an empty row with a fresh id to list `kind` of the values (the "Add" buttons)."""
        from .rows import blank_row
        entry_id = new_entry_id(taken)
        taken.add(entry_id)
        row = blank_row(entry_id, self.edit_rows[kind], len(values[kind]))
        values[kind].append(row)
        return row

    def read_edit(self, formdata: Any, known: set[str] | None = None
                  ) -> tuple[dict[str, Any], list[Problem]]:
        """The type's data, in the bank's format, from the posted editor form (a MultiDict),
        and the problems reading it (a tampered form: unknown ids, bad positions). `known`:
        the ids the form may name (None: any well-formed id). Never raises on bad input."""
        from .rows import read_rows
        problems: list[Problem] = []
        data = {kind: [entry for _, entry in read_rows(formdata, kind, keys, known, problems)]
                for kind, keys in self.edit_rows.items()}
        return data, problems

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

    # --- item analysis -------------------------------------------------------------
    answer_cells: str = ""  # one of ANSWER_CELLS: how a stored answer splits into cells

    @abstractmethod
    def stat_options(self, data: dict[str, Any]) -> list[StatOption]:
        """Every cell a learner can choose, in bank order, with its key as answer_cells
        spells it from a stored answer, and whether it is right."""

    # --- scoring and review ----------------------------------------------------------
    @abstractmethod
    def grade(self, data: dict[str, Any], answer: Any) -> float:
        ...

    @abstractmethod
    def review_view(self, data: dict[str, Any], layout: dict[str, Any], answer: Any) -> dict:
        ...
