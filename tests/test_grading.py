"""Scoring rules, as pure functions: no Flask, no database."""

import random

import pytest

from quiz import grading
from quiz.question_types import TYPES


@pytest.mark.parametrize("chosen, expected", [("b", 1.0), ("a", 0.0), (None, 0.0), ("zz", 0.0)])
def test_single(chosen, expected):
    assert grading.grade_single("b", chosen) == expected


@pytest.mark.parametrize(
    "chosen, expected",
    [
        ({"a", "b"}, 1.0),           # exactly the right ones
        ({"a"}, 0.5),                # half of them
        ({"a", "b", "c"}, 0.5),      # all right ones plus a wrong one: 1 - 1/2
        ({"a", "c"}, 0.0),           # one right, one wrong
        ({"c", "d"}, 0.0),           # only wrong ones: floored at zero, never negative
        ({"a", "b", "c", "d"}, 0.0), # ticking every box earns nothing
        (set(), 0.0),
    ],
)
def test_multiple_partial_credit(chosen, expected):
    assert grading.grade_multiple({"a", "b"}, chosen) == pytest.approx(expected)


def test_multiple_needs_a_key():
    with pytest.raises(ValueError):
        grading.grade_multiple(set(), {"a"})


def test_matching_share_of_right_pairs():
    key = {"red": "yes", "heat": "yes", "fever": "no"}
    assert grading.grade_matching(key, key) == 1.0
    assert grading.grade_matching(key, {"red": "yes", "heat": "no", "fever": "yes"}) == pytest.approx(1 / 3)
    assert grading.grade_matching(key, {"red": "no", "heat": "no", "fever": "yes"}) == 0.0
    assert grading.grade_matching(key, {"red": "yes", "bogus": "no"}) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "answer, expected",
    [
        (["a", "b", "c", "d"], 1.0),
        (["d", "c", "b", "a"], 0.0),        # fully reversed
        (["b", "c", "d", "a"], 2 / 3),      # one step moved: costs one step, not everything
        (["b", "a", "d", "c"], 1 / 3),
        (["a", "b", "c"], 0.0),             # not a permutation (tampered)
        (["a", "a", "b", "c"], 0.0),
        (["a", "b", "c", "x"], 0.0),
    ],
)
def test_ordering_longest_right_run(answer, expected):
    assert grading.grade_ordering(["a", "b", "c", "d"], answer) == pytest.approx(expected)


def test_percentage():
    assert grading.percentage(2.5, 4) == 62.5
    assert grading.percentage(0, 0) == 0.0
    assert grading.percentage(1, 3) == 33.3


# --- through the question types: the data shapes stored on revisions -------------------

CHOICES = {"choices": [
    {"id": "a", "text": "A", "correct": True, "feedback": "fa"},
    {"id": "b", "text": "B", "correct": False, "feedback": "fb"},
    {"id": "c", "text": "C", "correct": True, "feedback": "fc"},
]}


def test_type_grading_uses_the_documented_rules():
    assert TYPES["multiple"].grade(CHOICES, ["a"]) == 0.5
    assert TYPES["multiple"].grade(CHOICES, ["a", "b", "c"]) == 0.5
    single = {"choices": CHOICES["choices"][:2]}
    assert TYPES["single"].grade(single, "a") == 1.0
    assert TYPES["single"].grade(single, "b") == 0.0
    steps = {"steps": [{"id": s, "text": s, "feedback": s} for s in "pqr"]}
    assert TYPES["ordering"].grade(steps, ["p", "q", "r"]) == 1.0
    assert TYPES["ordering"].grade(steps, ["r", "q", "p"]) == 0.0


def test_layouts_are_permutations_and_ordering_never_served_solved():
    steps = {"steps": [{"id": s, "text": s, "feedback": s} for s in "pqrs"]}
    for seed in range(50):
        rng = random.Random(seed)
        layout = TYPES["ordering"].layout(steps, rng)["steps"]
        assert sorted(layout) == list("pqrs") and layout != list("pqrs")
        choice_layout = TYPES["single"].layout(CHOICES, rng)["choices"]
        assert sorted(choice_layout) == ["a", "b", "c"]


def test_take_view_holds_no_correctness_or_feedback():
    layout = {"choices": ["c", "a", "b"], "tokens": {"choices": {"a": "TA", "b": "TB", "c": "TC"}}}
    view = TYPES["multiple"].take_view(CHOICES, layout)
    assert [c["token"] for c in view["choices"]] == ["TC", "TA", "TB"]
    assert all(set(c) == {"token", "text"} for c in view["choices"])


@pytest.mark.parametrize("score, mark, expected", [
    (80.0, 80, True), (79.9, 80, False), (None, 80, None), (55.0, None, None)])
def test_passed(score, mark, expected):
    assert grading.passed(score, mark) is expected
