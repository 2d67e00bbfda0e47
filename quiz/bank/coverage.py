"""Which questions test each key point of the article."""

from __future__ import annotations

from dataclasses import dataclass

from .files import Bank

MIN_QUESTIONS_PER_KEY_POINT = 2


@dataclass
class KeyPointCoverage:
    key_point_id: str
    text: str
    must_know: bool
    question_ids: list[str]


def coverage(bank: Bank) -> list[KeyPointCoverage]:
    by_kp: dict[str, list[str]] = {k["id"]: [] for k in bank.key_points}
    for question in bank.questions:
        for kp in question["key_points"]:
            by_kp[kp].append(question["id"])
    return [
        KeyPointCoverage(k["id"], k["text"], bool(k.get("must_know")), by_kp[k["id"]])
        for k in bank.key_points
    ]
