"""Moodle XML reader and writer (quiz/exchange/moodle_xml.py): the project's own fixtures,
written here in our own words about IASTM, a write-then-read round trip of every supported
type, and the real files from Moodle's test suite in ../shared/interop (never copied here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring

from quiz.bank.files import read_bank
from quiz.exchange import moodle_xml
from quiz.exchange.model import MAX_FILE_BYTES, ExchangeError, ExchangeQuestion, XChoice, XPair
from quiz.rendering import render_markdown

REPO = Path(__file__).resolve().parents[1]


def quiz(*parts: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "\n".join(parts) + "\n</quiz>\n").encode()


def category(path: str) -> str:
    return f'<question type="category"><category><text>{path}</text></category></question>'


def text(tag: str, body: str, fmt: str = "html") -> str:
    return f'<{tag} format="{fmt}"><text><![CDATA[{body}]]></text></{tag}>'


def answer(fraction: str, body: str, feedback: str = "", fmt: str = "html") -> str:
    fb = text("feedback", feedback) if feedback else ""
    return f'<answer fraction="{fraction}" format="{fmt}"><text><![CDATA[{body}]]></text>{fb}</answer>'


SHUFFLED = "<shuffleanswers>1</shuffleanswers>"


def multichoice(name: str, single: str, answers: list[str], extra: str = "",
                prompt: str = "<p>Which reaction is normal right after IASTM?</p>",
                shuffle: str = SHUFFLED) -> str:
    return (f'<question type="multichoice"><name><text>{name}</text></name>'
            f'{text("questiontext", prompt)}{text("generalfeedback", "")}'
            f"<single>{single}</single>{shuffle}{extra}{''.join(answers)}</question>")


def one(data: bytes) -> ExchangeQuestion:
    questions = moodle_xml.read(data)
    assert len(questions) == 1
    return questions[0]


# --- multiple choice ---------------------------------------------------------------------------

def test_single_choice_keeps_texts_fractions_feedback_and_explanation():
    data = quiz(category("$course$/Reactions"), (
        '<question type="multichoice"><name><text>After the session</text></name>'
        + text("questiontext", "<p>What may a patient see <strong>straight after</strong> IASTM?</p>")
        + text("generalfeedback", "<p>Temporary redness is normal and closely monitored.</p>")
        + "<single>true</single>" + SHUFFLED
        + answer("100", "<p>Temporary redness</p>", "<p>Right: it passes.</p>")
        + answer("0", "Permanent scarring", "The article calls the reactions <em>temporary</em>.")
        + "</question>"))
    q = one(data)
    assert (q.name, q.qtype, q.supported, q.category) == ("After the session", "single", True, ["Reactions"])
    assert q.prompt == "What may a patient see **straight after** IASTM?"
    assert q.explanation == "Temporary redness is normal and closely monitored."
    assert q.choices == [XChoice("Temporary redness", 1.0, "Right: it passes."),
                         XChoice("Permanent scarring", 0.0, "The article calls the reactions *temporary*.")]
    assert q.warnings == []


@pytest.mark.parametrize("single", ["true", "1"])
def test_single_spellings(single):
    q = one(quiz(multichoice("q", single, [answer("100", "Redness"), answer("0", "Rash")])))
    assert q.qtype == "single"


@pytest.mark.parametrize("single", ["false", "0"])
def test_multiple_with_equal_shares_and_matching_penalties_is_exact(single):
    q = one(quiz(multichoice("Normal reactions", single, [
        answer("33.33333", "Redness"), answer("33.33333", "Heat"), answer("33.33333", "Bruising"),
        answer("-33.33333", "Numbness")])))
    assert q.qtype == "multiple"
    assert [c.fraction for c in q.choices] == [1 / 3, 1 / 3, 1 / 3, -1 / 3]  # snapped to thirds
    assert [moodle_xml.is_correct("multiple", c.fraction) for c in q.choices] == [True, True, True, False]
    assert q.warnings == []


def test_multiple_with_unequal_weights_and_free_wrong_answers_is_reported():
    q = one(quiz(multichoice("Weighted", "false", [
        answer("70", "Redness"), answer("30", "Heat"), answer("0", "Numbness"), answer("-100", "Rash")])))
    assert [c.fraction for c in q.choices] == [0.7, 0.3, 0.0, -1.0]
    assert len(q.warnings) == 2
    assert "correct answers weigh 70%, 30%" in q.warnings[0] and "equal share (50%)" in q.warnings[0]
    assert "wrong answers weigh -100%, 0%" in q.warnings[1]


def test_multiple_with_no_positive_answer_is_reported():
    q = one(quiz(multichoice("None right", "false", [answer("0", "Redness"), answer("-50", "Rash")])))
    assert q.warnings == ["no answer is worth more than 0%, so there is no correct choice "
                          "(the app needs at least one)"]


def test_single_with_partial_and_negative_answers_is_reported():
    q = one(quiz(multichoice("Partial", "true", [
        answer("100", "Temporary redness"), answer("50", "Some heat"), answer("-25", "Scarring")])))
    assert [c.fraction for c in q.choices] == [1.0, 0.5, -0.25]
    assert [moodle_xml.is_correct("single", c.fraction) for c in q.choices] == [True, False, False]
    assert len(q.warnings) == 2
    assert "'Some heat' is worth 50%" in q.warnings[0] and "counts as wrong" in q.warnings[0]
    assert "'Scarring' is worth -25%" in q.warnings[1]


def test_single_with_no_full_answer_or_two_full_answers_is_reported():
    none = one(quiz(multichoice("No key", "true", [answer("90", "Redness"), answer("0", "Rash")])))
    assert "no answer is worth 100%" in none.warnings[0]
    two = one(quiz(multichoice("Two keys", "true", [answer("100", "Redness"), answer("100", "Heat")])))
    assert two.warnings == ["2 answers are worth 100% (the app needs exactly one correct choice)"]


def test_blank_answers_are_dropped_as_moodle_does():
    q = one(quiz(multichoice("Blanks", "true", [answer("100", "Redness"), answer("0", ""),
                                                answer("0", "  "), answer("0", "Rash")])))
    assert [c.text for c in q.choices] == ["Redness", "Rash"]
    o = one(quiz(ordering([answer("1", "Evaluate"), answer("2", ""), answer("3", "Treat")])))
    assert o.steps == ["Evaluate", "Treat"]


def test_a_fraction_that_is_no_number_is_refused_with_the_question_name():
    with pytest.raises(ExchangeError, match=r"question 'Broken': answer fraction 'lots' is not a number"):
        moodle_xml.read(quiz(multichoice("Broken", "true", [answer("lots", "Redness")])))


# --- text formats ------------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "body", "expected"), [
    ("html", "<p>Redness is <b>normal</b></p><script>alert(1)</script>", "Redness is **normal**"),
    ("plain_text", "Redness (temporary) & *heat*", r"Redness \(temporary\) \& \*heat\*"),
    ("markdown", "Redness is *temporary*.", "Redness is *temporary*."),
    ("moodle_auto_format", "Redness passes.\n\nThe therapist watches it.",
     "Redness passes.\n\nThe therapist watches it."),
])
def test_each_text_format_becomes_the_banks_markdown(fmt, body, expected):
    q = one(quiz('<question type="multichoice"><name><text>f</text></name>'
                 + text("questiontext", body, fmt) + "<single>true</single>"
                 + answer("100", body, fmt=fmt) + answer("0", "Rash") + "</question>"))
    assert q.prompt == expected
    assert q.choices[0].text == expected


def test_plain_text_shows_exactly_as_written():
    q = one(quiz('<question type="multichoice"><name><text>f</text></name>'
                 + text("questiontext", "Fish &amp; chips <b>1.</b> _x_", "plain_text")
                 + "<single>true</single>" + answer("100", "a") + "</question>"))
    assert str(render_markdown(q.prompt)).strip() == "<p>Fish &amp;amp; chips &lt;b&gt;1.&lt;/b&gt; _x_</p>"


def test_an_unknown_text_format_is_read_as_plain_and_reported():
    q = one(quiz('<question type="multichoice"><name><text>f</text></name>'
                 + text("questiontext", "Redness *passes*", "wiki_like")
                 + "<single>true</single>" + SHUFFLED + answer("100", "a", fmt="wiki_like")
                 + answer("0", "b", fmt="wiki_like") + "</question>"))
    assert q.prompt == r"Redness \*passes\*"
    assert q.warnings == ["text format 'wiki_like' is unknown here: read as plain text"]


# --- true/false, matching, ordering -------------------------------------------------------------

def truefalse(name: str, true_fraction: str, false_fraction: str, first: str = "true") -> str:
    answers = {"true": answer(true_fraction, "true", "Why true.", "moodle_auto_format"),
               "false": answer(false_fraction, "false", "Why false.", "moodle_auto_format")}
    second = "false" if first == "true" else "true"
    return (f'<question type="truefalse"><name><text>{name}</text></name>'
            + text("questiontext", "<p>Bruising can be normal after IASTM.</p>")
            + answers[first] + answers[second] + "</question>")


def test_true_false_gives_true_then_false_with_their_fractions_and_feedback():
    for first in ("true", "false"):
        q = one(quiz(truefalse("Bruising", "100", "0", first)))
        assert q.qtype == "true_false" and q.prompt == "Bruising can be normal after IASTM."
        assert q.choices == [XChoice("True", 1.0, "Why true."), XChoice("False", 0.0, "Why false.")]
        assert q.warnings == []


def test_true_false_without_one_full_answer_is_reported():
    q = one(quiz(truefalse("Neither", "0", "0")))
    assert q.warnings == ["the answers are worth True 0%, False 0%: the app needs one right (100%) "
                          "and one wrong (0%)"]


def test_matching_pairs_and_distractors():
    q = one(quiz(
        '<question type="matching"><name><text>Soft tissue</text></name>'
        + text("questiontext", "<p>Match each structure.</p>")
        + "<shuffleanswers>true</shuffleanswers>"
        + '<subquestion format="html"><text><![CDATA[<p>Fascia</p>]]></text>'
          "<answer><text>Soft tissue</text></answer></subquestion>"
        + '<subquestion format="plain_text"><text>Tendons (all)</text>'
          "<answer><text>Soft tissue</text></answer></subquestion>"
        + '<subquestion format="html"><text>Stainless steel</text>'
          "<answer><text><![CDATA[A <em>tool</em> material]]></text></answer></subquestion>"
        + '<subquestion format="html"><text></text><answer><text>A bone</text></answer></subquestion>'
        + '<subquestion format="html"><text></text><answer><text>Soft tissue</text></answer></subquestion>'
        + "</question>"))
    assert q.qtype == "matching" and q.prompt == "Match each structure."
    assert q.pairs == [XPair("Fascia", "Soft tissue"), XPair(r"Tendons \(all\)", "Soft tissue"),
                       XPair("Stainless steel", "A *tool* material")]
    assert q.extra_options == ["A bone"]  # the repeated "Soft tissue" is no extra option
    assert q.warnings == []


def ordering(answers: list[str], extra: str = "") -> str:
    return ('<question type="ordering"><name><text>A first visit</text></name>'
            + text("questiontext", "Put the steps in order.")
            + text("questiontext", "A second copy of the text.")
            + "<selecttype>ALL</selecttype><gradingtype>LONGEST_ORDERED_SUBSET</gradingtype>"
            + extra + "".join(answers) + "</question>")


def test_ordering_steps_follow_the_fractions_and_the_first_question_text():
    q = one(quiz(ordering([answer("2.0000000", "Treatment with the tool", "Second."),
                           answer("1.0000000", "Evaluation at the first visit", "First."),
                           answer("3.0000000", "Watching the reactions", "Third.")])))
    assert q.qtype == "ordering" and q.prompt == "Put the steps in order."
    assert q.steps == ["Evaluation at the first visit", "Treatment with the tool", "Watching the reactions"]
    assert q.step_feedback == ["First.", "Second.", "Third."]
    assert q.warnings == ["the answers are not listed in their right order: the order given by "
                          "their fractions (positions) was used"]


def test_ordering_in_order_without_feedback_has_no_step_feedback_and_no_warning():
    q = one(quiz(ordering([answer("1", "Evaluate"), answer("2", "Treat"), answer("3", "Monitor")])))
    assert q.steps == ["Evaluate", "Treat", "Monitor"] and q.step_feedback == [] and q.warnings == []


def test_ordering_that_shows_a_subset_or_grades_otherwise_is_reported():
    q = one(quiz(ordering([answer(str(i), f"Step {i}") for i in range(1, 5)],
                          extra="<selectcount>3</selectcount>").replace("ALL", "RANDOM")
                 .replace("LONGEST_ORDERED_SUBSET", "ABSOLUTE_POSITION")))
    assert q.warnings == ["Moodle shows 3 of the 4 items, drawn at random; the app always asks for all "
                          "of them",
                          "Moodle grades this ordering by ABSOLUTE_POSITION; the app scores the longest "
                          "run of steps in the right order"]


# --- categories, unsupported types, own fields, lost settings -----------------------------------

def test_categories_apply_to_the_questions_after_them():
    single = multichoice("{}", "true", [answer("100", "a"), answer("0", "b")])
    data = quiz(single.format("before"), category("$course$/Reactions/After a session"),
                single.format("nested"), category("$system$/top/Tools//Materials"), single.format("slash"),
                category("$course$"), single.format("top"),
                '<question type="category"><category>$module$/Old style</category></question>',
                single.format("old"))
    got = {q.name: q.category for q in moodle_xml.read(data)}
    assert got == {"before": [], "nested": ["Reactions", "After a session"], "slash": ["Tools/Materials"],
                   "top": [], "old": ["Old style"]}


UNSUPPORTED = ["essay", "shortanswer", "numerical", "cloze", "description", "calculated",
               "calculatedmulti", "ddwtos", "gapselect", "random", "multianswer"]


def test_other_types_are_listed_by_name_and_type():
    parts = [category("$course$/Other")]
    parts += [f'<question type="{t}"><name><text>A {t} question</text></name>'
              + text("questiontext", "Describe the reactions.") + "</question>" for t in UNSUPPORTED]
    questions = moodle_xml.read(quiz(*parts))
    assert [(q.name, q.qtype, q.supported, q.category) for q in questions] == [
        (f"A {t} question", t, False, ["Other"]) for t in UNSUPPORTED]
    assert all(q.prompt == "" and q.choices == [] for q in questions)


def test_a_question_without_a_type_is_listed_as_unknown():
    (q,) = moodle_xml.read(quiz("<question><name><text>Untyped</text></name></question>"))
    assert (q.name, q.qtype, q.supported) == ("Untyped", "unknown", False)


def test_own_fields_come_back_from_idnumber_and_tags():
    q = one(quiz(multichoice("Own", "true", [answer("100", "a"), answer("0", "b")], extra=(
        "<idnumber>reactions-001</idnumber><tags>"
        "<tag><text>iastm:source=what-to-expect</text></tag>"
        "<tag><text>iastm:key_point=kp-reactions-normal</text></tag>"
        "<tag><text>iastm:key_point=kp-soreness-possible</text></tag>"
        "<tag><text>iastm:difficulty=hard</text></tag>"
        "<tag><text>unrelated tag</text></tag></tags>"))))
    assert (q.bank_id, q.source_id, q.difficulty) == ("reactions-001", "what-to-expect", "hard")
    assert q.key_point_ids == ["kp-reactions-normal", "kp-soreness-possible"]
    assert q.warnings == []


def test_without_own_fields_they_stay_empty_and_a_bad_difficulty_is_reported():
    q = one(quiz(multichoice("Plain", "true", [answer("100", "a")], extra=(
        "<idnumber></idnumber><tags><tag><text>iastm:difficulty=extreme</text></tag></tags>"))))
    assert (q.bank_id, q.source_id, q.difficulty, q.key_point_ids) == (None, None, None, [])
    assert q.warnings == ["difficulty 'extreme' is not easy, medium or hard: left unset"]


def test_moodle_defaults_are_not_reported():
    q = one(quiz(multichoice("Defaults", "true", [answer("100", "a"), answer("0", "b")], shuffle="", extra=(
        "<defaultgrade>1.0000000</defaultgrade><penalty>0.33</penalty>"
        "<shuffleanswers>1</shuffleanswers><answernumbering>abc</answernumbering>"
        + text("correctfeedback", "<p>Your answer is correct.</p>")
        + text("partiallycorrectfeedback", "Your answer is partially correct.")
        + text("incorrectfeedback", "") + '<hint format="html"><text></text></hint>'))))
    assert q.warnings == []


def test_settings_the_bank_does_not_hold_are_reported():
    q = one(quiz(multichoice("Settings", "true", [answer("100", "a"), answer("0", "b")], shuffle="", extra=(
        "<defaultgrade>2</defaultgrade><penalty>0.5</penalty>"
        "<shuffleanswers>0</shuffleanswers><answernumbering>ABCD</answernumbering>"
        + text("correctfeedback", "Well done.") + text("incorrectfeedback", "Read the section again.")
        + '<hint format="html"><text>Think of redness.</text></hint>'
        + '<hint format="html"><text>Think of heat.</text></hint>'))))
    assert q.warnings == [
        "answer numbering 'abcd' is not shown: the app does not number choices",
        "default mark 2: every question is worth 1 in the app",
        "penalty 0.5 for each try: the app has one try per attempt and no penalty",
        "the file keeps the answers in a fixed order: the app shuffles them",
        "the feedback for a correct, incorrect response is dropped: the app shows each choice's "
        "feedback and the explanation",
        "2 hints dropped: the app has no hints",
    ]


def test_a_multiple_choice_without_shuffleanswers_keeps_its_order_in_moodle():
    q = one(quiz(multichoice("Fixed", "true", [answer("100", "a"), answer("0", "b")], shuffle="")))
    assert q.warnings == ["the file keeps the answers in a fixed order: the app shuffles them"]
    m = one(quiz('<question type="matching"><name><text>m</text></name>'
                 '<subquestion><text>Fascia</text><answer><text>Soft tissue</text></answer></subquestion>'
                 "</question>"))
    assert m.warnings == []  # a matching question shuffles unless it says otherwise


def test_texts_without_a_format_take_the_question_texts():
    q = one(quiz('<question type="multichoice"><name><text>f</text></name>'
                 '<questiontext format="plain_text"><text>Redness (normal)</text></questiontext>'
                 "<generalfeedback><text>It passes.</text></generalfeedback><single>true</single>" + SHUFFLED
                 + '<answer fraction="100"><text>Heat (normal)</text>'
                 "<feedback><text>A *normal* reaction.</text></feedback></answer></question>"))
    assert q.prompt == r"Redness \(normal\)" and q.explanation == r"It passes\."
    assert q.choices == [XChoice(r"Heat \(normal\)", 1.0, r"A \*normal\* reaction\.")]


def test_a_true_false_penalty_of_one_is_moodles_default():
    q = one(quiz(truefalse("tf", "100", "0").replace("</name>", "</name><penalty>1.0000000</penalty>")))
    assert q.warnings == []


def test_a_question_without_a_name_is_named_from_its_text():
    q = one(quiz(multichoice("", "true", [answer("100", "a")],
                             prompt="<p>Which reaction is <em>normal</em> right after IASTM?</p>")))
    assert q.name == "Which reaction is normal right after IASTM?"


# --- files that cannot be read -------------------------------------------------------------------

def test_malformed_xml_is_refused_with_its_line():
    data = b'<?xml version="1.0"?>\n<quiz>\n  <question type="truefalse">\n    <name></nam>\n</quiz>'
    with pytest.raises(ExchangeError, match=r"not well-formed XML: mismatched tag at line 4"):
        moodle_xml.read(data)


@pytest.mark.parametrize("data", [b"", b"GIFT ::q:: Is redness normal? {T}", b"\xff\xfe\x00garbage"])
def test_non_xml_is_refused(data):
    with pytest.raises(ExchangeError, match="not well-formed XML"):
        moodle_xml.read(data)


@pytest.mark.parametrize("root", ["html", "questions", "QUIZ"])
def test_a_root_other_than_quiz_or_question_is_refused(root):
    with pytest.raises(ExchangeError, match=rf"the root element is <{root}>, expected <quiz>"):
        moodle_xml.read(f"<{root}><question type='truefalse'/></{root}>".encode())


def test_a_bare_question_root_is_read():
    q = one(truefalse("Bare", "100", "0").encode())
    assert q.qtype == "true_false" and q.name == "Bare"


def test_oversized_input_is_refused_before_parsing():
    data = quiz(truefalse("big", "100", "0")) + b" " * (MAX_FILE_BYTES + 1)
    with pytest.raises(ExchangeError, match="the largest accepted is 5,242,880 bytes"):
        moodle_xml.read(data)
    moodle_xml.read(quiz(truefalse("fits", "100", "0")).ljust(MAX_FILE_BYTES, b" "))  # at the limit: read


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<quiz><question type="essay"><name><text>&lol4;</text></name></question></quiz>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="essay"><name><text>&secret;</text></name></question></quiz>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE quiz SYSTEM "http://example.invalid/quiz.dtd">
<quiz><question type="essay"><name><text>x</text></name></question></quiz>"""


@pytest.mark.parametrize(("data", "message"), [
    (BILLION_LAUGHS, "has a document type declaration"),
    (EXTERNAL_ENTITY, "has a document type declaration"),
    (EXTERNAL_DTD, "has a document type declaration"),
])
def test_entities_and_external_references_are_refused(data, message):
    with pytest.raises(ExchangeError, match=message) as caught:
        moodle_xml.read(data)
    assert "root:" not in str(caught.value)  # nothing of the referenced file shows


# --- writing -------------------------------------------------------------------------------------

def sample_questions() -> list[ExchangeQuestion]:
    """One question of each supported type, every field the format holds filled in."""
    own = {"source_id": "what-to-expect", "difficulty": "medium"}
    return [
        ExchangeQuestion(
            name="Normal straight after", qtype="single", supported=True,
            prompt="Which may a patient see **straight after** an IASTM session?",
            explanation="Temporary redness is normal, and the therapist watches it closely.",
            category=["Reactions", "After a session"],
            choices=[XChoice("Temporary redness", 1.0, "Right: it passes."),
                     XChoice("A spreading rash", 0.0, "Not among the normal reactions & not covered.")],
            bank_id="reactions-001", key_point_ids=["kp-reactions-normal"], **own),
        ExchangeQuestion(
            name="Possible reactions", qtype="multiple", supported=True,
            prompt="Which reactions may follow a session? Select all that apply.",
            explanation="- Redness\n- Heat\n- Sometimes bruising",
            category=["Reactions", "After a session"],
            choices=[XChoice("Redness", 1 / 3, "Correct."), XChoice("Heat", 1 / 3, "Correct."),
                     XChoice("Bruising in some cases", 1 / 3, "Correct."),
                     XChoice("Numbness", -1 / 3, "Not in the article.")],
            bank_id="reactions-002", key_point_ids=["kp-reactions-normal", "kp-soreness-possible"],
            source_id="what-to-expect", difficulty="easy"),
        ExchangeQuestion(
            name="Primary treatment", qtype="true_false", supported=True,
            prompt="IASTM is the primary treatment in a plan of care.",
            explanation="The article calls it *one technique* among others.", category=["Plan of care"],
            choices=[XChoice("True", 0.0, "Not so."), XChoice("False", 1.0, "Right.")],
            bank_id="plan-001", key_point_ids=["kp-not-primary"], source_id="what-to-expect",
            difficulty="hard"),
        ExchangeQuestion(
            name="What soft tissue is", qtype="matching", supported=True,
            prompt="Match each structure with what the article says about it.",
            explanation="Fascia, muscles, tendons and ligaments are soft tissue.", category=["Basics"],
            pairs=[XPair("Fascia", "Soft tissue"), XPair("Tendons", "Soft tissue"),
                   XPair("Stainless steel", "A *tool* material (one of several)")],
            extra_options=["Not named in the article"], bank_id="basics-004",
            key_point_ids=["kp-soft-tissue"], source_id="soft-tissue", difficulty="medium"),
        ExchangeQuestion(
            name="A first course of care", qtype="ordering", supported=True,
            prompt="Put these in the order the article describes.",
            explanation="Evaluation comes first; reactions are watched afterwards.",
            category=["Plan of care"],
            steps=["Evaluation at the first visit", "Treatment with the tool", "Watching the reactions"],
            step_feedback=["First.", "Then.", "Afterwards."], bank_id="plan-002",
            key_point_ids=["kp-evaluation-first"], source_id="what-to-expect", difficulty="medium"),
    ]


def test_write_then_read_gives_back_every_supported_type():
    questions = sample_questions()
    assert moodle_xml.read(moodle_xml.write(questions)) == questions


def test_the_written_file_is_the_moodle_xml_moodle_imports():
    root = fromstring(moodle_xml.write(sample_questions()))
    assert root.tag == "quiz"
    elements = list(root)
    assert [(e.get("type"), e.findtext("category/text")) for e in elements] == [
        ("category", "$course$/Reactions/After a session"), ("multichoice", None), ("multichoice", None),
        ("category", "$course$/Plan of care"), ("truefalse", None),
        ("category", "$course$/Basics"), ("matching", None),
        ("category", "$course$/Plan of care"), ("ordering", None)]
    single, multiple, truefalse, matching, ordering = (e for e in elements if e.get("type") != "category")
    for q in (single, multiple, truefalse, matching, ordering):
        assert q.find("questiontext").get("format") == "html"
        assert q.findtext("defaultgrade") == "1"
        assert q.findtext("penalty") == ("1" if q is truefalse else "0.3333333")
    assert single.findtext("questiontext/text") == (
        "<p>Which may a patient see <strong>straight after</strong> an IASTM session?</p>")
    assert (single.findtext("single"), multiple.findtext("single")) == ("true", "false")
    assert single.findtext("shuffleanswers") == "1" and matching.findtext("shuffleanswers") == "1"
    assert [a.get("fraction") for a in single.findall("answer")] == ["100", "0"]
    assert [a.get("fraction") for a in multiple.findall("answer")] == ["33.33333"] * 3 + ["-33.33333"]
    assert single.findall("answer")[1].findtext("feedback/text") == (
        "<p>Not among the normal reactions &amp; not covered.</p>")
    assert b"<text><![CDATA[<p>Which may a patient see <strong>straight after</strong>" in (
        moodle_xml.write(sample_questions()))
    assert [(a.findtext("text"), a.get("fraction")) for a in truefalse.findall("answer")] == [
        ("true", "0"), ("false", "100")]
    assert [(s.findtext("text"), s.findtext("answer/text")) for s in matching.findall("subquestion")] == [
        ("<p>Fascia</p>", "Soft tissue"), ("<p>Tendons</p>", "Soft tissue"),
        ("<p>Stainless steel</p>", "A <em>tool</em> material (one of several)"),
        ("", "Not named in the article")]
    assert [(a.get("fraction"), a.findtext("text")) for a in ordering.findall("answer")] == [
        ("1", "<p>Evaluation at the first visit</p>"), ("2", "<p>Treatment with the tool</p>"),
        ("3", "<p>Watching the reactions</p>")]
    assert (ordering.findtext("selecttype"), ordering.findtext("selectcount")) == ("ALL", "3")
    assert single.findtext("idnumber") == "reactions-001"
    assert [t.findtext("text") for t in multiple.findall("tags/tag")] == [
        "iastm:source=what-to-expect", "iastm:key_point=kp-reactions-normal",
        "iastm:key_point=kp-soreness-possible", "iastm:difficulty=easy"]


@pytest.mark.parametrize(("fraction", "percent"), [
    (1.0, "100"), (0.0, "0"), (0.5, "50"), (1 / 3, "33.33333"), (-1.0, "-100"), (1 / 7, "14.28571"),
    (-0.0, "0"), (2 / 3, "66.66667")])
def test_fractions_are_written_as_moodle_percents(fraction, percent):
    q = ExchangeQuestion(name="w", qtype="multiple", supported=True, prompt="p",
                         choices=[XChoice("a", fraction), XChoice("b", 1.0)])
    root = fromstring(moodle_xml.write([q]))
    assert root.find("question/answer").get("fraction") == percent
    assert moodle_xml.read(moodle_xml.write([q]))[0].choices[0].fraction == pytest.approx(fraction, abs=1e-9)


def test_unsupported_questions_are_not_written_and_an_empty_category_is_the_course():
    questions = [ExchangeQuestion(name="An essay", qtype="essay", supported=False, category=["X"]),
                 *sample_questions()[:1],
                 ExchangeQuestion(name="No topic", qtype="single", supported=True, prompt="p",
                                  choices=[XChoice("a", 1.0), XChoice("b", 0.0)])]
    data = moodle_xml.write(questions)
    assert b"An essay" not in data and b"$course$/X" not in data
    assert data.count(b'<question type="category">') == 2 and b"<text>$course$/top</text>" in data
    back = moodle_xml.read(data)
    assert [(q.name, q.category) for q in back] == [
        ("Normal straight after", ["Reactions", "After a session"]), ("No topic", [])]


def test_a_slash_in_a_category_name_is_doubled_and_read_back():
    q = ExchangeQuestion(name="s", qtype="single", supported=True, prompt="p",
                         category=["Tools/Materials", "B"], choices=[XChoice("a", 1.0), XChoice("b", 0.0)])
    data = moodle_xml.write([q])
    assert b"<text>$course$/Tools//Materials/B</text>" in data
    assert moodle_xml.read(data)[0].category == ["Tools/Materials", "B"]


def test_markup_characters_in_names_and_texts_survive():
    q = ExchangeQuestion(name='Heat <b> & "redness"', qtype="single", supported=True,
                         prompt="Is `<script>` & *heat* shown as text?", explanation="Yes: 1 < 2 & 3 > 2.",
                         choices=[XChoice("A & B", 1.0, "<not a tag>"), XChoice("C", 0.0)])
    data = moodle_xml.write([q])
    assert b"<![CDATA[Heat <b> & \"redness\"]]>" in data  # as Moodle writes such texts
    assert fromstring(data).findtext("question/questiontext/text") == (
        "<p>Is <code>&lt;script&gt;</code> &amp; <em>heat</em> shown as text?</p>")
    assert moodle_xml.read(data) == [q]
    tricky = ExchangeQuestion(name="Ends ]]> here", qtype="single", supported=True, prompt="a ]]> b",
                              choices=[XChoice("x", 1.0), XChoice("y", 0.0)])
    assert moodle_xml.read(moodle_xml.write([tricky])) == [tricky]


def test_pair_feedback_is_lost_on_the_way_out():
    q = sample_questions()[3]
    q.pairs[0].feedback = "Fascia is connective tissue."
    back = moodle_xml.read(moodle_xml.write([q]))[0]
    assert back.pairs[0] == XPair("Fascia", "Soft tissue", "")


def test_fractions_for_gives_moodle_the_banks_scoring():
    assert moodle_xml.fractions_for("single", [False, True, False]) == [0.0, 1.0, 0.0]
    assert moodle_xml.fractions_for("true_false", [True, False]) == [1.0, 0.0]
    assert moodle_xml.fractions_for("multiple", [True, False, True, False]) == [0.5, -0.5, 0.5, -0.5]
    assert moodle_xml.is_correct("single", 0.9999999) and not moodle_xml.is_correct("single", 0.5)
    assert moodle_xml.is_correct("multiple", 0.1) and not moodle_xml.is_correct("multiple", 0.0)


def _bank_exchange_questions() -> list[ExchangeQuestion]:
    """The shipped bank as ExchangeQuestions (a plain mapping, enough for the format's fields)."""
    bank, problems = read_bank(REPO / "question_bank")
    assert problems == []
    questions = []
    for raw in bank.questions:
        q = ExchangeQuestion(name=raw["id"], qtype=raw["type"], supported=True, prompt=raw["prompt"].strip(),
                             explanation=raw["explanation"].strip(), category=[raw["topic"]],
                             bank_id=raw["id"], difficulty=raw["difficulty"], source_id=raw["source"],
                             key_point_ids=list(raw["key_points"]))
        if raw["type"] in ("single", "multiple", "true_false"):
            fractions = moodle_xml.fractions_for(raw["type"], [c["correct"] for c in raw["choices"]])
            q.choices = [XChoice(c["text"].strip(), f, c["feedback"].strip())
                         for c, f in zip(raw["choices"], fractions, strict=True)]
        elif raw["type"] == "matching":
            options = {o["id"]: o["text"].strip() for o in raw["options"]}
            q.pairs = [XPair(p["text"].strip(), options[p["match"]]) for p in raw["pairs"]]
            used = {p["match"] for p in raw["pairs"]}
            q.extra_options = [text for key, text in options.items() if key not in used]
        else:
            q.steps = [s["text"].strip() for s in raw["steps"]]
            q.step_feedback = [s["feedback"].strip() for s in raw["steps"]]
        questions.append(q)
    return questions


def test_the_shipped_bank_round_trips_with_no_warnings():
    questions = _bank_exchange_questions()
    assert {q.qtype for q in questions} == {"single", "multiple", "true_false", "matching", "ordering"}
    back = moodle_xml.read(moodle_xml.write(questions))
    for before, after in zip(questions, back, strict=True):
        assert after == before, before.name


def test_the_shipped_banks_tags_fit_moodles_tag_length():
    """Moodle cuts a tag at 50 characters (TAG_MAX_LENGTH), which would garble a key point id."""
    root = fromstring(moodle_xml.write(_bank_exchange_questions()))
    tags = [t.text for t in root.iter("text") if t.text and t.text.startswith("iastm:")]
    assert tags and max(len(t) for t in tags) <= moodle_xml.MOODLE_TAG_MAX


# --- the real Moodle files (../shared/interop) ---------------------------------------------------

INTEROP_CANDIDATES = [REPO / ".." / "shared" / "interop", Path("/work/shared/interop")]


def interop(name: str) -> bytes:
    for folder in INTEROP_CANDIDATES:
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    pytest.skip(f"{name} not found in {' or '.join(str(f) for f in INTEROP_CANDIDATES)} "
                "(Moodle's fixtures stay outside the project)")


def test_moodle_nested_categories():
    questions = moodle_xml.read(interop("moodle-xml-nested-categories.xml"))
    assert [(q.name, q.qtype, q.supported, q.category) for q in questions] == [
        ("Iota Question", "true_false", True, ["Iota"]),
        ("Kappa Essay Question", "essay", False, ["Iota", "Kappa"]),
        ("Kappa Question", "true_false", True, ["Iota", "Kappa"]),
        ("Lambda Question", "true_false", True, ["Iota", "Kappa", "Lambda"]),
        ("Mu Question", "true_false", True, ["Iota", "Mu"]),
    ]
    iota = questions[0]
    assert iota.prompt == "Testing Iota Question" and iota.explanation == ""
    assert iota.choices == [XChoice("True", 1.0, ""), XChoice("False", 0.0, "")]
    assert all(q.warnings == [] for q in questions)  # penalty 1 is truefalse's default
    assert [(q.name, q.qtype) for q in questions if not q.supported] == [("Kappa Essay Question", "essay")]


def test_moodle_matching():
    (q,) = moodle_xml.read(interop("moodle-xml-matching.xml"))
    assert (q.name, q.qtype, q.category) == ("matching-001", "matching", ["Test questions"])
    assert (q.prompt, q.explanation) == ("Classify the animals.", "General feedback.")
    assert q.pairs == [XPair("frog", "amphibian"), XPair("cat", "mammal"), XPair("newt", "amphibian")]
    assert q.extra_options == ["insect"]
    assert q.warnings == ["the feedback for a correct, partially correct, incorrect response is dropped: "
                          "the app shows each choice's feedback and the explanation"]


def test_moodle_ordering():
    (q,) = moodle_xml.read(interop("moodle-xml-ordering.xml"))
    assert (q.name, q.qtype, q.category, q.bank_id) == ("Moodle", "ordering", [], "myid")
    assert q.prompt == "Put these words in order."
    assert q.explanation == 'The correct answer is "Modular Object Oriented Dynamic Learning Environment".'
    assert q.steps == ["Modular", "Object", "Oriented", "Dynamic", "Learning", "Environment"]
    assert q.step_feedback == [f"{step} is correct." for step in q.steps]
    assert q.warnings == [
        "Moodle grades this ordering by RELATIVE_NEXT_EXCLUDE_LAST (Moodle's default); the app scores "
        "the longest run of steps in the right order",
        "2 hints dropped: the app has no hints"]
