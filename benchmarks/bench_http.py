"""HTTP benchmark: the quiz app under gunicorn against a bare Flask app, on a filled database.

    python benchmarks/bench_http.py --quick                  # smoke run, SQLite, < 1 minute
    python benchmarks/bench_http.py                          # 10,000 learners, SQLite in a temp folder
    DATABASE_URL=postgresql://quiz:quiz@127.0.0.1:5432/quiz_bench \\
        python benchmarks/bench_http.py --fresh              # the same on PostgreSQL (wipes it)

Starts a bare Flask app (one view returning "ok") and the quiz app (wsgi:app) under the
same gunicorn settings (-w 2, sync workers, 127.0.0.1, free ports); fills the database
(benchmarks/datagen.py); signs in through /auth/login; drives each page with a bounded
threaded client, interleaving the bare app and the quiz pages over several rounds; counts
SQL statements per page in-process; and prints a Markdown table. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(HERE)]  # the worktree's quiz package, then our helpers

import datagen  # noqa: E402
import loadclient as lc  # noqa: E402
from bench_pages import QueryCounter  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import event  # noqa: E402

from quiz import attempts as attempt_ops  # noqa: E402
from quiz import catalogue as catalogue_ops  # noqa: E402
from quiz import create_app, normalise_database_url  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.models import Attempt, QuestionSet, User  # noqa: E402

GUNICORN = ["-w", "2", "-k", "sync", "--log-level", "warning"]
# Issue 7: share of the bare app's throughput each page should reach.
TARGETS = {"catalogue": 30, "set page": 30, "attempt (20 q)": 20, "review (20 q)": 20,
           "progress light": 20, "progress heavy": 20, "submit POST": 10}


# --- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the shared settings, serving `spec` on a free port."""

    def __init__(self, name: str, spec: str, env: dict, log_dir: Path) -> None:
        self.name, self.port = name, free_port()
        self.log = log_dir / f"gunicorn-{name}.log"
        cmd = [sys.executable, "-m", "gunicorn", *GUNICORN, "-b", f"127.0.0.1:{self.port}", spec]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,  # noqa: S603
                                         stderr=subprocess.STDOUT)
        self.served = 0

    def wait_ready(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if len(self.workers()) >= 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn {self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def memory(self) -> list[tuple[int, int]]:
        """(RSS, peak RSS) in KiB of each worker, from /proc/<pid>/status."""
        out = []
        for pid in self.workers():
            status = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                status[key] = value.strip()
            out.append((int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    server: Server
    requests: Callable[[], Callable[[], lc.Request | None]]  # a fresh request source per round
    count_based: bool = False  # a fixed number of requests (submit) instead of a duration
    prepare: Callable[[], None] | None = None  # before each round, untimed
    rounds: list[lc.RoundResult] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return statistics.median(r.throughput for r in self.rounds)

    def latency(self, q: float) -> float:
        lat = sorted(x for r in self.rounds for x in r.latencies)
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000

    @property
    def size(self) -> int:
        return int(statistics.median(b for r in self.rounds for b in r.bytes))


def repeat(req: lc.Request) -> Callable[[], Callable[[], lc.Request]]:
    return lambda: (lambda: req)


def run_rounds(targets: list[Target], rounds: int, seconds: float, concurrency: int,
               warmup: int = 4) -> None:
    """Round after round, each target in turn, so drift of the machine hits all alike."""
    for t in targets:
        if not t.count_based:
            source = t.requests()
            for _ in range(warmup):
                lc.fetch(t.server.port, source())
            t.server.served += warmup
    for r in range(rounds):
        for t in targets:
            if t.prepare:
                t.prepare()
            res = lc.run_round(t.server.port, t.requests(), concurrency,
                               None if t.count_based else seconds)
            t.server.served += res.requests + len(res.errors)
            if res.errors:
                sys.exit(f"{t.name}: {len(res.errors)} failed requests, e.g. {res.errors[0]}")
            t.rounds.append(res)
            print(f"  round {r + 1}/{rounds} {t.name:<16} {res.throughput:8.1f} req/s "
                  f"({res.requests} requests, {res.seconds:.1f} s)", flush=True)


def count_queries(app: Flask, client, method: str, url: str, expect: int, **kw) -> int:
    """SQL statements one request sends, in-process (Flask test client, same database)."""
    with app.app_context():
        engine = db.engine
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.open(url, method=method, **kw)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    if response.status_code != expect:
        sys.exit(f"in-process {method} {url}: HTTP {response.status_code}, expected {expect}")
    return counter.count


def test_client(app: Flask, email: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": datagen.PASSWORD})
    if response.status_code != 302:
        sys.exit(f"in-process sign-in as {email}: HTTP {response.status_code}")
    return client


# --- the scenario ------------------------------------------------------------------------


def ids_for(app: Flask, email: str) -> dict:
    """A user's id, open OPEN_SET attempt and latest submitted OPEN_SET attempt."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is None:
            sys.exit(f"{email} is not in the database: generate it with --fresh.")

        def attempt(status: str) -> int | None:
            return db.session.scalar(
                db.select(Attempt.id).where(Attempt.user_id == user.id,
                                            Attempt.set_id == datagen.OPEN_SET,
                                            Attempt.status == status)
                .order_by(Attempt.id.desc()).limit(1))

        return {"user": user.id, "open": attempt("in_progress"), "submitted": attempt("submitted")}


def submit_sets(app: Flask) -> list[str]:
    """Active sets of exactly 20 questions: the pool's open attempts are of these."""
    with app.app_context():
        counts = catalogue_ops.topic_question_counts()
        sets = db.session.scalars(db.select(QuestionSet).where(QuestionSet.active))
        return [s.id for s in sets if catalogue_ops.set_question_count(s, counts) == 20]


class SubmitPool:
    """Open attempts to submit, one POST each: created, then their pages fetched, untimed."""

    def __init__(self, app: Flask, server: Server, size: int, sets: list[str], seed: int) -> None:
        self.app, self.server, self.size, self.sets = app, server, size, sets
        self.rng = random.Random(seed)
        self.users = math.ceil(size / len(sets))
        self.sessions: dict[int, lc.Session] = {}
        self.ready: list[lc.Request] = []

    def sign_in(self) -> None:
        with self.app.app_context():
            for i in range(self.users):
                email = datagen.pool_email(i)
                uid = db.session.scalar(db.select(User.id).where(User.email == email))
                if uid is None:
                    sys.exit(f"{email} is missing: the pool was made for a smaller --submits.")
                session = lc.Session(self.server.port)
                session.login(email, datagen.PASSWORD)
                self.sessions[uid] = session

    def prepare(self) -> None:
        """Open `size` attempts (as the app's start_attempt does) and scrape their forms."""
        opened: list[tuple[int, int]] = []
        with self.app.app_context():
            sets = [db.session.get(QuestionSet, s) for s in self.sets]
            users = [db.session.get(User, uid) for uid in self.sessions]
            for user in users:
                for qset in sets:
                    if len(opened) < self.size:
                        attempt = attempt_ops.start_attempt(user, qset, self.rng)
                        opened.append((user.id, attempt.id))
            db.session.commit()
            db.session.remove()
        from concurrent.futures import ThreadPoolExecutor

        def fetch_form(item: tuple[int, int]) -> lc.Request:
            uid, aid = item
            session = self.sessions[uid]
            page = session.get(f"/attempts/{aid}")
            body = lc.answer_form(page.body, random.Random(aid))
            return lc.Request("POST", f"/attempts/{aid}", session.cookie, body, expect=302)

        with ThreadPoolExecutor(4) as pool:
            self.ready = list(pool.map(fetch_form, opened))
        self.server.served += len(opened)

    def requests(self) -> Callable[[], lc.Request | None]:
        queue = list(self.ready)
        self.ready = []
        return lambda: queue.pop() if queue else None


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores{', ' + model if model else ''}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10_000,
                        help="generated learners, about 5 submitted attempts each (default 10000)")
    parser.add_argument("--heavy-attempts", type=int, default=400,
                        help="submitted attempts of the 'heavy' learner (default 400)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per page (default 3)")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="load time per page per round (default 5)")
    parser.add_argument("--submits", type=int, default=240,
                        help="POSTs per submit round, each of a fresh open attempt (default 240)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="concurrent client connections (default 16)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 200 learners, 1 round of 1 s, 32 submits")
    parser.add_argument("--fresh", action="store_true",
                        help="drop every table of DATABASE_URL's database and generate anew")
    parser.add_argument("--reuse", action="store_true",
                        help="use the data a previous --fresh run left in DATABASE_URL's database")
    parser.add_argument("--memory-requests", type=int, default=None,
                        help="after the rounds, top the quiz app up with mixed learner-page GETs "
                             "to this many requests before reading worker memory (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.learners, args.rounds, args.seconds = min(args.learners, 200), 1, 1.0
        args.submits = min(args.submits, 32)
        args.memory_requests = 0 if args.memory_requests is None else args.memory_requests
    elif args.memory_requests is None:
        args.memory_requests = 10_000
    if args.fresh and args.reuse:
        parser.error("--fresh and --reuse exclude each other")
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="quiz-bench-http-") as tmp:
        tmpdir = Path(tmp)
        url = os.environ.get("DATABASE_URL")
        if url:
            if not (args.fresh or args.reuse):
                sys.exit("DATABASE_URL is set: give --fresh (drop every table in it and fill it "
                         "anew) or --reuse (use what a previous --fresh run left there).")
            fresh = args.fresh
        else:
            url = f"sqlite:///{tmpdir / 'quiz.sqlite'}"
            fresh = True
            if args.reuse:
                sys.exit("--reuse needs DATABASE_URL: without it the database is a temporary file.")
        secret = secrets.token_hex(16)
        env = {**os.environ, "DATABASE_URL": url, "QUIZ_SECRET_KEY": secret,
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])}
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": secret,
            "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        }, instance_path=str(tmpdir / "instance"))
        backend = "PostgreSQL" if "postgres" in url else "SQLite"
        if fresh:
            t0 = time.perf_counter()
            datagen.drop_everything(app)
            datagen.run_flask(env, "init")
            small = datagen.generate(app, "small", args.learners, args.seed)
            print(f"Schema and bank (flask init), instructor and {small['learners']} learners: "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
        elif not datagen.has_schema(app):
            sys.exit("The database has no quiz schema: run with --fresh.")
        sets = submit_sets(app)
        if not sets:
            sys.exit("The bank has no active set of 20 questions for the submit pool.")
        pool_users = math.ceil(args.submits / len(sets))

        bare = Server("bare", "bare_app:app", env, tmpdir)
        quiz = Server("quiz", "wsgi:app", env, tmpdir)
        try:
            bare.wait_ready()
            quiz.wait_ready()
            memory_start = quiz.memory()
            staff = lc.Session(quiz.port)
            staff.login(datagen.STAFF_EMAIL, datagen.PASSWORD)
            bare_target = Target("bare 'ok'", bare, repeat(lc.Request("GET", "/ok")))
            roster_req = lc.Request("GET", "/staff/learners", staff.cookie)
            roster_small = Target("roster (10)", quiz, repeat(roster_req))
            small_bare = Target("bare 'ok'", bare, repeat(lc.Request("GET", "/ok")))
            counts: dict[str, int | str] = {}
            if fresh:
                print(f"\nRoster at {small['learners']} learners ({args.rounds} round(s)):", flush=True)
                run_rounds([small_bare, roster_small], args.rounds, args.seconds, args.concurrency)
                counts["roster (10)"] = count_queries(
                    app, test_client(app, datagen.STAFF_EMAIL), "GET", "/staff/learners", 200)
                print("Generating the rest...", flush=True)
                rest = datagen.generate(app, "rest", args.learners, args.seed,
                                        args.heavy_attempts, pool_users)
                print(f"  {rest['learners']} learners, {rest['attempts']} attempts, "
                      f"{rest['answers']} answers in {rest['seconds']:.1f} s"
                      f"{' (summary tables rebuilt)' if rest['summaries'] else ''}", flush=True)
            with app.app_context():
                learners = db.session.scalar(db.select(db.func.count()).select_from(User)
                                             .where(User.role == "learner"))
                n_attempts = db.session.scalar(db.select(db.func.count()).select_from(Attempt))
                n_answers = db.session.scalar(db.text(
                    "SELECT count(*) FROM attempt_question WHERE answer IS NOT NULL"))
                db.session.remove()

            light = ids_for(app, datagen.LIGHT_EMAIL)
            heavy = ids_for(app, datagen.HEAVY_EMAIL)
            if not (light["open"] and light["submitted"] and heavy["open"]):
                sys.exit("light/heavy lack their attempts: regenerate with --fresh.")
            sessions = {}
            for who, email in (("light", datagen.LIGHT_EMAIL), ("heavy", datagen.HEAVY_EMAIL)):
                sessions[who] = lc.Session(quiz.port)
                sessions[who].login(email, datagen.PASSWORD)
            pool = SubmitPool(app, quiz, args.submits, sets, args.seed)
            pool.sign_in()

            pages = {
                "catalogue": ("light", "/sets"),
                "set page": ("light", f"/sets/{datagen.OPEN_SET}"),
                "attempt (20 q)": ("light", f"/attempts/{light['open']}"),
                "review (20 q)": ("light", f"/attempts/{light['submitted']}/review"),
                "progress light": ("light", "/progress"),
                "progress heavy": ("heavy", "/progress"),
            }
            targets = [bare_target]
            for name, (who, path) in pages.items():
                targets.append(Target(name, quiz, repeat(lc.Request("GET", path, sessions[who].cookie))))
            roster = Target(f"roster ({learners:,})", quiz, repeat(roster_req))
            targets.append(roster)
            submit = Target("submit POST", quiz, pool.requests, count_based=True, prepare=pool.prepare)
            targets.append(submit)
            print(f"\nPages ({args.rounds} round(s) of {args.seconds:g} s, {args.submits} submits "
                  f"per round, {args.concurrency} connections):", flush=True)
            run_rounds(targets, args.rounds, args.seconds, args.concurrency)
            missing = args.memory_requests - quiz.served
            if missing > 0:
                mixed = [lc.Request("GET", path, sessions[who].cookie) for who, path in pages.values()]
                sent = iter(range(missing))
                t0 = time.perf_counter()
                res = lc.run_round(quiz.port, lambda: mixed[i % len(mixed)] if (i := next(sent, None))
                                   is not None else None, args.concurrency, None)
                quiz.served += res.requests + len(res.errors)
                print(f"  {res.requests} mixed learner-page GETs to reach {quiz.served:,} requests: "
                      f"{time.perf_counter() - t0:.0f} s", flush=True)
            memory = quiz.memory()
            bare_memory = bare.memory()
        finally:
            bare.stop()
            quiz.stop()

        # --- SQL statements per page, in-process against the same database -------------------
        clients = {"light": test_client(app, datagen.LIGHT_EMAIL),
                   "heavy": test_client(app, datagen.HEAVY_EMAIL)}
        for name, (who, path) in pages.items():
            counts[name] = count_queries(app, clients[who], "GET", path, 200)
        counts[roster.name] = count_queries(app, test_client(app, datagen.STAFF_EMAIL), "GET",
                                            "/staff/learners", 200)
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.email == datagen.pool_email(0)))
            attempt = attempt_ops.start_attempt(user, db.session.get(QuestionSet, sets[0]))
            db.session.commit()
            aid = attempt.id
            db.session.remove()
        pool_client = test_client(app, datagen.pool_email(0))
        page = pool_client.get(f"/attempts/{aid}")
        body = lc.answer_form(page.data, random.Random(0))
        counts["submit POST"] = count_queries(
            app, pool_client, "POST", f"/attempts/{aid}", 302, data=body,
            content_type="application/x-www-form-urlencoded")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    # --- report ---------------------------------------------------------------------------
    bare_tp = bare_target.throughput
    rows = targets[1:]
    if roster_small.rounds:
        rows.insert(len(rows) - 1, roster_small)
    print(f"\n## bench_http: {backend}, {learners:,} learners, {n_attempts:,} attempts, "
          f"{n_answers:,} answers")
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; gunicorn {' '.join(GUNICORN)}; "
          f"{args.concurrency} connections; median of {args.rounds} round(s) of {args.seconds:g} s "
          f"({args.submits} POSTs per submit round)\n")
    print("| page | req/s | % of bare | target | p50 ms | p95 ms | SQL | bytes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| bare 'ok' | {bare_tp:,.0f} | 100 | | {bare_target.latency(0.5):.1f} | "
          f"{bare_target.latency(0.95):.1f} | 0 | {bare_target.size:,} |")
    for t in rows:
        reference = small_bare.throughput if t is roster_small else bare_tp
        share = 100 * t.throughput / reference
        target = TARGETS.get(t.name)
        mark = "" if target is None else f">= {target} {'ok' if share >= target else 'MISS'}"
        print(f"| {t.name} | {t.throughput:,.1f} | {share:.1f} | {mark} | {t.latency(0.5):.1f} | "
              f"{t.latency(0.95):.1f} | {counts.get(t.name, '')} | {t.size:,} |")

    def ratio(a: Target, b: Target) -> str:
        value = a.latency(0.5) / b.latency(0.5)
        return f"{value:.2f}x ({'ok' if value <= 1.5 else 'MISS'}, target <= 1.5x)"

    by_name = {t.name: t for t in targets}
    print(f"\n- progress heavy / light p50 latency: "
          f"{ratio(by_name['progress heavy'], by_name['progress light'])}")
    if roster_small.rounds:
        print(f"- {roster.name} / roster (10) p50 latency: "
              f"{ratio(roster, roster_small)}")
    else:
        print("- roster (10): not measured (--reuse: the database was not built in this run)")
    rss = ", ".join(f"{now / 1024:.0f} MB (peak {peak / 1024:.0f})" for now, peak in memory)
    worst = max((now for now, _ in memory), default=0) / 1024
    start_rss = ", ".join(f"{now / 1024:.0f} MB" for now, _ in memory_start)
    print(f"- quiz worker RSS after {quiz.served:,} requests: {rss}: "
          f"{'ok' if worst < 100 else 'MISS'}, target < 100 MB; at start: {start_rss}. "
          "(The peak includes argon2's 64 MiB while checking a password at sign-in.)")
    print("- bare worker RSS: " + ", ".join(f"{now / 1024:.0f} MB" for now, _ in bare_memory))
    print(f"\nTotal run time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
