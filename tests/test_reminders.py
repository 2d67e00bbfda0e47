"""Assignment reminders (quiz/orgs/reminders.py, `flask --app wsgi mail send-due`): who gets
"due soon" and "overdue", each once per (assignment, person, kind, due date), recorded with
the mail in one transaction, a fixed number of statements, delivered over real SMTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quiz.extensions import db
from quiz.mail import read_outbox
from quiz.models import Assignment, AssignmentPerson, Cohort, Membership, Organisation, ReminderSent
from quiz.orgs.reminders import OVERDUE_WINDOW, due_reminders, send_reminders
from quiz.vocab import OrgRole, ReminderKind

from .conftest import _teardown, make_app
from .test_mail_smtp import smtp_config, smtp_server  # noqa: F401 (fixture)
from .test_org_results import _attempt, _user

pytestmark = pytest.mark.small_bank

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
SOON, OVERDUE = ReminderKind.DUE_SOON, ReminderKind.OVERDUE
NOW_ARG = ["--now", "2027-03-15T12:00"]


def _world(app) -> dict[str, int]:
    """Clinic A: a cohort (ann passes, bob fails, cat never starts, dan is deactivated), fay
    named on one assignment; Clinic B: gus in a cohort of his own. Assignments of A:
    due in 2 days (cohort + fay), overdue by 1 day (cohort), due in 10 days, archived,
    not open yet, overdue by 30 days. B: due in 1 day (gus)."""
    with app.app_context():
        a, b = Organisation(name="Clinic A"), Organisation(name="Clinic B")
        db.session.add_all([a, b])
        db.session.flush()
        hires, other = Cohort(org_id=a.id, name="Hires"), Cohort(org_id=b.id, name="Hires")
        db.session.add_all([hires, other])
        db.session.flush()
        people = {n: _user(f"{n}@example.org") for n in ("ann", "bob", "cat", "dan", "fay", "gus")}
        people["dan"].active = False
        for n in ("ann", "bob", "cat", "dan"):
            db.session.add(Membership(org_id=a.id, user_id=people[n].id, role=OrgRole.MEMBER,
                                      cohort_id=hires.id))
        db.session.add(Membership(org_id=a.id, user_id=people["fay"].id, role=OrgRole.MEMBER))
        db.session.add(Membership(org_id=b.id, user_id=people["gus"].id, role=OrgRole.MEMBER,
                                  cohort_id=other.id))

        def assign(org, cohort, due, **kw):
            row = Assignment(org_id=org.id, set_id="alpha", cohort_id=cohort.id, pass_mark=60,
                             due_at=due, **kw)
            db.session.add(row)
            db.session.flush()
            return row

        soon = assign(a, hires, NOW + timedelta(days=2))
        db.session.add(AssignmentPerson(assignment_id=soon.id, user_id=people["fay"].id))
        late = assign(a, hires, NOW - timedelta(days=1))
        later = assign(a, hires, NOW + timedelta(days=10))
        archived = assign(a, hires, NOW + timedelta(days=1), archived_at=NOW - timedelta(days=1))
        unopened = assign(a, hires, NOW + timedelta(days=2), opens_at=NOW + timedelta(days=1))
        ancient = assign(a, hires, NOW - timedelta(days=30))
        elsewhere = assign(b, other, NOW + timedelta(days=1))
        for assignment in (soon, late):
            _attempt(people["ann"], assignment, True)
            _attempt(people["bob"], assignment, False)
        db.session.commit()
        ids = {n: u.id for n, u in people.items()}
        ids.update(soon=soon.id, late=late.id, later=later.id, archived=archived.id,
                   unopened=unopened.id, ancient=ancient.id, elsewhere=elsewhere.id)
        return ids


def _keys(reminders) -> set[tuple[int, int, str]]:
    return {(r.assignment_id, r.user_id, r.kind) for r in reminders}


def test_who_gets_which_reminder(app):
    w = _world(app)
    with app.app_context():
        got = _keys(due_reminders(NOW))
    assert got == {
        (w["soon"], w["bob"], SOON), (w["soon"], w["cat"], SOON), (w["soon"], w["fay"], SOON),
        (w["late"], w["bob"], OVERDUE), (w["late"], w["cat"], OVERDUE),
        (w["elsewhere"], w["gus"], SOON),
    }
    with app.app_context():
        # more days ahead: the assignment due in 10 days too; none: only the overdue ones
        wide = _keys(due_reminders(NOW, days=10))
        assert {(w["later"], w[n], SOON) for n in ("ann", "bob", "cat")} <= wide
        assert {k[2] for k in _keys(due_reminders(NOW, days=0))} == {OVERDUE}
        # past the overdue window nobody hears about it any more
        assert w["ancient"] not in {k[0] for k in _keys(due_reminders(NOW, days=0))}
        assert due_reminders(NOW + OVERDUE_WINDOW + timedelta(days=11), days=0) == []


def test_send_due_sends_each_reminder_once(app, runner):
    w = _world(app)
    result = runner.invoke(args=["mail", "send-due", *NOW_ARG])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "6 reminders sent (4 due soon, 2 overdue)."
    with app.app_context():
        mails = read_outbox()
        rows = db.session.execute(db.select(ReminderSent.assignment_id, ReminderSent.user_id,
                                            ReminderSent.kind)).all()
    assert {(a, u, k) for a, u, k in rows} == {
        (w["soon"], w["bob"], SOON), (w["soon"], w["cat"], SOON), (w["soon"], w["fay"], SOON),
        (w["late"], w["bob"], OVERDUE), (w["late"], w["cat"], OVERDUE),
        (w["elsewhere"], w["gus"], SOON)}
    assert sorted((m["To"], m["Subject"]) for m in mails) == [
        ("bob@example.org", "Due soon: Alpha set"), ("bob@example.org", "Overdue: Alpha set"),
        ("cat@example.org", "Due soon: Alpha set"), ("cat@example.org", "Overdue: Alpha set"),
        ("fay@example.org", "Due soon: Alpha set"), ("gus@example.org", "Due soon: Alpha set")]
    fay = next(m for m in mails if m["To"] == "fay@example.org").get_content()
    assert "Clinic A assigned you “Alpha set”, due on 17 Mar 2027, 12:00 UTC" in fay
    assert "Hello Fay" in fay
    # run again, and again later the same day: nothing new
    again = runner.invoke(args=["mail", "send-due", *NOW_ARG])
    assert again.output.strip() == "0 reminders sent (0 due soon, 0 overdue)."
    later = runner.invoke(args=["mail", "send-due", "--now", "2027-03-15T18:00"])
    assert later.output.startswith("0 reminders sent")
    with app.app_context():
        assert len(read_outbox()) == 6


def test_becoming_overdue_and_a_changed_due_date_arm_it_again(app, runner):
    w = _world(app)
    assert runner.invoke(args=["mail", "send-due", *NOW_ARG]).exit_code == 0
    # Three days on, "soon" (bob, cat, fay), "elsewhere" (gus) and the one that opened on
    # the 16th (ann, bob, cat) are overdue: each overdue reminder goes out once.
    result = runner.invoke(args=["mail", "send-due", "--now", "2027-03-18T12:00"])
    assert result.output.strip() == "7 reminders sent (0 due soon, 7 overdue)."
    with app.app_context():
        overdue = db.session.execute(db.select(ReminderSent.assignment_id, ReminderSent.user_id)
                                     .where(ReminderSent.kind == OVERDUE,
                                            ReminderSent.assignment_id != w["late"])).all()
    assert set(overdue) == {(w["soon"], w["bob"]), (w["soon"], w["cat"]), (w["soon"], w["fay"]),
                            (w["elsewhere"], w["gus"]), (w["unopened"], w["ann"]),
                            (w["unopened"], w["bob"]), (w["unopened"], w["cat"])}
    # The manager moves "late"'s due date: its reminders are armed for the new date.
    with app.app_context():
        db.session.get(Assignment, w["late"]).due_at = datetime(2027, 3, 20, 9, tzinfo=UTC)
        db.session.commit()
    result = runner.invoke(args=["mail", "send-due", "--now", "2027-03-18T12:00"])
    assert result.output.strip() == "2 reminders sent (2 due soon, 0 overdue)."
    with app.app_context():
        latest = read_outbox()[-2:]
    assert {m["To"] for m in latest} == {"bob@example.org", "cat@example.org"}
    assert all("due on 20 Mar 2027, 09:00 UTC" in m.get_content() for m in latest)
    assert runner.invoke(args=["mail", "send-due", "--now", "2027-03-18T12:00"]).output.startswith(
        "0 reminders sent")


def test_a_pass_stops_the_reminders(app, runner):
    w = _world(app)
    with app.app_context():
        from quiz.models import User
        _attempt(db.session.get(User, w["cat"]), db.session.get(Assignment, w["soon"]), True)
        db.session.commit()
        got = _keys(due_reminders(NOW))
    assert (w["soon"], w["cat"], SOON) not in got and (w["late"], w["cat"], OVERDUE) in got


def test_days_from_the_option_and_the_setting(tmp_path, small_bank):
    app = make_app(tmp_path, small_bank, REMINDER_DAYS=10)
    try:
        w = _world(app)
        runner = app.test_cli_runner()
        result = runner.invoke(args=["mail", "send-due", "--days", "0", *NOW_ARG])
        assert result.output.strip() == "2 reminders sent (0 due soon, 2 overdue)."
        result = runner.invoke(args=["mail", "send-due", *NOW_ARG])      # REMINDER_DAYS=10
        assert result.output.strip() == "7 reminders sent (7 due soon, 0 overdue)."
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count()).select_from(ReminderSent).where(
                ReminderSent.assignment_id == w["later"])) == 3
        bad = runner.invoke(args=["mail", "send-due", "--days", "-1"])
        assert bad.exit_code == 2
        bad = runner.invoke(args=["mail", "send-due", "--now", "tomorrow"])
        assert bad.exit_code == 2 and "ISO" in bad.output
    finally:
        _teardown(app)


def test_a_failed_run_records_nothing(app, monkeypatch):
    """The rows and the mails share the transaction: a rollback leaves neither."""
    _world(app)
    with app.app_context():
        assert len(send_reminders(NOW)) == 6
        db.session.rollback()
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(ReminderSent)) == 0
        assert read_outbox() == []


def test_the_statements_do_not_grow_with_the_people(app, count_queries):
    w = _world(app)
    with app.app_context(), count_queries() as few:
        assert len(due_reminders(NOW)) == 6
    with app.app_context():
        cohort = db.session.get(Assignment, w["soon"]).cohort_id
        for n in range(60):
            user = _user(f"extra{n}@example.org")
            db.session.add(Membership(org_id=db.session.get(Cohort, cohort).org_id,
                                      user_id=user.id, role=OrgRole.MEMBER, cohort_id=cohort))
        db.session.commit()
    with app.app_context(), count_queries() as many:
        assert len(due_reminders(NOW)) == 6 + 120
    assert few.count == many.count == 3


def test_reminders_arrive_over_smtp_with_a_link(tmp_path, small_bank, smtp_server):  # noqa: F811
    app = make_app(tmp_path, small_bank, **smtp_config(smtp_server.port),
                   MAIL_SITE_URL="https://quiz.example.org/")
    try:
        _world(app)
        result = app.test_cli_runner().invoke(args=["mail", "send-due", *NOW_ARG])
        assert result.output.startswith("6 reminders sent"), result.output
        assert sorted(e.rcpt_tos[0] for e in smtp_server.envelopes) == [
            "bob@example.org", "bob@example.org", "cat@example.org", "cat@example.org",
            "fay@example.org", "gus@example.org"]
        overdue = [m for m in smtp_server.messages if m["Subject"] == "Overdue: Alpha set"]
        assert len(overdue) == 2
        text = overdue[0].get_content()
        assert "was due on 14 Mar 2027, 12:00 UTC" in text
        assert "https://quiz.example.org/sets" in text
        with app.app_context():
            assert read_outbox() == []
    finally:
        _teardown(app)
