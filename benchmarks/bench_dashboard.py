"""The manager's dashboard for an organisation of 10,000 members (issue 10, part 8).

    python benchmarks/bench_dashboard.py                  # SQLite in a temporary folder
    DATABASE_URL=postgresql://quiz:quiz@127.0.0.1:5432/quiz_bench \\
        python benchmarks/bench_dashboard.py              # PostgreSQL: its tables are DROPPED

Builds the schema (drop_all + create_all) and loads the shipped bank, then fills one
organisation of `--members` members in eight cohorts with six assignments (one per cohort
for six cohorts, recertification on two, one overdue, one not open yet, plus 300 named
people on the first) and a mix of passed, failed, open and no attempts; and a second
organisation of `--small` members built alike. Then, in-process with the Flask test client
signed in as each organisation's manager, it requests the first page, a filtered page
(a cohort and a status), a sorted late page and the CSV of both, interleaved, `--rounds`
times (after a warm-up), and prints per page the median and the range in milliseconds, the
SQL statements sent and the bytes returned, and the large/small ratio of the medians.
A script, not a test: pytest does not collect benchmarks/. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from quiz import create_app, normalise_database_url  # noqa: E402
from quiz.bank import read_bank  # noqa: E402
from quiz.bank.loader import load_bank  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.models import (  # noqa: E402
    Assignment,
    AssignmentPerson,
    Attempt,
    Cohort,
    Membership,
    Organisation,
    QuestionSet,
    User,
)
from quiz.vocab import OrgRole  # noqa: E402

COHORTS = 8
SETS = ("basics", "tools", "indications", "reactions", "plan-of-care", "onboarding")
NOW = datetime.now(UTC)


def fill(label: str, members: int, rng: random.Random, hashed: str) -> tuple[int, str, dict]:
    """One organisation: (org id, its manager's session token, ids for the URLs)."""
    org = Organisation(name=f"Clinic {label}")
    db.session.add(org)
    db.session.flush()
    cohorts = [Cohort(org_id=org.id, name=f"{label} hires {2020 + i}") for i in range(COHORTS)]
    db.session.add_all(cohorts)
    manager = User(email=f"manager-{label}@bench.example", name=f"Manager {label}",
                   password_hash=hashed, role="learner")
    db.session.add(manager)
    db.session.flush()
    db.session.add(Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER))
    ids = list(db.session.scalars(insert(User).returning(User.id), [
        {"email": f"{label}-{i:05d}@bench.example", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
         "password_hash": hashed, "role": "learner"} for i in range(members)]))
    cohort_of = {uid: cohorts[i % COHORTS].id for i, uid in enumerate(ids)}
    db.session.execute(insert(Membership), [
        {"org_id": org.id, "user_id": uid, "role": OrgRole.MEMBER.value, "cohort_id": cohort_of[uid]}
        for uid in ids])
    assignments = []
    for n, set_id in enumerate(SETS):
        a = Assignment(org_id=org.id, set_id=set_id, cohort_id=cohorts[n].id, pass_mark=70,
                       opens_at=NOW + timedelta(days=3) if n == 5 else NOW - timedelta(days=60),
                       due_at=NOW - timedelta(days=2) if n == 1 else NOW + timedelta(days=14 + n),
                       recert_months=12 if n in (2, 3) else None, created_by_id=manager.id)
        db.session.add(a)
        assignments.append(a)
    db.session.flush()
    named = [uid for uid in ids if cohort_of[uid] != cohorts[0].id][:300 * members // 10_000 or 1]
    db.session.execute(insert(AssignmentPerson), [
        {"assignment_id": assignments[0].id, "user_id": uid} for uid in named])
    rows = []
    for a in assignments[:5]:
        people = [uid for uid in ids if cohort_of[uid] == a.cohort_id]
        if a is assignments[0]:
            people += named
        for uid in people:
            kind = rng.choices(("none", "pass", "fail", "open", "retry"), (25, 40, 20, 10, 5))[0]
            when = NOW - timedelta(days=rng.randint(1, 500))
            base = {"user_id": uid, "set_id": a.set_id, "assignment_id": a.id, "pass_mark": 70,
                    "started_at": when - timedelta(minutes=20)}
            if kind in ("fail", "retry"):
                rows.append({**base, "status": "submitted", "submitted_at": when,
                             "score": float(rng.randint(20, 69)), "points": 1.0})
            if kind in ("pass", "retry"):
                later = when + timedelta(days=1)
                rows.append({**base, "status": "submitted", "submitted_at": later,
                             "score": float(rng.randint(70, 100)), "points": 1.0,
                             "started_at": later - timedelta(minutes=20)})
            if kind == "open":
                rows.append({**base, "status": "in_progress", "submitted_at": None, "score": None,
                             "points": None})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Attempt), rows[start:start + 5000])
    db.session.commit()
    urls = {
        "first page": f"/orgs/{org.id}/dashboard",
        "filtered": f"/orgs/{org.id}/dashboard?cohort={cohorts[2].id}&status=expired",
        "status, any": f"/orgs/{org.id}/dashboard?status=overdue",
        "late page": (f"/orgs/{org.id}/dashboard?sort=a{assignments[0].id}&dir=desc"
                      f"&page={max(1, members // 50)}"),
        "CSV": f"/orgs/{org.id}/dashboard.csv",
    }
    return org.id, manager.session_token, {"urls": urls, "attempts": len(rows)}


FIRST = ("Ann", "Bob", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal", "Ida", "Jo", "Kai", "Lea")
LAST = ("Able", "Brown", "Cole", "Dale", "Ekk", "Ford", "Grey", "Hunt", "Ives", "Jones")


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


def client_for(app, token: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def get(client, url: str) -> bytes:
    response = client.get(url)
    body = response.get_data()
    if response.status_code != 200:
        sys.exit(f"{url}: HTTP {response.status_code}")
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="quiz-bench-dashboard-") as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
                          "RATELIMIT_ENABLED": False, "MAIL_OUTBOX": str(Path(tmp) / "outbox")},
                         instance_path=str(Path(tmp) / "instance"))
        rng = random.Random(args.seed)
        t0 = time.perf_counter()
        with app.app_context():
            db.drop_all()
            db.create_all()
            bank, problems = read_bank(str(ROOT / "question_bank"))
            if any(p.severity == "error" for p in problems):
                sys.exit("the shipped bank has errors")
            load_bank(bank)
            db.session.commit()
            missing = [s for s in SETS if db.session.get(QuestionSet, s) is None]
            if missing:
                sys.exit(f"the shipped bank lacks the sets {missing}")
            hashed = PasswordHasher().hash("benchmark passphrase 7")
            big = fill("large", args.members, rng, hashed)
            small = fill("small", args.small, rng, hashed)
            if backend == "PostgreSQL":  # as autovacuum would soon after a bulk load
                db.session.execute(db.text(
                    'ANALYZE "user", membership, cohort, assignment, assignment_person, attempt'))
                db.session.commit()
            db.session.remove()
        print(f"{backend}: {args.members:,} members ({big[2]['attempts']:,} attempts) and "
              f"{args.small} members ({small[2]['attempts']} attempts), filled in "
              f"{time.perf_counter() - t0:.1f} s; {args.rounds} rounds\n", flush=True)
        report(app, big, small, args.rounds)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


def report(app, big, small, rounds: int) -> None:
    clients = {"large": client_for(app, big[1]), "small": client_for(app, small[1])}
    urls = {"large": big[2]["urls"], "small": small[2]["urls"]}
    with app.app_context():
        engine = db.engine
    statements: dict[tuple[str, str], int] = {}
    sizes: dict[tuple[str, str], int] = {}
    for org in ("large", "small"):  # warm-up, statements and bytes
        for name, url in urls[org].items():
            counter = Counter()
            event.listen(engine, "before_cursor_execute", counter)
            try:
                sizes[org, name] = len(get(clients[org], url))
            finally:
                event.remove(engine, "before_cursor_execute", counter)
            statements[org, name] = counter.count
    times: dict[tuple[str, str], list[float]] = {key: [] for key in statements}
    for _ in range(rounds):
        for name in urls["large"]:
            for org in ("large", "small"):
                start = time.perf_counter()
                get(clients[org], urls[org][name])
                times[org, name].append((time.perf_counter() - start) * 1000)
    head = (f"{'page':<12} {'large ms (min-max)':>22} {'stmts':>6} {'bytes':>10}   "
            f"{'small ms':>9} {'stmts':>6} {'bytes':>8}   {'ratio':>6}")
    print(head)
    print("-" * len(head))
    for name in urls["large"]:
        large, little = times["large", name], times["small", name]
        ratio = statistics.median(large) / statistics.median(little)
        print(f"{name:<12} {statistics.median(large):>8.1f} ({min(large):>5.1f}-{max(large):>6.1f}) "
              f"{statements['large', name]:>6} {sizes['large', name]:>10,}   "
              f"{statistics.median(little):>9.1f} {statements['small', name]:>6} "
              f"{sizes['small', name]:>8,}   {ratio:>6.1f}")


if __name__ == "__main__":
    sys.exit(main())
