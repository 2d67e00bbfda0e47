"""Item analysis (quiz/stats): the engine's figures against data small enough to work out by hand.

THE HAND-COMPUTED WORLD (`six_learners`): set "alpha" serves the four single-choice questions
alpha-001..alpha-004 (choices a, b, c; a is the key) in that order, so position p is question
p. Six learners L1..L6 each submit one attempt (item scores 1 = chose a, 0 = a distractor):

    learner  q1 q2 q3 q4   T (points)  percent   choices (q1 q2 q3 q4)
    L1        1  1  1  1   4           100       a a a a
    L2        1  1  1  0   3            75       a a a b
    L3        1  1  0  0   2            50       a a b b
    L4        1  0  1  0   2            50       a b a c
    L5        0  1  0  0   1            25       b a c c
    L6        0  0  0  1   1            25       b c b a

Set (Moodle's formulas, S = 6 attempts, in percent = 25·T):
    mean = 325/6 = 54.1666..; median = (50 + 50)/2 = 50.
    deviations of T from 13/6: 11/6, 5/6, -1/6, -1/6, -7/6, -7/6
    Σd² = (121+25+1+1+49+49)/36 = 41/6; Σd³ = (1331+125-1-1-343-343)/216 = 32/9;
    Σd⁴ = (14641+625+1+1+2401+2401)/1296 = 20070/1296.
    m2 = 41/36, m3 = 16/27, m4 = 20070/7776.
    k2 = S·m2/(S-1) = 41/30 (variance of T); sd = 25·sqrt(41/30) = 29.226129.. percent.
    k3 = S²·m3/((S-1)(S-2)) = 36·(16/27)/20 = 16/15; skewness = k3/k2^1.5 = 0.667628..
    k4 = S²·((S+1)·m4 - 3(S-1)·m2²)/((S-1)(S-2)(S-3)) = 36·(-25/18)/60 = -5/6
        (7·m4 = 140490/7776, 15·m2² = 151290/7776, difference -10800/7776 = -25/18);
    kurtosis = k4/k2² = (-5/6)·(900/1681) = -4500/10086 = -0.446163..
    item variances (sample): q1 4/15, q2 4/15, q3 3/10, q4 4/15; Σ = 11/10.
    alpha = 4/3·(1 - (11/10)/(41/30)) = 4/3·(1 - 33/41) = 32/123 = 0.260162..
    SEM = sd·sqrt(1 - alpha) = 25·sqrt(41/30 · 91/123) = 25·sqrt(91/90) = 25.138501.. percent.
    histogram: 20-30: 2, 50-60: 2, 70-80: 1, 90-100: 1.

Items (x = item score, R = T - x = rest in points; the engine's rest is R/3, which leaves
correlations and efficiencies unchanged and makes mean_rest R̄/3):
    q1: x 1 1 1 1 0 0, R 3 2 1 1 1 1. facility 4/6; sd sqrt(4/15) = 0.516397..
        cov = (ΣxR - 6·x̄·R̄)/5 = (7 - 6)/5 = 0.2; var R = 3.5/5 = 0.7;
        r = 0.2/sqrt(4/15·0.7) = sqrt(3/14) = 0.462910..
        sorted pairs: x 0 0 1 1 1 1 with R 1 1 1 1 2 3: Σ = 7, so Cmax = cov, efficiency 1.
    q2: x 1 1 1 0 1 0, R 3 2 1 2 0 1. facility 4/6; ΣxR = 6 = 6·(2/3)·1.5: cov 0, r = 0;
        sorted pairs x 0 0 1 1 1 1, R 0 1 1 2 2 3: Σ = 8, Cmax = (8-6)/5 = 0.4; efficiency 0.
    q3: x 1 1 0 1 0 0, R 3 2 2 1 1 1. facility 1/2; sd sqrt(0.3); R̄ = 5/3; ΣxR = 6;
        cov = (6 - 5)/5 = 0.2; var R = (10/3)/5 = 2/3; r = 0.2/sqrt(0.3·2/3) = sqrt(0.2) = 0.447213..
        sorted pairs x 0 0 0 1 1 1, R 1 1 1 2 2 3: Σ = 7; Cmax = (7-5)/5 = 0.4; efficiency 0.5.
    q4: x 1 0 0 0 0 1, R 3 3 2 2 1 0. facility 1/3; R̄ = 11/6; ΣxR = 3;
        cov = (3 - 11/3)/5 = -2/15; var R = (27 - 121/6)/5 = 41/30;
        r = (-2/15)/sqrt(4/15·41/30) = -2/sqrt(82) = -0.220863..
        sorted pairs x 0 0 0 0 1 1, R 0 1 2 2 3 3: Σ = 6; Cmax = (6 - 11/3)/5 = 7/15;
        efficiency = (-2/15)/(7/15) = -2/7.

Distractors of q1 (n = 6): a chosen by L1-L4 (share 4/6, rest R = 3 2 1 1: mean_rest
    (7/4)/3 = 7/12); b by L5, L6 (share 2/6, mean_rest (1+1)/2/3 = 1/3); c by nobody
    (share 0, mean_rest None). Top third (ntile 3 of 6 by rest, ties by attempt id): L1, L2.
Distractors of q4: a L1, L6 (R 3, 0: mean_rest 1.5/3 = 1/2); b L2, L3 (R 3, 2: 5/6);
    c L4, L5 (R 2, 1: 1/2). Top third by rest (R 3, 3, then ties by attempt id): L1 (a),
    L2 (b): the distractor b ties with the key, so no "distractor-beats-key".

No flags at n = 6 (MIN_RESPONSES = 30). Six copies of the six learners (36 learners,
`replicated`) keep every facility and correlation (the sums scale by 6, the (n - 1)
denominators cancel in r): then q2 (r = 0 < 0.15) is "weak-discrimination", q4 (r < 0) is
"negative-discrimination", q1's unchosen c is an "unused-distractor"; q1 and q3 have no
item flag. Key point and section rollups are worked out in their tests.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, Question, User
from quiz.qtypes import TYPES
from quiz.stats import analysis, downloads, summary
from quiz.stats.model import AttemptChoice, Selection
from quiz.vocab import AttemptStatus

from . import bankgen
from .conftest import QueryCounter, _teardown, make_app

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PATTERN = ["aaaa", "aaab", "aabb", "abac", "bacc", "bcba"]  # L1..L6's choices for q1..q4
QIDS = ["alpha-001", "alpha-002", "alpha-003", "alpha-004"]
TOL = 1e-9


def stats_bank(root):
    questions = {
        "alpha": [bankgen.single(q) for q in QIDS],
        "beta": [bankgen.matching("beta-001"), bankgen.ordering("beta-002"),
                 bankgen.multiple("beta-003"), bankgen.true_false("beta-004")],
    }
    return bankgen.write_bank(root, questions=questions, sets=bankgen.default_sets(draw=2))


class World:
    """Writes learners and submitted attempts straight into the tables, as submit would."""

    def __init__(self):
        self.users = db.session.scalar(db.select(db.func.count()).select_from(User))
        self.revisions = {q.id: q.current_revision for q in db.session.scalars(db.select(Question))}

    def learner(self) -> int:
        self.users += 1
        user = User(email=f"l{self.users}@example.org", name=f"L{self.users}", password_hash="x",
                    role="learner")
        db.session.add(user)
        db.session.flush()
        return user.id

    def attempt(self, user_id: int, set_id: str, answers: list[tuple[str, object]],
                submitted_at: datetime | None) -> Attempt:
        items = []
        for position, (qid, answer) in enumerate(answers, start=1):
            rev = self.revisions[qid]
            score = TYPES[rev.qtype].grade(rev.data, answer) if answer is not None else 0.0
            items.append(AttemptQuestion(position=position, question_id=qid, revision_id=rev.id,
                                         layout={}, answer=answer,
                                         score=score if submitted_at else None))
        points = sum(i.score or 0.0 for i in items)
        attempt = Attempt(user_id=user_id, set_id=set_id, items=items,
                          status=AttemptStatus.SUBMITTED if submitted_at else AttemptStatus.IN_PROGRESS,
                          started_at=(submitted_at or T0) - timedelta(minutes=5),
                          submitted_at=submitted_at, points=points if submitted_at else None,
                          score=round(100 * points / len(items), 1) if submitted_at else None)
        db.session.add(attempt)
        db.session.flush()
        if submitted_at:  # as submit does: the kept sums count a learner's first attempt at a set
            summary.add_attempt_items(attempt.id, len(items))
        return attempt

    def alpha(self, user_id: int, choices: str, when: datetime) -> Attempt:
        return self.attempt(user_id, "alpha", list(zip(QIDS, choices, strict=True)), when)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, stats_bank(tmp_path / "bank"))
    yield app
    _teardown(app)


def six(world: World, copies: int = 1, start: datetime = T0) -> list[int]:
    users = []
    for c in range(copies):
        for i, choices in enumerate(PATTERN):
            uid = world.learner()
            world.alpha(uid, choices, start + timedelta(hours=c * len(PATTERN) + i))
            users.append(uid)
    return users


@pytest.fixture
def six_learners(app):
    with app.app_context():
        world = World()
        six(world)
        db.session.commit()
        yield world


def close(a, b):
    return a is not None and math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def by_question(items):
    return {i.question_id: i for i in items}


# --- the set -----------------------------------------------------------------------------------


def test_set_figures_equal_the_hand_computed_ones(six_learners):
    s = analysis.set_statistics("alpha")
    assert s.attempts == 6 and s.title == "Alpha set"
    assert close(s.mean, 325 / 6)
    assert close(s.median, 50.0)
    assert close(s.sd, 25 * math.sqrt(41 / 30))
    assert close(s.skewness, (16 / 15) / (41 / 30) ** 1.5)
    assert math.isclose(s.skewness, 0.667628, abs_tol=1e-6)  # the docstring's decimal
    assert close(s.kurtosis, -4500 / 10086)
    assert close(s.alpha, 32 / 123)
    assert close(s.sem, 25 * math.sqrt(91 / 90))
    assert [b.count for b in s.histogram] == [0, 0, 2, 0, 0, 2, 0, 1, 0, 1]
    assert [(b.low, b.high) for b in s.histogram][0] == (0.0, 10.0)
    assert s.flags == ()


def test_set_items_equal_the_hand_computed_ones(six_learners):
    items = analysis.set_statistics("alpha").items
    assert [i.question_id for i in items] == QIDS  # position order
    q = by_question(items)
    assert all(i.n == 6 and i.flags == () and i.options == () for i in items)
    expected = {  # facility, sd, discrimination, efficiency
        "alpha-001": (4 / 6, math.sqrt(4 / 15), math.sqrt(3 / 14), 1.0),
        "alpha-002": (4 / 6, math.sqrt(4 / 15), 0.0, 0.0),
        "alpha-003": (0.5, math.sqrt(0.3), math.sqrt(0.2), 0.5),
        "alpha-004": (1 / 3, math.sqrt(4 / 15), -2 / math.sqrt(82), -2 / 7),
    }
    for qid, (facility, sd, disc, eff) in expected.items():
        item = q[qid]
        assert close(item.facility, facility), (qid, item.facility)
        assert close(item.sd, sd), (qid, item.sd)
        assert close(item.discrimination, disc), (qid, item.discrimination)
        assert close(item.efficiency, eff), (qid, item.efficiency)
        assert item.qtype == "single" and item.revision_number == 1
        assert item.prompt == f"Prompt of {qid}?"


def test_set_figures_match_an_independent_python_oracle(six_learners):
    """The same figures from plain loops over the pattern (statistics module), as a second check."""
    scores = [[1.0 if c == "a" else 0.0 for c in p] for p in PATTERN]
    totals = [sum(row) for row in scores]
    pct = [25 * t for t in totals]
    s = analysis.set_statistics("alpha")
    assert close(s.mean, statistics.fmean(pct))
    assert close(s.median, statistics.median(pct))
    assert close(s.sd, statistics.stdev(pct))
    item_vars = [statistics.variance(col) for col in zip(*scores, strict=True)]
    assert close(s.alpha, 4 / 3 * (1 - sum(item_vars) / statistics.variance(totals)))
    for j, item in enumerate(s.items):
        x = [row[j] for row in scores]
        rest = [t - xi for t, xi in zip(totals, x, strict=True)]
        if statistics.pvariance(x) and statistics.pvariance(rest):
            assert close(item.discrimination, statistics.correlation(x, rest))


def test_unknown_set_is_a_lookup_error(six_learners):
    with pytest.raises(LookupError):
        analysis.set_statistics("nope")


def test_a_set_without_attempts_has_undefined_figures(six_learners):
    s = analysis.set_statistics("beta")
    assert s.attempts == 0 and s.items == ()
    assert (s.mean, s.median, s.sd, s.skewness, s.kurtosis, s.alpha, s.sem) == (None,) * 7
    assert [b.count for b in s.histogram] == [0] * 10


def test_one_attempt_gives_a_mean_but_no_spread(app):
    with app.app_context():
        world = World()
        world.alpha(world.learner(), "abab", T0)
        db.session.commit()
        s = analysis.set_statistics("alpha")
        assert s.attempts == 1 and close(s.mean, 50.0) and close(s.median, 50.0)
        assert (s.sd, s.skewness, s.kurtosis, s.alpha, s.sem) == (None,) * 5
        item = s.items[0]
        assert item.n == 1 and close(item.facility, 1.0)
        assert (item.sd, item.discrimination, item.efficiency) == (None, None, None)


def test_zero_variance_leaves_correlations_undefined(app):
    with app.app_context():
        world = World()
        for _ in range(3):
            world.alpha(world.learner(), "aaab", T0)
        db.session.commit()
        s = analysis.set_statistics("alpha")
        assert close(s.sd, 0.0)
        assert (s.skewness, s.kurtosis, s.alpha, s.sem) == (None,) * 4
        for item in s.items:
            assert close(item.sd, 0.0) and item.discrimination is None and item.efficiency is None


# --- a question and its options ----------------------------------------------------------------


def options_of(item):
    return {o.key: o for o in item.options}


def test_question_statistics_give_the_hand_computed_distractor_figures(six_learners):
    [q1] = analysis.question_statistics("alpha-001")
    assert close(q1.facility, 4 / 6) and close(q1.discrimination, math.sqrt(3 / 14))
    assert close(q1.efficiency, 1.0)
    opts = options_of(q1)
    assert [o.key for o in q1.options] == ["a", "b", "c"]  # bank order
    assert [o.correct for o in q1.options] == [True, False, False]
    assert opts["a"].label == "Choice a of alpha-001"
    assert (opts["a"].count, opts["b"].count, opts["c"].count) == (4, 2, 0)
    assert close(opts["a"].share, 4 / 6) and close(opts["b"].share, 2 / 6) and opts["c"].share == 0
    assert close(opts["a"].mean_rest, 7 / 12) and close(opts["b"].mean_rest, 1 / 3)
    assert opts["c"].mean_rest is None
    assert all(o.flags == () for o in q1.options)  # n = 6 < 30
    [q4] = analysis.question_statistics("alpha-004")
    opts = options_of(q4)
    assert [opts[k].count for k in "abc"] == [2, 2, 2]
    assert close(opts["a"].mean_rest, 1 / 2) and close(opts["b"].mean_rest, 5 / 6)
    assert close(opts["c"].mean_rest, 1 / 2)


def test_question_statistics_unknown_question_is_a_lookup_error(six_learners):
    with pytest.raises(LookupError):
        analysis.question_statistics("nope")


def test_a_question_without_responses_has_no_items(six_learners):
    assert analysis.question_statistics("beta-001") == []


def test_flags_appear_at_thirty_responses(app):
    with app.app_context():
        world = World()
        six(world, copies=6)
        db.session.commit()
        s = analysis.set_statistics("alpha")
        q = by_question(s.items)
        assert s.attempts == 36
        assert close(q["alpha-002"].discrimination, 0.0)  # replication keeps r
        assert close(q["alpha-004"].discrimination, -2 / math.sqrt(82))
        assert [f.code for f in q["alpha-001"].flags] == []
        assert [f.code for f in q["alpha-002"].flags] == ["weak-discrimination"]
        assert [f.code for f in q["alpha-003"].flags] == []
        assert [(f.code, f.level) for f in q["alpha-004"].flags] == [("negative-discrimination", "problem")]
        assert [f.code for f in s.flags] == ["low-alpha"]
        [q1] = analysis.question_statistics("alpha-001")
        assert {o.key: [f.code for f in o.flags] for o in q1.options} == {
            "a": [], "b": [], "c": ["unused-distractor"]}
        flags = analysis.question_flags(QIDS + ["beta-001"])
        assert {k: [f.code for f in v] for k, v in flags.items()} == {
            "alpha-001": [], "alpha-002": ["weak-discrimination"], "alpha-003": [],
            "alpha-004": ["negative-discrimination"], "beta-001": []}


# --- key points and sections -------------------------------------------------------------------


def test_key_point_rollup_equals_the_hand_computed_one(six_learners):
    """kp-one holds alpha-001..004 (and beta's ordering and multiple, unanswered here):
    facility = 13 right of 24 responses = 13/24; discrimination = the n-weighted mean of the
    four items' r = (sqrt(3/14) + 0 + sqrt(0.2) - 2/sqrt(82))/4; learners 6; a learner's mean
    score is T/4: L1 1.0, L2 0.75, ... so only L1 reaches MASTERY (0.8)."""
    kp = analysis.rollup_statistics("key_point", "kp-one")
    assert (kp.kind, kp.id, kp.title) == ("key_point", "kp-one", "Soft tissue includes fascia.")
    assert kp.questions == 4 and kp.responses == 24 and kp.learners == 6 and kp.mastered == 1
    assert close(kp.facility, 13 / 24)
    assert close(kp.discrimination, (math.sqrt(3 / 14) + 0 + math.sqrt(0.2) - 2 / math.sqrt(82)) / 4)
    assert kp.must_know is False
    assert [i.question_id for i in kp.items] == QIDS
    assert close(by_question(kp.items)["alpha-003"].efficiency, 0.5)
    two = analysis.rollup_statistics("key_point", "kp-two")
    assert two.must_know is True and two.responses == 0 and two.learners == 0
    assert (two.facility, two.discrimination, two.items) == (None, None, ())


def test_rollups_list_every_key_point_and_section_in_bank_order(six_learners):
    kps = analysis.rollups("key_point")
    assert [k.id for k in kps] == ["kp-one", "kp-two"]
    assert kps[0] == analysis.rollup_statistics("key_point", "kp-one").__class__(
        **{**analysis.rollup_statistics("key_point", "kp-one").__dict__, "items": ()})
    sections = analysis.rollups("section")
    assert [s.id for s in sections] == ["soft-tissue", "what-to-expect"]
    assert sections[0].responses == 24 and close(sections[0].facility, 13 / 24)
    assert sections[1].responses == 0
    assert analysis.rollup_statistics("section", "soft-tissue").questions == 4


def test_unknown_rollups_are_lookup_errors(six_learners):
    with pytest.raises(LookupError):
        analysis.rollup_statistics("key_point", "nope")
    with pytest.raises(LookupError):
        analysis.rollup_statistics("topic", "alpha")
    with pytest.raises(LookupError):
        analysis.rollups("topic")


def test_cells_of_matching_ordering_and_multiple_answers(app):
    """Set beta (topic, 4 items): matching beta-001 (red->yes, heat->yes, fever->no),
    ordering beta-002 (s1 s2 s3 s4), multiple beta-003 (keys a, b of a b c d), true/false
    beta-004 (true). M1 answers all right (T = 4); M2: matching red yes, heat no, fever yes
    (1/3), ordering s2 s1 s3 s4 (longest run 3: 2/3), multiple a c ((1-1)/2 = 0), false (0):
    T = 1; M3 leaves everything unanswered (T = 0, no cells, but 3 responses per item).
    Rest = (T - x)/3: matching M1 1, M2 (1 - 1/3)/3 = 2/9, so red>yes (M1, M2) mean_rest
    11/18; ordering M2 (1 - 2/3)/3 = 1/9, s3@3 (M1, M2) 5/9; multiple a (M1 1, M2 1/3) 2/3."""
    with app.app_context():
        world = World()
        right = [("beta-001", {"red": "yes", "heat": "yes", "fever": "no"}),
                 ("beta-002", ["s1", "s2", "s3", "s4"]), ("beta-003", ["a", "b"]), ("beta-004", "true")]
        other = [("beta-001", {"red": "yes", "heat": "no", "fever": "yes"}),
                 ("beta-002", ["s2", "s1", "s3", "s4"]), ("beta-003", ["a", "c"]), ("beta-004", "false")]
        blank = [(qid, None) for qid, _ in right]
        for i, answers in enumerate((right, other, blank)):
            world.attempt(world.learner(), "beta", answers, T0 + timedelta(hours=i))
        db.session.commit()
        [m] = analysis.question_statistics("beta-001")
        cells = options_of(m)
        assert list(cells) == ["red>yes", "red>no", "heat>yes", "heat>no", "fever>yes", "fever>no"]
        assert {k: c.count for k, c in cells.items()} == {
            "red>yes": 2, "red>no": 0, "heat>yes": 1, "heat>no": 1, "fever>yes": 1, "fever>no": 1}
        assert cells["red>yes"].correct and not cells["fever>yes"].correct
        assert cells["red>yes"].label == "Redness → Expected"
        assert close(cells["red>yes"].share, 2 / 3) and close(cells["red>yes"].mean_rest, 11 / 18)
        assert close(cells["heat>no"].mean_rest, 2 / 9) and close(m.facility, (1 + 1 / 3) / 3)
        [o] = analysis.question_statistics("beta-002")
        cells = options_of(o)
        assert len(cells) == 16 and cells["s1@1"].correct and not cells["s1@2"].correct
        assert {k: c.count for k, c in cells.items() if c.count} == {
            "s1@1": 1, "s1@2": 1, "s2@1": 1, "s2@2": 1, "s3@3": 2, "s4@4": 2}
        assert close(cells["s3@3"].mean_rest, 5 / 9) and close(o.facility, (1 + 2 / 3) / 3)
        [mr] = analysis.question_statistics("beta-003")
        assert {k: c.count for k, c in options_of(mr).items()} == {"a": 2, "b": 1, "c": 1, "d": 0}
        assert close(options_of(mr)["a"].mean_rest, 2 / 3)
        [tf] = analysis.question_statistics("beta-004")
        assert {k: c.count for k, c in options_of(tf).items()} == {"true": 1, "false": 1}
        assert close(analysis.set_statistics("beta").mean, 100 * (4 + 1 + 0) / 12 / 1)


# --- which attempts count ----------------------------------------------------------------------


@pytest.fixture
def retakes(app):
    """A: alpha "aaaa" (100 %) on day 0, then "bbbb" (0 %) on day 2, and the random set
    "mixed" with alpha-001 wrong (b) and alpha-002 right on day 3; B: alpha "aabb" (50 %)
    on day 1. One attempt left open (never counts)."""
    with app.app_context():
        world = World()
        a, b = world.learner(), world.learner()
        world.alpha(a, "aaaa", T0)
        world.alpha(b, "aabb", T0 + timedelta(days=1))
        world.alpha(a, "bbbb", T0 + timedelta(days=2))
        world.attempt(a, "mixed", [("alpha-001", "b"), ("alpha-002", "a")], T0 + timedelta(days=3))
        world.attempt(b, "alpha", [(q, "a") for q in QIDS], None)
        db.session.commit()
        yield world


def day(n: int) -> date:
    return (T0 + timedelta(days=n)).date()


@pytest.mark.parametrize(("selection", "attempts", "mean"), [
    (Selection(), 2, 75.0),                                        # A's 100, B's 50
    (Selection(AttemptChoice.LAST), 2, 25.0),                      # A's 0, B's 50
    (Selection(AttemptChoice.ALL), 3, 50.0),
    (Selection(since=day(1)), 1, 50.0),                            # A's first is before
    (Selection(AttemptChoice.ALL, since=day(1)), 2, 25.0),         # B's 50, A's 0
    (Selection(AttemptChoice.LAST, until=day(0)), 1, 100.0),       # A's last as of day 0
    (Selection(AttemptChoice.LAST, until=day(1)), 2, 75.0),
    (Selection(AttemptChoice.ALL, since=day(1), until=day(1)), 1, 50.0),  # until is inclusive
    (Selection(until=day(0) - timedelta(days=1)), 0, None),
])
def test_selection_picks_first_last_all_and_a_date_range(retakes, selection, attempts, mean):
    s = analysis.set_statistics("alpha", selection)
    assert s.attempts == attempts and s.selection == selection
    assert (s.mean is None and mean is None) or close(s.mean, mean)
    assert sum(i.n for i in s.items) == 4 * attempts


def test_question_statistics_count_first_attempts_per_set(retakes):
    """alpha-001 first attempts: A's alpha (right), B's alpha (right), A's mixed (wrong)."""
    [every] = analysis.question_statistics("alpha-001")
    assert every.n == 3 and close(every.facility, 2 / 3)
    [alpha] = analysis.question_statistics("alpha-001", set_id="alpha")
    assert alpha.n == 2 and close(alpha.facility, 1.0)
    [mixed] = analysis.question_statistics("alpha-001", set_id="mixed")
    assert mixed.n == 1 and close(mixed.facility, 0.0)
    assert options_of(mixed)["b"].count == 1
    [last] = analysis.question_statistics("alpha-001", Selection(AttemptChoice.LAST), "alpha")
    assert last.n == 2 and close(last.facility, 0.5)


def test_revisions_newest_first_and_retired_questions_keep_their_statistics(retakes):
    """A second revision of alpha-001 (key c) is published and served once (c: right), then
    the question is retired: both revisions keep their figures, newest first."""
    from quiz.bank import revisions
    from quiz.bank.loader import revision_content

    revisions.create_revision("alpha-001", revision_content(bankgen.single("alpha-001", correct="c")),
                              topic_id="alpha", author=None, note="key changed",
                              origin="editor", origin_ref=None, publish=True)
    db.session.flush()
    world = World()
    world.alpha(world.learner(), "cccc", T0 + timedelta(days=4))
    revisions.retire(db.session.get(Question, "alpha-001"), None)
    db.session.commit()
    items = analysis.question_statistics("alpha-001")
    assert [i.revision_number for i in items] == [2, 1]
    assert items[0].n == 1 and close(items[0].facility, 1.0)
    assert items[1].n == 3 and close(items[1].facility, 2 / 3)
    assert options_of(items[0])["c"].correct and not options_of(items[1])["c"].correct
    by_rev = {(i.question_id, i.revision_number): i for i in analysis.set_statistics("alpha").items}
    assert by_rev[("alpha-001", 2)].n == 1 and by_rev[("alpha-001", 1)].n == 2


# --- flags at n >= 30 --------------------------------------------------------------------------


def test_flags_need_thirty_responses_then_name_the_problems(app):
    """30 learners at alpha. 10 strong: q1 b (a distractor), q2 a, q4 a; q3 a for five of
    them ("baaa", T = 3) and b for the others ("baba", T = 2). 10 medium "aabb" and 10 weak
    "aacb" (T = 2). So q1's top third by rest (strong: rest 3 or 2, the rest 1) all chose b,
    more than chose the key a (0): "distractor-beats-key"; nobody chose c: "unused-distractor";
    q1's score falls as the rest rises: "negative-discrimination". q2: everyone right
    (facility 1 > 0.95: "too-easy"; zero variance, no discrimination). q3: 5/30 = 0.167 < 0.2
    "too-hard" (every rest is 2: no discrimination). q4: the strong only, whose rest (2 or 1)
    is below the others' (2): negative too. With 29 learners no flag appears at all."""
    with app.app_context():
        world = World()
        patterns = ["baaa"] * 5 + ["baba"] * 5 + ["aabb"] * 10 + ["aacb"] * 10
        for i, choices in enumerate(patterns[:-1]):
            world.alpha(world.learner(), choices, T0 + timedelta(minutes=i))
        db.session.commit()
        s = analysis.set_statistics("alpha")
        assert s.attempts == 29 and all(i.flags == () for i in s.items) and s.flags == ()
        [q1] = analysis.question_statistics("alpha-001")
        assert all(o.flags == () for o in q1.options)
        assert all(v == () for v in analysis.question_flags(QIDS).values())

        world.alpha(world.learner(), patterns[-1], T0 + timedelta(hours=1))
        db.session.commit()
        s = analysis.set_statistics("alpha")
        codes = {i.question_id: [f.code for f in i.flags] for i in s.items}
        assert codes == {"alpha-001": ["negative-discrimination"], "alpha-002": ["too-easy"],
                         "alpha-003": ["too-hard"], "alpha-004": ["negative-discrimination"]}
        q = by_question(s.items)
        assert close(q["alpha-003"].facility, 5 / 30) and q["alpha-003"].discrimination is None
        assert q["alpha-002"].discrimination is None
        [q1] = analysis.question_statistics("alpha-001")
        assert {o.key: [(f.code, f.level) for f in o.flags] for o in q1.options} == {
            "a": [], "b": [("distractor-beats-key", "problem")], "c": [("unused-distractor", "warning")]}
        assert close(options_of(q1)["b"].share, 1 / 3)
        flags = analysis.question_flags(["alpha-004", "alpha-002", "beta-001", "nope"])
        assert {k: [f.code for f in v] for k, v in flags.items()} == {
            "alpha-004": ["negative-discrimination"], "alpha-002": ["too-easy"], "beta-001": [],
            "nope": []}
        assert all(f.message for f in flags["alpha-004"])


# --- statement counts --------------------------------------------------------------------------


def statements(app, call) -> int:
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return counter.count


CALLS = {
    "set_statistics": lambda: analysis.set_statistics("alpha"),
    "question_statistics": lambda: analysis.question_statistics("alpha-001"),
    "rollups key points": lambda: analysis.rollups("key_point"),
    "rollups sections": lambda: analysis.rollups("section"),
    "rollup_statistics": lambda: analysis.rollup_statistics("key_point", "kp-one"),
}


def test_statement_counts_do_not_grow_with_the_data(app):
    """Counted in a world of 6 learners at one set, then of 48 learners at three sets with
    retakes: the same number of statements (and question_flags: the same for 1 or 8 ids).
    On PostgreSQL each function also turns JIT compilation off and back on (two more),
    except question_flags of the default selection, which reads the kept sums."""
    with app.app_context():
        world = World()
        six(world)
        db.session.commit()
        small = {name: statements(app, call) for name, call in CALLS.items()}
        small_flags = statements(app, lambda: analysis.question_flags(["alpha-001"]))
        six(world, copies=7, start=T0 + timedelta(days=1))
        for uid in range(1, 9):
            world.attempt(uid, "beta", [("beta-001", {"red": "yes", "heat": "no", "fever": "no"}),
                                        ("beta-002", ["s1", "s3", "s2", "s4"]),
                                        ("beta-003", ["a"]), ("beta-004", "true")],
                          T0 + timedelta(days=2, minutes=uid))
            world.attempt(uid, "mixed", [("alpha-001", "b"), ("beta-001", None)],
                          T0 + timedelta(days=3, minutes=uid))
        db.session.commit()
        large = {name: statements(app, call) for name, call in CALLS.items()}
        large_flags = statements(app, lambda: analysis.question_flags(QIDS + ["beta-001", "beta-002",
                                                                             "beta-003", "beta-004"]))
        jit = 2 if db.engine.dialect.name == "postgresql" else 0  # SET jit = off, RESET jit
    assert small == large, (small, large)
    assert small_flags == large_flags
    assert large["set_statistics"] == 2 + jit and large["rollups key points"] == 4 + jit
    assert small_flags == 1  # the kept sums (revision_item_sums): one statement, no JIT switch


# --- downloads and the command line ------------------------------------------------------------


def test_csv_neutralises_formulas_and_keeps_numbers():
    rows = [{"prompt": "=HYPERLINK(\"x\")", "other": "+1", "at": "@SUM", "dash": "-2", "n": 3,
             "r": -0.25, "none": None, "plain": "Which tissue?"}]
    text = downloads.to_csv(rows)
    [header, line] = list(csv.reader(io.StringIO(text)))
    assert header == list(rows[0])
    assert line == ["'=HYPERLINK(\"x\")", "'+1", "'@SUM", "'-2", "3", "-0.25", "", "Which tissue?"]
    assert downloads.to_csv([]).splitlines() == [",".join(downloads.ITEM_COLUMNS)]


def test_json_writes_enums_as_strings_and_none_as_null(six_learners):
    s = analysis.set_statistics("alpha", Selection(AttemptChoice.ALL, since=date(2026, 3, 1)))
    data = json.loads(downloads.to_json(s))
    assert data["selection"] == {"attempts": "all", "since": "2026-03-01", "until": None}
    assert data["items"][3]["question_id"] == "alpha-004"
    assert math.isclose(data["items"][3]["efficiency"], -2 / 7, abs_tol=TOL)
    assert data["items"][0]["options"] == [] and data["flags"] == []
    empty = json.loads(downloads.to_json(analysis.set_statistics("beta")))
    assert empty["alpha"] is None and empty["mean"] is None


def test_cli_prints_the_engines_numbers_as_csv_and_json(app, six_learners):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["stats", "items", "--set", "alpha", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["question_id"] for r in rows] == QIDS and {r["set_id"] for r in rows} == {"alpha"}
    assert list(rows[0])[:3] == ["set_id", "question_id", "revision_id"]
    assert close(float(rows[0]["discrimination"]), math.sqrt(3 / 14))
    assert close(float(rows[3]["efficiency"]), -2 / 7) and rows[0]["n"] == "6"
    assert rows[0]["flags"] == "" and rows[0]["prompt"] == "Prompt of alpha-001?"

    result = runner.invoke(args=["stats", "items", "--set", "alpha", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["attempts"] == 6 and close(data["alpha"], 32 / 123)
    assert close(data["items"][2]["facility"], 0.5)

    result = runner.invoke(args=["stats", "items", "--format", "csv"])  # every active set
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["set_id"] for r in rows] == ["alpha"] * 4  # the others have no attempts
    result = runner.invoke(args=["stats", "items", "--format", "json", "--until", "2026-03-01"])
    assert [s["attempts"] for s in json.loads(result.output)] == [0, 0, 0]

    result = runner.invoke(args=["stats", "items", "--set", "alpha", "--format", "csv",
                                 "--attempts", "all", "--since", "2026-03-03"])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 1  # header only


@pytest.mark.parametrize("args", [
    ["--set", "nope", "--format", "csv"],
    ["--set", "alpha", "--format", "xml"],
    ["--set", "alpha"],
    ["--set", "alpha", "--format", "csv", "--since", "03/02/2026"],
    ["--set", "alpha", "--format", "csv", "--since", "2026-03-05", "--until", "2026-03-01"],
    ["--set", "alpha", "--format", "csv", "--attempts", "best"],
])
def test_cli_refuses_bad_arguments_without_a_traceback(app, six_learners, args):
    result = app.test_cli_runner().invoke(args=["stats", "items", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Error" in result.output
