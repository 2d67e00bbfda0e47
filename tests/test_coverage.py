"""Key-point coverage of the bank, and the content numbers the shipped bank promises."""

from __future__ import annotations

from collections import Counter

from quiz.bank import read_bank
from quiz.bank.coverage import coverage

from . import bankgen


def test_coverage_command_lists_questions_per_key_point(runner, tmp_path):
    root = bankgen.write_bank(tmp_path / "bank")
    result = runner.invoke(args=["bank", "coverage", str(root)])
    assert result.exit_code == 0, result.output
    assert "kp-one (3): Soft tissue includes fascia." in result.output
    assert "alpha-001, alpha-002, alpha-003" in result.output
    assert "kp-two [must-know] (3)" in result.output


def test_coverage_fails_when_a_key_point_has_fewer_than_two(runner, tmp_path):
    questions = {"alpha": [bankgen.single("alpha-001"), bankgen.single("alpha-002")],
                 "beta": [bankgen.true_false("beta-001")]}
    sets = bankgen.default_sets(draw=2)
    root = bankgen.write_bank(tmp_path / "bank", questions=questions, sets=sets)
    result = runner.invoke(args=["bank", "coverage", str(root)])
    assert result.exit_code == 1
    assert "kp-two [must-know] (1)" in result.output
    assert "needs more questions" in result.output
    assert "1 key point(s) tested by fewer than 2 questions." in result.output


def test_shipped_bank_coverage_passes(runner):
    result = runner.invoke(args=["bank", "coverage"])
    assert result.exit_code == 0, result.output


def test_shipped_bank_meets_the_content_numbers(app):
    bank, problems = read_bank(app.config["BANK_PATH"])
    assert problems == []
    assert len(bank.questions) >= 90
    assert min(len(kp.question_ids) for kp in coverage(bank)) >= 2
    types = Counter(q["type"] for q in bank.questions)
    assert set(types) == {"single", "multiple", "true_false", "matching", "ordering"}
    assert sum(bool(q.get("scenario")) for q in bank.questions) >= 15
    assert all(q["difficulty"] in ("easy", "medium", "hard") for q in bank.questions)
    assert {q["difficulty"] for q in bank.questions} == {"easy", "medium", "hard"}
    sections = {s["id"] for s in bank.sections}
    assert sections == {"soft-tissue", "what-is-iastm", "injuries-treated", "what-to-expect"}
    assert any(kp.get("must_know") for kp in bank.key_points)
    sets = {s["id"]: s for s in bank.sets}
    assert {"basics", "tools", "indications", "reactions", "plan-of-care", "mixed", "onboarding"} <= set(sets)
    onboarding = sets["onboarding"]
    assert onboarding["count"] == 20 and onboarding["pass_mark"] == 80
    assert onboarding["include_must_know"] is True
