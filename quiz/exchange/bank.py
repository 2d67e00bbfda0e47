"""The bank <-> ExchangeQuestions (quiz/exchange/model.py): what Moodle XML and GIFT files
hold, mapped to and from questions, topics, sections and key points (docs/exchange.md).

Export (`to_exchange`): the published questions at their current revision, what learners
are served, as `bank export --format json|yaml` writes them (with `include_drafts`, the
latest revision of every question not retired as well). Category = [topic title]; the
name = the question id; fractions chosen so Moodle scores each answer as this app does
(single and true/false: 1 / 0; select-all-that-apply: +1/k per correct choice, -1/k per
wrong one, which Moodle floors at 0 as quiz/grading.py does).

Import (`import_questions`): one transaction, all or nothing. Every question is mapped and
validated first (the bank's validator, quiz/bank/files.py validate_draft) and nothing is
written unless every question passes, no unsupported question is present (or
`skip_unsupported`), and it is no dry run. Then topics are created and every question
arrives as a DRAFT (never served) through quiz.bank.revisions.create_revision, origin IMPORT,
origin_ref the file's name. Domain code: flushes only, the caller commits (or rolls back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import joinedload

from ..bank import entities, revisions
from ..bank.files import ID_RE, validate_draft, validate_topic
from ..bank.loader import revision_content
from ..extensions import db
from ..models import KeyPoint, Question, QuestionRevision, Section, Topic, User
from ..vocab import Difficulty, QuestionStatus, QuestionTypeName, RevisionOrigin
from .model import ExchangeQuestion, XChoice, XPair

DEFAULT_TOPIC_TITLE = "Imported questions"  # for questions whose file names no category
DEFAULT_DIFFICULTY = Difficulty.MEDIUM.value  # neither format has a difficulty of its own
NAME_SHOWN = 80  # characters of a question's name in a report line
TOLERANCE = 0.00001  # Moodle matches a weight to its grade list within this
FULL = 1 - TOLERANCE  # "fully right" (Moodle stores 1.0000000)


# --- export -----------------------------------------------------------------------------------

def _revisions_to_export(include_drafts: bool) -> list[tuple[Question, QuestionRevision]]:
    """(question, revision) in bank order: current revisions of published questions, and with
    `include_drafts` the latest revision of every other question not retired. Three
    statements whatever the bank's size."""
    query = (db.select(Question).options(
        joinedload(Question.topic),
        joinedload(Question.current_revision).selectinload(QuestionRevision.key_points),
        joinedload(Question.latest_revision).selectinload(QuestionRevision.key_points))
        .order_by(Question.position, Question.id))
    out = []
    for q in db.session.scalars(query).unique():
        if q.status == QuestionStatus.PUBLISHED and q.current_revision is not None:
            out.append((q, q.current_revision))
        elif include_drafts and q.status == QuestionStatus.DRAFT and q.latest_revision is not None:
            out.append((q, q.latest_revision))
    return out


def to_exchange(*, include_drafts: bool = False) -> list[ExchangeQuestion]:
    """The bank's questions as ExchangeQuestions (see the module's docstring)."""
    return [revision_to_exchange(q, rev) for q, rev in _revisions_to_export(include_drafts)]


def revision_to_exchange(question: Question, rev: QuestionRevision) -> ExchangeQuestion:
    data = rev.data or {}
    x = ExchangeQuestion(
        name=question.id, qtype=rev.qtype, supported=True, prompt=rev.prompt,
        explanation=rev.explanation or "", category=[question.topic.title],
        bank_id=question.id, difficulty=rev.difficulty, source_id=rev.source_id,
        key_point_ids=[kp.id for kp in rev.key_points])
    if rev.qtype in (QuestionTypeName.SINGLE, QuestionTypeName.TRUE_FALSE):
        x.choices = [XChoice(c["text"], 1.0 if c["correct"] else 0.0, c.get("feedback", ""))
                     for c in data["choices"]]
    elif rev.qtype == QuestionTypeName.MULTIPLE:
        k = sum(1 for c in data["choices"] if c["correct"])
        x.choices = [XChoice(c["text"], (1.0 if c["correct"] else -1.0) / k, c.get("feedback", ""))
                     for c in data["choices"]]
    elif rev.qtype == QuestionTypeName.MATCHING:
        options = {o["id"]: o["text"] for o in data["options"]}
        used = {p["match"] for p in data["pairs"]}
        x.pairs = [XPair(p["text"], options[p["match"]], p.get("feedback", ""))
                   for p in data["pairs"]]
        x.extra_options = [o["text"] for o in data["options"] if o["id"] not in used]
    elif rev.qtype == QuestionTypeName.ORDERING:
        x.steps = [s["text"] for s in data["steps"]]
        x.step_feedback = [s.get("feedback", "") for s in data["steps"]]
    return x


# --- import: the report -----------------------------------------------------------------------

@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused import, would do)."""

    filename: str
    dry_run: bool = False
    created: list[tuple[str, str]] = field(default_factory=list)         # (question id, name)
    topics_created: list[tuple[str, str]] = field(default_factory=list)  # (topic id, title)
    topics_used: list[tuple[str, str]] = field(default_factory=list)     # existing (id, title)
    skipped: list[tuple[str, str]] = field(default_factory=list)         # unsupported (name, type)
    warnings: list[tuple[str, str]] = field(default_factory=list)        # (name, message)
    errors: list[tuple[str, str]] = field(default_factory=list)          # (name, message)
    to_map: int = 0  # drafts that still need a source, key points, explanation or feedback
    details: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (type, topic title)

    @property
    def refused(self) -> bool:
        return bool(self.errors)

    @property
    def written(self) -> bool:
        return not self.refused and not self.dry_run

    def summary(self) -> str:
        if self.refused:
            return (f"Refused, nothing imported: {len(self.errors)} error(s) in {self.filename}.")
        verb = "Dry run, nothing written: would import" if self.dry_run else "Imported"
        parts = [f"{verb} {len(self.created)} question(s) as drafts from {self.filename}",
                 f"{len(self.topics_created)} new topic(s)",
                 f"{len(self.skipped)} unsupported skipped", f"{len(self.warnings)} warning(s)"]
        tail = (f" {self.to_map} draft(s) need a source section, key points or feedback before "
                "they can be published." if self.to_map else "")
        return "; ".join(parts) + "." + tail

    def lines(self) -> list[str]:
        """One line per error, skip, warning, new topic and question."""
        return ([f"error: {n}: {m}" for n, m in self.errors]
                + [f"skipped: {n} ({t}): this app has no such question type" for n, t in self.skipped]
                + [f"warning: {n}: {m}" for n, m in self.warnings]
                + [f"new topic: {t} ({i})" for i, t in self.topics_created]
                + [f"{'would create' if self.dry_run or self.refused else 'created'}: {i} ({n})"
                   for i, n in self.created])


def _shown_name(x: ExchangeQuestion, index: int) -> str:
    name = " ".join((x.name or "").split())
    if not name:
        return f"question {index + 1} (no name)"
    return name if len(name) <= NAME_SHOWN else name[:NAME_SHOWN - 1] + "…"


# --- import: mapping one question -------------------------------------------------------------

def _entry_id(i: int, prefix: str = "") -> str:
    """Choice ids as the bank writes them: a, b, c ... z, then x27, x28 ..."""
    if not prefix:
        return chr(ord("a") + i) if i < 26 else f"x{i + 1}"
    return f"{prefix}{i + 1}"


_TRUE = {"true", "t", "yes", "vrai", "wahr"}
_FALSE = {"false", "f", "no", "faux", "falsch"}


def _choice_data(x: ExchangeQuestion) -> tuple[dict[str, Any], list[str]]:
    """The answer data of a choice type, and any problem that makes the question
    unimportable."""
    if x.qtype == QuestionTypeName.TRUE_FALSE:
        choices, problems = {}, []
        for c in x.choices:
            word = " ".join(c.text.split()).lower().strip(".")
            key = "true" if word in _TRUE else "false" if word in _FALSE else None
            if key is None or key in choices:
                problems.append(f"true/false answer {c.text!r} is not one true and one false")
                continue
            choices[key] = {"id": key, "text": key.title(), "correct": c.fraction >= FULL,
                            "feedback": c.feedback.strip()}
        if problems:
            return {}, problems
        return {"choices": [choices[k] for k in ("true", "false") if k in choices]}, []
    # The readers say where the file's weights differ from what this app scores
    # (ExchangeQuestion.warnings); the rule here is theirs (moodle_xml.is_correct).
    if x.qtype == QuestionTypeName.SINGLE:
        correct = [c.fraction >= FULL for c in x.choices]
    else:
        correct = [c.fraction > TOLERANCE for c in x.choices]
    return {"choices": [{"id": _entry_id(i), "text": c.text.strip(), "correct": ok,
                         "feedback": c.feedback.strip()}
                        for i, (c, ok) in enumerate(zip(x.choices, correct, strict=True))]}, []


def _data(x: ExchangeQuestion) -> tuple[dict[str, Any], list[str]]:
    if x.qtype in (QuestionTypeName.SINGLE, QuestionTypeName.MULTIPLE, QuestionTypeName.TRUE_FALSE):
        return _choice_data(x)
    if x.qtype == QuestionTypeName.MATCHING:
        option_ids: dict[str, str] = {}
        for text in [p.right.strip() for p in x.pairs] + [t.strip() for t in x.extra_options]:
            if text not in option_ids:
                option_ids[text] = _entry_id(len(option_ids), "o")
        return {"options": [{"id": i, "text": t} for t, i in option_ids.items()],
                "pairs": [{"id": _entry_id(i, "p"), "text": p.left.strip(),
                           "match": option_ids[p.right.strip()], "feedback": p.feedback.strip()}
                          for i, p in enumerate(x.pairs)]}, []
    if x.qtype == QuestionTypeName.ORDERING:
        feedback = list(x.step_feedback) + [""] * (len(x.steps) - len(x.step_feedback))
        return {"steps": [{"id": _entry_id(i, "s"), "text": s.strip(), "feedback": f.strip()}
                          for i, (s, f) in enumerate(zip(x.steps, feedback, strict=False))]}, []
    return {}, [f"type {x.qtype!r} is not a question type of this app"]


@dataclass
class _Planned:
    name: str
    question_id: str
    topic_key: str  # an existing topic id, or "new:<title>"
    content: dict[str, Any]
    incomplete: bool


class _Bank:
    """What the mapping checks against: one statement each for sections, key points, topics
    and question ids."""

    def __init__(self) -> None:
        self.sections = set(db.session.scalars(db.select(Section.id)))
        self.key_points = set(db.session.scalars(db.select(KeyPoint.id)))
        self.topics = list(db.session.execute(
            db.select(Topic.id, Topic.title).order_by(Topic.position, Topic.id)))
        self.question_ids = set(db.session.scalars(db.select(Question.id)))

    def find_topic(self, text: str) -> str | None:
        """An existing topic whose id is `text`, else the first whose title is `text`
        (ignoring case and runs of spaces)."""
        wanted = " ".join(text.split())
        for tid, _ in self.topics:
            if tid == wanted:
                return tid
        for tid, title in self.topics:
            if " ".join(title.split()).casefold() == wanted.casefold():
                return tid
        return None


def _free_id(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _question_id(x: ExchangeQuestion, taken: set[str], warn: list[str]) -> str:
    if x.bank_id and ID_RE.fullmatch(x.bank_id):
        if x.bank_id not in taken:
            return x.bank_id
        base = x.bank_id
        chosen = _free_id(base[:entities.ID_MAX - 4], taken)
        warn.append(f"id {x.bank_id} is taken in this bank: imported as {chosen}")
        return chosen
    base = entities.slug(x.name or "") or entities.slug(x.prompt or "") or "question"
    return _free_id(base, taken)


# --- import -----------------------------------------------------------------------------------

def import_questions(questions: list[ExchangeQuestion], *, filename: str,
                     topic_id: str | None = None, skip_unsupported: bool = False,
                     dry_run: bool = False, author: User | None = None) -> ImportReport:
    """Import a file's questions as drafts, all or nothing (see the module's docstring).

    `topic_id`: an existing topic (id or title) for every question, instead of their
    categories. A category's last element names an existing topic (id or title) or a new
    one (created with that title, checked by the topic validator); no category: the topic
    "Imported questions". The report lists what was (or would be) created, skipped, warned
    and refused; when it has errors nothing was written. Flushes only."""
    report = ImportReport(filename=filename, dry_run=dry_run)
    bank = _Bank()
    forced = None
    if topic_id is not None:
        forced = bank.find_topic(topic_id)
        if forced is None:
            report.errors.append(("--topic", f"there is no topic {topic_id!r} (give an id or title)"))
    taken = set(bank.question_ids)
    new_topics: dict[str, str] = {}  # casefolded title -> title, in order of first use
    planned: list[_Planned] = []
    for index, x in enumerate(questions):
        name = _shown_name(x, index)
        if not x.supported or x.qtype not in {t.value for t in QuestionTypeName}:
            # The reader's reason, where it is more than "no such type" (a single-answer
            # question with two right answers is Moodle's, not ours).
            why = [w for w in x.warnings if not w.endswith("this app has no such question type")]
            if skip_unsupported:
                report.skipped.append((name, x.qtype))
                report.warnings += [(name, w) for w in why]
            else:
                reason = f" ({'; '.join(why)})" if why else ""
                report.errors.append((name, f"type {x.qtype} is not supported here{reason}: nothing "
                                            "is imported (skip such questions to import the rest)"))
            continue
        warn = list(x.warnings)
        data, problems = _data(x)
        for problem in problems:
            report.errors.append((name, problem))
        if problems:
            continue
        source = x.source_id if x.source_id in bank.sections else None
        if x.source_id and source is None:
            warn.append(f"source {x.source_id} is not a section of this bank: choose one before "
                        "publishing")
        kps = [k for k in dict.fromkeys(x.key_point_ids) if k in bank.key_points]
        unknown = [k for k in x.key_point_ids if k not in bank.key_points]
        if unknown:
            warn.append(f"key point(s) {', '.join(unknown)} are not in this bank: choose key "
                        "points before publishing")
        difficulty = x.difficulty if x.difficulty in {d.value for d in Difficulty} else DEFAULT_DIFFICULTY
        qid = _question_id(x, taken, warn)
        entry = {"id": qid, "type": x.qtype, "difficulty": difficulty, "source": source,
                 "key_points": kps, "prompt": (x.prompt or "").strip(),
                 "explanation": (x.explanation or "").strip(), **data}
        errors, incomplete = validate_draft(entry, bank.sections, bank.key_points)
        for fld, message in errors:
            report.errors.append((name, f"{fld}: {message}"))
        report.warnings += [(name, w) for w in warn]
        if errors:
            continue
        taken.add(qid)
        if forced is not None:
            topic_key = forced
        else:
            named = [c for c in x.category if c.strip()]
            title = " ".join((named[-1] if named else DEFAULT_TOPIC_TITLE).split())
            topic_key = bank.find_topic(title) or f"new:{title}"
            if topic_key.startswith("new:"):
                problems = validate_topic({"id": "new", "title": title})
                if problems:
                    report.errors += [(name, f"category {title!r}: topic {f} {m}") for f, m in problems]
                    continue
                new_topics.setdefault(title.casefold(), title)
                topic_key = f"new:{new_topics[title.casefold()]}"
        planned.append(_Planned(name, qid, topic_key, _content(entry), bool(incomplete)))
        report.created.append((qid, name))
    report.to_map = sum(p.incomplete for p in planned)
    titles = {tid: title for tid, title in bank.topics}
    report.details = {p.question_id: (p.content["type"], titles.get(p.topic_key, p.topic_key[4:]))
                      for p in planned}
    used = dict.fromkeys(p.topic_key for p in planned if not p.topic_key.startswith("new:"))
    report.topics_used = [(tid, titles[tid]) for tid in used]
    topic_taken = {tid for tid, _ in bank.topics}
    for title in new_topics.values():  # the ids entities.create_topic will choose
        tid = _free_id(entities.slug(title) or entities.FALLBACK_SLUG[Topic], topic_taken)
        topic_taken.add(tid)
        report.topics_created.append((tid, title))
    if report.refused or dry_run:
        return report
    topic_ids = {}
    for title in new_topics.values():
        topic = entities.create_topic(
            {"title": title, "description": f"Imported from {filename[:200]}."}, author)
        topic_ids[f"new:{title}"] = topic.id
    report.topics_created = [(topic_ids[f"new:{t}"], t) for t in new_topics.values()]
    for p in planned:
        revisions.create_revision(
            p.question_id, p.content, topic_id=topic_ids.get(p.topic_key, p.topic_key),
            author=author, note=f"Imported from {filename[:200]}", origin=RevisionOrigin.IMPORT,
            origin_ref=filename[:255], publish=False)
    db.session.flush()
    return report


def _content(entry: dict[str, Any]) -> dict[str, Any]:
    """quiz.bank.loader.revision_content of a mapped entry (its source may be None)."""
    return revision_content(entry)
