"""Fill a quiz database with learners and submitted attempts, fast, for bench_http.py.

Rows are written with bulk inserts that bypass the ORM: COPY (psycopg) on PostgreSQL,
executemany inside one transaction on SQLite. They use the schema's real columns and what
the app would have stored: layouts made by TYPES[qtype].layout (answer tokens included),
answers in bank ids, per-item scores from TYPES[qtype].grade, attempt points, score,
pass mark and submission time. Every account shares one password hash, computed once.
"""

from __future__ import annotations

import json
import random
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_pages import random_answer  # one copy, shared by both benchmarks
from flask import Flask
from sqlalchemy import MetaData, inspect

from quiz import accounts, grading
from quiz import progress as progress_ops
from quiz.extensions import db
from quiz.models import KeyPoint, Question, QuestionRevision, QuestionSet, RevisionKeyPoint, User
from quiz.question_types import TYPES
from quiz.vocab import QuestionStatus

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark passphrase 7"  # noqa: S105 - throwaway accounts in a benchmark database
DOMAIN = "bench.example"
STAFF_EMAIL = f"staff@{DOMAIN}"
LIGHT_EMAIL = f"light@{DOMAIN}"
HEAVY_EMAIL = f"heavy@{DOMAIN}"
OPEN_SET = "onboarding"  # the 20-question set of the open attempts (attempt page, submit)
LAYOUT_VARIANTS = 24  # layouts made per question, reused at random (their tokens repeat)
ANSWER_VARIANTS = 12  # wrong-or-right answers made per question, besides the right one
NOW = datetime.now(UTC)


def pool_email(i: int) -> str:
    return f"pool{i:04d}@{DOMAIN}"


def learner_email(i: int) -> str:
    return f"learner{i:05d}@{DOMAIN}"


# --- schema -----------------------------------------------------------------------------


def run_flask(env: dict, *args: str) -> None:
    """`flask --app wsgi ...` against env's DATABASE_URL, from the project root."""
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd[2:])} failed:\n{result.stdout}{result.stderr}")


def drop_everything(app: Flask) -> None:
    """Every table of the database (alembic_version and any summary table too)."""
    with app.app_context():
        engine = db.engine
        meta = MetaData()
        meta.reflect(bind=engine)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:  # the bank's two-way foreign keys need CASCADE
                for table in meta.tables.values():
                    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
        else:
            meta.drop_all(bind=engine)
        engine.dispose()


def has_schema(app: Flask) -> bool:
    with app.app_context():
        return inspect(db.engine).has_table("attempt_question")


# --- what a generated attempt is made of -------------------------------------------------


@dataclass
class QuestionInfo:
    id: str
    topic_id: str
    revision_id: int
    qtype: str
    data: dict
    layouts: list[str] = field(default_factory=list)  # JSON text
    right: tuple[str, float] = ("", 1.0)  # (answer JSON, score)
    others: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class SetInfo:
    id: str
    kind: str
    topic_id: str | None
    draw_count: int | None
    draw_topics: list[str] | None
    pass_mark: int | None
    include_must_know: bool


def right_answer(qtype: str, data: dict):
    if qtype in ("single", "true_false"):
        return next(c["id"] for c in data["choices"] if c["correct"])
    if qtype == "multiple":
        return sorted(c["id"] for c in data["choices"] if c["correct"])
    if qtype == "matching":
        return {p["id"]: p["match"] for p in data["pairs"]}
    return [s["id"] for s in data["steps"]]


class Bank:
    """The loaded bank, read once, with layouts and answers prepared per question."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        rows = db.session.execute(
            db.select(Question.id, Question.topic_id, Question.current_revision_id,
                      QuestionRevision.qtype, QuestionRevision.data)
            .join(QuestionRevision, QuestionRevision.id == Question.current_revision_id)
            .where(Question.status == QuestionStatus.PUBLISHED)
            .order_by(Question.position)
        ).all()
        self.questions: list[QuestionInfo] = []
        for qid, topic, rev, qtype, data in rows:
            info = QuestionInfo(qid, topic, rev, qtype, data)
            kind = TYPES[qtype]
            info.layouts = [json.dumps(kind.layout(data, rng)) for _ in range(LAYOUT_VARIANTS)]
            right = right_answer(qtype, data)
            info.right = (json.dumps(right), kind.grade(data, right))
            for _ in range(ANSWER_VARIANTS):
                answer = random_answer(qtype, data, rng)
                info.others.append((json.dumps(answer), kind.grade(data, answer)))
            self.questions.append(info)
        self.by_revision = {q.revision_id: q for q in self.questions}
        self.sets = [
            SetInfo(s.id, s.kind, s.topic_id, s.draw_count, s.draw_topics, s.pass_mark,
                    s.include_must_know)
            for s in db.session.scalars(
                db.select(QuestionSet).where(QuestionSet.active).order_by(QuestionSet.position))
        ]
        if not self.sets:
            sys.exit("The bank has no active question sets.")
        self.set_by_id = {s.id: s for s in self.sets}
        self.must_know = db.session.execute(
            db.select(RevisionKeyPoint.key_point_id, RevisionKeyPoint.revision_id)
            .join(KeyPoint, KeyPoint.id == RevisionKeyPoint.key_point_id)
            .where(KeyPoint.must_know)
            .order_by(KeyPoint.position, RevisionKeyPoint.revision_id)
        ).all()

    def choose(self, qset: SetInfo) -> list[QuestionInfo]:
        """The questions an attempt serves, as quiz.attempts.choose_questions picks them."""
        rng = self.rng
        if qset.kind == "topic":
            return [q for q in self.questions if q.topic_id == qset.topic_id]
        pool = [q for q in self.questions if not qset.draw_topics or q.topic_id in qset.draw_topics]
        count = min(qset.draw_count or len(pool), len(pool))
        must: list[QuestionInfo] = []
        if qset.include_must_know:
            in_pool = {q.revision_id for q in pool}
            by_kp: dict[str, list[int]] = {}
            for kp, rev in self.must_know:
                if rev in in_pool:
                    by_kp.setdefault(kp, []).append(rev)
            covered: set[int] = set()
            for revs in by_kp.values():
                if covered.intersection(revs):
                    continue
                choice = rng.choice(revs)
                covered.add(choice)
                must.append(self.by_revision[choice])
        if len(must) >= count:
            drawn = rng.sample(must, count)
        else:
            rest = [q for q in pool if q not in must]
            drawn = must + rng.sample(rest, count - len(must))
        rng.shuffle(drawn)
        return drawn


# --- writing -----------------------------------------------------------------------------


USER_COLS = ("id", "email", "name", "password_hash", "role", "session_token", "created_at")
ATTEMPT_COLS = ("id", "user_id", "set_id", "status", "started_at", "submitted_at", "points",
                "score", "pass_mark")
ITEM_COLS = ("id", "attempt_id", "position", "question_id", "revision_id", "layout", "answer",
             "score")


def sqlite_time(value: datetime | None) -> str | None:
    """A datetime as SQLAlchemy stores it in SQLite (naive UTC, microseconds)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Writer:
    """Collects rows, then writes them in one transaction (COPY or executemany)."""

    def __init__(self, bank: Bank, rng: random.Random) -> None:
        self.bank, self.rng = bank, rng
        self.users: list[tuple] = []
        self.attempts: list[tuple] = []
        self.items: list[tuple] = []
        self.next_user = (db.session.scalar(db.select(db.func.max(User.id))) or 0) + 1
        self.next_attempt = (db.session.scalar(db.text("SELECT max(id) FROM attempt")) or 0) + 1
        self.next_item = (db.session.scalar(db.text("SELECT max(id) FROM attempt_question")) or 0) + 1
        self.password_hash = accounts._hasher.hash(PASSWORD)  # once, shared by every account

    def user(self, email: str, name: str, role: str = "learner") -> int:
        uid = self.next_user
        self.next_user += 1
        created = NOW - timedelta(days=200, seconds=self.rng.randint(0, 86_400 * 20))
        self.users.append((uid, email, name, self.password_hash, role, secrets.token_urlsafe(32),
                           created))
        return uid

    def attempt(self, user_id: int, qset: SetInfo, submitted_at: datetime | None,
                skill: float = 0.6) -> int:
        """One attempt of the set; submitted (answered, scored) unless submitted_at is None."""
        aid = self.next_attempt
        self.next_attempt += 1
        rng = self.rng
        questions = self.bank.choose(qset)
        points = 0.0
        for position, q in enumerate(questions, start=1):
            answer, score = None, None
            if submitted_at is not None:
                answer, score = q.right if rng.random() < skill else rng.choice(q.others)
                points += score
            self.items.append((self.next_item, aid, position, q.id, q.revision_id,
                               rng.choice(q.layouts), answer, score))
            self.next_item += 1
        if submitted_at is None:
            self.attempts.append((aid, user_id, qset.id, "in_progress",
                                  NOW - timedelta(minutes=rng.randint(1, 600)), None, None, None,
                                  qset.pass_mark))
        else:
            started = submitted_at - timedelta(seconds=rng.randint(120, 1800))
            self.attempts.append((aid, user_id, qset.id, "submitted", started, submitted_at,
                                  points, grading.percentage(points, len(questions)),
                                  qset.pass_mark))
        return aid

    def flush(self) -> None:
        engine = db.engine
        raw = engine.raw_connection()
        try:
            if engine.dialect.name == "postgresql":
                self._copy(raw)
            else:
                self._executemany(raw)
            raw.commit()
        finally:
            raw.close()
        self.users, self.attempts, self.items = [], [], []

    def _copy(self, raw) -> None:
        with raw.cursor() as cur:
            for table, cols, rows in (('"user"', USER_COLS, self.users),
                                      ("attempt", ATTEMPT_COLS, self.attempts),
                                      ("attempt_question", ITEM_COLS, self.items)):
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            for table in ('"user"', "attempt", "attempt_question"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                            f"(SELECT coalesce(max(id), 1) FROM {table}))")

    def _executemany(self, raw) -> None:
        cur = raw.cursor()
        users = [u[:-1] + (sqlite_time(u[-1]),) for u in self.users]
        attempts = [a[:4] + (sqlite_time(a[4]), sqlite_time(a[5])) + a[6:] for a in self.attempts]
        for table, cols, rows in (('"user"', USER_COLS, users), ("attempt", ATTEMPT_COLS, attempts),
                                  ("attempt_question", ITEM_COLS, self.items)):
            marks = ", ".join("?" * len(cols))
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",  # noqa: S608
                            rows)
        cur.close()


# --- the scenario ----------------------------------------------------------------------------


def spread(rng: random.Random, n: int) -> list[datetime]:
    """n submission times over the last 180 days, oldest first."""
    return sorted(NOW - timedelta(seconds=rng.randint(3600, 180 * 86_400)) for _ in range(n))


def add_learners(writer: Writer, start: int, stop: int, attempts_each: float) -> None:
    rng, sets = writer.rng, writer.bank.sets
    low = max(0, round(attempts_each) - 2)
    for i in range(start, stop):
        uid = writer.user(learner_email(i), f"Learner {i:05d}")
        skill = rng.uniform(0.35, 0.95)
        n = rng.randint(low, low + 4) if attempts_each >= 2 else round(attempts_each)
        for when in spread(rng, n):
            writer.attempt(uid, rng.choice(sets), when, skill)
        if len(writer.items) > 200_000:
            writer.flush()


def add_specials(writer: Writer, heavy_attempts: int, pool_users: int) -> None:
    """light (1 attempt), heavy (many), each with an open OPEN_SET attempt; pool users bare."""
    bank, rng = writer.bank, writer.rng
    onboarding = bank.set_by_id[OPEN_SET]
    light = writer.user(LIGHT_EMAIL, "Light Learner")
    writer.attempt(light, onboarding, NOW - timedelta(days=3))
    writer.attempt(light, onboarding, None)
    heavy = writer.user(HEAVY_EMAIL, "Heavy Learner")
    for i, when in enumerate(spread(rng, heavy_attempts)):
        writer.attempt(heavy, bank.sets[i % len(bank.sets)], when)
    writer.attempt(heavy, onboarding, None)
    for i in range(pool_users):
        writer.user(pool_email(i), f"Pool {i:04d}")


def rebuild_summaries(app: Flask) -> bool:
    """Fill per-learner summary tables if this version of the app has them."""
    rebuild = getattr(progress_ops, "rebuild_latest_answers", None)
    if rebuild is None:
        return False
    with app.app_context():
        rebuild()
        db.session.commit()
    return True


def analyze(app: Flask) -> None:
    """PostgreSQL: what autovacuum soon does after bulk inserts (PostgreSQL 13 and later
    vacuum a table after autovacuum_vacuum_insert_threshold inserted rows): fresh planner
    statistics, and the visibility map set, so counts can be index-only scans."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE")


def generate(app: Flask, phase: str, learners: int, seed: int, heavy_attempts: int = 400,
             pool_users: int = 0, first_learners: int = 10) -> dict:
    """phase "small": the instructor and `first_learners` learners; phase "rest": the other
    learners, light, heavy and the pool users. Returns counts and the time taken."""
    started = time.perf_counter()
    rng = random.Random(f"{seed}-{phase}")
    with app.app_context():
        writer = Writer(Bank(rng), rng)
        if phase == "small":
            writer.user(STAFF_EMAIL, "Staff Instructor", "instructor")
            add_learners(writer, 0, min(first_learners, learners), 5)
        else:
            add_learners(writer, min(first_learners, learners), learners, 5)
            add_specials(writer, heavy_attempts, pool_users)
        writer.flush()
        db.session.remove()
    summaries = rebuild_summaries(app)
    analyze(app)
    with app.app_context():
        counts = {
            "learners": db.session.scalar(db.text("SELECT count(*) FROM \"user\" WHERE role = 'learner'")),
            "attempts": db.session.scalar(db.text("SELECT count(*) FROM attempt")),
            "answers": db.session.scalar(
                db.text("SELECT count(*) FROM attempt_question WHERE answer IS NOT NULL")),
        }
        db.session.remove()
    return {**counts, "seconds": time.perf_counter() - started, "summaries": summaries}
