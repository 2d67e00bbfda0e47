"""Item-writing checks and cue checks: each rule catches a flawed example and passes a clean one;
the near-duplicate search is checked against the pairwise definition and at scale."""

from __future__ import annotations

import random
import string

import pytest

from quiz.bank import read_bank
from quiz.bank.cues import cue_check
from quiz.bank.lint import _normal, _similar, lint_bank, near_duplicate_pairs

from . import bankgen


def _lint_warnings(tmp_path, questions):
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
    assert _lint_warnings(tmp_path, _bank_with(_clean())) == []


@pytest.mark.parametrize("text", ["All of the above", "none of these", "Both of the above"])
def test_of_the_above(tmp_path, text):
    q = _clean()
    q["choices"][2]["text"] = text
    assert _lint_warnings(tmp_path, _bank_with(q)) == [
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
    warnings = _lint_warnings(tmp_path, _bank_with(q))
    assert bool(warnings) is flagged, warnings
    if flagged:
        assert "negative lead-in" in warnings[0]


def test_absolute_terms_in_distractors_only(tmp_path):
    q = _clean()
    q["choices"][1]["text"] = "Cartilage is always treated"
    warnings = _lint_warnings(tmp_path, _bank_with(q))
    assert warnings == ["questions/alpha.yaml: alpha-001: choices[1].text: warning: absolute term "
                        "'always' only in wrong choices: a cue to guess"]
    q["choices"][0]["text"] = "Fascia is always listed"  # in the key too: no cue
    assert _lint_warnings(tmp_path, _bank_with(q)) == []


def test_long_correct_choice(tmp_path):
    q = _clean()
    q["choices"][0]["text"] = ("Fascia, which the article describes as the connective tissue that "
                               "surrounds and links the other structures")
    warnings = _lint_warnings(tmp_path, _bank_with(q))
    assert len(warnings) == 1 and "much longer than the others" in warnings[0]


def test_duplicate_choices(tmp_path):
    q = _clean()
    q["choices"][2]["text"] = "cartilage of the knee-joint!"
    warnings = _lint_warnings(tmp_path, _bank_with(q))
    assert warnings == ["questions/alpha.yaml: alpha-001: choices[2].text: warning: repeats entry 1 "
                        "of the same question"]


def test_duplicate_steps_in_ordering(tmp_path):
    q = bankgen.ordering("alpha-002")
    q["steps"][3]["text"] = q["steps"][0]["text"]
    warnings = _lint_warnings(tmp_path, _bank_with(q))
    assert warnings == ["questions/alpha.yaml: alpha-002: steps[3].text: warning: repeats entry 0 "
                        "of the same question"]


def test_near_duplicate_prompts_across_files(tmp_path):
    a = _clean()
    b = bankgen.true_false("beta-001")
    b["prompt"] = "Which tissue does the article list first ?!"
    c = bankgen.true_false("beta-002")
    c["prompt"] = "Which tissue does this article list first?"
    warnings = _lint_warnings(tmp_path, {"alpha": [a], "beta": [b, c]})
    for qid in ("beta-001", "beta-002"):
        expected = f"questions/beta.yaml: {qid}: prompt: warning: same or nearly the same prompt as alpha-001"
        assert expected in warnings
    d = bankgen.true_false("beta-003")
    d["prompt"] = "Heat after a session is a reaction the article describes."
    assert _lint_warnings(tmp_path, {"alpha": [a], "beta": [d]}) == []


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


# --- cue checks (quiz/bank/cues.py, R1-R6) ---------------------------------------------------

RNG_WORDS = random.Random(3)
WORDS = ["".join(RNG_WORDS.choices(string.ascii_lowercase, k=7)) for _ in range(400)]


def _prompt(i: int) -> str:
    """A prompt unlike every other generated one, so R6 stays quiet unless a test wants it."""
    return " ".join(random.Random(i).sample(WORDS, 5)).capitalize() + "?"


def single(i: int, key_at: int = 1, n: int = 4, key_longest: bool = False) -> dict:
    qid = f"alpha-{i:03}"
    q = bankgen.single(qid, correct="abcdefgh"[key_at - 1], n=n)
    q["prompt"] = _prompt(i)
    for c in q["choices"]:
        c["text"] = f"Wrong option {c['id']} for {qid}"
    q["choices"][key_at - 1]["text"] = f"Right one for {qid}" + (" with a longer tail" * key_longest)
    return q


def multiple(i: int, correct: int, n: int = 4) -> dict:
    q = bankgen.multiple(f"alpha-{i:03}", correct=tuple("abcdefgh"[:correct]), n=n)
    q["prompt"] = _prompt(i)
    return q


def true_false(i: int, answer: bool) -> dict:
    q = bankgen.true_false(f"beta-{i:03}", answer=answer)
    q["prompt"] = _prompt(500 + i)
    return q


def _cue_bank(alpha=(), beta=()):
    """Topic alpha gets the given questions plus an ordering one, beta a matching one."""
    questions = {"alpha": [*alpha, bankgen.ordering("alpha-900")],
                 "beta": [*beta, bankgen.matching("beta-900")]}
    return questions


def _cue_report(tmp_path, questions):
    root = bankgen.write_bank(tmp_path / "bank", questions=questions, sets=bankgen.default_sets(draw=1))
    bank, problems = read_bank(root)
    assert problems == []
    return cue_check(bank)


def _cue_warnings(tmp_path, questions):
    return [str(w) for w in _cue_report(tmp_path, questions).warnings]


def _figure(report, start):
    return next(f for f in report.figures if f.startswith(start))


def _balanced(count=12, longest=0):
    """Single-choice questions with the key cycling through positions 1-4."""
    return [single(i, key_at=1 + i % 4, key_longest=i < longest) for i in range(count)]


def test_clean_bank_has_no_cue_warnings(tmp_path):
    multiples = [multiple(100 + i, c) for i, c in enumerate([1, 2, 3, 1, 2, 3])]
    tfs = [true_false(i, answer=i % 2 == 0) for i in range(6)]
    report = _cue_report(tmp_path, _cue_bank(_balanced(longest=4) + multiples, tfs))
    assert [str(w) for w in report.warnings] == []
    assert report.figures == [
        "key longest: 4/12 single-choice (33 %, limit 33 %)",
        "key position: 1: 3/12 (25 %, expected 25 %), 2: 3/12 (25 %, expected 25 %), 3: 3/12 "
        "(25 %, expected 25 %), 4: 3/12 (25 %, expected 25 %) (largest gap 0.0 points, limit 10)",
        "select-all: every option correct in 0/6 multiple-response; correct options 1: 2, 2: 2, 3: 2 "
        "(most common 33 %, limit 50 %; 3 different, needs 3; exactly 1 correct: 2; all but one "
        "correct: 2)",
        "true/false: 3/6 keyed true (50 %, limit 40-60 %)",
        "option lengths: 0/18 single and multiple questions with the longest over 2 x shortest + 15",
        "near-duplicate prompts: 0 pair(s) (equal, or difflib ratio >= 0.9)",
    ]


# R1 ------------------------------------------------------------------------------------------

def test_r1_key_longest_share(tmp_path):
    assert _cue_warnings(tmp_path, _cue_bank(_balanced(longest=4))) == []  # 4/12 is exactly the limit
    report = _cue_report(tmp_path, _cue_bank(_balanced(longest=5)))
    assert [str(w) for w in report.warnings] == [
        "questions/: -: cue.longest-key: warning: the key is the longest option in 5/12 single-choice "
        "questions (42 %, limit 33 %): make a wrong option the longest in more"]
    assert _figure(report, "key longest") == "key longest: 5/12 single-choice (42 %, limit 33 %)  <-- fails"


def test_r1_ties_count_as_longest(tmp_path):
    questions = _balanced()
    for q in questions[:5]:
        for c in q["choices"]:
            c["text"] = f"Same length {c['id']} {q['id']}"
    assert [w.field for w in _cue_report(tmp_path, _cue_bank(questions)).warnings] == ["cue.longest-key"]


# R2 ------------------------------------------------------------------------------------------

def test_r2_key_position_balance(tmp_path):
    questions = [single(i, key_at=1 if i < 6 else 2 + i % 3) for i in range(12)]  # 6 of 12 at 1
    assert _cue_warnings(tmp_path, _cue_bank(questions)) == [
        "questions/: -: cue.key-position: warning: the key is option 1 in 6/12 single-choice questions "
        "(50 %, expected 25 %; gap 25.0 points, limit 10): move some keys",
    ]


def test_r2_expected_share_follows_the_number_of_options(tmp_path):
    # 6 questions with 2 options (keys at 1, 2 alternately) and 6 with 3 (keys at 1, 2, 3):
    # expected at 1 = (6/2 + 6/3) / 12 = 42 %, at 3 = (6/3) / 12 = 17 %.
    questions = [single(i, key_at=1 + i % 2, n=2) for i in range(6)]
    questions += [single(6 + i, key_at=1 + i % 3, n=3) for i in range(6)]
    report = _cue_report(tmp_path, _cue_bank(questions))
    assert report.warnings == []
    assert _figure(report, "key position").startswith(
        "key position: 1: 5/12 (42 %, expected 42 %), 2: 5/12 (42 %, expected 42 %), "
        "3: 2/12 (17 %, expected 17 %)")


def test_r2_is_skipped_below_12_questions(tmp_path):
    report = _cue_report(tmp_path, _cue_bank([single(i, key_at=2) for i in range(11)]))
    assert report.warnings == []
    assert _figure(report, "key position") == "key position: skipped, 11 single-choice questions (needs 12)"


# R3 ------------------------------------------------------------------------------------------

def test_r3_every_option_correct_is_a_cue(tmp_path):
    questions = [multiple(1, 4), multiple(2, 2)]
    assert _cue_warnings(tmp_path, _cue_bank(questions)) == [
        "questions/alpha.yaml: alpha-001: choices: warning: every option is correct: a select-all "
        "cue; make at least one option wrong"]


@pytest.mark.parametrize("counts, n, message", [
    ([2, 2, 2, 2, 1, 3], 4, "4/6 multiple-response questions (67 %) have 2 correct options, limit 50 %"),
    ([1, 3, 1, 3, 1, 3], 4, "only 2 different numbers of correct options (1, 3), needs 3"),
    ([2, 3, 4, 2, 3, 4], 5, "no multiple-response question has exactly 1 correct option"),
    ([1, 2, 3, 1, 2, 3], 5, "no multiple-response question has all but one option correct"),
])
def test_r3_select_all_spread(tmp_path, counts, n, message):
    questions = [multiple(i, c, n=n) for i, c in enumerate(counts)]
    assert _cue_warnings(tmp_path, _cue_bank(questions)) == [
        f"questions/: -: cue.select-all: warning: {message}"]


def test_r3_spread_is_skipped_below_6_questions(tmp_path):
    report = _cue_report(tmp_path, _cue_bank([multiple(i, 2) for i in range(5)]))
    assert report.warnings == []
    assert _figure(report, "select-all") == ("select-all: every option correct in 0/5 "
                                             "multiple-response; spread skipped, 5 questions (needs 6)")


# R4 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("trues, ok", [(0, False), (1, False), (2, True), (3, True), (4, False)])
def test_r4_true_false_balance(tmp_path, trues, ok):
    tfs = [true_false(i, answer=i < trues) for i in range(5)]
    warnings = _cue_warnings(tmp_path, _cue_bank(beta=tfs))
    expected = [] if ok else [
        f"questions/: -: cue.true-false: warning: {trues}/5 true/false questions are keyed true "
        f"({trues * 20} %, limit 40-60 %): learners who always answer the same way gain"]
    assert warnings == expected


def test_r4_is_skipped_below_5_questions(tmp_path):
    report = _cue_report(tmp_path, _cue_bank(beta=[true_false(i, answer=True) for i in range(4)]))
    assert report.warnings == []
    assert _figure(report, "true/false") == "true/false: skipped, 4 questions (needs 5)"


# R5 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra, flagged", [(0, False), (1, True)])
def test_r5_option_length_ratio(tmp_path, extra, flagged):
    q = single(1, key_at=2)
    q["choices"][0]["text"] = "x" * 10
    q["choices"][2]["text"] = "y" * (35 + extra)  # the limit is 2 x 10 + 15 = 35
    q["choices"][3]["text"] = "z" * 30
    m = multiple(2, 2)
    warnings = _cue_warnings(tmp_path, _cue_bank([q, m]))
    assert warnings == ([
        "questions/alpha.yaml: alpha-001: choices: warning: option lengths differ too much: longest "
        "36 characters, shortest 10 (limit 2 x 10 + 15 = 35): a cue to guess"] if flagged else [])


# R6 ------------------------------------------------------------------------------------------

def _brute_force(questions):
    normal = [_normal(q["prompt"]) for q in questions]
    return [(i, j) for i in range(len(normal)) for j in range(i + 1, len(normal))
            if _similar(normal[i], normal[j])]


def _variant(rng, text, edits):
    chars = list(text)
    for _ in range(edits):
        if not chars:
            chars.append(rng.choice(string.ascii_lowercase))
            continue
        at = rng.randrange(len(chars))
        kind = rng.random()
        if kind < 0.4:
            chars[at] = rng.choice(string.ascii_lowercase + " ")
        elif kind < 0.7:
            del chars[at]
        else:
            chars.insert(at, rng.choice(string.ascii_lowercase))
    return "".join(chars)


def test_r6_matches_the_pairwise_definition(tmp_path):
    """Many prompts at every distance from a few bases: the fast search finds exactly the pairs
    that comparing every pair finds (including the ones just over and just under 0.9)."""
    rng = random.Random(7)
    bases = [" ".join(rng.choices(WORDS[:40], k=rng.randint(2, 16))) for _ in range(12)]
    bases += ["Which is true?", "Why?", "", "?!"]
    prompts = [_variant(rng, rng.choice(bases), rng.choice([0, 1, 2, 3, 5, 8, 12]))
               for _ in range(400)]
    questions = [{"id": f"q-{i}", "prompt": p, "_file": "x"} for i, p in enumerate(prompts)]
    expected = _brute_force(questions)
    assert len(expected) > 1000  # the test is worth something: many true pairs, many near misses
    assert near_duplicate_pairs(questions) == expected


def test_r6_finds_planted_pairs_in_20000_questions():
    rng = random.Random(20_000)
    vocabulary = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9)))
                  for _ in range(5000)]
    common = "which of the these does article a patient what should you say is after session".split()

    def prompt():
        words = [rng.choice(vocabulary) if rng.random() < 0.6 else rng.choice(common)
                 for _ in range(rng.randint(8, 16))]
        return " ".join(words).capitalize() + "?"

    prompts = [prompt() for _ in range(20_000)]
    planted = {}
    for k, (i, j) in enumerate([(5, 19_990), (1234, 1235), (7000, 15), (400, 12_345), (9999, 42)]):
        base = prompts[i]
        if k == 0:
            prompts[j] = base  # the same prompt
        elif k == 1:
            prompts[j] = base.upper().replace(" ", "  ") + "!!"  # same once normalised
        else:
            words = base.split()
            words[len(words) // 2] += "s"  # one letter more
            prompts[j] = " ".join(words)
        planted[min(i, j), max(i, j)] = True
    # Near misses: half the words changed, well under 0.9.
    for i, j in [(100, 200), (300, 19_000)]:
        words = prompts[i].split()
        prompts[j] = " ".join(w if n % 2 else rng.choice(vocabulary) for n, w in enumerate(words))
    questions = [{"id": f"q-{i:05}", "prompt": p, "_file": "questions/big.yaml"}
                 for i, p in enumerate(prompts)]
    found = near_duplicate_pairs(questions)
    assert set(found) == set(planted)
    for i, j in found:
        assert _similar(_normal(prompts[i]), _normal(prompts[j]))


def test_r6_warnings_and_figure(tmp_path):
    a, b = single(1), single(2)
    b["prompt"] = a["prompt"].lower() + " !"
    root = bankgen.write_bank(tmp_path / "bank", questions=_cue_bank([a, b]),
                              sets=bankgen.default_sets(draw=1))
    bank, _ = read_bank(root)
    assert [str(w) for w in lint_bank(bank)] == [
        "questions/alpha.yaml: alpha-002: prompt: warning: same or nearly the same prompt as alpha-001"]
    assert _figure(cue_check(bank), "near-duplicate") == (
        "near-duplicate prompts: 1 pair(s) (equal, or difflib ratio >= 0.9)  <-- fails")


# CLI -----------------------------------------------------------------------------------------

def test_check_prints_figures_before_the_summary_and_strict_fails_on_cues(tmp_path, runner):
    questions = _cue_bank(_balanced(longest=6))  # only R1 fails
    root = bankgen.write_bank(tmp_path / "bank", questions=questions, sets=bankgen.default_sets(draw=1))
    relaxed = runner.invoke(args=["bank", "check", str(root)])
    assert relaxed.exit_code == 0, relaxed.output
    lines = relaxed.output.splitlines()
    figures = [n for n, line in enumerate(lines) if line.startswith(("key ", "select-all", "true/false",
                                                                     "option lengths", "near-dup"))]
    summary = next(n for n, line in enumerate(lines) if "no errors, 1 warning(s)" in line)
    assert len(figures) == 6 and max(figures) < summary
    assert "key longest: 6/12 single-choice (50 %, limit 33 %)  <-- fails" in lines
    strict = runner.invoke(args=["bank", "check", "--strict", str(root)])
    assert strict.exit_code == 1
    assert "questions/: -: cue.longest-key: warning: the key is the longest option in 6/12" in strict.output
