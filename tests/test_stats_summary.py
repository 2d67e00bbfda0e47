"""The kept item sums (revision_item_sums) of the default selection.

The table must always equal its definition: per revision, over each learner's first
submitted attempt at each set, n, Σx, Σx² of the item scores x, and over the responses
whose attempt has more than one item (so a rest is defined) their count, Σx, Σx², max x,
Σrest, Σrest², Σx·rest, with rest = (attempt points - x) / (items - 1). Checked against a
reference computed in Python from the attempts, against a rebuild (the live engine's SQL),
and through question_flags against the live computation.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from quiz import accounts
from quiz import attempts as attempt_ops
from quiz.bank.loader import revision_content
from quiz.bank.revisions import create_revision, retire
from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, Question, QuestionSet, RevisionItemSums
from quiz.stats import analysis, summary
from quiz.stats.model import AttemptChoice, Selection
from quiz.vocab import AttemptStatus, RevisionOrigin

from . import bankgen
from .conftest import PASSWORD, _teardown, make_app
from .test_queries import right_answer, wrong_answer

QIDS = ["alpha-001", "alpha-002", "alpha-003", "alpha-004"]
BETA = ["beta-001", "beta-002", "beta-003", "beta-004"]
SETS = ("alpha", "beta", "mixed", "one")  # "mixed" draws 2 at random, "one" a single item
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def sums_bank(root):
    questions = {
        "alpha": [bankgen.single(q) for q in QIDS],
        "beta": [bankgen.matching("beta-001"), bankgen.ordering("beta-002"),
                 bankgen.multiple("beta-003"), bankgen.true_false("beta-004")],
    }
    sets = [*bankgen.default_sets(draw=2),
            {"id": "one", "title": "One question", "kind": "random", "count": 1, "topics": "all"}]
    return bankgen.write_bank(root, questions=questions, sets=sets)


@pytest.fixture
def app(tmp_path, monkeypatch):
    clock = count()  # submits one minute apart, in order: "first" is unambiguous
    monkeypatch.setattr(attempt_ops, "utcnow", lambda: T0 + timedelta(minutes=next(clock)))
    app = make_app(tmp_path, sums_bank(tmp_path / "bank"))
    yield app
    _teardown(app)


def kept() -> dict[int, tuple]:
    return {r.revision_id: tuple(getattr(r, c) for c in analysis.SUM_COLUMNS)
            for r in db.session.scalars(db.select(RevisionItemSums))}


def reference() -> dict[int, tuple]:
    """The definition, in Python, from every submitted attempt and its items."""
    attempts = db.session.execute(
        db.select(Attempt.id, Attempt.user_id, Attempt.set_id, Attempt.submitted_at, Attempt.points)
        .where(Attempt.status == AttemptStatus.SUBMITTED)).all()
    first: dict[tuple, tuple] = {}
    for a in attempts:
        key = (a.user_id, a.set_id)
        if key not in first or (a.submitted_at, a.id) < (first[key].submitted_at, first[key].id):
            first[key] = a
    chosen = {a.id: a for a in first.values()}
    items: dict[int, list] = {}
    for aid, revision_id, score in db.session.execute(
            db.select(AttemptQuestion.attempt_id, AttemptQuestion.revision_id, AttemptQuestion.score)):
        if aid in chosen:
            items.setdefault(aid, []).append((revision_id, score or 0.0))
    out: dict[int, list] = {}
    for aid, rows in items.items():
        k, points = len(rows), chosen[aid].points or 0.0
        for revision_id, x in rows:
            s = out.setdefault(revision_id, [0, 0.0, 0.0, 0, 0.0, 0.0, None, 0.0, 0.0, 0.0])
            s[0] += 1
            s[1] += x
            s[2] += x * x
            if k > 1:
                r = (points - x) / (k - 1)
                s[3] += 1
                s[4] += x
                s[5] += x * x
                s[6] = x if s[6] is None else max(s[6], x)
                s[7] += r
                s[8] += r * r
                s[9] += x * r
    return {rid: tuple(s) for rid, s in out.items()}


def assert_same(a: dict[int, tuple], b: dict[int, tuple]) -> None:
    assert a.keys() == b.keys()
    for rid in a:
        for name, u, v in zip(analysis.SUM_COLUMNS, a[rid], b[rid], strict=True):
            if u is None or v is None:
                assert u is None and v is None, (rid, name, u, v)
            else:
                assert math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9), (rid, name, u, v)


def live_flags(ids: list[str]) -> dict[str, tuple]:
    """question_flags' live computation, forced for the default selection."""
    out: dict[str, tuple] = {qid: () for qid in ids}
    for row in analysis._live_flag_rows(ids, Selection()):
        f = analysis._figures(row)
        out[row.question_id] = analysis.flagging.item_flags(f.n, f.facility, f.discrimination)
    return out


def live_figures(ids: list[str]) -> dict[str, tuple]:
    return {row.question_id: _key(analysis._figures(row))
            for row in analysis._live_flag_rows(ids, Selection())}


def kept_figures(ids: list[str]) -> dict[str, tuple]:
    rows = db.session.execute(
        db.select(Question.id.label("question_id"),
                  *(getattr(RevisionItemSums, c) for c in analysis.SUM_COLUMNS))
        .join(RevisionItemSums, RevisionItemSums.revision_id == Question.current_revision_id)
        .where(Question.id.in_(ids)))
    return {row.question_id: _key(analysis._figures(row)) for row in rows}


def _key(f) -> tuple:
    return (f.n, None if f.facility is None else round(f.facility, 9),
            None if f.discrimination is None else round(f.discrimination, 9))


def answers_for(attempt, rng: random.Random, skill: float) -> dict:
    out = {}
    for item in attempt.items:
        if item.question_id == "alpha-001":  # everyone gets it right: "too-easy" once n >= 30
            out[item.id] = right_answer(item.revision.qtype, item.revision.data)
            continue
        roll = rng.random()
        if roll < 0.08:
            continue  # unanswered: scores 0
        make = right_answer if roll < skill else wrong_answer
        out[item.id] = make(item.revision.qtype, item.revision.data)
    return out


def take(user, set_id: str, rng: random.Random, skill: float, submit: bool = True):
    attempt = attempt_ops.start_attempt(user, db.session.get(QuestionSet, set_id), rng)
    if submit:
        assert attempt_ops.submit_attempt(attempt, answers_for(attempt, rng, skill))
    else:
        attempt_ops.save_answers(attempt, answers_for(attempt, rng, skill))
    return attempt


def history(rng: random.Random, learners: int, turns: int) -> None:
    """Learners of different skill take random sets, with retakes and open attempts."""
    users = [accounts.create_user(f"s{i}@example.org", PASSWORD, f"S{i}") for i in range(learners)]
    skill = {u.id: 0.2 + 0.7 * rng.random() for u in users}
    for user in users:  # everyone's first attempt at alpha: enough responses for flags
        take(user, "alpha", rng, skill[user.id])
    for _ in range(turns):
        user = rng.choice(users)
        take(user, rng.choice(SETS), rng, skill[user.id], submit=rng.random() > 0.1)
        if rng.random() < 0.3:
            db.session.commit()
    db.session.commit()


@pytest.mark.parametrize("seed", range(3))
def test_kept_sums_equal_the_definition_a_rebuild_and_the_live_flags(app, seed):
    rng = random.Random(seed)
    with app.app_context():
        history(rng, learners=32, turns=40)
        incremental = kept()
        assert_same(incremental, reference())
        ids = QIDS + BETA + ["nope"]
        assert analysis.question_flags(ids) == live_flags(ids)
        assert kept_figures(ids) == live_figures(ids)
        assert any(analysis.question_flags(ids).values())  # flags raised, so the comparison bites
        assert summary.rebuild_item_sums() == len(incremental)
        db.session.commit()
        assert_same(kept(), incremental)
        # Every attempt (retakes too) is another selection: computed live, not from the sums.
        every = Selection(AttemptChoice.ALL)
        live_all = {row.question_id: _key(analysis._figures(row))
                    for row in analysis._live_flag_rows(ids, every)}
        assert live_all != kept_figures(ids)
        assert analysis.question_flags(ids, every) == {
            q: analysis.flagging.item_flags(*live_all[q]) if q in live_all else () for q in ids}


def test_retakes_are_not_counted_and_first_attempts_at_other_sets_are(app):
    rng = random.Random(7)
    with app.app_context():
        lee = accounts.create_user("lee@example.org", PASSWORD, "Lee")
        first = take(lee, "alpha", rng, 0.5)
        db.session.commit()
        after_first = kept()
        assert sorted(after_first) == sorted(i.revision_id for i in first.items)
        assert all(s[0] == 1 and s[3] == 1 for s in after_first.values())

        take(lee, "alpha", rng, 0.9)  # a retake: not counted
        take(lee, "alpha", rng, 0.1)
        open_one = take(lee, "alpha", rng, 0.1, submit=False)  # open: not counted
        db.session.commit()
        assert kept() == after_first

        beta = take(lee, "beta", rng, 0.5)  # a first attempt at another set: counted
        db.session.commit()
        now = kept()
        assert all(now[i.revision_id][0] == 1 for i in beta.items)
        assert {rid: now[rid] for rid in after_first} == after_first

        one = take(lee, "one", rng, 1.0)  # one item: no rest
        db.session.commit()
        [item] = one.items
        before = now.get(item.revision_id, (0, 0.0, 0.0, 0, 0.0, 0.0, None, 0.0, 0.0, 0.0))
        now = kept()
        got = now[item.revision_id]
        x = item.score or 0.0
        assert got[0] == before[0] + 1 and math.isclose(got[1], before[1] + x)
        assert got[3:] == before[3:]  # nr, rx, rxx, rxmax, sr, srr, sxr untouched
        assert_same(now, reference())

        # Submitting the open attempt (a retake) still adds nothing.
        assert attempt_ops.submit_attempt(open_one, {})
        db.session.commit()
        assert_same(kept(), now)
        assert summary.rebuild_item_sums() == len(now)
        assert_same(kept(), now)


def test_a_one_item_first_attempt_alone_has_no_rest(app):
    rng = random.Random(3)
    with app.app_context():
        user = accounts.create_user("solo@example.org", PASSWORD, "Solo")
        one = take(user, "one", rng, 1.0)
        db.session.commit()
        [item] = one.items
        n, sx, sxx, nr, rx, rxx, rxmax, sr, srr, sxr = kept()[item.revision_id]
        assert (n, nr, rxmax, rx, sr, srr, sxr) == (1, 0, None, 0.0, 0.0, 0.0, 0.0)
        assert math.isclose(sx, item.score or 0.0)
        summary.rebuild_item_sums()
        assert kept()[item.revision_id][:7] == (n, sx, sxx, nr, rx, rxx, None)


def test_flags_follow_the_current_revision_after_a_revision_and_a_retirement(app):
    rng = random.Random(11)
    with app.app_context():
        history(rng, learners=32, turns=6)
        ids = QIDS + BETA
        before = analysis.question_flags(ids)
        assert before == live_flags(ids) and any(before.values())
        flagged = next(q for q in QIDS if before[q])
        old_revision = db.session.get(Question, flagged).current_revision_id
        entry = bankgen.single(flagged, n=4)
        entry["prompt"] = f"Reworded prompt of {flagged}?"
        create_revision(flagged, revision_content(entry), author=None, origin=RevisionOrigin.EDITOR,
                        publish=True)
        retired = next(q for q in QIDS if q != flagged)
        retire(db.session.get(Question, retired), None)
        db.session.commit()
        assert db.session.get(Question, flagged).current_revision_id != old_revision
        after = analysis.question_flags(ids)
        assert after == live_flags(ids)
        assert after[flagged] == ()  # the new revision has no responses yet
        assert after[retired] == before[retired]  # retired keeps its current revision's figures
        assert old_revision in kept()  # the old revision's sums stay, for its own history
        late = accounts.create_user("late@example.org", PASSWORD, "Late")
        take(late, "alpha", rng, 0.5)  # serves the new revision
        db.session.commit()
        assert kept_figures([flagged])[flagged][0] == 1
        assert analysis.question_flags(ids) == live_flags(ids)
        assert_same(kept(), reference())


def test_rebuild_command_restores_the_sums(app):
    rng = random.Random(5)
    with app.app_context():
        history(rng, learners=5, turns=12)
        before = kept()
        assert before
        db.session.execute(db.delete(RevisionItemSums))
        db.session.commit()
        assert analysis.question_flags(QIDS) == dict.fromkeys(QIDS, ())
    result = app.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"{len(before)} revision row(s)" in result.output
    with app.app_context():
        assert_same(kept(), before)


def test_the_migration_fills_the_sums_for_existing_attempts(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from quiz import create_app
    from quiz.bank import read_bank
    from quiz.bank.loader import load_bank

    from .conftest import database_url_for_tests

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": database_url_for_tests(tmp_path, "m.sqlite"),
                      "BANK_PATH": str(sums_bank(tmp_path / "bank"))})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        directory = app.extensions["migrate"].directory
        try:
            # The attempts are written through today's models (whose columns include later
            # migrations'), as submit did before the sums existed; the schema is then taken
            # back to the revision before the sums (e4b7c2d9a1f6) with its rows kept, and up.
            upgrade(directory=directory)
            bank, _ = read_bank(app.config["BANK_PATH"])
            load_bank(bank)
            db.session.commit()
            rng = random.Random(2)
            users = [accounts.create_user(f"m{i}@example.org", PASSWORD, f"M{i}") for i in range(6)]
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(summary, "add_attempt_items", lambda *a: None)
                for i in range(14):
                    take(users[i % 6], SETS[i % 4], rng, 0.6, submit=i != 13)
            db.session.commit()
            assert kept() == {}
            expected = reference()
            assert expected
            db.session.remove()
            downgrade(directory=directory, revision="e4b7c2d9a1f6")
            assert "revision_item_sums" not in inspect(db.engine).get_table_names()
            upgrade(directory=directory)
            assert_same(kept(), expected)
            assert summary.rebuild_item_sums() == len(expected)
            assert_same(kept(), expected)
            db.session.commit()
            db.session.remove()
            downgrade(directory=directory, revision="e4b7c2d9a1f6")
            assert "revision_item_sums" not in inspect(db.engine).get_table_names()
        finally:
            db.session.remove()
            if db.engine.dialect.name != "sqlite":  # a SQLite file goes with tmp_path
                db.drop_all()
                with db.engine.begin() as conn:
                    conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.engine.dispose()
