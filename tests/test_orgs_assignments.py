"""Assignments (quiz/orgs/assignments.py, assignment_views.py): the manager's form (every bad
input a 4xx, nothing written), another organisation's ids refused, edit, archive, the list
with its counts in constant statements; the learner's start (assigned only, open, attempts
left per period, the rules copied onto the attempt, one open attempt per set) and "My
assignments" on the home page. A fixed clock throughout (`clock`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from quiz import accounts
from quiz.attempts import start_attempt, submit_attempt
from quiz.extensions import db
from quiz.models import (
    Assignment,
    AssignmentPerson,
    Attempt,
    AuditEvent,
    Cohort,
    Membership,
    Organisation,
    QuestionSet,
    User,
)
from quiz.orgs import assignments as ops
from quiz.vocab import AssignmentState as S
from quiz.vocab import OrgRole

from . import flows
from .conftest import PASSWORD, _teardown, make_app
from .test_access import _password_hash
from .test_studio_questions import statements

pytestmark = pytest.mark.small_bank

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


# --- plain functions --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "end", "expected"), [
    ("2027-04-01 09:30", False, datetime(2027, 4, 1, 9, 30, tzinfo=UTC)),
    ("2027-04-01T09:30", False, datetime(2027, 4, 1, 9, 30, tzinfo=UTC)),
    ("2027-04-01T09:30:15", False, datetime(2027, 4, 1, 9, 30, 15, tzinfo=UTC)),
    ("2027-04-01", False, datetime(2027, 4, 1, 0, 0, tzinfo=UTC)),
    ("2027-04-01", True, datetime(2027, 4, 1, 23, 59, tzinfo=UTC)),
    ("  ", False, None),
])
def test_dates_are_read_in_utc(text, end, expected):
    assert ops.parse_when(text, end_of_day=end) == expected


@pytest.mark.parametrize("text", ["yesterday", "2027-02-30 10:00", "2027-04-01 25:00", "01/04/2027",
                                  "1999-12-31", "2027-04-01 09:30+02:00", "２０２７-04-01"])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError):
        ops.parse_when(text)


@pytest.mark.parametrize(("due", "days", "text"), [
    (NOW + timedelta(days=3, hours=2), 3, "3 days left"),
    (NOW + timedelta(days=1), 1, "1 day left"),
    (NOW + timedelta(hours=5), 0, "due within a day"),
    (NOW - timedelta(hours=5), -1, "1 day overdue"),
    (NOW - timedelta(days=2), -2, "2 days overdue"),
    (None, None, "no due date"),
])
def test_days_left(due, days, text):
    assert ops.days_left(due, NOW) == days
    assert ops.due_text(days) == text


CHOICES = ops.Choices(sets={"alpha": "Alpha set"}, cohorts={5: "Hires"},
                      members=[(7, "Ann", "ann@example.org"), (8, "Bob", "bob@example.org")])
GOOD = {"set_id": "alpha", "cohort_id": "5", "people": ["8"], "opens_at": "2027-04-01 09:00",
        "due_at": "2027-04-08", "pass_mark": "80", "max_attempts": "3", "time_limit_minutes": "30",
        "recert_months": "12"}


def test_a_good_form_reads_into_values():
    values, errors = ops.read_assignment(GOOD, CHOICES)
    assert errors == {}
    assert values == ops.AssignmentValues(
        set_id="alpha", cohort_id=5, people=frozenset({8}),
        opens_at=datetime(2027, 4, 1, 9, tzinfo=UTC), due_at=datetime(2027, 4, 8, 23, 59, tzinfo=UTC),
        pass_mark=80, max_attempts=3, time_limit_minutes=30, recert_months=12)
    blank = {**GOOD, "opens_at": "", "due_at": "", "pass_mark": "0", "max_attempts": "",
             "time_limit_minutes": "", "recert_months": "", "cohort_id": ""}
    values, errors = ops.read_assignment(blank, CHOICES)
    assert errors == {} and values.pass_mark == 0 and values.cohort_id is None
    assert values.opens_at is values.due_at is values.max_attempts is None


BAD_FORMS = [
    ({"set_id": ""}, "set_id", "Choose one of the active question sets."),
    ({"set_id": "beta"}, "set_id", "Choose one of the active question sets."),
    ({"cohort_id": "", "people": []}, "cohort_id", "Choose a cohort, or at least one person"),
    ({"opens_at": "soon"}, "opens_at", "The opening date is not a date and time"),
    ({"due_at": "2027-02-30"}, "due_at", "The due date is not a real date"),
    ({"due_at": "2027-04-01 09:00"}, "due_at", "The due date must be after the opening date."),
    ({"due_at": "2027-03-31 09:00"}, "due_at", "The due date must be after the opening date."),
    ({"due_at": "1999-01-01"}, "due_at", "between the years"),
    ({"pass_mark": "101"}, "pass_mark", "Pass mark must be a whole number from 0 to 100."),
    ({"pass_mark": "-1"}, "pass_mark", "from 0 to 100"),
    ({"pass_mark": "50.5"}, "pass_mark", "from 0 to 100"),
    ({"pass_mark": "٥٠"}, "pass_mark", "from 0 to 100"),  # Arabic-Indic digits
    ({"max_attempts": "0"}, "max_attempts", "Attempt limit must be a whole number from 1 to 100."),
    ({"time_limit_minutes": "0"}, "time_limit_minutes", "from 1 to 1440"),
    ({"time_limit_minutes": "99999999999"}, "time_limit_minutes", "from 1 to 1440"),
    ({"recert_months": "0"}, "recert_months", "from 1 to 120"),
    ({"recert_months": "twelve"}, "recert_months", "from 1 to 120"),
]


@pytest.mark.parametrize(("change", "name", "message"), BAD_FORMS)
def test_bad_forms_name_the_field(change, name, message):
    values, errors = ops.read_assignment({**GOOD, **change}, CHOICES)
    assert values is None
    assert any(message in m for m in errors[name]), errors


@pytest.mark.parametrize("change", [{"cohort_id": "6"}, {"cohort_id": "x"}, {"people": ["9"]},
                                    {"people": ["7", "abc"]}])
def test_ids_not_offered_are_tampering(change):
    with pytest.raises(ops.Tampered):
        ops.read_assignment({**GOOD, **change}, CHOICES)


# --- a world: two organisations ----------------------------------------------------------------

def _user(email: str) -> User:
    user = User(email=email, name=email.split("@")[0].title(), password_hash=_password_hash(),
                role="learner")
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def world(app):
    """Clinic A: a manager, a cohort with Ann, Bob (no cohort); clinic B: its cohort and Zoe."""
    with app.app_context():
        a, b = Organisation(name="Clinic A"), Organisation(name="Clinic B")
        db.session.add_all([a, b])
        db.session.flush()
        hires, b_hires = Cohort(org_id=a.id, name="Spring hires"), Cohort(org_id=b.id, name="B hires")
        db.session.add_all([hires, b_hires])
        db.session.flush()
        manager, ann, bob, zoe = (_user(f"{n}@example.org") for n in ("manager", "ann", "bob", "zoe"))
        db.session.add_all([
            Membership(org_id=a.id, user_id=manager.id, role=OrgRole.MANAGER),
            Membership(org_id=a.id, user_id=ann.id, cohort_id=hires.id),
            Membership(org_id=a.id, user_id=bob.id),
            Membership(org_id=b.id, user_id=zoe.id, cohort_id=b_hires.id),
        ])
        db.session.commit()
        return {"org": a.id, "org_b": b.id, "cohort": hires.id, "cohort_b": b_hires.id,
                "manager": manager.id, "ann": ann.id, "bob": bob.id, "zoe": zoe.id}


@pytest.fixture
def clock(monkeypatch):
    """The views' clock, fixed (set `clock.now` to move it)."""
    class Clock:
        now = NOW
    fixed = Clock()
    for module in ("quiz.learn.views", "quiz.orgs.assignment_views"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: fixed.now)
    return fixed




def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _assignment_events(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "assignment").order_by(AuditEvent.id)))


def form(world, **change) -> dict:
    base = {"set_id": "alpha", "cohort_id": str(world["cohort"]), "people": [str(world["bob"])],
            "opens_at": "2027-03-01 08:00", "due_at": "2027-03-22 17:00", "pass_mark": "60",
            "max_attempts": "", "time_limit_minutes": "", "recert_months": ""}
    return {**base, **change}


def make_assignment(app, world, **rules) -> int:
    with app.app_context():
        assignment = Assignment(**{"org_id": world["org"], "set_id": "alpha",
                                   "cohort_id": world["cohort"], **rules})
        db.session.add(assignment)
        db.session.commit()
        return assignment.id


# --- the manager's form -------------------------------------------------------------------------

def test_a_manager_creates_an_assignment(app, world):
    client = flows.client_for(app, world["manager"])
    page = client.get(f"/orgs/{world['org']}/assignments/new").get_data(as_text=True)
    assert "Opens (UTC)" in page and "Spring hires" in page and "Bob (bob@example.org)" in page
    assert "Zoe" not in page and "B hires" not in page  # only A's people and cohorts are offered
    response = client.post(f"/orgs/{world['org']}/assignments/new", data=form(world))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/orgs/{world['org']}/assignments#a")
    with app.app_context():
        assignment = db.session.scalar(select(Assignment))
        assert (assignment.org_id, assignment.set_id, assignment.cohort_id) == (
            world["org"], "alpha", world["cohort"])
        assert ops._aware(assignment.due_at) == datetime(2027, 3, 22, 17, tzinfo=UTC)
        assert assignment.pass_mark == 60 and assignment.created_by_id == world["manager"]
        assert ops.named_people(assignment.id) == [world["bob"]]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "assignment"))
        assert (event.action, event.actor_id, event.entity_id) == ("create", world["manager"],
                                                                   str(assignment.id))
        assert event.detail["after"]["people"] == [world["bob"]]
    listing = client.get(f"/orgs/{world['org']}/assignments").get_data(as_text=True)
    assert "Alpha set" in listing and "cohort Spring hires and 1 named person" in listing
    assert "22 Mar 2027, 17:00 UTC" in listing


@pytest.mark.parametrize(("change", "message"), [
    ({"pass_mark": "101"}, "Pass mark must be a whole number from 0 to 100."),
    ({"due_at": "2027-02-01 00:00"}, "The due date must be after the opening date."),
    ({"opens_at": "next week"}, "The opening date is not a date and time"),
    ({"cohort_id": "", "people": []}, "Choose a cohort, or at least one person"),
    ({"set_id": "nope"}, "Choose one of the active question sets."),
    ({"max_attempts": "0", "time_limit_minutes": "abc"}, "Attempt limit must be"),
])
def test_bad_input_is_a_422_with_messages_and_nothing_is_written(app, world, change, message):
    client = flows.client_for(app, world["manager"])
    response = client.post(f"/orgs/{world['org']}/assignments/new", data=form(world, **change))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not saved" in page and message in page
    assert 'aria-invalid="true"' in page
    assert _count(app, Assignment) == 0 and _assignment_events(app) == []


def test_an_inactive_set_cannot_be_assigned(app, world):
    with app.app_context():
        db.session.get(QuestionSet, "beta").active = False
        db.session.commit()
    client = flows.client_for(app, world["manager"])
    assert "Beta set" not in client.get(f"/orgs/{world['org']}/assignments/new").get_data(as_text=True)
    response = client.post(f"/orgs/{world['org']}/assignments/new", data=form(world, set_id="beta"))
    assert response.status_code == 422 and _count(app, Assignment) == 0


@pytest.mark.parametrize("change", ["cohort_b", "zoe", "not a number"])
def test_another_organisations_cohort_or_member_is_refused(app, world, change):
    client = flows.client_for(app, world["manager"])
    data = {"cohort_b": form(world, cohort_id=str(world["cohort_b"])),
            "zoe": form(world, people=[str(world["bob"]), str(world["zoe"])]),
            "not a number": form(world, people=["1 OR 1=1"])}[change]
    response = client.post(f"/orgs/{world['org']}/assignments/new", data=data)
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert _count(app, Assignment) == 0 and _count(app, AssignmentPerson) == 0


def test_another_organisations_assignment_is_not_found(app, world):
    other = make_assignment(app, {**world, "org": world["org_b"], "cohort": world["cohort_b"]})
    client = flows.client_for(app, world["manager"])
    assert client.get(f"/orgs/{world['org']}/assignments/{other}/edit").status_code == 404
    assert client.post(f"/orgs/{world['org']}/assignments/{other}/edit", data=form(world)).status_code == 404
    assert client.post(f"/orgs/{world['org']}/assignments/{other}/archive").status_code == 404
    assert client.get(f"/orgs/{world['org_b']}/assignments").status_code == 404
    with app.app_context():
        assert db.session.get(Assignment, other).archived_at is None


def test_edit_changes_the_rules_and_the_people_and_audits(app, world):
    aid = make_assignment(app, world, pass_mark=50)
    client = flows.client_for(app, world["manager"])
    page = client.get(f"/orgs/{world['org']}/assignments/{aid}/edit").get_data(as_text=True)
    assert 'value="50"' in page
    response = client.post(f"/orgs/{world['org']}/assignments/{aid}/edit",
                           data=form(world, cohort_id="", people=[str(world["ann"]), str(world["bob"])],
                                     pass_mark="75", time_limit_minutes="20"))
    assert response.status_code == 302
    with app.app_context():
        a = db.session.get(Assignment, aid)
        assert (a.cohort_id, a.pass_mark, a.time_limit_minutes) == (None, 75, 20)
        assert ops.named_people(aid) == sorted([world["ann"], world["bob"]])
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "edit"))
        assert event.detail["before"]["pass_mark"] == 50 and event.detail["after"]["pass_mark"] == 75
        assert "people" in event.summary
    # The same values again: nothing changed, no second event.
    client.post(f"/orgs/{world['org']}/assignments/{aid}/edit",
                data=form(world, cohort_id="", people=[str(world["ann"]), str(world["bob"])],
                          pass_mark="75", time_limit_minutes="20"))
    assert _assignment_events(app) == ["edit"]


def test_the_set_is_fixed_once_people_have_attempts(app, world):
    aid = make_assignment(app, world)
    with app.app_context():
        ann = db.session.get(User, world["ann"])
        ops.start_for(ann, db.session.get(Assignment, aid), NOW)
        db.session.commit()
    client = flows.client_for(app, world["manager"])
    assert "the set stays as it is" in client.get(
        f"/orgs/{world['org']}/assignments/{aid}/edit").get_data(as_text=True)
    response = client.post(f"/orgs/{world['org']}/assignments/{aid}/edit", data=form(world, set_id="beta"))
    assert response.status_code == 422
    assert "The set cannot change" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Assignment, aid).set_id == "alpha"


def test_archive_and_restore(app, world, clock):
    aid = make_assignment(app, world)
    manager, ann = flows.client_for(app, world["manager"]), flows.client_for(app, world["ann"])
    assert "Alpha set" in ann.get("/sets").get_data(as_text=True).split("Question sets</h1>")[0]
    response = manager.post(f"/orgs/{world['org']}/assignments/{aid}/archive")
    assert response.status_code == 302
    with app.app_context():
        assert ops._aware(db.session.get(Assignment, aid).archived_at) == NOW
    assert "My assignments" not in ann.get("/sets").get_data(as_text=True)
    blocked = ann.post(f"/orgs/assignments/{aid}/start")
    assert blocked.status_code == 409 and "archived" in blocked.get_data(as_text=True)
    assert _count(app, Attempt) == 0
    assert "Alpha set" in manager.get(f"/orgs/{world['org']}/assignments?archived=1").get_data(as_text=True)
    assert "Alpha set" not in manager.get(f"/orgs/{world['org']}/assignments").get_data(as_text=True)
    assert manager.post(f"/orgs/{world['org']}/assignments/{aid}/restore").status_code == 302
    assert ann.post(f"/orgs/assignments/{aid}/start").status_code == 302
    assert _assignment_events(app) == ["archive", "restore"]


def test_the_organisation_home_links_to_assignments(app, world):
    page = flows.client_for(app, world["manager"]).get(f"/orgs/{world['org']}").get_data(as_text=True)
    assert f'href="/orgs/{world["org"]}/assignments"' in page
    assert f'href="/orgs/{world["org"]}/assignments/new"' in page


# --- starting an attempt --------------------------------------------------------------------------

def _start(app, world, aid, who="ann", now=NOW):
    with app.app_context():
        user = db.session.get(User, world[who])
        attempt = ops.start_for(user, db.session.get(Assignment, aid), now)
        db.session.commit()
        return attempt.id


def _submit(app, attempt_id, right: bool, at=None):
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        answers = {}
        for item in attempt.items:
            choice = next(c["id"] for c in item.revision.data["choices"] if c["correct"] == right)
            answers[item.id] = choice
        assert submit_attempt(attempt, answers, at=at)
        db.session.commit()


def test_the_pass_mark_and_deadline_are_copied_onto_the_attempt(app, world, clock):
    aid = make_assignment(app, world, pass_mark=70, time_limit_minutes=25)
    response = flows.client_for(app, world["ann"]).post(f"/orgs/assignments/{aid}/start")
    assert response.status_code == 302
    attempt_id = int(re.search(r"/attempts/(\d+)$", response.headers["Location"]).group(1))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert (attempt.assignment_id, attempt.pass_mark) == (aid, 70)
        assert ops._aware(attempt.started_at) == NOW
        assert ops._aware(attempt.deadline_at) == NOW + timedelta(minutes=25)
        # Without its own pass mark, the set's; without a time limit, no deadline.
        db.session.get(QuestionSet, "beta").pass_mark = 65
        other = Assignment(org_id=world["org"], set_id="beta", cohort_id=world["cohort"])
        db.session.add(other)
        db.session.commit()
        started = ops.start_for(db.session.get(User, world["ann"]), other, NOW)
        assert (started.pass_mark, started.deadline_at, started.assignment_id) == (65, None, other.id)


def test_only_people_assigned_may_start(app, world, clock):
    aid = make_assignment(app, world)
    assert flows.client_for(app, world["bob"]).post(f"/orgs/assignments/{aid}/start").status_code == 404
    assert flows.client_for(app, world["zoe"]).post(f"/orgs/assignments/{aid}/start").status_code == 404
    assert flows.client_for(app, world["manager"]).post(f"/orgs/assignments/{aid}/start").status_code == 404
    with app.app_context():  # named on it: Bob may
        db.session.add(AssignmentPerson(assignment_id=aid, user_id=world["bob"]))
        db.session.commit()
    assert flows.client_for(app, world["bob"]).post(f"/orgs/assignments/{aid}/start").status_code == 302


def test_not_before_the_opening_date_but_after_the_due_date(app, world, clock):
    aid = make_assignment(app, world, opens_at=NOW + timedelta(days=2), due_at=NOW + timedelta(days=9))
    ann = flows.client_for(app, world["ann"])
    response = ann.post(f"/orgs/assignments/{aid}/start")
    assert response.status_code == 409
    assert "opens 17 Mar 2027, 12:00 UTC" in response.get_data(as_text=True)
    assert _count(app, Attempt) == 0
    clock.now = NOW + timedelta(days=12)  # overdue: a late attempt may still be made
    assert ann.post(f"/orgs/assignments/{aid}/start").status_code == 302


def test_the_attempt_limit(app, world, clock):
    aid = make_assignment(app, world, pass_mark=100, max_attempts=2)
    ann = flows.client_for(app, world["ann"])
    for _ in range(2):
        response = ann.post(f"/orgs/assignments/{aid}/start")
        assert response.status_code == 302
        _submit(app, int(response.headers["Location"].rsplit("/", 1)[1]), right=False)
    response = ann.post(f"/orgs/assignments/{aid}/start")
    assert response.status_code == 409 and "no attempts left" in response.get_data(as_text=True)
    assert _count(app, Attempt) == 2
    home = ann.get("/sets").get_data(as_text=True)
    assert "No attempts left" in home and f"/orgs/assignments/{aid}/start" not in home


def test_recertification_reopens_and_the_limit_counts_per_period(app, world):
    aid = make_assignment(app, world, pass_mark=50, max_attempts=1, recert_months=12)
    first = _start(app, world, aid)
    _submit(app, first, right=True, at=NOW)
    with app.app_context():
        ann, assignment = db.session.get(User, world["ann"]), db.session.get(Assignment, aid)
        with pytest.raises(ops.CannotStart, match="passed"):
            ops.start_for(ann, assignment, NOW + timedelta(days=30))
        later = NOW + timedelta(days=400)  # the pass expired on 2028-03-15
        [row] = ops.my_assignments(ann.id, later)
        assert (row.state, row.attempts_left, row.can_start) == (S.EXPIRED, 1, True)
    again = _start(app, world, aid, now=NOW + timedelta(days=400))
    _submit(app, again, right=False, at=NOW + timedelta(days=400))
    with app.app_context():
        ann, assignment = db.session.get(User, world["ann"]), db.session.get(Assignment, aid)
        [row] = ops.my_assignments(ann.id, NOW + timedelta(days=401))
        assert (row.state, row.attempts_left, row.can_start) == (S.EXPIRED, 0, False)
        with pytest.raises(ops.CannotStart, match="no attempts left"):
            ops.start_for(ann, assignment, NOW + timedelta(days=401))


def test_one_open_attempt_per_set(app, world, clock):
    aid = make_assignment(app, world)
    ann = flows.client_for(app, world["ann"])
    first = ann.post(f"/orgs/assignments/{aid}/start").headers["Location"]
    assert ann.post(f"/orgs/assignments/{aid}/start").headers["Location"] == first  # resumed
    # An open attempt of the same set for another assignment: finish that first (409).
    other = make_assignment(app, world)
    response = ann.post(f"/orgs/assignments/{other}/start")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Finish or submit it first" in page and f'href="{first}"' in page
    # Free practice open at the set: the same.
    bob_aid = make_assignment(app, world, cohort_id=None)
    with app.app_context():
        db.session.add(AssignmentPerson(assignment_id=bob_aid, user_id=world["bob"]))
        db.session.commit()
    bob = flows.client_for(app, world["bob"])
    practice = flows.start(bob, "alpha")
    response = bob.post(f"/orgs/assignments/{bob_aid}/start")
    assert response.status_code == 409 and f'href="/attempts/{practice}"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Attempt, practice).assignment_id is None
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 2


# --- "My assignments" ----------------------------------------------------------------------------

def test_my_assignments_first_on_the_home_page_with_states(app, world, clock):
    overdue = make_assignment(app, world, due_at=NOW - timedelta(days=2))
    soon = make_assignment(app, world, due_at=NOW + timedelta(days=3, hours=1), pass_mark=50)
    later = make_assignment(app, world, opens_at=NOW + timedelta(days=5))
    with app.app_context():
        db.session.get(Assignment, later).set_id = "beta"
        db.session.commit()
    done = _start(app, world, soon)
    _submit(app, done, right=True, at=NOW - timedelta(hours=1))
    page = flows.client_for(app, world["ann"]).get("/sets").get_data(as_text=True)
    mine, catalogue = page.split('<h1>Question sets</h1>')
    assert "My assignments" in mine and "Clinic A" in mine
    rows = re.findall(r'<tr class="state-([a-z_]+)( overdue)?">(.*?)</tr>', mine, re.S)
    assert [(state, bool(flag)) for state, flag, _ in rows] == [
        ("overdue", True), ("passed", False), ("not_open", False)]
    overdue_row, passed_row, not_open_row = (body for _, _, body in rows)
    assert "Overdue" in overdue_row and "2 days overdue" in overdue_row and "⚠" in overdue_row
    assert f"/orgs/assignments/{overdue}/start" in overdue_row  # late, but may still start
    assert "Passed" in passed_row and "3 days left" in passed_row and "100%" in passed_row
    assert f"/attempts/{done}/review" in passed_row and "/start" not in passed_row
    assert "Not open yet" in not_open_row and "Opens 20 Mar 2027, 12:00 UTC" in not_open_row
    assert "/start" not in not_open_row
    # Bob (not in the cohort) sees none; an in-progress one shows Resume.
    assert "My assignments" not in flows.client_for(app, world["bob"]).get("/sets").get_data(as_text=True)
    open_id = _start(app, world, overdue)
    page = flows.client_for(app, world["ann"]).get("/sets").get_data(as_text=True)
    assert f'href="/attempts/{open_id}">Resume' in page and "state-in_progress" in page


def test_my_assignments_states_with_a_fixed_clock(app, world):
    aid = make_assignment(app, world, due_at=NOW + timedelta(days=1), pass_mark=100)
    with app.app_context():
        [row] = ops.my_assignments(world["ann"], NOW)
        assert (row.state, row.days_left, row.can_start) == (S.NOT_STARTED, 1, True)
    attempt = _start(app, world, aid)
    with app.app_context():
        assert ops.my_assignments(world["ann"], NOW)[0].state == S.IN_PROGRESS
    _submit(app, attempt, right=False, at=NOW)
    with app.app_context():
        assert ops.my_assignments(world["ann"], NOW)[0].state == S.NOT_PASSED
        [row] = ops.my_assignments(world["ann"], NOW + timedelta(days=2))
        assert (row.state, row.overdue, row.label, row.days_left) == (S.OVERDUE, True, "Overdue", -1)
        assert ops.my_assignments(world["zoe"], NOW) == []


# --- query counts ----------------------------------------------------------------------------------

def _populate(app, world, assignments: int, people: int, start: int = 0) -> None:
    """More members in A's cohort, more assignments, each person with a submitted attempt."""
    with app.app_context():
        qset = db.session.get(QuestionSet, "alpha")
        users = []
        for i in range(start, start + people):
            user = _user(f"person{i}@example.org")
            db.session.add(Membership(org_id=world["org"], user_id=user.id, cohort_id=world["cohort"]))
            users.append(user)
        made = [Assignment(org_id=world["org"], set_id="alpha", cohort_id=world["cohort"], pass_mark=0,
                           recert_months=12 if i % 2 else None) for i in range(assignments)]
        db.session.add_all(made)
        db.session.flush()
        for user in users:
            attempt = start_attempt(user, qset, assignment=made[0], now=NOW)
            assert submit_attempt(attempt, {}, at=NOW)
        db.session.add_all([AssignmentPerson(assignment_id=a.id, user_id=world["bob"]) for a in made])
        db.session.commit()


def test_the_list_and_the_home_page_send_the_same_statements_for_few_and_many(tmp_path):
    from . import bankgen

    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"))
    try:
        with app.app_context():
            org = Organisation(name="Clinic A")
            db.session.add(org)
            db.session.flush()
            cohort = Cohort(org_id=org.id, name="Hires")
            db.session.add(cohort)
            db.session.flush()
            manager = accounts.create_user("manager@example.org", PASSWORD, "Manager")
            bob = accounts.create_user("bob@example.org", PASSWORD, "Bob")
            db.session.add_all([Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER),
                                Membership(org_id=org.id, user_id=bob.id)])
            db.session.commit()
            world = {"org": org.id, "cohort": cohort.id, "bob": bob.id, "manager": manager.id}
        manager_client = flows.client_for(app, world["manager"])
        bob_client = flows.client_for(app, world["bob"])
        urls = [(manager_client, f"/orgs/{world['org']}/assignments"), (bob_client, "/sets")]
        _populate(app, world, assignments=2, people=2)
        small = [statements(app, client, url) for client, url in urls]
        _populate(app, world, assignments=30, people=120, start=100)
        large = [statements(app, client, url) for client, url in urls]
        assert small == large
        page = manager_client.get(f"/orgs/{world['org']}/assignments").get_data(as_text=True)
        assert page.count("<tr id=\"a") == 32
        assert page.count('data-label="Assigned">123<') == 32  # the cohort's 122 and Bob, named
    finally:
        _teardown(app)


def test_the_list_counts_assigned_and_passed(app, world):
    aid = make_assignment(app, world, pass_mark=50, recert_months=1)
    with app.app_context():
        db.session.add(AssignmentPerson(assignment_id=aid, user_id=world["bob"]))
        db.session.add(AssignmentPerson(assignment_id=aid, user_id=world["zoe"]))  # not a member: not counted
        db.session.commit()
    _submit(app, _start(app, world, aid), right=True, at=NOW - timedelta(days=3))
    _submit(app, _start(app, world, aid, who="bob"), right=False, at=NOW)
    with app.app_context():
        [row] = ops.list_rows(world["org"], False, NOW)
        assert (row.assigned, row.passed, row.named) == (2, 1, 2)
        [row] = ops.list_rows(world["org"], False, NOW + timedelta(days=40))  # Ann's pass expired
        assert row.passed == 0
        assert ops.list_rows(world["org"], True, NOW) == []


# --- in a real browser -------------------------------------------------------------------------

@pytest.mark.e2e
def test_the_pages_in_chromium_at_desktop_and_phone_widths(tmp_path):
    """The manager's list and form (with its errors), the learner's home with an overdue,
    a passed and a not-open assignment, the attempt page's time left and the 409 page: no
    CSP violation, nothing wider than the window, at 1280 and 390 px."""
    import os
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from quiz.models._common import utcnow

    from . import bankgen
    from .test_e2e import CHROMIUM, CHROMIUM_ARGS, CSP_RECORDER, Shots, serving

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed")
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), WTF_CSRF_ENABLED=True)
    now = utcnow()
    with app.app_context():
        org = Organisation(name="Riverside Physio Clinic")
        db.session.add(org)
        db.session.flush()
        cohort = Cohort(org_id=org.id, name="Spring 2027 hires")
        db.session.add(cohort)
        db.session.flush()
        manager = accounts.create_user("manager@example.org", PASSWORD, "Maria Manager")
        ann = accounts.create_user("ann@example.org", PASSWORD, "Ann Learner")
        db.session.add_all([Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER),
                            Membership(org_id=org.id, user_id=ann.id, cohort_id=cohort.id)])
        for i in range(12):
            user = accounts.create_user(f"staff{i}@example.org", PASSWORD,
                                        f"Staff member with a rather long name {i}")
            db.session.add(Membership(org_id=org.id, user_id=user.id, cohort_id=cohort.id))
        late = Assignment(org_id=org.id, set_id="alpha", cohort_id=cohort.id, pass_mark=80,
                          due_at=now - timedelta(days=2), max_attempts=3)
        timed = Assignment(org_id=org.id, set_id="beta", cohort_id=cohort.id, pass_mark=50,
                           time_limit_minutes=30, due_at=now + timedelta(days=6), recert_months=12)
        future = Assignment(org_id=org.id, set_id="beta", cohort_id=cohort.id,
                            opens_at=now + timedelta(days=3), due_at=now + timedelta(days=20))
        quick = Assignment(org_id=org.id, set_id="mixed", cohort_id=cohort.id, time_limit_minutes=15)
        db.session.add_all([late, timed, future, quick])
        db.session.flush()
        done = start_attempt(ann, db.session.get(QuestionSet, "beta"), assignment=timed, now=now)
        assert submit_attempt(done, {i.id: "true" for i in done.items})
        practice = start_attempt(ann, db.session.get(QuestionSet, "alpha"))  # blocks `late`
        db.session.commit()
        ids = {"org": org.id, "late": late.id, "timed": timed.id, "practice": practice.id}
    shots = Shots(tmp_path / "screenshots")
    keep = os.environ.get("ASSIGNMENT_SHOTS")  # a folder to copy the screenshots to

    def shot(page, name: str) -> None:
        path = shots(page, name)
        if keep:
            Path(keep, f"assignments-{name}.png").write_bytes(path.read_bytes())
    with serving(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), chromium_sandbox=False,
                                    args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                for who, pages in (
                    ("manager", [f"/orgs/{ids['org']}", f"/orgs/{ids['org']}/assignments",
                                 f"/orgs/{ids['org']}/assignments/new",
                                 f"/orgs/{ids['org']}/assignments/{ids['timed']}/edit"]),
                    ("ann", ["/sets"]),
                ):
                    context = browser.new_context(viewport={"width": width, "height": 900})
                    context.add_init_script(CSP_RECORDER)
                    page = context.new_page()
                    page.goto(base + "/auth/login")
                    page.get_by_label("E-mail").fill(f"{who}@example.org")
                    page.get_by_label("Password", exact=True).fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    for url in pages:
                        assert page.goto(base + url).status == 200, url
                        shot(page, f"{width}-{who}-{url.strip('/').replace('/', '-')}")
                        assert page.evaluate("window.__cspViolations") == [], url
                        assert page.evaluate(
                            "document.documentElement.scrollWidth <= window.innerWidth"), (url, width)
                    if who == "manager":
                        # A bad form: 422 with its messages, still within the window.
                        page.goto(base + f"/orgs/{ids['org']}/assignments/new")
                        page.select_option("#set_id", "alpha")
                        page.get_by_label("Pass mark (%)").fill("150")
                        page.get_by_role("button", name="Create assignment").click()
                        assert page.get_by_role("alert").first.is_visible()
                        assert "Pass mark must be a whole number" in page.content()
                        shot(page, f"{width}-manager-errors")
                        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                    else:
                        assert page.locator("tr.overdue").count() == 1
                        # Starting the overdue one: the free-practice attempt at its set blocks it.
                        page.locator("tr.overdue").get_by_role("button").click()
                        assert "Finish or submit it first" in page.content()
                        shot(page, f"{width}-ann-blocked")
                        # The 15-minute one: the attempt page shows the time left.
                        page.goto(base + "/sets")
                        assert page.locator("tr.state-passed").count() == 1
                        row = page.locator("tr", has_text="Mixed")
                        row.locator("button, a.button").first.click()
                        assert re.search(r"Time left: 1[45] min \(until \d\d:\d\d UTC\)", page.content())
                        assert page.evaluate("window.__cspViolations") == []
                        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                        shot(page, f"{width}-ann-attempt")
                    context.close()
        finally:
            browser.close()


def test_the_pages_render_without_lazy_loads(app, world, clock):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from .test_lazy_loads import LazyLoads

    aid = make_assignment(app, world, pass_mark=50, time_limit_minutes=30, due_at=NOW + timedelta(days=2))
    done = _start(app, world, aid)
    _submit(app, done, right=True, at=NOW)
    other = make_assignment(app, world, due_at=NOW - timedelta(days=1))
    with app.app_context():
        db.session.get(Assignment, other).set_id = "beta"
        db.session.commit()
    open_id = _start(app, world, other)
    with app.app_context():
        db.session.get(Attempt, open_id).deadline_at = NOW + timedelta(minutes=9)
        db.session.commit()
    pages = [(world["manager"], f"/orgs/{world['org']}/assignments"),
             (world["manager"], f"/orgs/{world['org']}/assignments/new"),
             (world["manager"], f"/orgs/{world['org']}/assignments/{aid}/edit"),
             (world["manager"], f"/orgs/{world['org']}"),
             (world["ann"], "/sets"),
             (world["ann"], f"/attempts/{open_id}")]
    for user_id, url in pages:
        client = flows.client_for(app, user_id)
        recorder = LazyLoads()
        event.listen(Session, "do_orm_execute", recorder)
        try:
            response = client.get(url)
        finally:
            event.remove(Session, "do_orm_execute", recorder)
        assert response.status_code == 200, url
        assert recorder.loads == [], (url, recorder.loads)


def test_the_forms_need_their_csrf_token(csrf_app):
    with csrf_app.app_context():
        org = Organisation(name="Clinic C")
        db.session.add(org)
        db.session.flush()
        cohort = Cohort(org_id=org.id, name="Hires")
        db.session.add(cohort)
        db.session.flush()
        manager, ann = _user("manager@example.org"), _user("ann@example.org")
        db.session.add_all([Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER),
                            Membership(org_id=org.id, user_id=ann.id, cohort_id=cohort.id)])
        assignment = Assignment(org_id=org.id, set_id="alpha", cohort_id=cohort.id)
        db.session.add(assignment)
        db.session.commit()
        ids = (org.id, cohort.id, manager.id, ann.id, assignment.id)
    org_id, cohort_id, manager_id, ann_id, aid = ids
    manager = flows.client_for(csrf_app, manager_id)
    data = {"set_id": "alpha", "cohort_id": str(cohort_id)}
    assert manager.post(f"/orgs/{org_id}/assignments/new", data=data).status_code == 400
    assert manager.post(f"/orgs/{org_id}/assignments/{aid}/archive").status_code == 400
    assert flows.client_for(csrf_app, ann_id).post(f"/orgs/assignments/{aid}/start").status_code == 400
    page = manager.get(f"/orgs/{org_id}/assignments/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert manager.post(f"/orgs/{org_id}/assignments/new",
                        data={**data, "csrf_token": token}).status_code == 302
    with csrf_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 2
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0
