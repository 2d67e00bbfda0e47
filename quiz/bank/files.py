"""Read a bank folder from disk and validate it into a Bank, or a list of Problems.

This is the one validator for bank content: the loader and anything that edits
questions go through `validate_question`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..question_types import TYPES

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
DIFFICULTIES = ("easy", "medium", "hard")
TITLE_MAX = 200  # the database column's size: longer titles are refused here, not by the database
QUESTION_KEYS = {
    "id", "type", "difficulty", "source", "key_points", "scenario", "prompt", "explanation",
    "choices", "options", "pairs", "steps",
}
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
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            self.problem(rel, "-", "file", "is not UTF-8 text")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "file"
            reason = getattr(exc, "problem", None) or "invalid YAML"
            self.problem(rel, "-", where, f"is not valid YAML: {reason}")
        return None

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
            label = entry_id if isinstance(entry_id, str) else f"#{i + 1}"
            if not isinstance(entry_id, str) or not ID_RE.match(entry_id):
                self.problem(rel, label, "id", "is missing or not lowercase letters, digits, dashes")
            elif entry_id in seen:
                self.problem(rel, label, "id", "is used twice")
            else:
                seen.add(entry_id)
                good.append(entry)
        return good

    def text(self, rel: str, entry: dict, fld: str, required: bool = True,
             max_length: int | None = None) -> None:
        value = entry.get(fld)
        if value is None and not required:
            return
        if not isinstance(value, str) or not value.strip():
            self.problem(rel, entry["id"], fld, "is missing or empty")
        elif max_length and len(value) > max_length:
            self.problem(rel, entry["id"], fld, f"is longer than {max_length} characters")

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
        reader.text("key_points.yaml", section, "title", max_length=TITLE_MAX)
    section_ids = {s["id"] for s in bank.sections}
    bank.key_points = reader.entries("key_points.yaml", doc, "key_points")
    for kp in bank.key_points:
        reader.text("key_points.yaml", kp, "text")
        reader.boolean("key_points.yaml", kp, "must_know")
        if "safety_critical" in kp:
            reader.problem("key_points.yaml", kp["id"], "safety_critical",
                           "is now called must_know (the article names no safety rules)")
        if kp.get("section") not in section_ids:
            reader.problem("key_points.yaml", kp["id"], "section",
                           f"'{kp.get('section')}' is not a section id")

    bank.topics = reader.entries("topics.yaml", reader.load_yaml("topics.yaml"), "topics")
    for topic in bank.topics:
        reader.text("topics.yaml", topic, "title", max_length=TITLE_MAX)
        reader.text("topics.yaml", topic, "description", required=False)

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
        if topic not in topic_ids:
            reader.problem(rel, "-", "topic", f"'{topic}' is not a topic id in topics.yaml")
        for question in reader.entries(rel, doc, "questions"):
            if question["id"] in seen:
                reader.problem(rel, question["id"], "id", f"is also used in {seen[question['id']]}")
                continue
            seen[question["id"]] = rel
            problems = validate_question(question, section_ids, kp_ids)
            for fld, message in problems:
                reader.problem(rel, question["id"], fld, message)
            if not problems and topic in topic_ids:
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
    if qtype not in TYPES:
        problems.append(("type", f"'{qtype}' is not one of: {', '.join(TYPES)}"))
    if question.get("difficulty") not in DIFFICULTIES:
        problems.append(("difficulty", f"must be one of: {', '.join(DIFFICULTIES)}"))
    if question.get("source") not in section_ids:
        problems.append(("source", f"'{question.get('source')}' is not an article section id"))
    kps = question.get("key_points")
    if not isinstance(kps, list) or not kps:
        problems.append(("key_points", "needs a list of at least one key point id"))
    else:
        for kp in kps:
            if kp not in key_point_ids:
                problems.append(("key_points", f"'{kp}' is not a key point id"))
        if len(set(map(str, kps))) != len(kps):
            problems.append(("key_points", "lists a key point twice"))
    for fld in ("prompt", "explanation"):
        if not isinstance(question.get(fld), str) or not question[fld].strip():
            problems.append((fld, "is missing or empty"))
    if "scenario" in question and not isinstance(question["scenario"], bool):
        problems.append(("scenario", "must be true or false"))
    if qtype in TYPES:
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
    reader.text(rel, qset, "title", max_length=TITLE_MAX)
    reader.text(rel, qset, "description", required=False)
    reader.boolean(rel, qset, "include_must_know")
    topic_ids = [t["id"] for t in bank.topics]
    pass_mark = qset.get("pass_mark")
    if pass_mark is not None and (
        not isinstance(pass_mark, int) or isinstance(pass_mark, bool) or not 0 < pass_mark <= 100
    ):
        reader.problem(rel, sid, "pass_mark", "must be a whole percentage from 1 to 100")
    kind = qset.get("kind")
    if kind == "topic":
        if qset.get("topic") not in topic_ids:
            reader.problem(rel, sid, "topic", f"'{qset.get('topic')}' is not a topic id")
        elif questions_ok and not any(q["topic"] == qset["topic"] for q in bank.questions):
            reader.problem(rel, sid, "topic", "has no questions")
    elif kind == "random":
        count, topics = qset.get("count"), qset.get("topics", "all")
        if topics != "all" and not (
            isinstance(topics, list) and topics and all(t in topic_ids for t in topics)
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
