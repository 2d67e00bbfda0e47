"""Item-writing checks, after the NBME item-writing guide and Haladyna, Downing and
Rodriguez's multiple-choice guidelines. They give warnings; `bank check --strict` fails on them.

Rules (each a function below):
- no "all of the above" / "none of the above" / "both of the above";
- no negative lead-in (not, except, least, isn't ...) unless written in capitals (NOT, EXCEPT);
  only the lead-in (the prompt's last sentence) is read, so a patient's quoted words may be negative;
- no absolute terms (always, never, only ...) that appear in wrong choices only: a cue to test-wise guessers;
- the correct choice not much longer than the others (another cue);
- no duplicate or near-duplicate prompts across the bank (normalised prompts equal, or with a
  difflib ratio >= 0.9), found without comparing every pair: see near_duplicate_pairs;
- no duplicate choices (or matching items, or ordering steps) within a question.
A question or choice without feedback, and a key point or source that does not exist, are
errors in files.py already, so the bank never loads with them. The bank-wide cue checks
(longest key, key positions, select-all, true/false balance, option lengths) are in cues.py.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterator
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import chain
from typing import Any

from ..vocab import QuestionTypeName
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
    if question["type"] == QuestionTypeName.TRUE_FALSE:
        return  # a statement to judge is not a lead-in question
    match = NEGATIVE_WORDS.search(_lead_in(question["prompt"]))
    if match:
        yield _warning(question, "prompt",
                       f"negative lead-in '{match.group(0)}': rephrase positively, or write it in "
                       "capitals (NOT, EXCEPT) so no one misreads it")


def absolute_terms(question: dict[str, Any]) -> Iterator[Problem]:
    if question["type"] not in (QuestionTypeName.SINGLE, QuestionTypeName.MULTIPLE):
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
    if question["type"] not in (QuestionTypeName.SINGLE, QuestionTypeName.MULTIPLE):
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


def _similar(a: str, b: str) -> bool:
    """The definition: equal, or a difflib ratio of at least NEAR_DUPLICATE."""
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (matcher.real_quick_ratio() >= NEAR_DUPLICATE and matcher.quick_ratio() >= NEAR_DUPLICATE
            and matcher.ratio() >= NEAR_DUPLICATE)


# Candidate pairs come from shared character trigrams. difflib's ratio is 2M/S, with M the
# characters in matching blocks and S the two lengths added. The blocks are in order and
# separated by at least one unmatched character, so there are at most S - 2M + 1 of them, and a
# block of k characters holds k - 2 trigrams found in both texts: at least
# M - 2(S - 2M + 1) = 5M - 2S - 2 shared trigrams (counted with repeats). Ratio >= 0.9 needs
# M >= 0.45 S, so >= S/4 - 2 shared trigrams; and 2 min(len) / S >= 0.9 (M is at most the shorter
# length), so S >= 20/11 of either length and a text of length L shares t >= 5L/11 - 2 trigrams
# with any near-duplicate. Prefix filtering: order all trigrams rarest first; two texts sharing
# >= t trigrams share at least K among the first (count - t + K) of each (the shared ones are the
# first shared ones of both). Only those prefixes are indexed, and a pair is a candidate once
# K of its prefix trigrams meet, so a word or two in common does not make one. Candidates then
# pass the exact shared-trigram count, and last the definition itself. Texts too short for the
# bound (t < K) are compared with every text of a length that could qualify.
_Q = 3
_K = 10


def _min_shared(length: int) -> int:
    return (11 - 2 * _Q) * length // 11 - _Q  # the bound above, one lower against rounding


def _pair_shared(total: int) -> int:
    return (11 - 2 * _Q) * total // 20 - _Q


def _length_ok(a: int, b: int) -> bool:
    return 20 * min(a, b) >= 9 * (a + b)


def _trigrams(text: str) -> list[tuple[str, int]]:
    seen: Counter[str] = Counter()
    tokens = []
    for i in range(len(text) - _Q + 1):
        gram = text[i:i + _Q]
        seen[gram] += 1
        tokens.append((gram, seen[gram]))  # the second "the" differs from the first
    return tokens


@lru_cache(maxsize=2)
def _near_texts(texts: tuple[str, ...]) -> frozenset[tuple[int, int]]:
    """Pairs (u, v) of indexes into distinct texts, u < v, that are near-duplicates either way."""
    grams = [_trigrams(text) for text in texts]
    frequency = Counter(token for tokens in grams for token in tokens)
    rank = {token: r for r, (token, _) in enumerate(
        sorted(frequency.items(), key=lambda item: (item[1], item[0])))}
    sets = [frozenset(rank[t] for t in tokens) for tokens in grams]
    # Shortest first: the texts already indexed are never longer, and each posting list is in
    # length order, so the ones too short to qualify are skipped with one bisect.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    lengths = [len(texts[i]) for i in order]
    index: dict[int, list[int]] = defaultdict(list)  # token -> positions in `order`
    candidates: list[tuple[int, int]] = []
    short: list[int] = []
    for position, v in enumerate(order):
        need = _min_shared(lengths[position])
        if need < _K:
            short.append(v)
            continue
        low = bisect_left(lengths, -(-9 * lengths[position] // 11))
        prefix = sorted(rank[t] for t in grams[v])[:len(grams[v]) - need + _K]
        meets = Counter(chain.from_iterable(
            postings[bisect_left(postings, low):] for postings in map(index.__getitem__, prefix)))
        for token in prefix:
            index[token].append(position)
        candidates += ((order[u], v) for u, count in meets.items() if count >= _K)
    by_length: dict[int, list[int]] = defaultdict(list)
    for v, text in enumerate(texts):
        by_length[len(text)].append(v)
    for v in short:
        n = len(texts[v])
        for length in range(n * 9 // 11, n * 11 // 9 + 2):
            candidates += ((u, v) for u in by_length.get(length, ()) if u != v)
    near = set()
    for u, v in {(min(u, v), max(u, v)) for u, v in candidates}:
        a, b = texts[u], texts[v]
        if (_length_ok(len(a), len(b))
                and len(sets[u] & sets[v]) >= _pair_shared(len(a) + len(b))
                and (_similar(a, b) or _similar(b, a))):
            near.add((u, v))
    return frozenset(near)


def near_duplicate_pairs(questions: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of questions whose normalised prompts are equal or have a difflib
    ratio >= NEAR_DUPLICATE (compared as prompt i to prompt j), without comparing every pair."""
    normal = [_normal(q["prompt"]) for q in questions]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(normal):
        groups[text].append(i)
    texts = tuple(groups)
    pairs = [(i, j) for members in groups.values()
             for x, i in enumerate(members) for j in members[x + 1:]]
    for u, v in _near_texts(texts):
        for i in groups[texts[u]]:
            for j in groups[texts[v]]:
                a, b = min(i, j), max(i, j)
                if _similar(normal[a], normal[b]):
                    pairs.append((a, b))
    return sorted(pairs)


def duplicate_prompts(questions: list[dict[str, Any]]) -> Iterator[Problem]:
    for i, j in near_duplicate_pairs(questions):
        yield _warning(questions[j], "prompt",
                       f"same or nearly the same prompt as {questions[i]['id']}")


def lint_bank(bank: Bank) -> list[Problem]:
    """Item-writing warnings for a bank that has no errors."""
    problems = [p for q in bank.questions for rule in PER_QUESTION for p in rule(q)]
    problems += duplicate_prompts(bank.questions)
    return problems


def lint_question(question: dict[str, Any], others: list[dict[str, Any]]) -> list[Problem]:
    """Item-writing warnings for one question without errors (the studio editor's check): the
    per-question rules, and a prompt the same as or nearly the same as one of `others`
    (entries with an id and a prompt, e.g. the bank's current prompts)."""
    problems = [p for rule in PER_QUESTION for p in rule(question)]
    pool = [*others, question]
    last = len(pool) - 1
    for i, j in near_duplicate_pairs(pool):
        if last in (i, j):
            other = pool[i if j == last else j]
            problems.append(_warning(question, "prompt",
                                     f"same or nearly the same prompt as {other['id']}"))
    return problems
