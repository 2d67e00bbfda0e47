"""Page cost benchmark: learner pages versus a bare Flask endpoint, and SQL queries per page.

    python benchmarks/bench_pages.py [--attempts 40] [--rounds 60] [--bank PATH]

Builds the app on a temporary SQLite database with the shipped question bank, creates
learners with submitted attempts, then, in one run and with Flask's test client:

1. times GET of the catalogue, an attempt in progress, a review and the progress page for
   a learner with --attempts submitted attempts, against GET of a bare Flask app whose only
   view returns "ok" (same machine, same Python, same test client), and prints each page's
   mean time as a multiple of the bare endpoint's;
2. counts the SQL statements each page sends for a learner with 1 attempt and one with
   --attempts attempts: the counts should be equal (no query per attempt or per question).

See benchmarks/README.md for how to read the numbers. Takes well under a minute.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from quiz import accounts, create_app
from quiz import attempts as attempt_ops
from quiz.bank import read_bank
from quiz.bank.loader import load_bank
from quiz.extensions import db
from quiz.models import Question, QuestionSet

SHIPPED_BANK = Path(__file__).resolve().parent.parent / "question_bank"
PASSWORD = "benchmark passphrase"  # noqa: S105 - a throwaway account in a temp database
PAGES = ("catalogue", "attempt", "review", "progress")


def random_answer(qtype: str, data: dict, rng: random.Random):
    """A plausible answer of the right shape for each question type (right or wrong)."""
    if qtype in ("single", "true_false"):
        return rng.choice(data["choices"])["id"]
    if qtype == "multiple":
        ids = [c["id"] for c in data["choices"]]
        return sorted(rng.sample(ids, rng.randint(1, len(ids))))
    if qtype == "matching":
        options = [o["id"] for o in data["options"]]
        return {p["id"]: rng.choice(options) for p in data["pairs"]}
    if qtype == "ordering":
        steps = [s["id"] for s in data["steps"]]
        rng.shuffle(steps)
        return steps
    raise ValueError(f"unknown question type {qtype!r}")


def build_app(db_path: Path, bank_path: Path) -> Flask:
    app = create_app({
        "SECRET_KEY": "benchmark",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "WTF_CSRF_ENABLED": False,
        "BANK_PATH": str(bank_path),
    })
    with app.app_context():
        db.create_all()
        bank, problems = read_bank(str(bank_path))
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            sys.exit(f"The bank at {bank_path} has errors:\n" + "\n".join(map(str, errors)))
        load_bank(bank)
        db.session.commit()
    return app


def make_learner(app: Flask, email: str, n_attempts: int, rng: random.Random) -> dict:
    """A learner with n submitted attempts (cycling through the sets) and one open attempt."""
    with app.app_context():
        user = accounts.create_user(email, PASSWORD, email.split("@")[0])
        db.session.flush()
        sets = list(db.session.scalars(
            db.select(QuestionSet).where(QuestionSet.active).order_by(QuestionSet.position)))
        if not sets:
            sys.exit("The bank has no question sets.")
        last_submitted, last_size = None, 0
        for i in range(n_attempts):
            attempt = attempt_ops.start_attempt(user, sets[i % len(sets)], rng)
            db.session.flush()
            answers = {item.id: random_answer(item.revision.qtype, item.revision.data, rng)
                       for item in attempt.items}
            assert attempt_ops.submit_attempt(attempt, answers)
            last_submitted, last_size = attempt.id, len(attempt.items)
            db.session.commit()
        open_attempt = attempt_ops.start_attempt(user, sets[0], rng)
        db.session.commit()
        return {"user": user.id, "review": last_submitted, "attempt": open_attempt.id,
                "sizes": {"review": last_size, "attempt": len(open_attempt.items)}}


def page_urls(ids: dict) -> dict[str, str]:
    return {
        "catalogue": "/sets",
        "attempt": f"/attempts/{ids['attempt']}",
        "review": f"/attempts/{ids['review']}/review",
        "progress": "/progress",
    }


def logged_in_client(app: Flask, email: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        sys.exit(f"Could not sign in as {email}: HTTP {response.status_code}")
    return client


def get_ok(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        sys.exit(f"GET {url} answered HTTP {response.status_code}")


def time_interleaved(targets: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    """Each target once per round, round after round, so drift hits every target alike."""
    for fn in targets.values():  # warm-up: templates compiled, caches filled, pool connected
        for _ in range(3):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, fn in targets.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return samples


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, conn, cursor, statement, *args) -> None:
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            self.count += 1


def count_queries(app: Flask, client, url: str) -> int:
    with app.app_context():
        engine = db.engine
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        get_ok(client, url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count


def bare_app() -> Flask:
    bare = Flask("bare")

    @bare.get("/ok")
    def ok():
        return "ok"

    return bare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=40,
                        help="submitted attempts of the learner the pages are timed for (default 40)")
    parser.add_argument("--rounds", type=int, default=60,
                        help="timed requests per page (default 60)")
    parser.add_argument("--bank", type=Path, default=SHIPPED_BANK,
                        help="question bank folder (default: the shipped question_bank/)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="quiz-bench-") as tmp:
        app = build_app(Path(tmp) / "bench.sqlite", args.bank)
        with app.app_context():
            n_questions = db.session.scalar(db.select(db.func.count()).select_from(Question))
        one = make_learner(app, "one@example.org", 1, rng)
        many = make_learner(app, "many@example.org", args.attempts, rng)
        print(f"Bank {args.bank}: {n_questions} questions. SQLite in a temporary folder.")
        print(f"Setup (schema, bank, learners with 1 and {args.attempts} attempts): "
              f"{time.perf_counter() - started:.1f} s")
        print(f"The attempt page shows {many['sizes']['attempt']} questions, the review page "
              f"{many['sizes']['review']}.\n")

        # --- timing ----------------------------------------------------------------------
        client = logged_in_client(app, "many@example.org")
        bare_client = bare_app().test_client()
        urls = page_urls(many)
        targets: dict[str, Callable[[], None]] = {"bare 'ok'": lambda: get_ok(bare_client, "/ok")}
        for name in PAGES:
            targets[name] = lambda url=urls[name]: get_ok(client, url)
        samples = time_interleaved(targets, args.rounds)
        bare_mean = statistics.fmean(samples["bare 'ok'"])
        print(f"Mean GET time over {args.rounds} requests each, learner with {args.attempts} "
              "attempts (Flask test client, no network):")
        print(f"  {'page':<12}{'mean ms':>10}{'median ms':>11}{'x bare':>10}")
        for name, times in samples.items():
            mean = statistics.fmean(times)
            print(f"  {name:<12}{mean * 1000:>10.2f}{statistics.median(times) * 1000:>11.2f}"
                  f"{mean / bare_mean:>10.0f}")

        # --- queries -----------------------------------------------------------------------
        print(f"\nSQL statements per page, learner with 1 vs {args.attempts} attempts "
              "(includes loading the signed-in user):")
        print(f"  {'page':<12}{'1':>6}{args.attempts:>6}")
        clients = {"one": logged_in_client(app, "one@example.org"), "many": client}
        grows = []
        for name in PAGES:
            counts = [count_queries(app, clients[who], page_urls(ids)[name])
                      for who, ids in (("one", one), ("many", many))]
            flag = "  <- grows with attempts" if counts[1] != counts[0] else ""
            if flag:
                grows.append(name)
            print(f"  {name:<12}{counts[0]:>6}{counts[1]:>6}{flag}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    print(f"\nTotal run time: {time.perf_counter() - started:.1f} s")
    if grows:
        print(f"Query count depends on the number of attempts for: {', '.join(grows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
