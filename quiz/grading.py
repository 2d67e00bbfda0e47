"""Pure scoring functions: no Flask, no database. Each returns a score in [0, 1].

The rules are documented in question_bank/README.md ("Scoring").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Mapping, Sequence


def grade_single(correct_id: str, chosen_id: str | None) -> float:
    """Single choice and true/false: 1 for the correct choice, else 0."""
    return 1.0 if chosen_id is not None and chosen_id == correct_id else 0.0


def grade_multiple(correct_ids: Collection[str], chosen_ids: Collection[str]) -> float:
    """Select-all-that-apply: +1/k per correct choice chosen, -1/k per wrong one, floored at 0."""
    correct = set(correct_ids)
    if not correct:
        raise ValueError("a multiple-response question needs at least one correct choice")
    chosen = set(chosen_ids)
    hits = len(chosen & correct)
    misses = len(chosen - correct)
    return max(0.0, (hits - misses) / len(correct))


def grade_matching(key: Mapping[str, str], answer: Mapping[str, str]) -> float:
    """Matching: the share of items paired with their right option."""
    if not key:
        raise ValueError("a matching question needs at least one item")
    right = sum(1 for item, option in key.items() if answer.get(item) == option)
    return right / len(key)


def grade_ordering(correct_order: Sequence[str], answer_order: Sequence[str]) -> float:
    """Ordering: (L - 1) / (n - 1), L = longest run of steps in the right relative order.

    An answer that is not a permutation of the steps scores 0.
    """
    n = len(correct_order)
    if n < 2:
        raise ValueError("an ordering question needs at least two steps")
    if sorted(answer_order) != sorted(correct_order):
        return 0.0
    rank = {step: i for i, step in enumerate(correct_order)}
    return (_longest_increasing([rank[s] for s in answer_order]) - 1) / (n - 1)


def _longest_increasing(values: Sequence[int]) -> int:
    tails: list[int] = []
    for v in values:
        i = bisect_left(tails, v)
        if i == len(tails):
            tails.append(v)
        else:
            tails[i] = v
    return len(tails)


def passed(score: float | None, pass_mark: int | None) -> bool | None:
    """Whether a score meets a pass mark; None where there is no mark or no score yet."""
    if pass_mark is None or score is None:
        return None
    return score >= pass_mark


def percentage(points: float, question_count: int) -> float:
    """An attempt's score: points earned as a percentage of its questions, one decimal."""
    if question_count <= 0:
        return 0.0
    return round(100.0 * points / question_count, 1)
