"""Cue checks: bank-wide patterns a test-wise learner could use to guess without knowing.

The rules are the shared definitions of issue 6, part 3 (R1-R6). Each gives a figure that
`bank check` prints (one line each, before its summary) and warnings that make
`bank check --strict` fail. Bank-level warnings name the file "questions/", the item "-" and
the rule as the field (`questions/: -: cue.longest-key: ...`); per-question warnings name the
question and its `choices`.

R1 cue.longest-key (single-choice): the key is "longest" when its stripped text is at least as
   long as every other option (ties count). At most 1/3 of single-choice questions may have it.
R2 cue.key-position (single-choice, skipped below 12 questions): for each position p (1-based,
   as listed in the file) the share of keys at p may differ from the expected share
   (sum over questions with at least p options of 1/options, divided by the questions) by at
   most 10 percentage points.
R3 select-all (multiple-response): per question, not every option may be correct
   (`choices`); bank level (cue.select-all, skipped below 6 questions): the most common number
   of correct options covers at most 50 % of the questions, at least 3 different numbers are
   used, at least one question has exactly 1 correct option and one has all but one correct.
R4 cue.true-false (skipped below 5 questions): 40 % to 60 % (inclusive) of true/false questions
   are keyed "true".
R5 option lengths (single and multiple, per question, `choices`): the longest option is at most
   2 x the shortest + 15 characters (stripped texts).
R6 near-duplicate prompts: lint.near_duplicate_pairs (equal normalised prompts, or difflib
   ratio >= 0.9), found without comparing every pair; the warnings come from lint_bank.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..vocab import QuestionTypeName
from .files import Bank, Problem
from .lint import NEAR_DUPLICATE, near_duplicate_pairs

BANK_FILE = "questions/"
LONGEST_KEY_MAX = Fraction(1, 3)
POSITION_GAP_MAX = Fraction(1, 10)
POSITION_MIN_QUESTIONS = 12
SELECT_ALL_MODE_MAX = Fraction(1, 2)
SELECT_ALL_MIN_DIFFERENT = 3
SELECT_ALL_MIN_QUESTIONS = 6
TRUE_SHARE_MIN, TRUE_SHARE_MAX = Fraction(2, 5), Fraction(3, 5)
TRUE_FALSE_MIN_QUESTIONS = 5
OPTION_LENGTH_FACTOR = 2
OPTION_LENGTH_SLACK = 15  # characters


@dataclass
class CueReport:
    figures: list[str] = field(default_factory=list)  # one printable line per rule
    warnings: list[Problem] = field(default_factory=list)


def _pct(share: Fraction | float) -> str:
    return f"{round(float(share) * 100)} %"


def _bank_warning(rule: str, message: str) -> Problem:
    return Problem(BANK_FILE, "-", f"cue.{rule}", message, severity="warning")


def _question_warning(question: dict[str, Any], message: str) -> Problem:
    return Problem(question["_file"], question["id"], "choices", message, severity="warning")


def _lengths(question: dict[str, Any]) -> list[int]:
    return [len(c["text"].strip()) for c in question["choices"]]


def _key_index(question: dict[str, Any]) -> int:
    return next(i for i, c in enumerate(question["choices"]) if c["correct"])


def _fails(ok: bool) -> str:
    return "" if ok else "  <-- fails"


def longest_key(singles: list[dict[str, Any]], report: CueReport) -> None:
    """R1."""
    n = len(singles)
    if not n:
        report.figures.append("key longest: no single-choice questions")
        return
    count = 0
    for q in singles:
        lengths = _lengths(q)
        count += lengths[_key_index(q)] >= max(lengths)
    share = Fraction(count, n)
    ok = share <= LONGEST_KEY_MAX
    report.figures.append(f"key longest: {count}/{n} single-choice ({_pct(share)}, "
                          f"limit {_pct(LONGEST_KEY_MAX)}){_fails(ok)}")
    if not ok:
        report.warnings.append(_bank_warning(
            "longest-key", f"the key is the longest option in {count}/{n} single-choice questions "
            f"({_pct(share)}, limit {_pct(LONGEST_KEY_MAX)}): make a wrong option the longest in more"))


def key_position(singles: list[dict[str, Any]], report: CueReport) -> None:
    """R2."""
    n = len(singles)
    if n < POSITION_MIN_QUESTIONS:
        report.figures.append(f"key position: skipped, {n} single-choice questions "
                              f"(needs {POSITION_MIN_QUESTIONS})")
        return
    observed = Counter(_key_index(q) + 1 for q in singles)
    sizes = [len(q["choices"]) for q in singles]
    parts, worst = [], Fraction(0)
    for p in range(1, max(sizes) + 1):
        expected = sum((Fraction(1, k) for k in sizes if k >= p), Fraction(0)) / n
        share = Fraction(observed[p], n)
        gap = abs(share - expected)
        worst = max(worst, gap)
        parts.append(f"{p}: {observed[p]}/{n} ({_pct(share)}, expected {_pct(expected)})")
        if gap > POSITION_GAP_MAX:
            report.warnings.append(_bank_warning(
                "key-position", f"the key is option {p} in {observed[p]}/{n} single-choice "
                f"questions ({_pct(share)}, expected {_pct(expected)}; gap {float(gap) * 100:.1f} "
                f"points, limit {_pct(POSITION_GAP_MAX).removesuffix(' %')}): move some keys"))
    report.figures.append(
        f"key position: {', '.join(parts)} (largest gap {float(worst) * 100:.1f} points, limit "
        f"{_pct(POSITION_GAP_MAX).removesuffix(' %')}){_fails(worst <= POSITION_GAP_MAX)}")


def select_all(multiples: list[dict[str, Any]], report: CueReport) -> None:
    """R3."""
    n = len(multiples)
    counts = Counter()
    every = one = all_but_one = 0
    for q in multiples:
        k, size = sum(c["correct"] for c in q["choices"]), len(q["choices"])
        counts[k] += 1
        one += k == 1
        all_but_one += k == size - 1
        if k == size:
            every += 1
            report.warnings.append(_question_warning(
                q, "every option is correct: a select-all cue; make at least one option wrong"))
    head = f"select-all: every option correct in {every}/{n} multiple-response{_fails(not every)}"
    if n < SELECT_ALL_MIN_QUESTIONS:
        report.figures.append(f"{head}; spread skipped, {n} questions (needs "
                              f"{SELECT_ALL_MIN_QUESTIONS})")
        return
    mode, mode_n = max(sorted(counts.items()), key=lambda kv: kv[1])
    mode_share = Fraction(mode_n, n)
    problems = []
    if mode_share > SELECT_ALL_MODE_MAX:
        problems.append(f"{mode_n}/{n} multiple-response questions ({_pct(mode_share)}) have "
                        f"{mode} correct options, limit {_pct(SELECT_ALL_MODE_MAX)}")
    if len(counts) < SELECT_ALL_MIN_DIFFERENT:
        problems.append(f"only {len(counts)} different numbers of correct options "
                        f"({', '.join(map(str, sorted(counts)))}), needs {SELECT_ALL_MIN_DIFFERENT}")
    if not one:
        problems.append("no multiple-response question has exactly 1 correct option")
    if not all_but_one:
        problems.append("no multiple-response question has all but one option correct")
    for message in problems:
        report.warnings.append(_bank_warning("select-all", message))
    spread = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    report.figures.append(
        f"{head}; correct options {spread} (most common {_pct(mode_share)}, limit "
        f"{_pct(SELECT_ALL_MODE_MAX)}; {len(counts)} different, needs {SELECT_ALL_MIN_DIFFERENT}; "
        f"exactly 1 correct: {one}; all but one correct: {all_but_one}){_fails(not problems)}")


def true_false_balance(true_false: list[dict[str, Any]], report: CueReport) -> None:
    """R4."""
    n = len(true_false)
    if n < TRUE_FALSE_MIN_QUESTIONS:
        report.figures.append(f"true/false: skipped, {n} questions (needs {TRUE_FALSE_MIN_QUESTIONS})")
        return
    keyed_true = sum(c["id"] == "true" and c["correct"] for q in true_false for c in q["choices"])
    share = Fraction(keyed_true, n)
    ok = TRUE_SHARE_MIN <= share <= TRUE_SHARE_MAX
    limits = f"limit {_pct(TRUE_SHARE_MIN).removesuffix(' %')}-{_pct(TRUE_SHARE_MAX)}"
    report.figures.append(f"true/false: {keyed_true}/{n} keyed true ({_pct(share)}, {limits})"
                          f"{_fails(ok)}")
    if not ok:
        report.warnings.append(_bank_warning(
            "true-false", f"{keyed_true}/{n} true/false questions are keyed true ({_pct(share)}, "
            f"{limits}): learners who always answer the same way gain"))


def option_lengths(choice_questions: list[dict[str, Any]], report: CueReport) -> None:
    """R5."""
    over = 0
    for q in choice_questions:
        lengths = _lengths(q)
        longest, shortest = max(lengths), min(lengths)
        limit = OPTION_LENGTH_FACTOR * shortest + OPTION_LENGTH_SLACK
        if longest > limit:
            over += 1
            report.warnings.append(_question_warning(
                q, f"option lengths differ too much: longest {longest} characters, shortest "
                f"{shortest} (limit {OPTION_LENGTH_FACTOR} x {shortest} + {OPTION_LENGTH_SLACK} = "
                f"{limit}): a cue to guess"))
    report.figures.append(
        f"option lengths: {over}/{len(choice_questions)} single and multiple questions with the "
        f"longest over {OPTION_LENGTH_FACTOR} x shortest + {OPTION_LENGTH_SLACK}{_fails(not over)}")


def cue_check(bank: Bank) -> CueReport:
    """Figures and warnings for R1-R5, and the figure for R6 (lint_bank warns on R6's pairs)."""
    report = CueReport()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for q in bank.questions:
        by_type.setdefault(q["type"], []).append(q)
    singles, multiples = by_type.get(QuestionTypeName.SINGLE, []), by_type.get(QuestionTypeName.MULTIPLE, [])
    longest_key(singles, report)
    key_position(singles, report)
    select_all(multiples, report)
    true_false_balance(by_type.get(QuestionTypeName.TRUE_FALSE, []), report)
    option_lengths([q for q in bank.questions
                    if q["type"] in (QuestionTypeName.SINGLE, QuestionTypeName.MULTIPLE)], report)
    pairs = near_duplicate_pairs(bank.questions)
    report.figures.append(f"near-duplicate prompts: {len(pairs)} pair(s) (equal, or difflib ratio "
                          f">= {NEAR_DUPLICATE}){_fails(not pairs)}")
    return report
