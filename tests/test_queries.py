"""Query counts: the learner pages issue a constant number of SQL statements.

Each page is requested in a small and a large world and the statements are counted
(the count_queries technique from conftest: a before_cursor_execute listener). The
counts must be equal: a page that loads something per question or per attempt (an
N+1 query) makes the large world's count grow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from quiz import accounts
from quiz.attempts import save_answers, start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import QuestionSet

from . import bankgen
from .conftest import PASSWORD, QueryCounter, _teardown, make_app

MAKERS = (bankgen.single, bankgen.multiple, bankgen.true_false, bankgen.matching, bankgen.ordering)
PAGES = ("catalogue", "set page", "attempt page", "review page", "progress page",
         "staff view of progress")


def mixed_questions(prefix: str, n: int) -> list[dict[str, Any]]:
    """n questions cycling through every question type."""
    return [MAKERS[i % len(MAKERS)](f"{prefix}-{i + 1:03}") for i in range(n)]


def write_mixed_bank(root: Path, per_set: int) -> Path:
    questions = {
        "alpha": mixed_questions("alpha", per_set),
        "beta": mixed_questions("beta", 5),
    }
    return bankgen.write_bank(root, questions=questions, sets=bankgen.default_sets(draw=5))


def right_answer(qtype: str, data: dict[str, Any]) -> Any:
    if qtype in ("single", "true_false"):
        return next(c["id"] for c in data["choices"] if c["correct"])
    if qtype == "multiple":
        return sorted(c["id"] for c in data["choices"] if c["correct"])
    if qtype == "matching":
        return {p["id"]: p["match"] for p in data["pairs"]}
    return [s["id"] for s in data["steps"]]


def wrong_answer(qtype: str, data: dict[str, Any]) -> Any:
    if qtype in ("single", "true_false"):
        return next(c["id"] for c in data["choices"] if not c["correct"])
    if qtype == "multiple":
        return [next(c["id"] for c in data["choices"] if not c["correct"])]
    if qtype == "matching":
        first = data["options"][0]["id"]
        return {p["id"]: first for p in data["pairs"]}
    return list(reversed([s["id"] for s in data["steps"]]))


def answers_for(attempt, right_every: int = 2) -> dict[int, Any]:
    """Right answers to every other question, wrong ones to the rest."""
    out = {}
    for i, item in enumerate(attempt.items):
        make = right_answer if i % right_every == 0 else wrong_answer
        out[item.id] = make(item.revision.qtype, item.revision.data)
    return out


def measure(tmp_path: Path, per_set: int, submitted: int, warm: bool = False) -> dict[str, int]:
    """Build a world and count the statements each page issues (with `warm`, on a second
    visit: the served revisions are then cached, as on a running server).

    A learner has `submitted` submitted attempts (the latest of set 'alpha', which holds
    `per_set` questions of mixed types) and an open attempt of 'alpha' with saved answers.
    """
    app = make_app(tmp_path, write_mixed_bank(tmp_path / "bank", per_set))
    try:
        with app.app_context():
            learner = accounts.create_user("learner@example.org", PASSWORD, "Lee")
            accounts.create_user("staff@example.org", PASSWORD, "Sam", "instructor")
            sets = [db.session.get(QuestionSet, sid) for sid in ("beta", "mixed", "alpha")]
            done = None
            for i in range(submitted):
                qset = sets[(i - submitted) % len(sets)]  # the last one is 'alpha'
                attempt = start_attempt(learner, qset)
                assert submit_attempt(attempt, answers_for(attempt))
                done = attempt
            assert done is not None and done.set_id == "alpha"
            assert len(done.items) == per_set
            open_attempt = start_attempt(learner, sets[2])
            save_answers(open_attempt, answers_for(open_attempt, right_every=3))
            db.session.commit()
            learner_id, done_id, open_id = learner.id, done.id, open_attempt.id

        client = app.test_client()
        staff_client = app.test_client()
        assert client.post("/auth/login", data={"email": "learner@example.org",
                                                "password": PASSWORD}).status_code == 302
        assert staff_client.post("/auth/login", data={"email": "staff@example.org",
                                                      "password": PASSWORD}).status_code == 302
        pages = {
            "catalogue": (client, "/sets"),
            "set page": (client, "/sets/alpha"),
            "attempt page": (client, f"/attempts/{open_id}"),
            "review page": (client, f"/attempts/{done_id}/review"),
            "progress page": (client, "/progress"),
            "staff view of progress": (staff_client, f"/learners/{learner_id}/progress"),
        }
        with app.app_context():
            engine = db.engine
        counts = {}
        for name, (who, url) in pages.items():
            if warm:
                assert who.get(url).status_code == 200
            counter = QueryCounter()
            event.listen(engine, "before_cursor_execute", counter)
            try:
                response = who.get(url)
            finally:
                event.remove(engine, "before_cursor_execute", counter)
            assert response.status_code == 200, (name, url, response.status_code)
            counts[name] = counter.count
        return counts
    finally:
        _teardown(app)


def _compare(small: dict[str, int], large: dict[str, int], what: str) -> None:
    print(f"\nSQL statements per page ({what}):")
    for page in PAGES:
        print(f"  {page:<24} {small[page]:>3} {large[page]:>3}")
    grew = {page: (small[page], large[page]) for page in PAGES if small[page] != large[page]}
    assert not grew, f"query count depends on {what}: {grew}"


def test_page_queries_do_not_depend_on_set_size(tmp_path):
    small = measure(tmp_path / "small", per_set=5, submitted=1)
    large = measure(tmp_path / "large", per_set=60, submitted=1)
    _compare(small, large, "5 vs 60 questions in the set")


def test_page_queries_do_not_depend_on_attempt_count(tmp_path):
    few = measure(tmp_path / "few", per_set=10, submitted=1)
    many = measure(tmp_path / "many", per_set=10, submitted=40)
    _compare(few, many, "1 vs 40 submitted attempts")


def test_page_queries_do_not_depend_on_both(tmp_path):
    """The biggest world against the smallest: 60 questions and 40 attempts vs 5 and 1."""
    smallest = measure(tmp_path / "smallest", per_set=5, submitted=1)
    biggest = measure(tmp_path / "biggest", per_set=60, submitted=40)
    _compare(smallest, biggest, "5 questions and 1 attempt vs 60 questions and 40 attempts")


# Statements per page on a running server (revisions cached), the signed-in user's lookup
# included. On PostgreSQL each is a round trip costing about what Flask's whole handling of
# a bare request does, so these are budgets (issue 7): a page that needs more is a regression
# to look at, not a number to raise.
PAGE_BUDGET = {
    "catalogue": 2,        # the user; sets, sizes and the learner's scores
    "set page": 2,         # the user; the set, its size and the learner's attempts at it
    "attempt page": 2,     # the user; the attempt with its items
    "review page": 3,      # the user; the attempt with its items and sections; key points
    "progress page": 5,    # the user; history; topics; unanswered; key points
    "staff view of progress": 6,  # and the learner's account
}


def test_pages_stay_within_their_statement_budget(tmp_path):
    counts = measure(tmp_path, per_set=10, submitted=3, warm=True)
    assert counts == PAGE_BUDGET


# --- the staff roster -------------------------------------------------------------------

ROSTER_URLS = ("/staff/learners", "/staff/learners?page=2", "/staff/learners?sort=email&dir=desc",
               "/staff/learners?sort=active", "/staff/learners?sort=result&dir=asc",
               "/staff/learners?q=learner", "/staff/learners?q=nobody")


def measure_roster(tmp_path: Path, learners: int) -> dict[str, int]:
    """Statements per roster URL with `learners` learners, each with two submitted attempts."""
    from datetime import UTC, datetime, timedelta

    from quiz.models import Attempt, User

    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"))
    try:
        with app.app_context():
            accounts.create_user("staff@example.org", PASSWORD, "Sam", "instructor")
            now = datetime.now(UTC)
            for i in range(learners):
                user = User(email=f"learner{i}@example.org", name=f"Learner {i:03}",
                            password_hash="x", role="learner")
                db.session.add(user)
                db.session.flush()
                for k, mark in enumerate((None, 75)):
                    at = now - timedelta(minutes=i * 3 + k)
                    db.session.add(Attempt(user_id=user.id, set_id="mixed", status="submitted",
                                           started_at=at, submitted_at=at,
                                           score=float((i * 7 + k) % 101), pass_mark=mark))
            db.session.commit()
            engine = db.engine
        client = app.test_client()
        assert client.post("/auth/login", data={"email": "staff@example.org",
                                                "password": PASSWORD}).status_code == 302
        counts = {}
        for url in ROSTER_URLS:
            counter = QueryCounter()
            event.listen(engine, "before_cursor_execute", counter)
            try:
                response = client.get(url)
            finally:
                event.remove(engine, "before_cursor_execute", counter)
            assert response.status_code == 200, url
            counts[url] = counter.count
        return counts
    finally:
        _teardown(app)


def test_roster_queries_do_not_depend_on_learner_count(tmp_path):
    """10 learners (one page) against 120 (three pages): the same statements for every URL."""
    few = measure_roster(tmp_path / "few", 10)
    many = measure_roster(tmp_path / "many", 120)
    print("\nSQL statements per roster URL (10 vs 120 learners):")
    for url in ROSTER_URLS:
        print(f"  {url:<40} {few[url]:>3} {many[url]:>3}")
    assert few == many
    # The signed-in user, the count of matches, the page (skipped when nothing matches).
    assert few["/staff/learners"] == 3 and few["/staff/learners?q=nobody"] == 2


def test_progress_queries_do_not_depend_on_60_attempts(tmp_path):
    """The progress page reads the latest-answer summary: 1 attempt or 60, the same statements."""
    few = measure(tmp_path / "few", per_set=10, submitted=1)
    many = measure(tmp_path / "many", per_set=10, submitted=60)
    _compare(few, many, "1 vs 60 submitted attempts")


def _count(app, fn) -> list[str]:
    with app.app_context():
        engine = db.engine
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.statements


WRITES = ("INSERT", "UPDATE", "DELETE")


def _kind(statement: str) -> str:
    return statement.lstrip().split(None, 1)[0].upper()


def post_statements(tmp_path: Path, per_set: int) -> dict[str, list[str]]:
    """The statements of a save POST and then a submit POST of one attempt of `per_set` questions."""
    from . import flows

    app = make_app(tmp_path, write_mixed_bank(tmp_path / "bank", per_set))
    try:
        with app.app_context():
            accounts.create_user("learner@example.org", PASSWORD, "Lee")
            db.session.commit()
        client = app.test_client()
        client.post("/auth/login", data={"email": "learner@example.org", "password": PASSWORD})
        attempt_id = flows.start(client, "alpha")
        its = flows.items(app, attempt_id)
        assert len(its) == per_set
        out = {}
        for name, button, form in (("save", "save", flows.answers(its[: per_set // 2], right=1)),
                                   ("submit", "finish", flows.answers(its, right=per_set // 2))):
            responses = []
            out[name] = _count(app, lambda b=button, f=form, r=responses: r.append(
                flows.submit(client, attempt_id, f, b)))
            assert responses[0].status_code == 302, (name, responses[0].status_code)
        # One submit scored, and the summary holds its answers.
        assert [i["score"] for i in flows.items(app, attempt_id)].count(1.0) == per_set // 2
        return out
    finally:
        _teardown(app)


def test_submit_and_save_posts_are_lean(tmp_path):
    """Submit: one conditional UPDATE of the attempt, one executemany of the items, one
    summary upsert, one upsert of the kept item sums, nothing read back. Save: the
    lock-taking UPDATE and one executemany."""
    small = post_statements(tmp_path / "small", per_set=5)
    large = post_statements(tmp_path / "large", per_set=60)
    for name in ("save", "submit"):
        print(f"\n{name} POST: {len(small[name])} statements (5 questions), "
              f"{len(large[name])} (60 questions)")
        for statement in large[name]:
            print("   ", " ".join(statement.split())[:100])
        assert len(small[name]) == len(large[name]), name
    submit, save = large["submit"], large["save"]
    writes = [s for s in submit if _kind(s) in WRITES]
    assert [" ".join(s.split()[:3]) for s in writes] == [
        "UPDATE attempt SET", "UPDATE attempt_question SET", "INSERT INTO learner_question_latest",
        "INSERT INTO revision_item_sums"]
    assert "points" in writes[0] and "score" in writes[0] and "status" in writes[0]
    assert "ON CONFLICT" in writes[2] and "ON CONFLICT" in writes[3]
    first_write = submit.index(writes[0])
    assert all(_kind(s) in WRITES for s in submit[first_write:]), "nothing is read after writing"
    save_writes = [s for s in save if _kind(s) in WRITES]
    assert [" ".join(s.split()[:3]) for s in save_writes] == [
        "UPDATE attempt SET", "UPDATE attempt_question SET"]
    assert all(_kind(s) in WRITES for s in save[save.index(save_writes[0]):])
    # Before the change: submit 10 statements, save 9 (loading the user and the attempt
    # with its items and key points is 4 of them). The kept item sums (issue 9) add one
    # statement to submit: 7 -> 8.
    assert len(submit) <= 8 and len(save) <= 6
