"""Read a bank folder from disk and validate it into a Bank, or a list of Problems.

This is the one validator for bank content: the loader and anything that edits
questions go through `validate_question`. Whatever a file holds, the result is a list of
`file: item: field: message` Problems, never a traceback: keys given twice, nesting deeper
than MAX_DEPTH, characters YAML refuses, ids that do not match in full, lists or mappings
where text or an id belongs, control and zero-width-only text, and text over its limit.
"""

from __future__ import annotations

import re
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

    def text(self, rel: str, entry: dict, fld: str, max_length: int, required: bool = True) -> None:
        value = entry.get(fld)
        if value is None and not required:
            return
        message = text_problem(value, max_length)
        if message:
            self.problem(rel, entry["id"], fld, message)

    def boolean(self, rel: str, entry: dict, fld: str) -> None:
        if fld in entry and not isinstance(entry[fld], bool):
            self.problem(rel, entry["id"], fld, "must be true or false")


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
        reader.text("key_points.yaml", section, "title", TITLE_MAX)
    section_ids = {s["id"] for s in bank.sections}
    bank.key_points = reader.entries("key_points.yaml", doc, "key_points")
    for kp in bank.key_points:
        reader.text("key_points.yaml", kp, "text", KEY_POINT_TEXT_MAX)
        reader.boolean("key_points.yaml", kp, "must_know")
        if "safety_critical" in kp:
            reader.problem("key_points.yaml", kp["id"], "safety_critical",
                           "is now called must_know (the article names no safety rules)")
        elif set(kp) - KEY_POINT_KEYS:
            unknown = ", ".join(sorted(map(str, set(kp) - KEY_POINT_KEYS)))
            reader.problem("key_points.yaml", kp["id"], "-", f"unknown field(s): {unknown}")
        if not isinstance(kp.get("section"), str) or kp["section"] not in section_ids:
            reader.problem("key_points.yaml", kp["id"], "section",
                           f"{_shown(kp.get('section'))} is not a section id")

    bank.topics = reader.entries("topics.yaml", reader.load_yaml("topics.yaml"), "topics")
    for topic in bank.topics:
        reader.text("topics.yaml", topic, "title", TITLE_MAX)
        reader.text("topics.yaml", topic, "description", DESCRIPTION_MAX, required=False)

    _read_questions(reader, bank, section_ids)
    # Set sizes are only checked against a clean question list, so one broken question
    # gives one error, not a cascade of "set has no questions".
    questions_ok = not reader.problems
    bank.sets = reader.entries("sets.yaml", reader.load_yaml("sets.yaml"), "sets")
    for qset in bank.sets:
        _validate_set(reader, bank, qset, questions_ok)
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


def _validate_set(reader: _Reader, bank: Bank, qset: dict[str, Any], questions_ok: bool) -> None:
    rel, sid = "sets.yaml", qset["id"]
    unknown = set(qset) - SET_KEYS
    if unknown:
        reader.problem(rel, sid, "-", f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    reader.text(rel, qset, "title", TITLE_MAX)
    reader.text(rel, qset, "description", DESCRIPTION_MAX, required=False)
    reader.boolean(rel, qset, "include_must_know")
    topic_ids = [t["id"] for t in bank.topics]
    pass_mark = qset.get("pass_mark")
    if pass_mark is not None and (
        not isinstance(pass_mark, int) or isinstance(pass_mark, bool) or not 0 < pass_mark <= 100
    ):
        reader.problem(rel, sid, "pass_mark", "must be a whole percentage from 1 to 100")
    kind = qset.get("kind")
    if kind == SetKind.TOPIC:
        if not isinstance(qset.get("topic"), str) or qset["topic"] not in topic_ids:
            reader.problem(rel, sid, "topic", f"{_shown(qset.get('topic'))} is not a topic id")
        elif questions_ok and not any(q["topic"] == qset["topic"] for q in bank.questions):
            reader.problem(rel, sid, "topic", "has no questions")
    elif kind == SetKind.RANDOM:
        count, topics = qset.get("count"), qset.get("topics", "all")
        if topics != "all" and not (
            isinstance(topics, list) and topics
            and all(isinstance(t, str) and t in topic_ids for t in topics)
        ):
            reader.problem(rel, sid, "topics", "must be 'all' or a list of topic ids")
            return
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            reader.problem(rel, sid, "count", "must be a positive whole number")
            return
        pool = [q for q in bank.questions if topics == "all" or q["topic"] in topics]
        if questions_ok and count > len(pool):
            reader.problem(rel, sid, "count", f"asks for {count} questions but only {len(pool)} exist")
    else:
        reader.problem(rel, sid, "kind", "must be 'topic' or 'random'")
