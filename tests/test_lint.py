"""Item-writing checks: each rule catches a flawed example and passes a clean one."""

from __future__ import annotations

import pytest

from quiz.bank import read_bank
from quiz.bank.lint import lint_bank

from . import bankgen


def _warnings(tmp_path, questions):
    root = bankgen.write_bank(tmp_path / "bank", questions=questions, sets=bankgen.default_sets(draw=1))
    bank, problems = read_bank(root)
    assert problems == []
    return [str(w) for w in lint_bank(bank)]


def _clean():
    q = bankgen.single("alpha-001")
    q["prompt"] = "Which tissue does the article list first?"
    q["choices"][0]["text"] = "Fascia, the connective tissue"
    q["choices"][1]["text"] = "Cartilage of the knee joint"
    q["choices"][2]["text"] = "Bone marrow inside the long bones"  # the key is not the longest (R1)
    return q


def _bank_with(q):
    return {"alpha": [q], "beta": [bankgen.true_false("beta-001")]}


def test_clean_question_passes(tmp_path):
    assert _warnings(tmp_path, _bank_with(_clean())) == []


@pytest.mark.parametrize("text", ["All of the above", "none of these", "Both of the above"])
def test_of_the_above(tmp_path, text):
    q = _clean()
    q["choices"][2]["text"] = text
    assert _warnings(tmp_path, _bank_with(q)) == [
        "questions/alpha.yaml: alpha-001: choices[2].text: warning: avoid 'all/none of the above': "
        "it rewards partial knowledge"]


@pytest.mark.parametrize("prompt, flagged", [
    ("Which of these is not a soft tissue?", True),
    ("Which of these is NOT a soft tissue?", False),
    ("All of these are soft tissues except which one?", True),
    ("All of these are soft tissues EXCEPT which one?", False),
    ("Which tissue isn't named?", True),
    # A patient's quoted words may be negative; the lead-in question is what counts.
    ("A patient says: \"I do not like the redness.\" What should you say?", False),
])
def test_negative_stem(tmp_path, prompt, flagged):
    q = _clean()
    q["prompt"] = prompt
    warnings = _warnings(tmp_path, _bank_with(q))
    assert bool(warnings) is flagged, warnings
    if flagged:
        assert "negative lead-in" in warnings[0]


def test_absolute_terms_in_distractors_only(tmp_path):
    q = _clean()
    q["choices"][1]["text"] = "Cartilage is always treated"
    warnings = _warnings(tmp_path, _bank_with(q))
    assert warnings == ["questions/alpha.yaml: alpha-001: choices[1].text: warning: absolute term "
                        "'always' only in wrong choices: a cue to guess"]
    q["choices"][0]["text"] = "Fascia is always listed"  # in the key too: no cue
    assert _warnings(tmp_path, _bank_with(q)) == []


def test_long_correct_choice(tmp_path):
    q = _clean()
    q["choices"][0]["text"] = ("Fascia, which the article describes as the connective tissue that "
                               "surrounds and links the other structures")
    warnings = _warnings(tmp_path, _bank_with(q))
    assert len(warnings) == 1 and "much longer than the others" in warnings[0]


def test_duplicate_choices(tmp_path):
    q = _clean()
    q["choices"][2]["text"] = "cartilage of the knee-joint!"
    warnings = _warnings(tmp_path, _bank_with(q))
    assert warnings == ["questions/alpha.yaml: alpha-001: choices[2].text: warning: repeats entry 1 "
                        "of the same question"]


def test_duplicate_steps_in_ordering(tmp_path):
    q = bankgen.ordering("alpha-002")
    q["steps"][3]["text"] = q["steps"][0]["text"]
    warnings = _warnings(tmp_path, _bank_with(q))
    assert warnings == ["questions/alpha.yaml: alpha-002: steps[3].text: warning: repeats entry 0 "
                        "of the same question"]


def test_near_duplicate_prompts_across_files(tmp_path):
    a = _clean()
    b = bankgen.true_false("beta-001")
    b["prompt"] = "Which tissue does the article list first ?!"
    c = bankgen.true_false("beta-002")
    c["prompt"] = "Which tissue does this article list first?"
    warnings = _warnings(tmp_path, {"alpha": [a], "beta": [b, c]})
    for qid in ("beta-001", "beta-002"):
        expected = f"questions/beta.yaml: {qid}: prompt: warning: same or nearly the same prompt as alpha-001"
        assert expected in warnings
    d = bankgen.true_false("beta-003")
    d["prompt"] = "Heat after a session is a reaction the article describes."
    assert _warnings(tmp_path, {"alpha": [a], "beta": [d]}) == []


def test_missing_feedback_is_an_error_not_only_a_warning(tmp_path):
    q = _clean()
    q["choices"][1]["feedback"] = ""
    root = bankgen.write_bank(tmp_path / "bank", questions=_bank_with(q), sets=bankgen.default_sets(draw=1))
    _, problems = read_bank(root)
    assert [str(p) for p in problems] == [
        "questions/alpha.yaml: alpha-001: choices[1].feedback: is missing or empty"]


def test_strict_check_fails_on_warnings(tmp_path, runner):
    q = _clean()
    q["choices"][1]["text"] = "None of the above"
    root = bankgen.write_bank(tmp_path / "bank", questions=_bank_with(q), sets=bankgen.default_sets(draw=1))
    relaxed = runner.invoke(args=["bank", "check", str(root)])
    assert relaxed.exit_code == 0 and "1 warning(s)" in relaxed.output
    strict = runner.invoke(args=["bank", "check", "--strict", str(root)])
    assert strict.exit_code == 1
    assert "avoid 'all/none of the above'" in strict.output


def test_shipped_bank_passes_strict(runner):
    result = runner.invoke(args=["bank", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "0 warning(s)" in result.output
