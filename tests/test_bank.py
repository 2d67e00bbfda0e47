"""Bank files: validation (one clear error per problem), loading, revisions, export, CLI."""

from __future__ import annotations

import json

import pytest
import yaml

from quiz.bank import files, read_bank
from quiz.bank.loader import import_bank, load_bank
from quiz.extensions import db
from quiz.models import KeyPoint, Question, QuestionRevision, QuestionSet, RevisionKeyPoint, Topic

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
def test_changed_question_gets_a_new_revision_and_removed_one_is_only_reported(app, tmp_path):
    questions = bankgen.default_questions()
    questions["alpha"][0]["prompt"] = "A reworded prompt?"
    questions["alpha"].pop()  # alpha-003 leaves the bank
    questions["beta"].append(bankgen.true_false("beta-004"))
    bank, problems = read_bank(bankgen.write_bank(tmp_path / "bank2", questions=questions))
    assert problems == []
    with app.app_context():
        report = load_bank(bank)
        db.session.commit()
        assert (report.created, report.revised, report.unchanged, report.retired) == (1, 1, 4, 0)
        assert report.missing == ["question alpha-003: not in the files"]
        q = db.session.get(Question, "alpha-001")
        assert q.current_revision.number == 2
        assert q.current_revision.prompt == "A reworded prompt?"
        old = db.session.scalar(db.select(QuestionRevision).filter_by(question_id="alpha-001", number=1))
        assert old.prompt == "Prompt of alpha-001?"  # the old revision is untouched
        assert db.session.get(Question, "alpha-003").status == "published"
        assert q.status == "published" and q.latest_revision_id == q.current_revision_id
        assert q.current_revision.origin == "file"
        assert q.current_revision.origin_ref == "questions/alpha.yaml"
        report = import_bank(bank, retire_missing=True)
        db.session.commit()
        assert (report.created, report.revised, report.unchanged, report.retired) == (0, 0, 6, 1)
        assert db.session.get(Question, "alpha-003").status == "retired"


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
    result = runner.invoke(args=["bank", "import", str(root)])
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    with app.app_context():
        assert _counts() == before
        assert db.session.get(Question, "alpha-001").current_revision.number == 1
        assert db.session.get(Question, "beta-004") is None


@pytest.mark.small_bank
def test_cli_import_is_idempotent_and_load_is_its_alias(runner, app):
    first = runner.invoke(args=["bank", "import"])
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
def test_set_removed_from_bank_is_reported_and_deactivated_only_when_asked(app, tmp_path):
    bank, _ = read_bank(bankgen.write_bank(tmp_path / "b2", sets=bankgen.default_sets()[:2]))
    with app.app_context():
        report = load_bank(bank)
        db.session.commit()
        assert report.missing == ["set mixed: not in the files"]
        assert db.session.get(QuestionSet, "mixed").active is True
        report = import_bank(bank, retire_missing=True)
        db.session.commit()
        assert report.missing == ["set mixed: not in the files; deactivated"]
        assert db.session.get(QuestionSet, "mixed").active is False


def test_titles_longer_than_the_column_are_refused(tmp_path):
    topics = [dict(t) for t in bankgen.TOPICS]
    topics[0]["title"] = "T" * 201
    problems = _problems(bankgen.write_bank(tmp_path / "bank", topics=topics))
    assert problems == ["topics.yaml: alpha: title: is longer than 200 characters"]


# --- a validator with no gaps: each file below holds exactly one flaw ---------------------

LONG = "x" * 10_000  # cut to the length a case needs

GAP_CASES = [
    # text where a list or mapping was given
    ("prompt is a list", ("prompt", ["one", "two"]),
     "questions/alpha.yaml: alpha-001: prompt: must be text, not a list"),
    ("explanation is a mapping", ("explanation", {"why": "because"}),
     "questions/alpha.yaml: alpha-001: explanation: must be text, not a mapping"),
    ("prompt is a number", ("prompt", 42),
     "questions/alpha.yaml: alpha-001: prompt: must be text, not a number"),
    ("choice text is a list", ("choices.0.text", ["a", "b"]),
     "questions/alpha.yaml: alpha-001: choices[0].text: must be text, not a list"),
    ("choice feedback is a mapping", ("choices.1.feedback", {"a": 1}),
     "questions/alpha.yaml: alpha-001: choices[1].feedback: must be text, not a mapping"),
    # a non-list where a list is expected, and lists where a name is expected
    ("choices is a mapping", ("choices", {"a": "Choice"}),
     "questions/alpha.yaml: alpha-001: choices: needs a list of at least 2 entries"),
    ("key points is text", ("key_points", "kp-one"),
     "questions/alpha.yaml: alpha-001: key_points: needs a list of at least one key point id"),
    ("key point is a list", ("key_points", [["kp-one"]]),
     "questions/alpha.yaml: alpha-001: key_points: ['kp-one'] is not a key point id"),
    ("source is a list", ("source", ["soft-tissue"]),
     "questions/alpha.yaml: alpha-001: source: ['soft-tissue'] is not an article section id"),
    ("type is a mapping", ("type", {"single": True}),
     "questions/alpha.yaml: alpha-001: type: {'single': True} is not one of: single, multiple, "
     "true_false, matching, ordering"),
    ("difficulty is a list", ("difficulty", ["easy"]),
     "questions/alpha.yaml: alpha-001: difficulty: must be one of: easy, medium, hard"),
    ("choice is text", ("choices.2", "Choice c"),
     "questions/alpha.yaml: alpha-001: choices[2]: must be a mapping with id and text"),
    # ids match in full
    ("question id with a newline", ("id", "alpha-001\n"),
     "questions/alpha.yaml: 'alpha-001\\n': id: is missing or not lowercase letters, digits, dashes"),
    ("choice id with a newline", ("choices.0.id", "a\n"),
     "questions/alpha.yaml: alpha-001: choices[0].id: is missing or not lowercase letters, digits, "
     "dashes"),
    # control characters, and text that only looks present
    ("NUL in the prompt", ("prompt", "Which tissue\0 is it?"),
     "questions/alpha.yaml: alpha-001: prompt: contains the control character U+0000"),
    ("escape in feedback", ("choices.1.feedback", "Wrong \x1b[31m here"),
     "questions/alpha.yaml: alpha-001: choices[1].feedback: contains the control character U+001B"),
    ("carriage return in choice text", ("choices.2.text", "Choice\r c"),
     "questions/alpha.yaml: alpha-001: choices[2].text: contains the control character U+000D"),
    ("C1 control in explanation", ("explanation", "Because\x85 so"),
     "questions/alpha.yaml: alpha-001: explanation: contains the control character U+0085"),
    ("zero-width prompt", ("prompt", "\u200b \u2060\ufeff"),
     "questions/alpha.yaml: alpha-001: prompt: is missing or empty"),
    ("zero-width choice text", ("choices.1.text", "\u200c\u200d"),
     "questions/alpha.yaml: alpha-001: choices[1].text: is missing or empty"),
    ("whitespace feedback", ("choices.2.feedback", " \n\t "),
     "questions/alpha.yaml: alpha-001: choices[2].feedback: is missing or empty"),
    # text limits
    ("long prompt", ("prompt", LONG[:2001]),
     "questions/alpha.yaml: alpha-001: prompt: is longer than 2000 characters"),
    ("long explanation", ("explanation", LONG[:3001]),
     "questions/alpha.yaml: alpha-001: explanation: is longer than 3000 characters"),
    ("long choice text", ("choices.0.text", LONG[:501]),
     "questions/alpha.yaml: alpha-001: choices[0].text: is longer than 500 characters"),
    ("long feedback", ("choices.0.feedback", LONG[:1001]),
     "questions/alpha.yaml: alpha-001: choices[0].feedback: is longer than 1000 characters"),
]


@pytest.mark.parametrize("name, change, expected", GAP_CASES, ids=[c[0] for c in GAP_CASES])
def test_each_gap_gives_exactly_its_problem(tmp_path, name, change, expected):
    questions = bankgen.default_questions()
    _mutate_question(questions["alpha"][0], *change)
    assert _problems(bankgen.write_bank(tmp_path / "bank", questions=questions)) == [expected]


def test_texts_at_their_limits_with_newlines_and_tabs_are_fine(tmp_path):
    questions = bankgen.default_questions()
    q = questions["alpha"][0]
    q["prompt"] = "Line one\n\tline two " + LONG[:2000 - 19]
    q["explanation"] = LONG[:3000]
    q["choices"][0]["text"], q["choices"][0]["feedback"] = LONG[:500], LONG[:1000]
    assert len(q["prompt"]) == 2000
    assert _problems(bankgen.write_bank(tmp_path / "bank", questions=questions)) == []


TYPE_GAP_CASES = [
    ("matching", "options.0.text", ["Expected"],
     "questions/beta.yaml: beta-009: options[0].text: must be text, not a list"),
    ("matching", "options.1.text", LONG[:501],
     "questions/beta.yaml: beta-009: options[1].text: is longer than 500 characters"),
    ("matching", "pairs.0.text", LONG[:501],
     "questions/beta.yaml: beta-009: pairs[0].text: is longer than 500 characters"),
    ("matching", "pairs.1.feedback", "\0",
     "questions/beta.yaml: beta-009: pairs[1].feedback: contains the control character U+0000"),
    ("matching", "pairs.0.match", ["yes"],
     "questions/beta.yaml: beta-009: pairs[0].match: ['yes'] is not an option id"),
    ("matching", "pairs.2.id", "fever\n",
     "questions/beta.yaml: beta-009: pairs[2].id: is missing or not lowercase letters, digits, dashes"),
    ("matching", "pairs", {"red": "yes"},
     "questions/beta.yaml: beta-009: pairs: needs a list of at least 2 entries"),
    ("ordering", "steps.0.text", LONG[:501],
     "questions/beta.yaml: beta-009: steps[0].text: is longer than 500 characters"),
    ("ordering", "steps.3.feedback", {"why": "x"},
     "questions/beta.yaml: beta-009: steps[3].feedback: must be text, not a mapping"),
    ("ordering", "steps.1.text", "\ufeff",
     "questions/beta.yaml: beta-009: steps[1].text: is missing or empty"),
]


@pytest.mark.parametrize("qtype, path, value, expected", TYPE_GAP_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in TYPE_GAP_CASES])
def test_type_data_gaps(tmp_path, qtype, path, value, expected):
    q = getattr(bankgen, qtype)("beta-009")
    _mutate_question(q, path, value)
    questions = bankgen.default_questions()
    questions["beta"].append(q)
    assert _problems(bankgen.write_bank(tmp_path / "bank", questions=questions)) == [expected]


def _edit(root, rel, change):
    """Load a bank file, change its data, write it back."""
    path = root / rel
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


FILE_GAP_CASES = [
    ("section id with a newline", "key_points.yaml",
     lambda d: d["sections"].append({"id": "extra\n", "title": "Extra"}),
     "key_points.yaml: 'extra\\n': id: is missing or not lowercase letters, digits, dashes"),
    ("section title is a list", "key_points.yaml",
     lambda d: d["sections"][0].update(title=["What", "is"]),
     "key_points.yaml: soft-tissue: title: must be text, not a list"),
    ("key point id with a newline", "key_points.yaml",
     lambda d: d["key_points"].append({"id": "kp-three\n", "section": "soft-tissue", "text": "T"}),
     "key_points.yaml: 'kp-three\\n': id: is missing or not lowercase letters, digits, dashes"),
    ("key point text is a mapping", "key_points.yaml",
     lambda d: d["key_points"][0].update(text={"a": "b"}),
     "key_points.yaml: kp-one: text: must be text, not a mapping"),
    ("key point text too long", "key_points.yaml",
     lambda d: d["key_points"][0].update(text=LONG[:501]),
     "key_points.yaml: kp-one: text: is longer than 500 characters"),
    ("key point section is a list", "key_points.yaml",
     lambda d: d["key_points"][0].update(section=["soft-tissue"]),
     "key_points.yaml: kp-one: section: ['soft-tissue'] is not a section id"),
    ("sets is a mapping", "sets.yaml",
     lambda d: d.update(sets={"alpha": "Alpha set"}),
     "sets.yaml: -: sets: needs a top-level list 'sets'"),
    ("topic id with a newline", "topics.yaml",
     lambda d: d["topics"].append({"id": "gamma\n", "title": "Gamma"}),
     "topics.yaml: 'gamma\\n': id: is missing or not lowercase letters, digits, dashes"),
    ("key point with the old safety_critical flag", "key_points.yaml",
     lambda d: d["key_points"][0].update(safety_critical=True),
     "key_points.yaml: kp-one: safety_critical: is now called must_know (the article names no "
     "safety rules)"),
    ("key point with an unknown field", "key_points.yaml",
     lambda d: d["key_points"][0].update(contraindicated=True),
     "key_points.yaml: kp-one: -: unknown field(s): contraindicated"),
    ("set with the old include_safety_critical flag", "sets.yaml",
     lambda d: d["sets"][2].update(include_safety_critical=True),
     "sets.yaml: mixed: -: unknown field(s): include_safety_critical"),
    ("topic title with NUL", "topics.yaml",
     lambda d: d["topics"][0].update(title="Alpha\0"),
     "topics.yaml: alpha: title: contains the control character U+0000"),
    ("topic description too long", "topics.yaml",
     lambda d: d["topics"][0].update(description=LONG[:1001]),
     "topics.yaml: alpha: description: is longer than 1000 characters"),
    ("topic description zero-width", "topics.yaml",
     lambda d: d["topics"][1].update(description="\u200b"),
     "topics.yaml: beta: description: is missing or empty"),
    ("set id with a newline", "sets.yaml",
     lambda d: d.update(sets=d["sets"] + [{"id": "extra\n", "title": "X", "kind": "random",
                                           "count": 1}]),
     "sets.yaml: 'extra\\n': id: is missing or not lowercase letters, digits, dashes"),
    ("set title is a mapping", "sets.yaml",
     lambda d: d["sets"][0].update(title={"en": "Alpha"}),
     "sets.yaml: alpha: title: must be text, not a mapping"),
    ("set description too long", "sets.yaml",
     lambda d: d["sets"][0].update(description=LONG[:1001]),
     "sets.yaml: alpha: description: is longer than 1000 characters"),
    ("set topic is a list", "sets.yaml",
     lambda d: d["sets"][0].update(topic=["alpha"]),
     "sets.yaml: alpha: topic: ['alpha'] is not a topic id"),
    ("set topics hold a list", "sets.yaml",
     lambda d: d["sets"][2].update(topics=[["alpha"]]),
     "sets.yaml: mixed: topics: must be 'all' or a list of topic ids"),
    ("question file topic is a list", "questions/alpha.yaml",
     lambda d: d.update(topic=["alpha"]),
     "questions/alpha.yaml: -: topic: ['alpha'] is not a topic id in topics.yaml"),
    ("questions is a mapping", "questions/alpha.yaml",
     lambda d: d.update(questions={"alpha-001": "x"}),
     "questions/alpha.yaml: -: questions: needs a top-level list 'questions'"),
]


@pytest.mark.parametrize("name, rel, change, expected", FILE_GAP_CASES,
                         ids=[c[0] for c in FILE_GAP_CASES])
def test_file_gaps(tmp_path, name, rel, change, expected):
    root = bankgen.write_bank(tmp_path / "bank")
    _edit(root, rel, change)
    assert _problems(root) == [expected]


def _replace_in(root, rel, old, new, count=1):
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, (old, text)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


RAW_CASES = [
    ("same key twice, same value", "  difficulty: easy\n", "  difficulty: easy\n  difficulty: easy\n",
     "questions/alpha.yaml: alpha-001: line 6: key 'difficulty' is given twice"),
    ("same key twice, other value", "  difficulty: easy\n", "  difficulty: easy\n  difficulty: hard\n",
     "questions/alpha.yaml: alpha-001: line 6: key 'difficulty' is given twice"),
    ("same key twice in a choice", "    correct: true\n", "    correct: true\n    correct: true\n",
     "questions/alpha.yaml: alpha-001: line 14: key 'correct' is given twice"),
    ("same key twice at the top", "topic: alpha\n", "topic: alpha\ntopic: alpha\n",
     "questions/alpha.yaml: -: line 2: key 'topic' is given twice"),
    ("same key twice in flow style", "  key_points:\n  - kp-one\n",
     "  key_points: [kp-one]\n  key_points: [kp-one]\n",
     "questions/alpha.yaml: alpha-001: line 8: key 'key_points' is given twice"),
    ("NUL byte in the file", "prompt: Prompt of alpha-001?", "prompt: Prompt of\0 alpha-001?",
     "questions/alpha.yaml: -: line 9: is not valid YAML: special characters are not allowed "
     "(U+0000)"),
    ("10,000 nested lists", "prompt: Prompt of alpha-001?", "prompt: " + "[" * 10_000 + "]" * 10_000,
     "questions/alpha.yaml: -: line 9: is not valid YAML: nests deeper than 20 levels"),
    ("10,000 nested mappings", "prompt: Prompt of alpha-001?",
     "prompt: " + "{a: " * 10_000 + "}" * 10_000,
     "questions/alpha.yaml: -: line 9: is not valid YAML: nests deeper than 20 levels"),
]


@pytest.mark.parametrize("name, old, new, expected", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_raw_yaml_flaws(tmp_path, name, old, new, expected):
    root = bankgen.write_bank(tmp_path / "bank")
    _replace_in(root, "questions/alpha.yaml", old, new)
    assert _problems(root) == [expected]


def test_duplicate_key_in_other_files_names_the_entry(tmp_path):
    root = bankgen.write_bank(tmp_path / "bank")
    _replace_in(root, "key_points.yaml", "  text: Soft tissue includes fascia.\n",
                "  text: Soft tissue includes fascia.\n  text: Soft tissue includes fascia.\n")
    _replace_in(root, "sets.yaml", "  kind: random\n", "  kind: random\n  kind: random\n")
    assert _problems(root) == [
        "key_points.yaml: kp-one: line 10: key 'text' is given twice",
        "sets.yaml: mixed: line 13: key 'kind' is given twice",
    ]


def test_merge_keys_may_be_overridden(tmp_path):
    root = bankgen.write_bank(tmp_path / "bank")
    _replace_in(root, "sets.yaml", "- id: alpha\n  title: Alpha set\n  kind: topic\n",
                "- &base\n  id: alpha\n  title: Alpha set\n  kind: topic\n")
    _replace_in(root, "sets.yaml", "- id: beta\n  title: Beta set\n  kind: topic\n",
                "- <<: *base\n  id: beta\n  title: Beta set\n")
    assert _problems(root) == []


def test_recursion_error_from_the_parser_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_DEPTH", 10**9)  # let the parser recurse until Python stops it
    root = bankgen.write_bank(tmp_path / "bank")
    _replace_in(root, "questions/alpha.yaml", "prompt: Prompt of alpha-001?",
                "prompt: " + "[" * 10_000 + "]" * 10_000)
    assert _problems(root) == ["questions/alpha.yaml: -: file: is not valid YAML: nests too deeply "
                               "to read"]


@pytest.mark.small_bank
def test_texts_at_every_limit_fit_the_database(app, tmp_path):
    """Each text at its documented maximum (in non-ASCII characters) loads and reads back whole."""
    wide = "é" * 3000
    questions = bankgen.default_questions()
    q = questions["alpha"][0]
    q["prompt"], q["explanation"] = wide[:2000], wide[:3000]
    q["choices"][0]["text"], q["choices"][0]["feedback"] = wide[:500], wide[:1000]
    topics = [dict(t) for t in bankgen.TOPICS]
    topics[0].update(title=wide[:200], description=wide[:1000])
    key_points = [dict(k) for k in bankgen.KEY_POINTS]
    key_points[0]["text"] = wide[:500]
    sets = bankgen.default_sets()
    sets[0].update(title=wide[:200], description=wide[:1000])
    root = bankgen.write_bank(tmp_path / "wide", questions=questions, topics=topics,
                              key_points=key_points, sets=sets)
    bank, problems = read_bank(root)
    assert problems == []
    with app.app_context():
        load_bank(bank)
        db.session.commit()
        db.session.expire_all()
        revision = db.session.get(Question, "alpha-001").current_revision
        assert revision.prompt == wide[:2000] and revision.explanation == wide[:3000]
        assert revision.data["choices"][0]["text"] == wide[:500]
        assert db.session.get(QuestionSet, "alpha").title == wide[:200]
        assert db.session.get(Topic, "alpha").description == wide[:1000]
        assert db.session.get(KeyPoint, "kp-one").text == wide[:500]
