"""Bank files: validation (one clear error per problem), loading, revisions, export, CLI."""

from __future__ import annotations

import json

import pytest

from quiz.bank import read_bank
from quiz.bank.loader import load_bank
from quiz.extensions import db
from quiz.models import Question, QuestionRevision, QuestionSet, RevisionKeyPoint

from . import bankgen


def _problems(root):
    _, problems = read_bank(root)
    return [str(p) for p in problems if p.severity == "error"]


def test_generated_bank_is_valid(tmp_path):
    bank, problems = read_bank(bankgen.write_bank(tmp_path / "bank"))
    assert problems == []
    assert len(bank.questions) == 6


def test_shipped_bank_is_valid(app):
    bank, problems = read_bank(app.config["BANK_PATH"])
    assert [str(p) for p in problems if p.severity == "error"] == []
    topics = {t["id"] for t in bank.topics}
    assert {"basics", "tools", "indications", "reactions", "plan-of-care"} <= topics
    for topic in topics:
        assert sum(q["topic"] == topic for q in bank.questions) >= 5, topic
    set_ids = {s["id"] for s in bank.sets}
    assert topics | {"mixed"} <= set_ids


def _mutate_question(q, path, value):
    """Set (or with value=DELETE remove) a nested key like 'choices.0.feedback'."""
    *parents, last = path.split(".")
    target = q
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is DELETE:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value


DELETE = object()

# (case name, how to break alpha-001, expected problem line)
QUESTION_CASES = [
    ("missing feedback", ("choices.1.feedback", DELETE),
     "questions/alpha.yaml: alpha-001: choices[1].feedback: is missing or empty"),
    ("two correct singles", ("choices.1.correct", True),
     "questions/alpha.yaml: alpha-001: choices: needs exactly one correct choice"),
    ("unknown type", ("type", "essay"),
     "questions/alpha.yaml: alpha-001: type: 'essay' is not one of"),
    ("bad difficulty", ("difficulty", "trivial"),
     "questions/alpha.yaml: alpha-001: difficulty: must be one of: easy, medium, hard"),
    ("unknown source", ("source", "chapter-9"),
     "questions/alpha.yaml: alpha-001: source: 'chapter-9' is not an article section id"),
    ("unknown key point", ("key_points", ["kp-nope"]),
     "questions/alpha.yaml: alpha-001: key_points: 'kp-nope' is not a key point id"),
    ("no key points", ("key_points", []),
     "questions/alpha.yaml: alpha-001: key_points: needs a list of at least one key point id"),
    ("empty prompt", ("prompt", "  "),
     "questions/alpha.yaml: alpha-001: prompt: is missing or empty"),
    ("missing explanation", ("explanation", DELETE),
     "questions/alpha.yaml: alpha-001: explanation: is missing or empty"),
    ("duplicate choice id", ("choices.2.id", "a"),
     "questions/alpha.yaml: alpha-001: choices[2].id: duplicate id 'a'"),
    ("correct not boolean", ("choices.0.correct", "yes"),
     "questions/alpha.yaml: alpha-001: choices[0].correct: must be true or false"),
    ("one choice only", ("choices", [{"id": "a", "text": "x", "correct": True, "feedback": "f"}]),
     "questions/alpha.yaml: alpha-001: choices: needs a list of at least 2 entries"),
    ("unknown field", ("hint", "psst"),
     "questions/alpha.yaml: alpha-001: -: unknown field(s): hint"),
    ("bad choice id", ("choices.0.id", "A b"),
     "questions/alpha.yaml: alpha-001: choices[0].id: is missing or not lowercase"),
]


@pytest.mark.parametrize("name, change, expected", QUESTION_CASES, ids=[c[0] for c in QUESTION_CASES])
def test_malformed_question_gives_its_own_error(tmp_path, name, change, expected):
    questions = bankgen.default_questions()
    _mutate_question(questions["alpha"][0], *change)
    problems = _problems(bankgen.write_bank(tmp_path / "bank", questions=questions))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_type_specific_errors(tmp_path):
    tf = bankgen.true_false("beta-009")
    tf["choices"][0]["id"] = "yes"
    match = bankgen.matching("beta-010")
    match["pairs"][0]["match"] = "maybe"
    order = bankgen.ordering("beta-011")
    order["steps"] = order["steps"][:2]
    multi = bankgen.multiple("beta-012", correct=())
    questions = {"alpha": [bankgen.single("alpha-001")], "beta": [tf, match, order, multi]}
    problems = _problems(bankgen.write_bank(tmp_path / "bank", questions=questions))
    assert problems == [
        "questions/beta.yaml: beta-009: choices: a true/false question has exactly the choices "
        "'true' and 'false'",
        "questions/beta.yaml: beta-010: pairs[0].match: 'maybe' is not an option id",
        "questions/beta.yaml: beta-011: steps: needs a list of at least 3 entries",
        "questions/beta.yaml: beta-012: choices: needs at least one correct choice",
    ]


def test_file_level_errors(tmp_path):
    root = bankgen.write_bank(tmp_path / "bank")
    (root / "questions" / "alpha.yaml").write_text("topic: alpha\nquestions: [unclosed\n")
    (root / "topics.yaml").unlink()
    problems = _problems(root)
    assert "topics.yaml: -: file: is missing" in problems
    assert any(p.startswith("questions/alpha.yaml: -: line") and "is not valid YAML" in p
               for p in problems), problems


def test_duplicate_question_id_across_files(tmp_path):
    questions = bankgen.default_questions()
    questions["beta"][0]["id"] = "alpha-001"
    problems = _problems(bankgen.write_bank(tmp_path / "bank", questions=questions))
    assert problems == ["questions/beta.yaml: alpha-001: id: is also used in questions/alpha.yaml"]


def test_set_errors(tmp_path):
    sets = [
        {"id": "alpha", "title": "A", "kind": "topic", "topic": "gamma"},
        {"id": "mixed", "title": "M", "kind": "random", "count": 99},
        {"id": "odd", "title": "O", "kind": "weekly"},
        {"id": "gate", "title": "G", "kind": "random", "count": 2, "pass_mark": 150},
    ]
    problems = _problems(bankgen.write_bank(tmp_path / "bank", sets=sets))
    assert problems == [
        "sets.yaml: alpha: topic: 'gamma' is not a topic id",
        "sets.yaml: mixed: count: asks for 99 questions but only 6 exist",
        "sets.yaml: odd: kind: must be 'topic' or 'random'",
        "sets.yaml: gate: pass_mark: must be a whole percentage from 1 to 100",
    ]


# --- loading --------------------------------------------------------------------------

def _counts():
    return (
        db.session.scalar(db.select(db.func.count()).select_from(Question)),
        db.session.scalar(db.select(db.func.count()).select_from(QuestionRevision)),
        db.session.scalar(db.select(db.func.count()).select_from(RevisionKeyPoint)),
    )


@pytest.mark.small_bank
def test_reload_unchanged_bank_creates_no_revisions(app):
    with app.app_context():
        before = _counts()
        bank, _ = read_bank(app.config["BANK_PATH"])
        report = load_bank(bank)
        db.session.commit()
        assert (report.created, report.revised, report.unchanged) == (0, 0, 6)
        assert _counts() == before == (6, 6, 6)


@pytest.mark.small_bank
def test_changed_question_gets_a_new_revision_and_removed_one_is_retired(app, tmp_path):
    questions = bankgen.default_questions()
    questions["alpha"][0]["prompt"] = "A reworded prompt?"
    questions["alpha"].pop()  # alpha-003 leaves the bank
    questions["beta"].append(bankgen.true_false("beta-004"))
    bank, problems = read_bank(bankgen.write_bank(tmp_path / "bank2", questions=questions))
    assert problems == []
    with app.app_context():
        report = load_bank(bank)
        db.session.commit()
        assert (report.created, report.revised, report.unchanged, report.retired) == (1, 1, 4, 1)
        q = db.session.get(Question, "alpha-001")
        assert q.current_revision.number == 2
        assert q.current_revision.prompt == "A reworded prompt?"
        old = db.session.scalar(db.select(QuestionRevision).filter_by(question_id="alpha-001", number=1))
        assert old.prompt == "Prompt of alpha-001?"  # the old revision is untouched
        assert db.session.get(Question, "alpha-003").active is False


# --- CLI --------------------------------------------------------------------------------

@pytest.mark.small_bank
def test_cli_check_reports_each_problem_and_exits_nonzero(runner, tmp_path):
    questions = bankgen.default_questions()
    questions["alpha"][0]["choices"][0]["feedback"] = ""
    questions["beta"][1]["difficulty"] = "extreme"
    root = bankgen.write_bank(tmp_path / "broken", questions=questions)
    result = runner.invoke(args=["bank", "check", str(root)])
    assert result.exit_code == 1
    assert "questions/alpha.yaml: alpha-001: choices[0].feedback: is missing or empty" in result.output
    assert "questions/beta.yaml: beta-002: difficulty: must be one of" in result.output
    assert "2 error(s)" in result.output


@pytest.mark.small_bank
def test_cli_check_ok(runner, app):
    result = runner.invoke(args=["bank", "check", app.config["BANK_PATH"]])
    assert result.exit_code == 0, result.output
    assert "6 questions, 2 topics, 3 sets, 2 key points: no errors" in result.output


@pytest.mark.small_bank
def test_cli_load_with_an_error_loads_nothing(runner, app, tmp_path):
    questions = bankgen.default_questions()
    questions["alpha"][0]["prompt"] = "Changed, but the bank has an error elsewhere"
    questions["beta"].append(bankgen.true_false("beta-004"))
    questions["beta"][0]["source"] = "nowhere"
    root = bankgen.write_bank(tmp_path / "broken", questions=questions)
    with app.app_context():
        before = _counts()
    result = runner.invoke(args=["bank", "load", str(root)])
    assert result.exit_code == 1
    assert "nothing loaded" in result.output
    with app.app_context():
        assert _counts() == before
        assert db.session.get(Question, "alpha-001").current_revision.number == 1
        assert db.session.get(Question, "beta-004") is None


@pytest.mark.small_bank
def test_cli_load_is_idempotent(runner, app):
    first = runner.invoke(args=["bank", "load"])
    second = runner.invoke(args=["bank", "load"])
    assert first.exit_code == second.exit_code == 0
    assert "0 new, 0 revised, 6 unchanged" in second.output


@pytest.mark.small_bank
def test_cli_export_json(runner, tmp_path):
    out = tmp_path / "bank.json"
    result = runner.invoke(args=["bank", "export", "--format", "json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"topics", "sets", "questions", "key_points", "sections"} <= set(data)
    assert [s["id"] for s in data["sets"]] == ["alpha", "beta", "mixed"]
    q = next(q for q in data["questions"] if q["id"] == "alpha-001")
    assert q["topic"] == "alpha" and q["type"] == "single"
    assert q["source"] == "soft-tissue" and q["key_points"] == ["kp-one"]
    assert q["explanation"] == "Explanation of alpha-001."
    assert q["choices"][0] == {"id": "a", "text": "Choice a of alpha-001", "correct": True,
                               "feedback": "Feedback a of alpha-001"}
    stdout = runner.invoke(args=["bank", "export", "--format", "json", "-"])
    assert json.loads(stdout.output) == data


def test_export_round_trips_shipped_bank(runner, app):
    """Every exported question carries the fields the issue names, for every type."""
    data = json.loads(runner.invoke(args=["bank", "export", "--format", "json", "-"]).output)
    bank, _ = read_bank(app.config["BANK_PATH"])
    assert len(data["questions"]) == len(bank.questions)
    for q in data["questions"]:
        assert {"id", "topic", "type", "prompt", "choices", "explanation", "source",
                "key_points"} <= set(q)
        assert all({"text", "correct", "feedback"} <= set(c) for c in q["choices"])


@pytest.mark.small_bank
def test_set_removed_from_bank_is_deactivated(app, tmp_path):
    bank, _ = read_bank(bankgen.write_bank(tmp_path / "b2", sets=bankgen.default_sets()[:2]))
    with app.app_context():
        load_bank(bank)
        db.session.commit()
        assert db.session.get(QuestionSet, "mixed").active is False


def test_titles_longer_than_the_column_are_refused(tmp_path):
    topics = [dict(t) for t in bankgen.TOPICS]
    topics[0]["title"] = "T" * 201
    problems = _problems(bankgen.write_bank(tmp_path / "bank", topics=topics))
    assert problems == ["topics.yaml: alpha: title: is longer than 200 characters"]
