"""The bank <-> Moodle XML / GIFT mapping (quiz/exchange/bank.py): export fractions that Moodle
scores as this app does, imports as drafts (all or nothing, dry run, unsupported types,
validation), publishing refused until an instructor maps a draft, the CLI, the round trip of
the shipped bank through each format, and Moodle's own fixtures."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from quiz import grading
from quiz.attempts import choose_questions
from quiz.bank.revisions import StatusError, publish
from quiz.exchange.bank import ImportReport, import_questions, to_exchange
from quiz.exchange.model import MAX_FILE_BYTES, ExchangeQuestion, XChoice, XPair
from quiz.extensions import db
from quiz.models import AuditEvent, Question, QuestionRevision, QuestionSet, Topic
from quiz.vocab import QuestionStatus, RevisionOrigin

from . import bankgen, flows
from .conftest import _teardown, make_app
from .test_studio_questions import statements

# --- helpers -------------------------------------------------------------------------------


def single(name="Q single", category=("Alpha topic",), **kw) -> ExchangeQuestion:
    return ExchangeQuestion(
        name=name, qtype="single", supported=True, prompt=f"Which is right in {name}?",
        explanation="Because it is.", category=list(category),
        choices=[XChoice("Right one", 1.0, "Yes."), XChoice("Wrong one", 0.0, "No."),
                 XChoice("Other wrong", 0.0, "No again.")], **kw)


def multiple(name="Q multiple", fractions=(0.5, -1.0, 0.5, -1.0)) -> ExchangeQuestion:
    return ExchangeQuestion(
        name=name, qtype="multiple", supported=True, prompt="Pick every colour between?",
        category=["Alpha topic"],
        choices=[XChoice(f"Colour {i}", f, f"Feedback {i}") for i, f in enumerate(fractions)])


def true_false(name="Q tf", truth=False, category=("Moodle", "Trivia")) -> ExchangeQuestion:
    return ExchangeQuestion(
        name=name, qtype="true_false", supported=True, prompt="42 is the answer.",
        explanation="A Hitchhiker's Guide reference.", category=list(category),
        choices=[XChoice("true", 1.0 if truth else 0.0, "You said true."),
                 XChoice("false", 0.0 if truth else 1.0, "You said false.")])


def matching(name="Q matching") -> ExchangeQuestion:
    return ExchangeQuestion(
        name=name, qtype="matching", supported=True, prompt="Classify the animals.",
        category=["Animals"],
        pairs=[XPair("frog", "amphibian"), XPair("cat", "mammal"), XPair("newt", "amphibian")],
        extra_options=["insect"])


def ordering(name="Q ordering") -> ExchangeQuestion:
    return ExchangeQuestion(
        name=name, qtype="ordering", supported=True, prompt="Put these words in order.",
        explanation="Modular Object Oriented.", category=["Animals"],
        steps=["Modular", "Object", "Oriented"], step_feedback=["1st", "2nd", "3rd"])


def essay(name="Q essay") -> ExchangeQuestion:
    return ExchangeQuestion(name=name, qtype="essay", supported=False, prompt="How are you?")


def state() -> tuple[int, ...]:
    """Row counts of everything an import may write."""
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(model))
                 for model in (Question, QuestionRevision, Topic, AuditEvent))


def latest(qid: str) -> QuestionRevision:
    return db.session.get(Question, qid).latest_revision


pytestmark = pytest.mark.small_bank


# --- export -----------------------------------------------------------------------------------

def test_export_carries_every_field_and_the_topic_title(app):
    with app.app_context():
        out = {x.bank_id: x for x in to_exchange()}
        published = db.session.scalars(db.select(Question).where(
            Question.status == QuestionStatus.PUBLISHED)).all()
        assert set(out) == {q.id for q in published}
        q = db.session.get(Question, "alpha-001")
        x = out["alpha-001"]
        rev = q.current_revision
        assert (x.name, x.qtype, x.supported, x.category) == ("alpha-001", "single", True, ["Alpha topic"])
        assert (x.prompt, x.explanation, x.difficulty) == (rev.prompt, rev.explanation, "easy")
        assert (x.source_id, x.key_point_ids) == ("soft-tissue", ["kp-one"])
        assert [(c.text, c.fraction, c.feedback) for c in x.choices] == [
            (c["text"], 1.0 if c["correct"] else 0.0, c["feedback"]) for c in rev.data["choices"]]


def test_drafts_and_retired_questions_are_exported_only_when_asked(app):
    with app.app_context():
        import_questions([single()], filename="x.xml")
        q = db.session.get(Question, "alpha-001")
        q.status = QuestionStatus.RETIRED
        db.session.flush()
        names = {x.name for x in to_exchange()}
        assert "q-single" not in names and "alpha-001" not in names
        with_drafts = {x.name: x for x in to_exchange(include_drafts=True)}
        assert "q-single" in with_drafts and "alpha-001" not in with_drafts
        assert with_drafts["q-single"].source_id is None


def _moodle_multichoice_score(fractions, chosen) -> float:
    """Moodle's qtype_multichoice (multiple answers): the sum of the chosen answers' fractions,
    clamped to [0, 1]."""
    return min(1.0, max(0.0, sum(fractions[i] for i in chosen)))


@pytest.mark.parametrize("correct", [(0,), (0, 1), (0, 2, 3), (0, 1, 2, 3, 4)])
def test_multiple_fractions_make_moodle_score_every_answer_as_this_app(app, correct):
    """Every subset of choices a learner may tick scores the same under Moodle's rule as under
    grading.grade_multiple (+1/k per correct, -1/k per wrong, floored at 0)."""
    with app.app_context():
        rev = db.session.get(Question, "alpha-001").current_revision
        rev.qtype = "multiple"
        rev.data = {"choices": [{"id": c, "text": c, "correct": i in correct, "feedback": "f"}
                                for i, c in enumerate("abcde")]}
        x = [x for x in to_exchange() if x.bank_id == "alpha-001"][0]
        fractions = [c.fraction for c in x.choices]
        assert sum(f for f in fractions if f > 0) == pytest.approx(1.0)
        for size in range(6):
            for chosen in itertools.combinations(range(5), size):
                ours = grading.grade_multiple([str(i) for i in correct], [str(i) for i in chosen])
                assert _moodle_multichoice_score(fractions, chosen) == pytest.approx(ours), chosen
        db.session.rollback()


def test_matching_exports_pairs_and_its_distractor_options(tmp_path):
    q = bankgen.matching("alpha-001")
    q["options"].append({"id": "zz", "text": "Nobody's match"})
    root = bankgen.write_bank(tmp_path / "bank", questions={"alpha": [q], "beta": [
        bankgen.true_false("beta-001")]}, sets=[])
    app = make_app(tmp_path, root)
    try:
        with app.app_context():
            x = {x.bank_id: x for x in to_exchange()}["alpha-001"]
            options = {o["id"]: o["text"] for o in q["options"]}
            assert [(p.left, p.right, p.feedback) for p in x.pairs] == [
                (p["text"], options[p["match"]], p["feedback"]) for p in q["pairs"]]
            assert x.extra_options == ["Nobody's match"]
    finally:
        _teardown(app)


# --- import: mapping ------------------------------------------------------------------------

def test_each_type_imports_as_a_draft_with_its_content(app):
    with app.app_context():
        report = import_questions([single(), multiple(), true_false(), matching(), ordering()],
                                  filename="moodle.xml")
        db.session.commit()
        assert not report.errors
        assert [i for i, _ in report.created] == ["q-single", "q-multiple", "q-tf", "q-matching",
                                                   "q-ordering"]
        for qid, _ in report.created:
            q = db.session.get(Question, qid)
            rev = q.latest_revision
            assert q.status == QuestionStatus.DRAFT and q.current_revision_id is None
            assert (rev.origin, rev.origin_ref, rev.number) == (RevisionOrigin.IMPORT, "moodle.xml", 1)
            assert rev.source_id is None and rev.key_points == []
            assert rev.difficulty == "medium"
        assert latest("q-single").data["choices"] == [
            {"id": "a", "text": "Right one", "correct": True, "feedback": "Yes."},
            {"id": "b", "text": "Wrong one", "correct": False, "feedback": "No."},
            {"id": "c", "text": "Other wrong", "correct": False, "feedback": "No again."}]
        assert [c["correct"] for c in latest("q-multiple").data["choices"]] == [True, False, True, False]
        assert latest("q-tf").data["choices"] == [
            {"id": "true", "text": "True", "correct": False, "feedback": "You said true."},
            {"id": "false", "text": "False", "correct": True, "feedback": "You said false."}]
        assert latest("q-matching").data == {
            "options": [{"id": "o1", "text": "amphibian"}, {"id": "o2", "text": "mammal"},
                        {"id": "o3", "text": "insect"}],
            "pairs": [{"id": "p1", "text": "frog", "match": "o1", "feedback": ""},
                      {"id": "p2", "text": "cat", "match": "o2", "feedback": ""},
                      {"id": "p3", "text": "newt", "match": "o1", "feedback": ""}]}
        assert latest("q-ordering").data["steps"] == [
            {"id": "s1", "text": "Modular", "feedback": "1st"},
            {"id": "s2", "text": "Object", "feedback": "2nd"},
            {"id": "s3", "text": "Oriented", "feedback": "3rd"}]
        # Categories: the last element names a topic by title ("Alpha topic") or a new one.
        assert db.session.get(Question, "q-single").topic_id == "alpha"
        assert [t for _, t in report.topics_created] == ["Trivia", "Animals"]
        assert db.session.get(Question, "q-tf").topic.title == "Trivia"
        assert db.session.get(Question, "q-ordering").topic_id == db.session.get(
            Question, "q-matching").topic_id == "animals"
        assert report.to_map == 5


def test_fractions_become_correct_flags_and_the_mapping_adds_no_warnings(app):
    """Weights are the readers' to warn about (they know the file); the mapping's rule is
    theirs: single, the 100% answer; multiple, every answer above 0%."""
    with app.app_context():
        partial = single("partial")
        partial.choices[1].fraction = 0.5
        report = import_questions([multiple(), partial], filename="f.gift")
        assert report.warnings == []
        assert [c["correct"] for c in latest("q-multiple").data["choices"]] == [True, False, True, False]
        assert [c["correct"] for c in latest("partial").data["choices"]] == [True, False, False]


def test_reader_warnings_go_into_the_report(app):
    with app.app_context():
        q = single()
        q.warnings = ["hints are not carried"]
        report = import_questions([q], filename="f.xml", dry_run=True)
        assert report.warnings == [("Q single", "hints are not carried")]


def test_names_become_unique_ids(app):
    with app.app_context():
        report = import_questions([single("Alpha 001"), single("alpha-001"), single("Ça va?"),
                                   single("")], filename="f.xml")
        assert [i for i, _ in report.created] == ["alpha-001-2", "alpha-001-3", "ca-va", "which-is-right-in"]


def test_our_own_ids_source_and_key_points_are_kept_when_valid(app):
    with app.app_context():
        own = single("own", bank_id="mine-001", source_id="what-to-expect",
                     key_point_ids=["kp-two", "kp-one"], difficulty="hard")
        foreign = single("foreign", bank_id="alpha-001", source_id="no-such",
                         key_point_ids=["kp-one", "kp-nope"])
        report = import_questions([own, foreign], filename="f.xml")
        assert [i for i, _ in report.created] == ["mine-001", "alpha-001-2"]
        rev = latest("mine-001")
        assert (rev.source_id, sorted(k.id for k in rev.key_points), rev.difficulty) == (
            "what-to-expect", ["kp-one", "kp-two"], "hard")
        rev = latest("alpha-001-2")
        assert rev.source_id is None and [k.id for k in rev.key_points] == ["kp-one"]
        messages = [m for n, m in report.warnings if n == "foreign"]
        assert any("alpha-001 is taken" in m for m in messages)
        assert any("no-such" in m for m in messages) and any("kp-nope" in m for m in messages)


def test_topic_option_forces_one_topic_and_an_unknown_topic_refuses(app):
    with app.app_context():
        report = import_questions([true_false(), matching()], filename="f", topic_id="Beta topic")
        assert not report.topics_created and report.topics_used == [("beta", "Beta topic")]
        assert {db.session.get(Question, i).topic_id for i, _ in report.created} == {"beta"}
        before = state()
        report = import_questions([single()], filename="f", topic_id="nope")
        assert report.refused and report.errors[0][0] == "--topic"
        assert state() == before


def test_no_category_goes_to_the_imported_questions_topic(app):
    with app.app_context():
        report = import_questions([single(category=()), single("two", category=())], filename="f")
        assert report.topics_created == [("imported-questions", "Imported questions")]
        again = import_questions([single("three", category=())], filename="f")
        assert again.topics_created == [] and again.topics_used == [("imported-questions",
                                                                     "Imported questions")]


def test_an_unsupported_questions_reason_from_the_reader_is_shown(app):
    with app.app_context():
        odd = ExchangeQuestion(name="two right", qtype="multichoice", supported=False,
                               warnings=["a single-answer question with 2 answers weighted 100%"])
        report = import_questions([odd], filename="f")
        assert report.errors == [("two right", "type multichoice is not supported here (a single-answer "
                                               "question with 2 answers weighted 100%): nothing is "
                                               "imported (skip such questions to import the rest)")]
        report = import_questions([odd, essay()], filename="f", skip_unsupported=True, dry_run=True)
        assert report.skipped == [("two right", "multichoice"), ("Q essay", "essay")]
        assert report.warnings == [("two right", "a single-answer question with 2 answers weighted 100%")]


def test_blank_category_elements_are_passed_over(app):
    with app.app_context():
        report = import_questions([single(category=["Alpha topic", " "]), single("b", category=[""])],
                                  filename="f", dry_run=True)
        assert report.details["q-single"][1] == "Alpha topic"
        assert report.details["b"][1] == "Imported questions"


def test_a_category_that_is_no_valid_topic_title_refuses(app):
    with app.app_context():
        before = state()
        report = import_questions([single(category=["x" * 201])], filename="f")
        assert report.refused and "longer than 200" in report.errors[0][1]
        assert state() == before


# --- import: all or nothing ----------------------------------------------------------------

def test_an_unsupported_question_refuses_everything(app):
    with app.app_context():
        before = state()
        report = import_questions([single(), essay(), matching()], filename="f.gift")
        assert report.refused and not report.written
        assert report.errors == [("Q essay", "type essay is not supported here: nothing is imported "
                                             "(skip such questions to import the rest)")]
        assert state() == before


def test_skip_unsupported_imports_the_rest_and_lists_the_skips(app):
    with app.app_context():
        report = import_questions([single(), essay(), essay("numeric"), matching()],
                                  filename="f.gift", skip_unsupported=True)
        db.session.commit()
        assert report.skipped == [("Q essay", "essay"), ("numeric", "essay")]
        assert [i for i, _ in report.created] == ["q-single", "q-matching"]
        assert db.session.get(Question, "q-matching") is not None


def test_a_validation_error_in_question_7_leaves_the_database_unchanged(app):
    with app.app_context():
        before = state()
        questions = [single(f"ok {i}") for i in range(6)]
        bad = single("seventh")
        bad.choices[0].fraction = 0.0  # no correct choice
        questions += [bad, single("eighth")]
        report = import_questions(questions, filename="f.xml")
        db.session.rollback()
        assert report.refused
        assert report.errors == [("seventh", "choices: needs exactly one correct choice")]
        assert state() == before
        assert db.session.scalar(db.select(Question.id).where(Question.id.like("ok-%"))) is None


@pytest.mark.parametrize("change, message", [
    (lambda q: setattr(q, "prompt", ""), "prompt: is missing or empty"),
    (lambda q: setattr(q, "prompt", "x" * 2001), "prompt: is longer than 2000 characters"),
    (lambda q: setattr(q, "choices", q.choices[:1]), "choices: needs a list of at least 2 entries"),
    (lambda q: setattr(q.choices[1], "text", " "), "choices[1].text: is missing or empty"),
    (lambda q: setattr(q.choices[1], "fraction", 1.0), "choices: needs exactly one correct choice"),
])
def test_each_validation_failure_is_reported_by_name_and_reason(app, change, message):
    with app.app_context():
        q = single("broken")
        change(q)
        report = import_questions([q], filename="f")
        assert report.errors == [("broken", message)]


def test_true_false_needs_one_true_and_one_false(app):
    with app.app_context():
        q = true_false()
        q.choices[1].text = "maybe"
        report = import_questions([q], filename="f")
        assert report.refused and "maybe" in report.errors[0][1]


def test_dry_run_writes_nothing_and_reports_the_same(app):
    with app.app_context():
        before = state()
        questions = [single(), true_false(), ordering()]
        dry = import_questions(questions, filename="f", dry_run=True)
        assert state() == before and not dry.written
        real = import_questions(questions, filename="f")
        assert (dry.created, dry.topics_created, dry.warnings) == (
            real.created, real.topics_created, real.warnings)
        assert "Dry run" in dry.summary() and "would create" in dry.lines()[-1]


# --- drafts are never served; publish waits for the mapping --------------------------------

def test_imported_drafts_are_never_served(app, client):
    with app.app_context():
        report = import_questions([single(), true_false(category=["Alpha topic"])], filename="f")
        db.session.commit()
        imported = {i for i, _ in report.created}
        sets = db.session.scalars(db.select(QuestionSet)).all()
        for qset in sets:
            for seed in range(5):
                assert not imported & {q.id for q in choose_questions(qset, random.Random(seed))}
    learner = flows.signed_in(app, "learner", "l@example.org")
    with app.app_context():
        set_ids = [s.id for s in db.session.scalars(db.select(QuestionSet))]
    for set_id in set_ids:
        attempt = flows.start(learner, set_id)
        assert not imported & {i["question_id"] for i in flows.items(app, attempt)}


def test_publish_is_refused_until_source_key_points_and_feedback_are_given(app):
    with app.app_context():
        import_questions([matching(), single("complete", source_id="soft-tissue",
                                             key_point_ids=["kp-one"])], filename="f")
        q = db.session.get(Question, "q-matching")
        with pytest.raises(StatusError) as exc:
            publish(q, None)
        assert str(exc.value) == (
            "Question q-matching cannot be published yet: choose its source section; choose its "
            "key points; write its explanation; write the feedback of items 1, 2, 3. Edit it to "
            "add them, then publish.")
        assert q.status == QuestionStatus.DRAFT
        complete = db.session.get(Question, "complete")
        publish(complete, None)  # a file of this bank's own export: source and key points kept
        assert complete.status == QuestionStatus.PUBLISHED


def test_the_studio_maps_an_imported_draft_and_then_publishes_it(app):
    from .test_studio_editor import Form

    with app.app_context():
        import_questions([single()], filename="f")
        db.session.commit()
    client = flows.signed_in(app, "instructor", "i@example.org")
    refused = client.post("/studio/questions/q-single/status", data={"action": "publish"})
    assert refused.status_code == 409
    assert "choose its source section" in refused.get_data(as_text=True)
    page = client.get("/studio/questions/q-single/edit")
    assert page.status_code == 200
    form = Form(page.get_data(as_text=True))
    assert form.get("source") == ""
    saved = client.post("/studio/questions/q-single/edit",
                        data=form.data(source="soft-tissue", key_points=["kp-one"], action="save"))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert client.get("/studio/questions/q-single/preview").status_code == 200
    diff = client.get("/studio/questions/q-single/diff?a=1&b=2")
    assert diff.status_code == 200 and "What is soft tissue?" in diff.get_data(as_text=True)
    published = client.post("/studio/questions/q-single/status", data={"action": "publish"})
    assert published.status_code == 302
    with app.app_context():
        q = db.session.get(Question, "q-single")
        assert q.status == QuestionStatus.PUBLISHED
        assert q.current_revision.source_id == "soft-tissue"
        assert q.current_revision.number == 2


def test_studio_pages_show_an_unmapped_draft(app):
    with app.app_context():
        import_questions([single(), ordering()], filename="f")
        db.session.commit()
    client = flows.signed_in(app, "instructor", "i@example.org")
    for path in ("/studio/questions/q-single", "/studio/questions/q-single/preview",
                 "/studio/questions/q-ordering/preview", "/studio/questions/q-single/history",
                 "/studio/questions?status=draft", "/studio/questions/q-single/edit"):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get("/studio/questions/q-single").get_data(as_text=True)
    assert ("Before this draft can be published:</strong> choose its source section; choose its "
            "key points.") in page


def test_the_report_lines(app):
    report = ImportReport(filename="f", created=[("a", "A")], skipped=[("E", "essay")],
                          warnings=[("A", "w")])
    assert report.lines() == ["skipped: E (essay): this app has no such question type",
                              "warning: A: w", "created: a (A)"]
    assert report.summary().startswith("Imported 1 question(s) as drafts from f")


# --- the CLI -----------------------------------------------------------------------------------

def test_cli_refuses_bad_files_and_option_mixes(app, runner, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<quiz><question")
    big = tmp_path / "big.xml"
    big.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with app.app_context():
        before = state()
    cases = [
        (["bank", "import", str(big), "--format", "moodle-xml"], 1, "larger than 5 MiB"),
        (["bank", "import", str(tmp_path / "none.xml"), "--format", "gift"], 2, "is not a file"),
        (["bank", "import", "--format", "gift"], 2, "needs the FILE"),
        (["bank", "import", str(bad), "--format", "gift", "--overwrite"], 2, "bank folders"),
        (["bank", "import", str(tmp_path), "--topic", "alpha"], 2, "--format moodle-xml|gift"),
        (["bank", "import", str(bad), "--format", "xls"], 2, "Invalid value"),
    ]
    for args, code, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)
    with app.app_context():
        assert state() == before


# --- with the readers and writers (quiz/exchange/moodle_xml.py, gift.py) -------------------

FORMATS = ["moodle-xml", "gift"]


def _format_module(fmt: str):
    return pytest.importorskip(f"quiz.exchange.{fmt.replace('-', '_')}",
                               reason=f"the {fmt} reader/writer is not merged yet")


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_refuses_a_malformed_file_and_writes_nothing(app, runner, tmp_path, fmt):
    _format_module(fmt)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\xff\xfe<quiz><question" if fmt == "moodle-xml" else b"\xff\xfe::x:: {")
    with app.app_context():
        before = state()
    result = runner.invoke(args=["bank", "import", str(bad), "--format", fmt])
    assert result.exit_code == 1 and "nothing imported" in result.output, result.output
    with app.app_context():
        assert state() == before


# --- the migration ------------------------------------------------------------------------------

def test_migration_e4b7c91d2a60_makes_the_source_optional_and_back(tmp_path):
    """Up to head with the bank and an imported draft; the way down is refused while a
    revision has no source, and works (keeping every revision) once it has one."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from quiz.bank import read_bank
    from quiz.bank.loader import load_bank

    from .test_setup import _fresh_app

    def source_nullable() -> bool:
        with db.engine.connect() as conn:
            return next(c["nullable"] for c in inspect(conn).get_columns("question_revision")
                        if c["name"] == "source_id")

    app = _fresh_app(tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        assert source_nullable()
        load_bank(read_bank(app.config["BANK_PATH"])[0])
        import_questions([single()], filename="f")
        db.session.commit()
        revisions = db.session.scalar(db.select(db.func.count()).select_from(QuestionRevision))
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
            downgrade(directory=directory, revision="9c5e2a7f1b38")
        db.session.remove()
        assert source_nullable()
        db.session.execute(db.update(QuestionRevision).values(source_id="soft-tissue")
                           .where(QuestionRevision.source_id.is_(None)))
        db.session.commit()
        db.session.remove()
        downgrade(directory=directory, revision="9c5e2a7f1b38")
        assert not source_nullable()
        upgrade(directory=directory)
        assert source_nullable()
        assert db.session.scalar(db.select(db.func.count()).select_from(QuestionRevision)) == revisions
        assert db.session.get(Question, "q-single").latest_revision.source_id == "soft-tissue"
        db.session.remove()


# --- the round trip of the shipped bank -------------------------------------------------------

def _snapshot(question: Question, rev: QuestionRevision, keep_pair_feedback: bool = True) -> dict:
    """Every field the exchange formats hold, with the entry ids (which they do not) left out."""
    data = rev.data
    out = {"type": rev.qtype, "topic": question.topic_id, "prompt": rev.prompt,
           "explanation": rev.explanation, "difficulty": rev.difficulty, "source": rev.source_id,
           "key_points": sorted(k.id for k in rev.key_points)}
    if "choices" in data:
        out["choices"] = [(c["text"], c["correct"], c["feedback"]) for c in data["choices"]]
    if "pairs" in data:
        options = {o["id"]: o["text"] for o in data["options"]}
        out["pairs"] = [(p["text"], options[p["match"]], p["feedback"] if keep_pair_feedback else "")
                        for p in data["pairs"]]
        used = {p["match"] for p in data["pairs"]}
        out["extra_options"] = [o["text"] for o in data["options"] if o["id"] not in used]
    if "steps" in data:
        out["steps"] = [(s["text"], s["feedback"]) for s in data["steps"]]
    return out


def _bank_without_questions(tmp_path):
    """The shipped bank's sections, key points and topics, and no question: the database a
    bank's own export is imported into. Not an empty one: a question's source section and key
    points are ids of rows of the bank (the formats carry the ids, not the article), so in an
    empty database they would point at nothing and be dropped for mapping, and the round trip
    could not show that they come back."""
    from quiz.bank import read_bank
    from quiz.bank.files import Bank
    from quiz.bank.loader import import_bank

    from .conftest import SHIPPED_BANK

    app = make_app(tmp_path, False)
    shipped, _ = read_bank(SHIPPED_BANK)
    with app.app_context():
        import_bank(Bank(sections=shipped.sections, key_points=shipped.key_points,
                         topics=shipped.topics))
        db.session.commit()
    return app


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_shipped_bank_comes_back_identical_through_each_format(tmp_path, fmt):
    _format_module(fmt)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    source = make_app(tmp_path / "a", None)
    out = tmp_path / f"bank.{fmt}"
    with source.app_context():
        questions = db.session.scalars(db.select(Question).where(
            Question.status == QuestionStatus.PUBLISHED).order_by(Question.position)).all()
        lost = {"ordering"} if fmt == "gift" else set()
        # Neither format has feedback per matching item (Moodle's subquestions have none).
        expected = {q.id: _snapshot(q, q.current_revision, keep_pair_feedback=False)
                    for q in questions if q.current_revision.qtype not in lost}
        left_out = sorted(q.id for q in questions if q.current_revision.qtype in lost)
        assert len(expected) >= 90  # the whole shipped bank (100 questions), less what GIFT lacks
        result = source.test_cli_runner().invoke(args=["bank", "export", "--format", fmt, str(out)])
        assert result.exit_code == 0, result.output
    _teardown(source)
    shown = sorted(line.split(": ")[1] for line in result.output.splitlines()
                   if line.startswith("left out: "))
    assert shown == left_out
    if fmt == "gift":
        assert left_out, "the shipped bank has ordering questions that GIFT cannot hold"

    target = _bank_without_questions(tmp_path / "b")
    try:
        result = target.test_cli_runner().invoke(args=["bank", "import", str(out), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "error:" not in result.output and "new topic:" not in result.output
        with target.app_context():
            imported = db.session.scalars(db.select(Question).order_by(Question.position)).all()
            assert [q.id for q in imported] == list(expected)
            for q in imported:
                assert q.status == QuestionStatus.DRAFT
                assert _snapshot(q, q.latest_revision) == expected[q.id], q.id
    finally:
        _teardown(target)


# --- Moodle's own fixtures (../shared/interop) -----------------------------------------------

def _interop() -> Path | None:
    for folder in (Path(__file__).resolve().parents[1] / ".." / "shared" / "interop",
                   Path("/work/shared/interop")):
        if folder.is_dir():
            return folder
    return None


def _fixture(name: str) -> Path:
    folder = _interop()
    if folder is None or not (folder / name).is_file():
        pytest.skip(f"Moodle's fixture {name} is not here: ../shared/interop is absent "
                    "(it is not shipped with the project)")
    return folder / name


def _imported(app) -> dict[str, tuple[str, str, str]]:
    """question id -> (type, topic title, origin_ref) of every imported question."""
    with app.app_context():
        rows = db.session.scalars(db.select(QuestionRevision).where(
            QuestionRevision.origin == RevisionOrigin.IMPORT)).all()
        return {r.question_id: (r.qtype, r.question.topic.title, r.origin_ref) for r in rows}


MOODLE_FIXTURES = {
    "moodle-gift-questions.gift.txt": (
        "gift",
        [("Q8", "essay"), ("Q5", "numerical"), ("Shortanswer", "shortanswer")],
        {"moodle-activities": "matching", "q2": "single", "colours": "multiple", "q1": "true_false",
         "2-08-tsl": "true_false", "2-08-tsl-2": "true_false"},
        {"Imported questions"}),
    "moodle-xml-matching.xml": (
        "moodle-xml", [], {"matching-001": "matching"}, {"Test questions"}),
    "moodle-xml-nested-categories.xml": (
        "moodle-xml", [("Kappa Essay Question", "essay")],
        {"iota-question": "true_false", "kappa-question": "true_false",
         "lambda-question": "true_false", "mu-question": "true_false"},
        {"Iota", "Kappa", "Lambda", "Mu"}),
    "moodle-xml-ordering.xml": ("moodle-xml", [], {"myid": "ordering"}, {"Imported questions"}),
}


@pytest.mark.parametrize("name", list(MOODLE_FIXTURES))
def test_each_moodle_fixture_imports_with_the_right_skips(app, runner, name):
    path = _fixture(name)
    fmt, skips, created, topics = MOODLE_FIXTURES[name]
    with app.app_context():
        before = state()
    plain = runner.invoke(args=["bank", "import", str(path), "--format", fmt])
    if skips:
        assert plain.exit_code == 1, plain.output
        for qname, qtype in skips:
            assert f"error: {qname}: type {qtype} is not supported here" in plain.output
        with app.app_context():
            assert state() == before
        dry = runner.invoke(args=["bank", "import", str(path), "--format", fmt,
                                  "--skip-unsupported", "--dry-run"])
        assert dry.exit_code == 0 and "Dry run, nothing written" in dry.output, dry.output
        with app.app_context():
            assert state() == before
        result = runner.invoke(args=["bank", "import", str(path), "--format", fmt,
                                     "--skip-unsupported"])
    else:
        result = plain
    assert result.exit_code == 0, result.output
    for qname, qtype in skips:
        assert f"skipped: {qname} ({qtype})" in result.output
    imported = _imported(app)
    assert {qid: t for qid, (t, _, _) in imported.items()} == created
    assert {title for _, title, _ in imported.values()} == topics
    assert {ref for _, _, ref in imported.values()} == {name}
    with app.app_context():
        for qid in created:
            q = db.session.get(Question, qid)
            assert q.status == QuestionStatus.DRAFT and q.current_revision_id is None
            with pytest.raises(StatusError):
                publish(q, None)  # no source section or key points in a Moodle file
        db.session.rollback()


def test_moodle_fixture_contents_arrive_as_the_bank_holds_them(app, runner):
    runner.invoke(args=["bank", "import", str(_fixture("moodle-gift-questions.gift.txt")),
                        "--format", "gift", "--skip-unsupported"])
    runner.invoke(args=["bank", "import", str(_fixture("moodle-xml-ordering.xml")),
                        "--format", "moodle-xml"])
    with app.app_context():
        colours = latest("colours").data["choices"]
        assert [(c["text"], c["correct"]) for c in colours] == [
            ("yellow", True), ("red", False), ("off-beige", True), ("blue", False)]
        assert colours[0]["feedback"] == "right; good!"
        q1 = latest("q1")
        assert [c["correct"] for c in q1.data["choices"]] == [False, True]
        assert q1.explanation == "This is, of course, a Hitchiker's Guide to the Galaxy reference."
        activities = latest("moodle-activities").data
        assert [o["text"] for o in activities["options"]] == ["Forum", "Choice", "Database", "Wiki",
                                                               "Chat"]
        assert len(activities["pairs"]) == 4
        steps = latest("myid").data["steps"]
        assert [s["text"] for s in steps] == ["Modular", "Object", "Oriented", "Dynamic", "Learning",
                                              "Environment"]
        assert steps[0]["feedback"] == "Modular is correct."


# --- the studio: upload, preview, confirm, download -------------------------------------------

GIFT_FILE = b"""$CATEGORY: $course$/Moodle/Trivia

::Capital:: Which is the capital of France? {=Paris # Right. ~Lyon # No. ~Nice # No.}

::Essay:: Tell us about your day. {}

::Colours:: Which colours lie between orange and blue? {~%50%yellow # yes ~%50%green # yes ~%-100%red # no}
"""


@pytest.fixture
def studio_client(app, tmp_path):
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    return flows.signed_in(app, "instructor", "ina@example.org")


def _upload(client, data: bytes = GIFT_FILE, fmt: str = "gift", name: str = "trivia.gift.txt",
            **fields):
    from io import BytesIO

    from werkzeug.test import EnvironBuilder
    form = {"format": fmt, "file": (BytesIO(data), name), **fields}
    builder = EnvironBuilder(path="/studio/import", method="POST", data=form,
                             content_type="multipart/form-data")
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        # The encoded body of a large file is a temporary file, which a refused request
        # leaves unread: close it here.
        environ["wsgi.input"].close()
        builder.close()


def _token(html: str) -> str:
    import re
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_the_upload_previews_writes_nothing_and_confirm_imports_once(app, studio_client, tmp_path):
    with app.app_context():
        before = state()
    page = studio_client.get("/studio/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.get_data(as_text=True)
    refused = _upload(studio_client)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "cannot be imported" in html and "<strong>Essay</strong>: type essay is not supported" in html
    assert 'name="token"' not in html
    preview = _upload(studio_client, skip_unsupported="y")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "Import 2 questions from trivia.gift.txt?" in html
    assert "<code>capital</code>" in html and "<code>colours</code>" in html
    assert "<strong>Essay</strong> (essay)" in html  # skipped
    assert "Trivia <code>trivia</code>" in html  # the new topic
    assert "wrong answers weighted -100%" in html  # the reader's warning
    with app.app_context():
        assert state() == before
    token = _token(html)
    done = studio_client.post("/studio/import/confirm", data={"token": token})
    assert done.status_code == 302 and "/studio/questions?status=draft" in done.headers["Location"]
    with app.app_context():
        after = state()
        assert after[0] == before[0] + 2 and after[2] == before[2] + 1
        q = db.session.get(Question, "capital")
        assert q.status == QuestionStatus.DRAFT and q.topic.title == "Trivia"
        assert q.latest_revision.origin_ref == "trivia.gift.txt"
        assert q.latest_revision.author.email == "ina@example.org"
    again = studio_client.post("/studio/import/confirm", data={"token": token})
    assert again.status_code == 409 and "already imported" in again.get_data(as_text=True)
    with app.app_context():
        assert state() == after
    assert list((tmp_path / "imports").iterdir()) == []


def test_someone_elses_or_a_made_up_token_imports_nothing(app, studio_client):
    token = _token(_upload(studio_client, skip_unsupported="y").get_data(as_text=True))
    other = flows.signed_in(app, "admin", "adam@example.org")
    with app.app_context():
        before = state()
    for client, value in ((other, token), (studio_client, "x" * 32), (studio_client, "../etc/passwd"),
                          (studio_client, "")):
        response = client.post("/studio/import/confirm", data={"token": value})
        assert response.status_code == 409, value
    with app.app_context():
        assert state() == before
    assert studio_client.post("/studio/import/confirm", data={"token": token}).status_code == 302


@pytest.mark.parametrize("fields, status, message", [
    ({"fmt": "xls"}, 400, "Choose the file&#39;s format"),
    ({"name": ""}, 400, "Choose a file to import."),
    ({"data": b"<quiz><question type='truefalse'>", "fmt": "moodle-xml", "name": "x.xml"}, 400,
     "x.xml could not be read as Moodle XML:"),
    ({"data": b"\xff\xfe\x00bad"}, 400, "could not be read as GIFT"),
    ({"data": b"::Broken:: Is it? {=yes ~no"}, 400, "could not be read as GIFT"),
    ({"topic": "nope"}, 400, "That topic does not exist"),
    ({"data": b" " * (MAX_FILE_BYTES + 1)}, 413, "larger than 5 MiB"),
    ({"data": b" " * (MAX_FILE_BYTES + 100 * 1024)}, 413, "larger than 5 MiB"),
], ids=["format", "no file", "malformed xml", "not utf-8", "broken gift", "topic", "over the file limit",
        "over the body limit"])
def test_bad_uploads_are_refused_with_a_message_and_write_nothing(app, studio_client, tmp_path,
                                                                  fields, status, message):
    with app.app_context():
        before = state()
    kwargs = {"data": fields.get("data", GIFT_FILE), "fmt": fields.get("fmt", "gift"),
              "name": fields.get("name", "f.gift")}
    extra = {"topic": fields["topic"]} if "topic" in fields else {}
    response = _upload(studio_client, **kwargs, **extra)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:2000]
    assert message in html, html[:3000]
    with app.app_context():
        assert state() == before
    assert not (tmp_path / "imports").exists() or list((tmp_path / "imports").iterdir()) == []


def test_a_learner_may_not_send_a_large_body(app):
    learner = flows.signed_in(app, "learner", "lee@example.org")
    response = _upload(learner, b" " * 300 * 1024)
    assert response.status_code == 413  # the ordinary limit: the upload limit is for bank editors
    assert 'name="file"' not in response.get_data(as_text=True)  # nor is the form shown


def test_the_import_form_needs_its_csrf_token(csrf_app, tmp_path):
    csrf_app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    client = flows.signed_in(csrf_app, "instructor", "ina@example.org")
    assert _upload(client).status_code == 400
    assert client.post("/studio/import/confirm", data={"token": "x" * 32}).status_code == 400


def test_a_confirm_refused_because_the_bank_changed_writes_nothing(app, studio_client):
    token = _token(_upload(studio_client, skip_unsupported="y", topic="beta").get_data(as_text=True))
    with app.app_context():
        db.session.execute(db.update(Question).where(Question.topic_id == "beta")
                           .values(topic_id="alpha"))
        db.session.execute(db.delete(QuestionSet).where(QuestionSet.topic_id == "beta"))
        db.session.execute(db.update(QuestionSet).values(draw_topics=None))
        db.session.execute(db.delete(Topic).where(Topic.id == "beta"))
        db.session.commit()
        before = state()
    response = studio_client.post("/studio/import/confirm", data={"token": token})
    assert response.status_code == 409
    assert "there is no topic" in response.get_data(as_text=True)
    with app.app_context():
        assert state() == before


@pytest.mark.parametrize("fmt, disposition, media", [
    ("moodle-xml", 'attachment; filename="iastm-bank.xml"', "application/xml"),
    ("gift", 'attachment; filename="iastm-bank.gift.txt"', "text/plain; charset=utf-8"),
])
def test_the_bank_downloads_as_moodle_xml_and_gift(app, studio_client, fmt, disposition, media):
    module = _format_module(fmt)
    response = studio_client.get(f"/studio/export?format={fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == disposition
    assert response.headers["Content-Type"] == media
    read = module.read(response.data)
    with app.app_context():
        expected = [x.bank_id for x in to_exchange() if not (fmt == "gift" and x.qtype == "ordering")]
    assert [x.bank_id for x in read] == expected and expected
    for page in ("/studio/", "/studio/questions"):
        assert f"/studio/export?format={fmt}" in studio_client.get(page).get_data(as_text=True)


def test_a_download_in_an_unknown_format_is_a_400(studio_client):
    for query in ("", "?format=json", "?format=moodle-xml%00"):
        assert studio_client.get(f"/studio/export{query}").status_code == 400


@pytest.mark.parametrize("url", ["/studio/export?format=moodle-xml", "/studio/export?format=gift",
                                 "/studio/import"])
def test_exchange_pages_cost_the_same_for_a_small_and_a_large_bank(tmp_path, url):
    counts = []
    for name, bank in (("small", bankgen.write_bank(tmp_path / "bank")), ("large", None)):
        (tmp_path / name).mkdir()
        app = make_app(tmp_path / name, bank)  # the small generated bank, or the shipped one
        try:
            client = flows.signed_in(app, "instructor", "ina@example.org")
            client.get(url)  # warm up (the signed-in user's first lookups)
            counts.append(statements(app, client, url))
        finally:
            _teardown(app)
    assert counts[0] == counts[1], counts


def test_the_import_preview_costs_the_same_for_a_short_and_a_long_file(app, studio_client):
    from sqlalchemy import event

    from .conftest import QueryCounter

    def gift(n: int) -> bytes:
        return "\n\n".join(f"::Q{i}:: Question number {i}? {{=right # yes ~wrong # no}}"
                           for i in range(n)).encode()

    counts = []
    for n in (2, 60):
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            response = _upload(studio_client, gift(n))
        finally:
            event.remove(engine, "before_cursor_execute", counter)
        assert response.status_code == 200 and f"Import {n} questions" in response.get_data(as_text=True)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
