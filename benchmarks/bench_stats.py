"""Item analysis benchmark: quiz/stats on PostgreSQL filled with 100,000 submitted attempts.

    DATABASE_URL=postgresql://quiz:quiz@127.0.0.1:5432/quiz_bench \\
        python benchmarks/bench_stats.py --fresh          # wipe it, fill it, time (the target run)
    DATABASE_URL=... python benchmarks/bench_stats.py --reuse   # time what --fresh left there
    python benchmarks/bench_stats.py --quick                    # smoke run: SQLite, 300 learners

Fills the database with benchmarks/datagen.py (COPY on PostgreSQL): the shipped bank, then
`--learners` learners with about five submitted attempts each at random sets (20,000
learners: about 100,000 attempts and 1,900,000 responses), answers right with each
learner's skill, else one of the question's prepared answers. Then, in-process, it times
the functions behind the statistics pages several times each (median, min, max): the set
with the most responses (`set_statistics`, first attempts and all attempts), the question
with the most responses (`question_statistics`, with its distractor cells), every key point
and section (`rollups`), one key point (`rollup_statistics`) and the studio's flags for every
question (`question_flags`), with the statement count of each, and prints the set's figures.
The goal (issue 9): a set's statistics in under one second, live. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(HERE)]

import datagen  # noqa: E402
from sqlalchemy import event  # noqa: E402

from quiz import create_app, normalise_database_url  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.models import KeyPoint, Question  # noqa: E402
from quiz.stats import analysis  # noqa: E402
from quiz.stats.model import AttemptChoice, Selection  # noqa: E402

TARGET_SECONDS = 1.0


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


def timed(fn, runs: int) -> tuple[list[float], int, object]:
    """Run fn `runs` times (after one warm-up run): the times, statements per run, result."""
    result = fn()
    counter = Counter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        db.session.rollback()
    return times, counter.count, result


def largest(sql: str) -> str:
    return db.session.execute(db.text(sql)).scalar_one()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20_000,
                        help="learners, about 5 submitted attempts each (default 20000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per function (default 5)")
    parser.add_argument("--fresh", action="store_true", help="drop every table and fill anew")
    parser.add_argument("--reuse", action="store_true", help="time what a --fresh run left")
    parser.add_argument("--quick", action="store_true", help="SQLite, 300 learners, 2 runs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.fresh and args.reuse:
        parser.error("--fresh and --reuse exclude each other")
    with tempfile.TemporaryDirectory(prefix="quiz-bench-stats-") as tmp:
        url = os.environ.get("DATABASE_URL")
        if args.quick:
            url, args.learners, args.runs, fresh = f"sqlite:///{Path(tmp) / 'q.sqlite'}", 300, 2, True
        elif not url:
            sys.exit("Set DATABASE_URL (PostgreSQL) and give --fresh or --reuse; or run --quick.")
        elif not (args.fresh or args.reuse):
            sys.exit("DATABASE_URL is set: give --fresh (wipe and fill) or --reuse.")
        else:
            fresh = args.fresh
        env = {**os.environ, "DATABASE_URL": url, "QUIZ_SECRET_KEY": "bench",
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])}
        app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench"},
                         instance_path=str(Path(tmp) / "instance"))
        backend = "PostgreSQL" if "postgres" in url else "SQLite"
        if fresh:
            t0 = time.perf_counter()
            datagen.drop_everything(app)
            datagen.run_flask(env, "init")
            datagen.generate(app, "small", args.learners, args.seed)
            rest = datagen.generate(app, "rest", args.learners, args.seed, heavy_attempts=400)
            print(f"Filled {backend}: {rest['learners']} learners, {rest['attempts']} attempts, "
                  f"{rest['answers']} answers in {time.perf_counter() - t0:.0f} s", flush=True)
        elif not datagen.has_schema(app):
            sys.exit("The database has no quiz schema: run with --fresh.")
        with app.app_context():
            report(args.runs, backend)
            db.session.remove()
    return 0


def report(runs: int, backend: str) -> None:
    responses = db.session.scalar(db.text(
        "SELECT count(*) FROM attempt_question q JOIN attempt a ON a.id = q.attempt_id "
        "WHERE a.status = 'submitted'"))
    attempts = db.session.scalar(db.text("SELECT count(*) FROM attempt WHERE status = 'submitted'"))
    set_id = largest("SELECT a.set_id FROM attempt a JOIN attempt_question q ON q.attempt_id = a.id "
                     "WHERE a.status = 'submitted' GROUP BY a.set_id ORDER BY count(*) DESC LIMIT 1")
    question_id = largest("SELECT question_id FROM attempt_question GROUP BY question_id "
                          "ORDER BY count(*) DESC LIMIT 1")
    key_point = db.session.scalar(db.select(KeyPoint.id).order_by(KeyPoint.position).limit(1))
    all_questions = list(db.session.scalars(db.select(Question.id).order_by(Question.position)))
    db.session.rollback()
    print(f"\n{backend}: {attempts:,} submitted attempts, {responses:,} responses; "
          f"{runs} timed runs each (after a warm-up), seconds\n")
    cases = [
        (f"set_statistics({set_id!r}) first attempts", lambda: analysis.set_statistics(set_id)),
        (f"set_statistics({set_id!r}) all attempts",
         lambda: analysis.set_statistics(set_id, Selection(AttemptChoice.ALL))),
        (f"question_statistics({question_id!r})", lambda: analysis.question_statistics(question_id)),
        ("rollups('key_point')", lambda: analysis.rollups("key_point")),
        ("rollups('section')", lambda: analysis.rollups("section")),
        (f"rollup_statistics('key_point', {key_point!r})",
         lambda: analysis.rollup_statistics("key_point", key_point)),
        (f"question_flags({len(all_questions)} questions)", lambda: analysis.question_flags(all_questions)),
    ]
    print("| function | median | min | max | statements |")
    print("|---|---:|---:|---:|---:|")
    results = {}
    for name, fn in cases:
        times, count, result = timed(fn, runs)
        results[name] = (statistics.median(times), result)
        print(f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} | {count} |",
              flush=True)
    first = results[cases[0][0]]
    s = first[1]
    print(f"\nSet {s.set_id!r} (first attempts): {s.attempts:,} attempts, {len(s.items)} items, "
          f"{sum(i.n for i in s.items):,} responses")
    fmt = lambda v: "None" if v is None else f"{v:.4f}"  # noqa: E731
    print(f"  mean {fmt(s.mean)} %, median {fmt(s.median)} %, sd {fmt(s.sd)}, skewness {fmt(s.skewness)}, "
          f"kurtosis {fmt(s.kurtosis)}, alpha {fmt(s.alpha)}, SEM {fmt(s.sem)} %")
    print("  histogram: " + " ".join(f"{b.low:.0f}-{b.high:.0f}:{b.count}" for b in s.histogram))
    for item in s.items[:5]:
        print(f"  {item.question_id} r{item.revision_number}: n {item.n}, facility {fmt(item.facility)}, "
              f"discrimination {fmt(item.discrimination)}, efficiency {fmt(item.efficiency)}, "
              f"flags {[f.code for f in item.flags]}")
    verdict = "meets" if first[0] < TARGET_SECONDS else "MISSES"
    print(f"\nA set's statistics: {first[0]:.3f} s median: {verdict} the {TARGET_SECONDS:.0f} s target.")


if __name__ == "__main__":
    sys.exit(main())
