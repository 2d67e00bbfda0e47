"""GIFT reader and writer (quiz/exchange/gift.py): the project's own fixtures for every
rule, write-then-read round trips, and the real Moodle file in ../shared/interop."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from quiz.exchange import gift
from quiz.exchange.model import MAX_FILE_BYTES, ExchangeError, ExchangeQuestion, XChoice, XPair
from quiz.exchange.text import to_markdown


def read(text: str) -> list[ExchangeQuestion]:
    return gift.read(text.encode("utf-8"))


def one(text: str) -> ExchangeQuestion:
    questions = read(text)
    assert len(questions) == 1, questions
    return questions[0]


# --- multiple choice ------------------------------------------------------------------

def test_single_choice_with_feedback_and_general_feedback():
    q = one("""
// a plain single-choice question
::tool-materials::[markdown]Which material is *not* named for IASTM tools?{
    =Cotton#Right: the article names stainless steel, plastic, jade and ceramic.
    ~Jade#Jade is one of the named materials.
    ~Ceramic
    ####The tools differ in material but share one purpose.
}
""")
    assert (q.name, q.qtype, q.supported) == ("tool-materials", "single", True)
    assert q.prompt == "Which material is *not* named for IASTM tools?"
    assert q.choices == [
        XChoice("Cotton", 1.0, "Right: the article names stainless steel, plastic, jade and ceramic."),
        XChoice("Jade", 0.0, "Jade is one of the named materials."),
        XChoice("Ceramic", 0.0, ""),
    ]
    assert q.explanation == "The tools differ in material but share one purpose."
    assert q.warnings == [] and q.category == [] and q.bank_id is None


def test_multiple_answer_with_the_apps_own_weights_has_no_warning():
    q = one("""::soft-tissue::[markdown]Which are soft tissue? {
~%50%Fascia#Yes, connective tissue.
~%50%Tendons
~%-50%Bones#Not soft tissue.
~%-50%Cartilage
}""")
    assert (q.qtype, q.supported) == ("multiple", True)
    assert [(c.text, c.fraction) for c in q.choices] == [
        ("Fascia", 0.5), ("Tendons", 0.5), ("Bones", -0.5), ("Cartilage", -0.5)]
    assert q.choices[0].feedback == "Yes, connective tissue." and q.choices[2].feedback == "Not soft tissue."
    assert q.warnings == []


def test_multiple_answer_weights_the_app_scores_differently_are_reported():
    q = one("""::effects::[markdown]What do the tools aim for?{
~%33.33333%Less scar tissue
~%33.33333%More blood flow
~%33.33333%Healing
~Stronger bones
}""")
    assert q.qtype == "multiple"
    # 33.33333% is read as exactly 1/3, as Moodle matches it to its grade 0.3333333.
    assert [c.fraction for c in q.choices] == [1 / 3, 1 / 3, 1 / 3, 0.0]
    assert q.warnings == ["wrong answers weighted 0%: here each wrong choice chosen takes 33.33333% off "
                          "(floored at 0)"]

    uneven = one("""::uneven::[markdown]Pick the reactions.{
~%70%Redness ~%30%Heat ~%-100%Fever }""")
    assert uneven.qtype == "multiple"
    assert [c.fraction for c in uneven.choices] == [0.7, 0.3, -1.0]
    assert uneven.warnings == [
        "right answers weighted 70%, 30%: here each of the 2 right choices scores 50%",
        "wrong answers weighted -100%: here each wrong choice chosen takes 50% off (floored at 0)",
    ]


def test_single_answer_partial_and_negative_weights_are_reported():
    q = one("::partial::[markdown]Where is IASTM used?{=In the clinic ~%50%At home ~%-25%Nowhere ~Online}")
    assert (q.qtype, q.supported) == ("single", True)
    assert [c.fraction for c in q.choices] == [1.0, 0.5, -0.25, 0.0]
    assert q.warnings == [
        "answer 'At home' is weighted 50%: here it scores 0 (only the = answer is right)",
        "answer 'Nowhere' is weighted -25%: here a wrong answer scores 0, with no penalty",
    ]


def test_multiple_choice_the_app_cannot_hold_is_reported_not_guessed():
    two_right = one("::two-right::Name a material.{=Jade =Ceramic ~Cotton}")
    assert (two_right.qtype, two_right.supported) == ("multichoice", False)
    assert "2 answers weighted 100%" in two_right.warnings[0]

    none_right = one("::none-right::Pick one.{~Jade ~Ceramic}")
    assert (none_right.qtype, none_right.supported) == ("multichoice", False)
    assert "no answer weighted above 0%" in none_right.warnings[0]


def test_weights_moodle_refuses_make_the_file_unreadable():
    with pytest.raises(ExchangeError, match=r"question 1 \(line 1\) 'w': answer 1 has the weight %150%"):
        read("::w::Pick.{~%150%Jade ~Cotton}")
    with pytest.raises(ExchangeError, match="not a number"):
        read("::w::Pick.{~%--50%Jade ~Cotton}")


def test_missing_word_puts_a_blank_where_the_braces_were():
    q = one("[markdown]IASTM tools are made of {=stainless steel ~cotton ~paper} and other materials.")
    assert q.qtype == "single"
    assert q.prompt == "IASTM tools are made of _____ and other materials."
    # In Moodle's own format the blank is text too, not emphasis.
    q = one("IASTM tools are made of {=stainless steel ~cotton} and other materials.")
    assert q.prompt == r"IASTM tools are made of \_\_\_\_\_ and other materials."
    # Braces at the very end: no blank.
    assert one("Tools are made of?{=steel ~cotton}").prompt == "Tools are made of?"


def test_a_text_that_starts_like_a_weight_and_empty_answers():
    q = one("::pct::[markdown]How many?{=All of them ~%0%%50% of them ~ #nothing}")
    assert [(c.text, c.fraction) for c in q.choices] == [("All of them", 1.0), ("%50% of them", 0.0)]
    assert q.warnings == ["answer 3 has no text and is left out (as Moodle does)"]


# --- true / false -------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "truth"), [("T", True), ("TRUE", True), ("F", False), ("FALSE", False)])
def test_true_false_spellings(answer, truth):
    q = one(f"::tf::IASTM is the primary treatment.{{{answer}}}")
    assert (q.qtype, q.supported) == ("true_false", True)
    assert [(c.text, c.fraction) for c in q.choices] == [("True", float(truth)), ("False", float(not truth))]
    assert all(c.feedback == "" for c in q.choices)


def test_true_false_feedback_first_when_wrong_then_when_right():
    q = one("""::primary::[markdown]IASTM is the primary treatment.{FALSE
#No: it is one technique among several.#Right, it assists the recovery.
####The article calls it one technique your therapist uses.}""")
    true, false = q.choices
    assert (true.fraction, true.feedback) == (0.0, "No: it is one technique among several.")
    assert (false.fraction, false.feedback) == (1.0, "Right, it assists the recovery.")
    assert q.explanation == "The article calls it one technique your therapist uses."

    q = one("::redness::[markdown]Redness is normal after treatment.{T#Check the article again.}")
    true, false = q.choices
    assert (true.fraction, true.feedback, false.feedback) == (1.0, "", "Check the article again.")


# --- matching -----------------------------------------------------------------------

def test_matching_with_an_extra_option():
    q = one("""::match-structures::[markdown]Match each structure to what the article says.{
=[html]<b>Fascia</b> -> Connective tissue
=Tendons -> Soft tissue
=Ligaments -> Soft tissue
= -> Bone tissue
####Fascia is the connective tissue of soft tissue.
}""")
    assert (q.qtype, q.supported) == ("matching", True)
    assert q.pairs == [XPair("**Fascia**", "Connective tissue"), XPair("Tendons", "Soft tissue"),
                       XPair("Ligaments", "Soft tissue")]
    assert q.extra_options == ["Bone tissue"]
    assert q.explanation == "Fascia is the connective tissue of soft tissue."


def test_matching_right_sides_are_plain_text_kept_as_written():
    q = one(r"::m::Match.{=Scar tissue -> *adhesions* (2-3) \{x\} =Swelling -> edema\: less}")
    assert [p.right for p in q.pairs] == ["*adhesions* (2-3) {x}", "edema: less"]


def test_matching_the_app_cannot_hold_is_reported():
    q = one("::m1::Match.{=Fascia -> Connective tissue = -> Bone}")
    assert (q.qtype, q.supported) == ("match", False)
    assert "1 item(s)" in q.warnings[0]


@pytest.mark.parametrize(("text", "message"), [
    ("::m::Match.{=Fascia -> Connective =Tendons}", r"matching line 2 \('Tendons'\) has no '->'"),
    ("::m::Match.{=Fascia -> Connective =Tendons -> }", "matching line 2 has nothing after '->'"),
])
def test_malformed_matching(text, message):
    with pytest.raises(ExchangeError, match=message):
        read(text)


# --- types this app does not have ---------------------------------------------------

def test_every_other_type_is_reported_by_name_and_type():
    questions = read("""
::essay-1::Describe what a patient may feel after a session.{}

::numerical-1::How many materials does the article name?{#4}

::range-1::How many materials?{#3..5}

::short-1::Name the connective tissue.{=fascia =the fascia}

::intro-1::The next questions are about the tools.

::short-2::Name one tool material.{=%100%steel#Yes =%50%metal}
""")
    assert [(q.name, q.qtype, q.supported) for q in questions] == [
        ("essay-1", "essay", False), ("numerical-1", "numerical", False),
        ("range-1", "numerical", False), ("short-1", "shortanswer", False),
        ("intro-1", "description", False), ("short-2", "shortanswer", False),
    ]
    assert questions[0].prompt == "Describe what a patient may feel after a session."
    assert questions[4].prompt == "The next questions are about the tools."
    assert questions[0].warnings == ["an essay: this app has no such question type"]
    assert questions[3].warnings == ["a short-answer question: this app has no such question type"]


# --- text formats and escapes -------------------------------------------------------

def test_text_formats():
    html, md, plain, moodle, default = read("""
::f-html::[html]<p>IASTM uses <b>tools</b>.</p><script>alert(1)</script>{T}

::f-md::[markdown]IASTM uses **tools**:\\n\\n- steel\\n- jade{T}

::f-plain::[plain]Tools *reduce* adhesions [1]{T}

::f-moodle::[moodle]Tools come in many shapes.\\nAnd sizes.{T}

::f-default::Tools <i>assist</i> the clinician.{T}
""")
    assert html.prompt == "IASTM uses **tools**."
    assert md.prompt == "IASTM uses **tools**:\n\n- steel\n- jade"
    assert plain.prompt == r"Tools \*reduce\* adhesions \[1\]"
    assert moodle.prompt == to_markdown("Tools come in many shapes.\nAnd sizes.", "moodle_auto_format")
    assert moodle.prompt.startswith("Tools come in many shapes.") and "And sizes." in moodle.prompt
    # No [format]: Moodle's own format (moodle_auto_format), which allows HTML.
    assert default.prompt == "Tools *assist* the clinician."


def test_simple_texts_skip_the_html_converter_and_come_out_the_same():
    rng = random.Random(6)
    pool = [chr(c) for c in range(0x250)] + ["中", "😀", "\u200b", "\xa0", " ", "  ", "\ufeff", "\u0301"]
    samples = ["Fascia, muscles, tendons and ligaments", "It's (mostly) 50% right: see the article!"]
    samples += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 14))) for _ in range(4000)]
    simple = [s for s in samples if gift._is_simple(s)]
    assert len(simple) > 1000 and samples[:2] == simple[:2]
    for text in simple:
        for fmt in ("html", "moodle_auto_format"):
            assert gift._simple(text) == to_markdown(text, fmt), (text, fmt)
    assert not gift._is_simple("a <b>b</b>") and not gift._is_simple("a *b*") and not gift._is_simple("a\nb")


def test_answer_texts_inherit_the_question_format_unless_they_name_theirs():
    q = one("::fmt::[markdown]Pick.{=[html]<em>Jade</em>#[plain]*really*  ~**Steel**#fine}")
    assert [(c.text, c.feedback) for c in q.choices] == [("*Jade*", r"\*really\*"), ("**Steel**", "fine")]


def test_escapes():
    q = one(r"::esc\:1::[markdown]Read \{this\}\: a \~ b \= c \# d \\ e\nnext line{=yes\#1 ~no\~2}")
    assert q.name == "esc:1"
    assert q.prompt == "Read {this}: a ~ b = c # d \\ e\nnext line"
    assert [c.text for c in q.choices] == ["yes#1", "no~2"]


def test_names_and_default_names():
    named, unnamed, long = read("""::  A  name  ::Text.{T}

Is redness after IASTM treatment normal?{T}

[markdown]This question has a rather long text that goes on about tools, shapes, sizes and materials.{T}
""")
    assert named.name == "A name"
    assert unnamed.name == "Is redness after IASTM treatment normal?"
    assert long.name.endswith("...") and len(long.name) <= 80
    assert long.name.startswith("This question has a rather long text")


# --- file structure -----------------------------------------------------------------

def test_categories_and_comments():
    questions = read("""// a comment block alone

$CATEGORY: $course$/Tools and materials/Shapes // sizes

// comment before the question
::c1::First.{T}

::c2::Second.
// a comment line inside the question
{F}

$CATEGORY: $course$/top/Reactions

::c3::Third.{T}

$CATEGORY: $system$/Plan

::c4::Fourth.{T}

$CATEGORY: $course$

::c5::Fifth.{T}
""")
    assert [(q.name, q.category) for q in questions] == [
        ("c1", ["Tools and materials", "Shapes / sizes"]), ("c2", ["Tools and materials", "Shapes / sizes"]),
        ("c3", ["Reactions"]), ("c4", ["Plan"]), ("c5", []),
    ]
    assert questions[1].prompt == "Second."


def test_category_line_directly_followed_by_a_question():
    q = one("$CATEGORY: $course$/Basics\n::b1::Soft tissue includes fascia.{T}")
    assert (q.name, q.category) == ("b1", ["Basics"])


def test_our_own_fields_come_back_from_the_iastm_comment():
    q = one("""// question: 12  name: x
// iastm: id=basics-001 source=soft-tissue key_points=kp-a,kp-b difficulty=easy
::basics-001::Soft tissue includes fascia.{T}""")
    assert (q.bank_id, q.source_id, q.key_point_ids, q.difficulty) == (
        "basics-001", "soft-tissue", ["kp-a", "kp-b"], "easy")


def test_bom_and_windows_line_endings():
    data = "\ufeff::a::First.{T}\r\n\r\n::b::Second.{F}\r\n".encode()
    assert [q.name for q in gift.read(data)] == ["a", "b"]


@pytest.mark.parametrize(("text", "message"), [
    ("::ok::Fine.{T}\n\n::open::Never closed {=a ~b",
     r"question 2 \(line 3\) 'open': the '\{' on line 3 is never closed"),
    ("::ok::Fine.{T}\n\n// c\n::late::Text\nmore {=a\n~b",
     r"question 2 \(line 4\) 'late': the '\{' on line 5"),
    ("::close::Stray } brace.", r"question 1 \(line 1\) 'close': a '\}' with no '\{' before it"),
    ("::two::One {=a ~b} two {=c ~d}", "unbalanced braces: a GIFT question has one"),
    ("::nested::One {=a {~b}}", "unbalanced braces"),
    ("::empty::{T}", r"'empty': the question has no text"),
    ("::few::One answer only.{=yes}\n\n::few2::Only.{=yes ~}",
     r"question 2 \(line 3\) 'few2': .*at least two"),
    ("::m::Match.{=a -> b}", "at least two = lines"),
])
def test_malformed_files(text, message):
    with pytest.raises(ExchangeError, match=message):
        read(text)


def test_oversized_and_undecodable_input():
    with pytest.raises(ExchangeError, match="largest accepted is 5,242,880"):
        gift.read(b"x" * (MAX_FILE_BYTES + 1))
    assert gift.read(b"::fits::" + b"x" * (MAX_FILE_BYTES - 20) + b"{T}")[0].name == "fits"
    with pytest.raises(ExchangeError, match=r"not UTF-8 text \(byte 8: 0xe9"):
        gift.read(b"::a::Caf\xe9 {T}")
    with pytest.raises(ExchangeError, match=r"not UTF-8 text \(byte 11: 0xe9"):
        gift.read(b"\xef\xbb\xbf::a::Caf\xe9 {T}")


# --- writing ------------------------------------------------------------------------

def _sample() -> list[ExchangeQuestion]:
    special = "Signs ~ = # { } : and \\ stay *as written*"
    return [
        ExchangeQuestion(
            name="tools-001", qtype="single", supported=True, category=["Tools", "Shapes/sizes"],
            prompt=f"Which material is **not** named?\n\n- {special}\n- a list item\n\n1. numbered",
            explanation="The article names four materials: steel, plastic, jade, ceramic.",
            choices=[XChoice("Cotton", 1.0, "Right: cotton is not named."),
                     XChoice("[see article] jade", 0.0, "Named: {jade}."),
                     XChoice("%50% ceramic", 0.0, ""),
                     XChoice("Steel = metal", 0.0, "")],
            bank_id="tools-001", difficulty="easy", source_id="tool-materials",
            key_point_ids=["kp-materials", "kp-purpose"]),
        ExchangeQuestion(
            name="basics-002: soft tissue", qtype="multiple", supported=True,
            category=["Tools", "Shapes/sizes"],
            prompt="Which are soft tissue? *Select all.*",
            choices=[XChoice("Fascia", 1 / 3, "Yes #1"), XChoice("Tendons", 1 / 3, ""),
                     XChoice("Ligaments", 1 / 3, "Yes"), XChoice("Bones", -1 / 3, "No~"),
                     XChoice("Nerves", -1 / 3, "")]),
        ExchangeQuestion(
            name="tf-true", qtype="true_false", supported=True, category=["Reactions"],
            prompt="Redness after treatment is normal.",
            choices=[XChoice("True", 1.0, "Right."),
                     XChoice("False", 0.0, "It is normal: see {the article}.")],
            explanation="Temporary redness is expected."),
        ExchangeQuestion(
            name="tf-false", qtype="true_false", supported=True, category=["Reactions"],
            prompt="IASTM is the primary treatment.",
            choices=[XChoice("True", 0.0, ""), XChoice("False", 1.0, "Right: it assists.")]),
        ExchangeQuestion(
            name="tf-bare", qtype="true_false", supported=True, category=[],
            prompt="Tools come in many shapes.",
            choices=[XChoice("True", 0.0, "See the article."), XChoice("False", 1.0, "")]),
        ExchangeQuestion(
            name="match-1", qtype="matching", supported=True, category=["top", "Plan"],
            prompt="Match each step to its place.",
            pairs=[XPair("First **visit**", "Evaluation: {first}"), XPair("Later", "Exercise = program #2"),
                   XPair("After ~ several", "Exercise = program #2")],
            extra_options=["Surgery only", "a -> b"],
            explanation="Exercise goes with IASTM."),
    ]


def test_write_then_read_gives_back_every_field():
    questions = _sample()
    # The one question without a category is written first (before any $CATEGORY line).
    assert gift.read(gift.write(questions)) == [questions[4], *questions[:4], questions[5]]


def test_written_file_is_the_gift_moodle_imports():
    text = gift.write(_sample()[1:4]).decode("utf-8")
    assert text == (
        "$CATEGORY: $course$/Tools/Shapes//sizes\n\n"
        "::basics-002\\: soft tissue::[markdown]Which are soft tissue? *Select all.*{\n"
        "\t~%33.33333%Fascia#Yes \\#1\n"
        "\t~%33.33333%Tendons\n"
        "\t~%33.33333%Ligaments#Yes\n"
        "\t~%-33.33333%Bones#No\\~\n"
        "\t~%-33.33333%Nerves\n"
        "}\n\n"
        "$CATEGORY: $course$/Reactions\n\n"
        "::tf-true::[markdown]Redness after treatment is normal.{TRUE#It is normal\\: see \\{the article\\}."
        "#Right.####Temporary redness is expected.}\n\n"
        "::tf-false::[markdown]IASTM is the primary treatment.{FALSE##Right\\: it assists.}\n\n"
    )


def test_written_weights_are_grades_moodle_accepts():
    # Moodle's list of grades (question_bank::fraction_options_full), matched within 0.00001.
    moodle = {1, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2,
              0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05}
    for right in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20):
        q = ExchangeQuestion(name="w", qtype="multiple", supported=True, prompt="Pick.",
                             choices=[XChoice(f"r{i}", 1 / right) for i in range(right)] + [XChoice("x", -1)])
        text = gift.write([q]).decode()
        weights = {float(w) / 100 for w in re.findall(r"~%(-?[0-9.]+)%", text)}
        assert len(weights) == 2
        assert all(any(abs(abs(w) - m) < 0.00001 for m in moodle) for w in weights), (right, weights)
        assert gift.read(text.encode())[0].warnings == []


def test_what_gift_cannot_hold_is_listed_and_left_out():
    ordering = ExchangeQuestion(name="order-1", qtype="ordering", supported=True, prompt="Order.",
                                steps=["Evaluate", "Treat"])
    essay = ExchangeQuestion(name="essay-1", qtype="essay", supported=False, prompt="Describe.")
    eleven = ExchangeQuestion(name="eleven", qtype="multiple", supported=True, prompt="Pick.",
                              choices=[XChoice(str(i), 1 / 11) for i in range(11)])
    two_keys = ExchangeQuestion(name="two-keys", qtype="single", supported=True, prompt="Pick.",
                                choices=[XChoice("a", 1.0), XChoice("b", 1.0)])
    lone = ExchangeQuestion(name="lone", qtype="single", supported=True, prompt="Pick.",
                            choices=[XChoice("a", 1.0)])
    one_pair = ExchangeQuestion(name="one-pair", qtype="matching", supported=True, prompt="Match.",
                                pairs=[XPair("a", "b")])
    kept = _sample()
    everything = [ordering, *kept[:2], essay, eleven, *kept[2:], two_keys, lone, one_pair]
    assert gift.unwritable(everything) == [ordering, essay, eleven, two_keys, lone, one_pair]
    assert "at least two choices" in gift.unwritable_reason(lone)
    assert "at least two lines" in gift.unwritable_reason(one_pair)
    assert gift.unwritable_reason(ordering) == "GIFT has no ordering question type (use Moodle XML)"
    assert gift.unwritable_reason(essay) == "essay is not a question type of this app"
    assert "11 right choices" in gift.unwritable_reason(eleven)
    assert "exactly one right choice, not 2" in gift.unwritable_reason(two_keys)
    assert gift.write(everything) == gift.write(kept)
    assert [q.name for q in gift.read(gift.write(everything))] == [
        "tf-bare", "tools-001", "basics-002: soft tissue", "tf-true", "tf-false", "match-1"]
    one_pair.extra_options = ["c"]
    assert gift.unwritable_reason(one_pair) is None


def test_write_losses():
    match = _sample()[5]
    assert gift.write_losses(match) == []
    match.pairs[0].feedback = "Feedback GIFT cannot hold."
    match.pairs[1].left = "Step -> next"
    assert gift.write_losses(match) == [
        "matching items' feedback (GIFT has none for matching)",
        "an item's '->' is written as '-\\>' (GIFT splits items at '->')",
    ]
    back = gift.read(gift.write([match]))[0]
    assert back.pairs[0].feedback == "" and back.pairs[1].left == "Step -\\> next"


def test_a_question_without_category_after_one_with_a_category():
    first = ExchangeQuestion(name="a", qtype="true_false", supported=True, prompt="A.", category=["Basics"],
                             choices=[XChoice("True", 1.0), XChoice("False", 0.0)])
    second = ExchangeQuestion(name="b", qtype="true_false", supported=True, prompt="B.",
                              choices=[XChoice("True", 1.0), XChoice("False", 0.0)])
    text = gift.write([first, second]).decode()
    assert text.startswith("::b::") and "$CATEGORY: $course$/Basics\n" in text
    assert "$CATEGORY: $course$\n" not in text
    assert [(q.name, q.category) for q in gift.read(text.encode())] == [("b", []), ("a", ["Basics"])]


# --- the real Moodle file -----------------------------------------------------------

def _interop() -> Path:
    for folder in (Path(__file__).parents[1] / ".." / "shared" / "interop", Path("/work/shared/interop")):
        if (folder / "moodle-gift-questions.gift.txt").is_file():
            return folder / "moodle-gift-questions.gift.txt"
    pytest.skip("Moodle's GIFT fixture moodle-gift-questions.gift.txt is not in ../shared/interop "
                "(nor /work/shared/interop)")


def test_moodle_fixture():
    questions = gift.read(_interop().read_bytes())
    assert [(q.name, q.qtype, q.supported) for q in questions] == [
        ("Q8", "essay", False),
        ("Moodle activities", "matching", True),
        ("Q2", "single", True),
        ("colours", "multiple", True),
        ("Q5", "numerical", False),
        ("Shortanswer", "shortanswer", False),
        ("Q1", "true_false", True),
        ("2-08 TSL", "true_false", True),
        ("2-08 TSL", "true_false", True),
    ]
    essay, match, single, colours, numerical, short, q1, tsl, tsl_true = questions
    assert essay.prompt == "How are you?"
    assert numerical.prompt == r'What is a number from 1 to 5? \_\_\_\_\_";'
    assert short.prompt == "Which is the best animal?"
    assert all(q.warnings == [f"{what}: this app has no such question type"]
               for q, what in ((essay, "an essay"), (numerical, "a numerical question"),
                               (short, "a short-answer question")))

    # [html] question text, items in four formats, a distractor-only right side.
    assert match.prompt == "Match the **activity** to the description."
    assert match.pairs == [
        XPair("An activity supporting asynchronous discussions.", "Forum"),
        XPair("A teacher asks a question and specifies a choice of multiple responses.", "Choice"),
        XPair(r"A bank of record entries which participants can add to\.", "Database"),  # [plain]
        XPair("A collection of web pages that anyone can add to or edit.", "Wiki"),
    ]
    assert match.extra_options == ["Chat"] and match.explanation == ""

    question = "What's between orange and green in the spectrum?"
    assert single.prompt == question and single.warnings == []
    assert single.choices == [XChoice("yellow", 1.0, "right; good!"),
                              XChoice("red", 0.0, "wrong, it's yellow"),
                              XChoice("blue", 0.0, "wrong, it's yellow")]
    assert colours.prompt == question
    assert colours.choices == [XChoice("yellow", 0.5, "right; good!"), XChoice("red", -1.0, "wrong"),
                               XChoice("off-beige", 0.5, "right; good!"), XChoice("blue", -1.0, "wrong")]
    assert colours.warnings == ["wrong answers weighted -100%: here each wrong choice chosen takes 50% off "
                                "(floored at 0)"]

    # FALSE#shown when wrong#shown when right####general feedback; text after the braces
    # makes it Moodle's "missing word" form, blank included.
    assert q1.prompt == r'42 is the Absolute Answer to everything.\_\_\_\_\_";'
    assert q1.choices == [XChoice("True", 0.0, "42 is the Ultimate Answer."),
                          XChoice("False", 1.0, "You gave the right answer.")]
    assert q1.explanation == "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    for q in (tsl, tsl_true):
        assert q.prompt == "TSL is blablabla."
        assert q.choices == [XChoice("True", 1.0, ""), XChoice("False", 0.0, "")]
    assert all(q.category == [] for q in questions)

    # Everything supported goes back out and comes back the same.
    supported = [q for q in questions if q.supported]
    for q in supported:
        q.warnings = []
    again = gift.read(gift.write(supported))
    assert [(q.name, q.qtype) for q in again] == [(q.name, q.qtype) for q in supported]
    assert again[0] == supported[0] and again[1] == supported[1] and again[3:] == supported[3:]
    # The multiple answer goes out with the app's weights (+1/2, -1/2), the way it is scored here.
    assert [c.fraction for c in again[2].choices] == [0.5, -0.5, 0.5, -0.5]
