"""Build small bank folders for tests, so tests do not depend on the shipped bank's content."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SECTIONS = [
    {"id": "soft-tissue", "title": "What is soft tissue?"},
    {"id": "what-to-expect", "title": "What should I expect?"},
]
KEY_POINTS = [
    {"id": "kp-one", "section": "soft-tissue", "text": "Soft tissue includes fascia."},
    {"id": "kp-two", "section": "what-to-expect", "text": "Redness is normal afterwards.",
     "must_know": True},
]
TOPICS = [
    {"id": "alpha", "title": "Alpha topic", "description": "First."},
    {"id": "beta", "title": "Beta topic", "description": "Second."},
]


def single(qid: str, correct: str = "a", n: int = 3, kp: str = "kp-one", **extra) -> dict[str, Any]:
    ids = "abcdefgh"[:n]
    return {
        "id": qid, "type": "single", "difficulty": "easy", "source": "soft-tissue",
        "key_points": [kp], "prompt": f"Prompt of {qid}?",
        "choices": [
            {"id": c, "text": f"Choice {c} of {qid}", "correct": c == correct,
             "feedback": f"Feedback {c} of {qid}"}
            for c in ids
        ],
        "explanation": f"Explanation of {qid}.", **extra,
    }


def multiple(qid: str, correct: tuple[str, ...] = ("a", "b"), n: int = 4, **extra):
    q = single(qid, n=n, **extra)
    q["type"] = "multiple"
    for c in q["choices"]:
        c["correct"] = c["id"] in correct
    return q


def true_false(qid: str, answer: bool = True, **extra):
    return {
        "id": qid, "type": "true_false", "difficulty": "medium", "source": "what-to-expect",
        "key_points": ["kp-two"], "prompt": f"Statement {qid}.",
        "choices": [
            {"id": "true", "text": "True", "correct": answer, "feedback": "T feedback"},
            {"id": "false", "text": "False", "correct": not answer, "feedback": "F feedback"},
        ],
        "explanation": f"Explanation of {qid}.", **extra,
    }


def matching(qid: str, **extra):
    return {
        "id": qid, "type": "matching", "difficulty": "hard", "source": "what-to-expect",
        "key_points": ["kp-two"], "prompt": f"Match {qid}.",
        "options": [{"id": "yes", "text": "Expected"}, {"id": "no", "text": "Not described"}],
        "pairs": [
            {"id": "red", "text": "Redness", "match": "yes", "feedback": "Listed."},
            {"id": "heat", "text": "Heat", "match": "yes", "feedback": "Listed."},
            {"id": "fever", "text": "Fever", "match": "no", "feedback": "Not listed."},
        ],
        "explanation": f"Explanation of {qid}.", **extra,
    }


def ordering(qid: str, **extra):
    return {
        "id": qid, "type": "ordering", "difficulty": "hard", "source": "soft-tissue",
        "key_points": ["kp-one"], "prompt": f"Order {qid}.",
        "steps": [
            {"id": s, "text": f"Step {s}", "feedback": f"Why {s}"} for s in ("s1", "s2", "s3", "s4")
        ],
        "explanation": f"Explanation of {qid}.", **extra,
    }


def default_questions(per_topic: int = 3) -> dict[str, list[dict[str, Any]]]:
    return {
        "alpha": [single(f"alpha-{i:03}") for i in range(1, per_topic + 1)],
        "beta": [true_false(f"beta-{i:03}") for i in range(1, per_topic + 1)],
    }


def default_sets(draw: int = 4) -> list[dict[str, Any]]:
    return [
        {"id": "alpha", "title": "Alpha set", "kind": "topic", "topic": "alpha"},
        {"id": "beta", "title": "Beta set", "kind": "topic", "topic": "beta"},
        {"id": "mixed", "title": "Mixed", "kind": "random", "count": draw, "topics": "all"},
    ]


def write_bank(root: Path, questions: dict[str, list[dict]] | None = None,
               sets: list[dict] | None = None, key_points: list[dict] | None = None,
               topics: list[dict] | None = None) -> Path:
    """Write a complete, valid (unless told otherwise) bank folder under root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "questions").mkdir(exist_ok=True)
    dump = lambda path, data: path.write_text(  # noqa: E731
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    dump(root / "key_points.yaml", {"sections": copy.deepcopy(SECTIONS),
                                    "key_points": copy.deepcopy(key_points or KEY_POINTS)})
    dump(root / "topics.yaml", {"topics": copy.deepcopy(topics or TOPICS)})
    dump(root / "sets.yaml", {"sets": sets if sets is not None else default_sets()})
    for topic, qs in (questions if questions is not None else default_questions()).items():
        dump(root / "questions" / f"{topic}.yaml", {"topic": topic, "questions": qs})
    return root
