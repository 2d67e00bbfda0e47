"""Item-writing checks, after the NBME item-writing guide and Haladyna, Downing and
Rodriguez's multiple-choice guidelines. They give warnings; `bank check --strict` fails on them.

Rules (each a function below):
- no "all of the above" / "none of the above" / "both of the above";
- no negative lead-in (not, except, least, isn't ...) unless written in capitals (NOT, EXCEPT);
  only the lead-in (the prompt's last sentence) is read, so a patient's quoted words may be negative;
- no absolute terms (always, never, only ...) that appear in wrong choices only: a cue to test-wise guessers;
- the correct choice not much longer than the others (another cue);
- no duplicate or near-duplicate prompts across the bank;
- no duplicate choices (or matching items, or ordering steps) within a question.
A question or choice without feedback, and a key point or source that does not exist, are
errors in files.py already, so the bank never loads with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher
from typing import Any

from .files import Bank, Problem

OF_THE_ABOVE = re.compile(r"\b(all|none|both|neither) of (the )?(above|these)\b", re.I)
NEGATIVE_WORDS = re.compile(r"\b(not|except|least|never|\w+n't)\b")
ABSOLUTE_WORDS = re.compile(r"\b(always|never|only|all|none|every|completely|guaranteed|impossible)\b",
                            re.I)
LENGTH_RATIO = 1.5
LENGTH_SLACK = 10  # characters: short choices may differ a little without being a cue
NEAR_DUPLICATE = 0.9


def _warning(question: dict[str, Any], fld: str, message: str) -> Problem:
    return Problem(question["_file"], question["id"], fld, message, severity="warning")


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _lead_in(prompt: str) -> str:
    sentences = [s for s in re.split(r"(?<=[.?!:])[\"”’']?\s+|\n+", prompt.strip()) if s.strip()]
    return sentences[-1] if sentences else ""


def _entries(question: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("choices", "pairs", "steps"):
        if key in question:
            return question[key]
    return []


def of_the_above(question: dict[str, Any]) -> Iterator[Problem]:
    for i, entry in enumerate(question.get("choices", [])):
        if OF_THE_ABOVE.search(entry["text"]):
            yield _warning(question, f"choices[{i}].text",
                           "avoid 'all/none of the above': it rewards partial knowledge")


def negative_stem(question: dict[str, Any]) -> Iterator[Problem]:
    if question["type"] == "true_false":
        return  # a statement to judge is not a lead-in question
    match = NEGATIVE_WORDS.search(_lead_in(question["prompt"]))
    if match:
        yield _warning(question, "prompt",
                       f"negative lead-in '{match.group(0)}': rephrase positively, or write it in "
                       "capitals (NOT, EXCEPT) so no one misreads it")


def absolute_terms(question: dict[str, Any]) -> Iterator[Problem]:
    if question["type"] not in ("single", "multiple"):
        return
    in_correct = any(ABSOLUTE_WORDS.search(c["text"]) for c in question["choices"] if c["correct"])
    if in_correct:
        return
    for i, choice in enumerate(question["choices"]):
        match = ABSOLUTE_WORDS.search(choice["text"])
        if match and not choice["correct"] and not OF_THE_ABOVE.search(choice["text"]):
            yield _warning(question, f"choices[{i}].text",
                           f"absolute term '{match.group(0)}' only in wrong choices: a cue to guess")


def long_correct_choice(question: dict[str, Any]) -> Iterator[Problem]:
    if question["type"] not in ("single", "multiple"):
        return
    right = [len(c["text"]) for c in question["choices"] if c["correct"]]
    wrong = [len(c["text"]) for c in question["choices"] if not c["correct"]]
    if not right or not wrong:
        return
    mean_right, mean_wrong = sum(right) / len(right), sum(wrong) / len(wrong)
    if mean_right > LENGTH_RATIO * mean_wrong and mean_right - mean_wrong > LENGTH_SLACK:
        yield _warning(question, "choices",
                       f"the correct choice is much longer than the others ({mean_right:.0f} vs "
                       f"{mean_wrong:.0f} characters): a cue to guess")


def duplicate_choices(question: dict[str, Any]) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, entry in enumerate(_entries(question)):
        key = _normal(entry["text"])
        if key in seen:
            yield _warning(question, f"{_field(question)}[{i}].text",
                           f"repeats entry {seen[key]} of the same question")
        else:
            seen[key] = i


def _field(question: dict[str, Any]) -> str:
    return next((k for k in ("choices", "pairs", "steps") if k in question), "choices")


PER_QUESTION = (of_the_above, negative_stem, absolute_terms, long_correct_choice, duplicate_choices)


def duplicate_prompts(questions: list[dict[str, Any]]) -> Iterator[Problem]:
    normal = [(_normal(q["prompt"]), q) for q in questions]
    for i, (a, qa) in enumerate(normal):
        for b, qb in normal[i + 1:]:
            matcher = SequenceMatcher(None, a, b, autojunk=False)
            if a == b or (matcher.real_quick_ratio() >= NEAR_DUPLICATE
                          and matcher.quick_ratio() >= NEAR_DUPLICATE
                          and matcher.ratio() >= NEAR_DUPLICATE):
                yield _warning(qb, "prompt", f"same or nearly the same prompt as {qa['id']}")


def lint_bank(bank: Bank) -> list[Problem]:
    """Item-writing warnings for a bank that has no errors."""
    problems = [p for q in bank.questions for rule in PER_QUESTION for p in rule(q)]
    problems += duplicate_prompts(bank.questions)
    return problems
