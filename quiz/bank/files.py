"""Read a bank folder from disk and validate it into a Bank, or a list of Problems.

This is the one validator for bank content: the loader and anything that edits
questions go through `validate_question`. Whatever a file holds, the result is a list of
`file: item: field: message` Problems, never a traceback: keys given twice, nesting deeper
than MAX_DEPTH, characters YAML refuses, ids that do not match in full, lists or mappings
where text or an id belongs, control and zero-width-only text, and text over its limit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..question_types import TYPES, _shown, text_problem
from ..vocab import Difficulty, SetKind

ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # always with fullmatch: "abc\n" is no id
DIFFICULTIES = tuple(Difficulty)
# The longest text each field may hold (question_bank/README.md, "What the checker refuses"); choice,
# option, pair and step texts and feedback are limited in question_types.ENTRY_TEXT_MAX.
TITLE_MAX = 200  # the database column's size: longer titles are refused here, not by the database
DESCRIPTION_MAX = 1000
KEY_POINT_TEXT_MAX = 500
PROMPT_MAX = 2000
EXPLANATION_MAX = 3000
MAX_DEPTH = 20  # nesting levels a bank file may use; deeper input is refused, not recursed into
QUESTION_KEYS = {
    "id", "type", "difficulty", "source", "key_points", "scenario", "prompt", "explanation",
    "choices", "options", "pairs", "steps",
}
KEY_POINT_KEYS = {"id", "section", "text", "must_know"}
SET_KEYS = {
    "id", "title", "description", "kind", "topic", "count", "topics", "pass_mark",
    "include_must_know",
}


@dataclass(frozen=True)
class Problem:
    file: str
    item: str  # the question (or other entry) id, "-" for the file itself
    field: str
    message: str
    severity: str = "error"  # or "warning" (item-writing lint)

    def __str__(self) -> str:
        label = "" if self.severity == "error" else "warning: "
        return f"{self.file}: {self.item}: {self.field}: {label}{self.message}"


@dataclass
class Bank:
    sections: list[dict[str, Any]] = field(default_factory=list)
    key_points: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    sets: list[dict[str, Any]] = field(default_factory=list)
    # Each question dict is as in its file, plus "topic" and "_file".
    questions: list[dict[str, Any]] = field(default_factory=list)


class _DuplicateKeys(yaml.SafeLoader):
    """A SafeLoader that notes every key given twice in one mapping (even with equal values),
    and refuses nesting deeper than MAX_DEPTH instead of recursing into it."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any]] = []  # (0-based line, key)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nests deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *base` may be overridden on purpose
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in seen:
                        self.duplicates.append((key_node.start_mark.line, key))
                    seen.add(key)
                except TypeError:
                    pass  # an unhashable key: the base class reports it
        return super().construct_mapping(node, deep=deep)


def _item_at(root: Any, line: int) -> str:
    """The id of the list entry (question, set, key point...) whose text holds `line`, or "-"."""
    if not isinstance(root, MappingNode):
        return "-"
    for _, value in root.value:
        if not isinstance(value, SequenceNode):
            continue
        for entry in value.value:
            if isinstance(entry, MappingNode) and entry.start_mark.line <= line <= entry.end_mark.line:
                for key, val in entry.value:
                    if (isinstance(key, ScalarNode) and key.value == "id"
                            and isinstance(val, ScalarNode) and ID_RE.fullmatch(val.value)):
                        return val.value
    return "-"


class _Reader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def problem(self, file: str, item: str, fld: str, message: str) -> None:
        self.problems.append(Problem(file, item, fld, message))

    def load_yaml(self, rel: str) -> Any:
        path = self.root / rel
        if not path.is_file():
            self.problem(rel, "-", "file", "is missing")
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.problem(rel, "-", "file", "is not UTF-8 text")
            return None
        loader = None
        try:
            loader = _DuplicateKeys(text)  # the reader checks every character here
            root = loader.get_single_node()
            doc = loader.construct_document(root) if root is not None else None
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
            line = text.count("\n", 0, exc.position) + 1
            char = f" (U+{exc.character:04X})" if isinstance(exc.character, int) else ""
            self.problem(rel, "-", f"line {line}", f"is not valid YAML: {exc.reason}{char}")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "file"
            reason = getattr(exc, "problem", None) or "invalid YAML"
            self.problem(rel, "-", where, f"is not valid YAML: {reason}")
            return None
        except RecursionError:
            self.problem(rel, "-", "file", "is not valid YAML: nests too deeply to read")
            return None
        finally:
            if loader is not None:
                loader.dispose()
        for line, key in loader.duplicates:
            self.problem(rel, _item_at(root, line), f"line {line + 1}",
                         f"key {_shown(key)} is given twice")
        return doc

    def entries(self, rel: str, doc: Any, key: str) -> list[dict[str, Any]]:
        """The list under `key`, keeping only mapping entries with a valid, unique id."""
        if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
            if doc is not None or (self.root / rel).is_file():
                self.problem(rel, "-", key, f"needs a top-level list '{key}'")
            return []
        good, seen = [], set()
        for i, entry in enumerate(doc[key]):
            if not isinstance(entry, dict):
                self.problem(rel, f"#{i + 1}", key, "each entry must be a mapping")
                continue
            entry_id = entry.get("id")
            valid = isinstance(entry_id, str) and ID_RE.fullmatch(entry_id)
            label = entry_id if valid else _shown(entry_id) if isinstance(entry_id, str) else f"#{i + 1}"
            if not valid:
                self.problem(rel, label, "id", "is missing or not lowercase letters, digits, dashes")
            elif entry_id in seen:
                self.problem(rel, label, "id", "is used twice")
            else:
                seen.add(entry_id)
                good.append(entry)
        return good

    def report(self, rel: str, entry: dict, problems: list[tuple[str, str]]) -> None:
        """Note an entry's (field, message) problems under its file and id."""
        for fld, message in problems:
            self.problem(rel, entry["id"], fld, message)


def read_bank(root: str | Path) -> tuple[Bank, list[Problem]]:
    """Read and validate every bank file under root. The Bank is only usable with no problems."""
    reader = _Reader(Path(root))
    bank = Bank()
    if not reader.root.is_dir():
        reader.problem(str(root), "-", "path", "is not a folder")
        return bank, reader.problems

    doc = reader.load_yaml("key_points.yaml")
    bank.sections = reader.entries("key_points.yaml", doc, "sections")
    for section in bank.sections:
        reader.report("key_points.yaml", section, validate_section(section))
    section_ids = {s["id"] for s in bank.sections}
    bank.key_points = reader.entries("key_points.yaml", doc, "key_points")
    for kp in bank.key_points:
        reader.report("key_points.yaml", kp, validate_key_point(kp, section_ids))

    bank.topics = reader.entries("topics.yaml", reader.load_yaml("topics.yaml"), "topics")
    for topic in bank.topics:
        reader.report("topics.yaml", topic, validate_topic(topic))

    _read_questions(reader, bank, section_ids)
    # Set sizes are only checked against a clean question list, so one broken question
    # gives one error, not a cascade of "set has no questions".
    topic_sizes = Counter(q["topic"] for q in bank.questions) if not reader.problems else None
    bank.sets = reader.entries("sets.yaml", reader.load_yaml("sets.yaml"), "sets")
    topic_ids = [t["id"] for t in bank.topics]
    for qset in bank.sets:
        reader.report("sets.yaml", qset, validate_set(qset, topic_ids, topic_sizes))
    return bank, reader.problems


def _read_questions(reader: _Reader, bank: Bank, section_ids: set[str]) -> None:
    folder = reader.root / "questions"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        reader.problem("questions/", "-", "file", "holds no question files (*.yaml)")
    topic_ids = {t["id"] for t in bank.topics}
    kp_ids = {k["id"] for k in bank.key_points}
    seen: dict[str, str] = {}
    for path in files:
        rel = f"questions/{path.name}"
        doc = reader.load_yaml(rel)
        if doc is None:
            continue
        topic = doc.get("topic") if isinstance(doc, dict) else None
        if not isinstance(topic, str) or topic not in topic_ids:
            reader.problem(rel, "-", "topic", f"{_shown(topic)} is not a topic id in topics.yaml")
            topic = None
        for question in reader.entries(rel, doc, "questions"):
            if question["id"] in seen:
                reader.problem(rel, question["id"], "id", f"is also used in {seen[question['id']]}")
                continue
            seen[question["id"]] = rel
            problems = validate_question(question, section_ids, kp_ids)
            for fld, message in problems:
                reader.problem(rel, question["id"], fld, message)
            if not problems and topic is not None:
                bank.questions.append({**question, "topic": topic, "_file": rel})


def validate_question(
    question: dict[str, Any], section_ids: set[str], key_point_ids: set[str]
) -> list[tuple[str, str]]:
    """Every problem with one question entry, as (field, message) pairs."""
    problems: list[tuple[str, str]] = []
    unknown = set(question) - QUESTION_KEYS
    if unknown:
        problems.append(("-", f"unknown field(s): {', '.join(sorted(map(str, unknown)))}"))
    qtype = question.get("type")
    if not isinstance(qtype, str) or qtype not in TYPES:
        problems.append(("type", f"{_shown(qtype)} is not one of: {', '.join(TYPES)}"))
        qtype = None
    if not isinstance(question.get("difficulty"), str) or question["difficulty"] not in DIFFICULTIES:
        problems.append(("difficulty", f"must be one of: {', '.join(DIFFICULTIES)}"))
    source = question.get("source")
    if not isinstance(source, str) or source not in section_ids:
        problems.append(("source", f"{_shown(source)} is not an article section id"))
    kps = question.get("key_points")
    if not isinstance(kps, list) or not kps:
        problems.append(("key_points", "needs a list of at least one key point id"))
    else:
        for kp in kps:
            if not isinstance(kp, str) or kp not in key_point_ids:
                problems.append(("key_points", f"{_shown(kp)} is not a key point id"))
        named = [kp for kp in kps if isinstance(kp, str)]
        if len(set(named)) != len(named):
            problems.append(("key_points", "lists a key point twice"))
    for fld, limit in (("prompt", PROMPT_MAX), ("explanation", EXPLANATION_MAX)):
        message = text_problem(question.get(fld), limit)
        if message:
            problems.append((fld, message))
    if "scenario" in question and not isinstance(question["scenario"], bool):
        problems.append(("scenario", "must be true or false"))
    if qtype is not None:
        problems += TYPES[qtype].validate(question)
        stray = {"choices", "options", "pairs", "steps"} - set(TYPES[qtype].data_fields)
        stray &= set(question)
        if stray:
            problems.append(("-", f"field(s) {', '.join(sorted(stray))} do not apply to {qtype}"))
    return problems


_FEEDBACK_FIELD = re.compile(r"(choices|pairs|steps)\[\d+\]\.feedback")
_EMPTY = "is missing or empty"


def validate_draft(
    question: dict[str, Any], section_ids: set[str], key_point_ids: set[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """`validate_question` for a draft imported from another tool (quiz/exchange/bank.py):
    (problems, incomplete). A draft may still lack what only an instructor can give it: its
    source section (None), key points (an empty list), explanation and per-answer feedback
    (empty text). Those problems are `incomplete`: the draft is saved and publishing refuses
    it until they are filled in (quiz.bank.revisions.publish_blockers). Every other problem
    is in `problems`, as for any bank question."""
    problems, incomplete = [], []
    for fld, message in validate_question(question, section_ids, key_point_ids):
        missing = (
            (fld == "source" and question.get("source") is None)
            or (fld == "key_points" and question.get("key_points") == [])
            or (message == _EMPTY and (fld == "explanation" or _FEEDBACK_FIELD.fullmatch(fld))
                and _is_blank_at(question, fld))
        )
        (incomplete if missing else problems).append((fld, message))
    return problems, incomplete


def _is_blank_at(question: dict[str, Any], fld: str) -> bool:
    """Whether the text at a field path ("explanation", "choices[2].feedback") is "" (not
    merely invalid)."""
    if fld == "explanation":
        return question.get("explanation") == ""
    head, _, rest = fld.partition("[")
    index = int(rest.partition("]")[0])
    entries = question.get(head)
    return (isinstance(entries, list) and index < len(entries)
            and isinstance(entries[index], dict) and entries[index].get("feedback") == "")


# --- one entry of key_points.yaml, topics.yaml or sets.yaml ---------------------------------
# Each returns the entry's problems as (field, message) pairs; the bank reader adds the file
# and the id, the studio shows them next to its form's fields. An entry is a mapping as the
# file holds it (its id is checked by the reader, or made by the studio).

def _text(entry: dict[str, Any], fld: str, max_length: int,
          required: bool = True) -> list[tuple[str, str]]:
    value = entry.get(fld)
    if value is None and not required:
        return []
    message = text_problem(value, max_length)
    return [(fld, message)] if message else []


def _boolean(entry: dict[str, Any], fld: str) -> list[tuple[str, str]]:
    if fld in entry and not isinstance(entry[fld], bool):
        return [(fld, "must be true or false")]
    return []


def _unknown(entry: dict[str, Any], keys: set[str]) -> list[tuple[str, str]]:
    unknown = set(entry) - keys
    return [("-", f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")] if unknown else []


def validate_section(section: dict[str, Any]) -> list[tuple[str, str]]:
    """An article section: {id, title}."""
    return _text(section, "title", TITLE_MAX)


def validate_key_point(kp: dict[str, Any], section_ids: Collection[str]) -> list[tuple[str, str]]:
    """A key point: {id, section, text, must_know?}; `section_ids`: the sections that exist."""
    problems = _text(kp, "text", KEY_POINT_TEXT_MAX) + _boolean(kp, "must_know")
    if "safety_critical" in kp:
        problems.append(("safety_critical",
                         "is now called must_know (the article names no safety rules)"))
    else:
        problems += _unknown(kp, KEY_POINT_KEYS)
    if not isinstance(kp.get("section"), str) or kp["section"] not in section_ids:
        problems.append(("section", f"{_shown(kp.get('section'))} is not a section id"))
    return problems


def validate_topic(topic: dict[str, Any]) -> list[tuple[str, str]]:
    """A topic: {id, title, description?}."""
    return _text(topic, "title", TITLE_MAX) + _text(topic, "description", DESCRIPTION_MAX,
                                                   required=False)


def validate_set(qset: dict[str, Any], topic_ids: Collection[str],
                 topic_sizes: Mapping[str, int] | None) -> list[tuple[str, str]]:
    """A set: {id, title, description?, kind, topic | count + topics, pass_mark?,
    include_must_know?}. `topic_sizes`: the number of questions of each topic, to check that
    the set can be served; None skips those checks (when the questions have errors)."""
    problems = _unknown(qset, SET_KEYS)
    problems += _text(qset, "title", TITLE_MAX)
    problems += _text(qset, "description", DESCRIPTION_MAX, required=False)
    problems += _boolean(qset, "include_must_know")
    pass_mark = qset.get("pass_mark")
    if pass_mark is not None and (
        not isinstance(pass_mark, int) or isinstance(pass_mark, bool) or not 0 < pass_mark <= 100
    ):
        problems.append(("pass_mark", "must be a whole percentage from 1 to 100"))
    kind = qset.get("kind")
    if kind == SetKind.TOPIC:
        if not isinstance(qset.get("topic"), str) or qset["topic"] not in topic_ids:
            problems.append(("topic", f"{_shown(qset.get('topic'))} is not a topic id"))
        elif topic_sizes is not None and not topic_sizes.get(qset["topic"]):
            problems.append(("topic", "has no questions"))
    elif kind == SetKind.RANDOM:
        count, topics = qset.get("count"), qset.get("topics", "all")
        if topics != "all" and not (
            isinstance(topics, list) and topics
            and all(isinstance(t, str) and t in topic_ids for t in topics)
        ):
            problems.append(("topics", "must be 'all' or a list of topic ids"))
            return problems
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            problems.append(("count", "must be a positive whole number"))
            return problems
        if topic_sizes is not None:
            pool = sum(n for t, n in topic_sizes.items() if topics == "all" or t in topics)
            if count > pool:
                problems.append(("count", f"asks for {count} questions but only {pool} exist"))
    else:
        problems.append(("kind", "must be 'topic' or 'random'"))
    return problems
