"""The studio's question pages (quiz/studio/questions.py): saving from the editor (new ids,
drafts, stale saves refused with both versions), the question list (search, filters, sort,
paging, constant statements for 50 and 5,000 questions), a question's page and status
actions, bulk actions (all or nothing), history, diff, restore, and the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    event,  # noqa: E402,I001
    insert,
    text,
)

from quiz.bank.revisions import search_text
from quiz.extensions import db
from quiz.models import AuditEvent, Question, QuestionRevision, User

from .conftest import QueryCounter, _teardown, make_app
from .test_studio_editor import Form, counts, sign_in, studio_bank


@pytest.fixture
def studio(tmp_path):
    app = make_app(tmp_path, studio_bank(tmp_path / "bank"))
    yield app
    _teardown(app)


@pytest.fixture
def client(studio):
    return sign_in(studio)


def edit_form(client, qid: str) -> Form:
    return Form(client.get(f"/studio/questions/{qid}/edit").get_data(as_text=True))


def question(app, qid: str) -> tuple[str, int | None, int | None]:
    """(status, served revision number, latest revision number)."""
    with app.app_context():
        q = db.session.get(Question, qid)
        return (q.status, q.current_revision.number if q.current_revision else None,
                q.latest_revision.number if q.latest_revision else None)


# --- saving -------------------------------------------------------------------------------------

def test_saving_a_published_question_makes_a_draft_revision(studio, client):
    form = edit_form(client, "alpha-001")
    response = client.post("/studio/questions/alpha-001/edit",
                           data=form.data(prompt="A changed prompt, which?", note="Clearer",
                                          action="save"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/studio/questions/alpha-001")
    assert question(studio, "alpha-001") == ("published", 1, 2)  # still serving revision 1
    with studio.app_context():
        rev = db.session.scalar(db.select(QuestionRevision).filter_by(question_id="alpha-001",
                                                                      number=2))
        assert (rev.origin, rev.note, rev.author.email, rev.prompt) == (
            "editor", "Clearer", "instructor@example.org", "A changed prompt, which?")
        assert rev.lint_warnings == 0 and "a changed prompt" in rev.search_text
    page = client.get("/studio/questions/alpha-001").get_data(as_text=True)
    assert "Saved alpha-001 as revision 2" in page and "publish to serve it" in page


def test_a_new_question_gets_the_next_id_of_its_topic_and_starts_as_a_draft(studio, client):
    form = Form(client.get("/studio/questions/new?type=ordering").get_data(as_text=True))
    steps = {f"steps-{i}-{k}": f"{k} {i}" for i in range(3) for k in ("text", "feedback")}
    posted = form.data(topic="alpha", source="soft-tissue", key_points="kp-one",
                       prompt="Put these new steps in order.", explanation="Because.",
                       action="save", **steps)
    response = client.post("/studio/questions/new", data=posted)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith("/studio/questions/alpha-005")
    assert question(studio, "alpha-005") == ("draft", None, 1)
    # The same form again: another new question, the next id.
    assert client.post("/studio/questions/new", data=posted).headers["Location"].endswith(
        "/studio/questions/alpha-006")


def test_a_stale_save_is_refused_with_both_versions_and_writes_nothing(studio, client):
    mine = edit_form(client, "alpha-001")
    theirs = edit_form(client, "alpha-001")
    assert client.post("/studio/questions/alpha-001/edit",
                       data=theirs.data(prompt="Their saved prompt?", action="save")
                       ).status_code == 302
    before = counts(studio)
    response = client.post("/studio/questions/alpha-001/edit",
                           data=mine.data(prompt="My typed prompt?", action="save"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    shown = plain(html)
    assert "Their saved prompt?" in shown and "My typed prompt?" in shown
    assert "Nothing you typed was saved" in html and "Edit again from revision 2" in html
    assert counts(studio) == before
    assert question(studio, "alpha-001") == ("published", 1, 2)


def plain(html: str) -> str:
    """The page's text as a sighted reader sees it (no hidden labels, no tags)."""
    html = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)
    return re.sub(r"<[^>]+>", "", html)


# --- the list -----------------------------------------------------------------------------------

def listed(client, query: str = "") -> list[str]:
    html = client.get(f"/studio/questions{query}").get_data(as_text=True)
    return re.findall(r'name="ids" value="([^"]+)"', html)


def test_the_list_searches_prompts_and_choice_texts_of_the_latest_revision(studio, client):
    assert listed(client) == ["alpha-001", "alpha-002", "alpha-003", "alpha-004", "beta-001"]
    assert listed(client, "?q=prompt+of+alpha-002") == ["alpha-002"]
    assert listed(client, "?q=CHOICE+B+OF+ALPHA-001") == ["alpha-001"]  # a choice's text
    assert listed(client, "?q=not+described") == ["alpha-003"]  # a matching option
    assert listed(client, "?q=100%25") == []  # LIKE wildcards are literal
    form = edit_form(client, "alpha-004")
    client.post("/studio/questions/alpha-004/edit",
                data=form.data(prompt="Put the zebra steps in order.", action="save"))
    assert listed(client, "?q=zebra") == ["alpha-004"]  # the latest (draft) revision


@pytest.mark.parametrize(("query", "expected"), [
    ("?topic=beta", ["beta-001"]),
    ("?kp=kp-two", ["alpha-003", "beta-001"]),
    ("?type=ordering", ["alpha-004"]),
    ("?difficulty=hard", ["alpha-003", "alpha-004"]),
    ("?status=retired", ["alpha-002"]),
    ("?status=published&type=single", ["alpha-001"]),
    ("?lint=yes", ["alpha-001"]),
    ("?lint=unknown", ["beta-001"]),
])
def test_the_list_filters(studio, client, query, expected):
    with studio.app_context():
        from quiz.bank.revisions import retire
        retire(db.session.get(Question, "alpha-002"), None)
        db.session.execute(text("UPDATE question_revision SET lint_warnings = 2 "
                                "WHERE question_id = 'alpha-001'"))
        db.session.execute(text("UPDATE question_revision SET lint_warnings = NULL "
                                "WHERE question_id = 'beta-001'"))
        db.session.commit()
    assert listed(client, query) == expected


def test_bad_filter_values_are_left_out_with_a_message(studio, client):
    response = client.get("/studio/questions?topic=nope&type=essay&lint=maybe&sort=x&page=-1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is no topic “nope”" in html and "There is no question type “essay”" in html
    assert len(re.findall(r'name="ids"', html)) == 5


def test_the_list_sorts_and_pages(tmp_path):
    app = make_app(tmp_path, studio_bank(tmp_path / "bank", extra=60))
    try:
        client = sign_in(app)
        first = listed(client)
        assert len(first) == 50 and first[0] == "alpha-001"
        second = listed(client, "?page=2")
        assert len(second) == 15 and not set(first) & set(second)
        assert listed(client, "?sort=id&dir=desc")[0] == "beta-001"
        assert listed(client, "?page=99") == second  # past the end: the last page
        assert listed(client, "?sort=topic&dir=desc")[0] == "beta-001"
    finally:
        _teardown(app)


def add_questions(app, n: int, start: int = 1000) -> None:
    """n more questions (topic alpha, single, published) in four bulk statements."""
    with app.app_context():
        template = db.session.scalar(db.select(QuestionRevision).filter_by(question_id="alpha-001"))
        ids = [f"bulk-{i:05}" for i in range(start, start + n)]
        db.session.execute(insert(Question), [
            {"id": qid, "topic_id": "alpha", "status": "published", "position": 100 + i}
            for i, qid in enumerate(ids)])
        db.session.execute(insert(QuestionRevision), [
            {"question_id": qid, "number": 1, "content_hash": template.content_hash,
             "qtype": "single", "difficulty": "easy", "scenario": False,
             "prompt": f"Bulk prompt {qid}?", "explanation": "x", "source_id": "soft-tissue",
             "data": template.data, "origin": "file", "note": "", "lint_warnings": 0,
             "search_text": search_text(f"Bulk prompt {qid}?", template.data),
             "created_at": datetime.now(UTC)} for qid in ids])
        db.session.execute(text(
            "UPDATE question SET latest_revision_id = (SELECT r.id FROM question_revision r "
            "WHERE r.question_id = question.id), current_revision_id = (SELECT r.id FROM "
            "question_revision r WHERE r.question_id = question.id) WHERE id LIKE 'bulk-%'"))
        db.session.execute(text(
            "INSERT INTO revision_key_point (revision_id, key_point_id) SELECT id, 'kp-one' "
            "FROM question_revision WHERE question_id LIKE 'bulk-%' AND id NOT IN "
            "(SELECT revision_id FROM revision_key_point)"))
        db.session.commit()


def statements(app, client, url: str) -> int:
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count


LIST_URLS = ["/studio/questions", "/studio/questions?q=bulk&kp=kp-one&lint=no&sort=updated",
             "/studio/questions?status=published&type=single&difficulty=easy&page=3"]


def test_the_list_sends_the_same_statements_for_50_and_5000_questions(tmp_path):
    app = make_app(tmp_path, studio_bank(tmp_path / "bank"))
    try:
        client = sign_in(app)
        add_questions(app, 45)
        small = [statements(app, client, url) for url in LIST_URLS]
        add_questions(app, 4955, start=2000)
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count()).select_from(Question)) == 5005
        large = [statements(app, client, url) for url in LIST_URLS]
        assert small == large
        assert len(listed(client, "?q=bulk+prompt")) == 50
    finally:
        _teardown(app)


# --- a question's page and status actions ---------------------------------------------------------

def test_the_question_page_shows_status_revisions_and_links(studio, client):
    html = client.get("/studio/questions/alpha-001").get_data(as_text=True)
    for part in ("Published: served to learners", "/studio/questions/alpha-001/edit",
                 "/studio/questions/alpha-001/preview", "/studio/questions/alpha-001/history",
                 'value="unpublish"', 'value="retire"'):
        assert part in html, part
    assert 'value="publish"' not in html  # already served at its latest revision


def test_status_actions_and_impossible_ones(studio, client):
    url = "/studio/questions/alpha-001/status"
    assert client.post(url, data={"action": "retire"}).status_code == 302
    assert question(studio, "alpha-001")[0] == "retired"
    refused = client.post(url, data={"action": "publish"})
    assert refused.status_code == 409
    assert "Nothing changed: Question alpha-001 is retired" in refused.get_data(as_text=True)
    assert question(studio, "alpha-001")[0] == "retired"
    assert client.post(url, data={"action": "restore"}).status_code == 302
    assert client.post(url, data={"action": "unpublish"}).status_code == 302
    assert question(studio, "alpha-001") == ("draft", 1, 1)
    assert client.post(url, data={"action": "unpublish"}).status_code == 409
    assert client.post(url, data={"action": "publish"}).status_code == 302
    assert question(studio, "alpha-001") == ("published", 1, 1)
    with studio.app_context():
        actions = list(db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.entity_id == "alpha-001",
                                               AuditEvent.actor_id.is_not(None))
            .order_by(AuditEvent.id)))
    assert actions == ["retire", "restore", "unpublish", "publish"]


def test_publishing_a_pending_draft_serves_it(studio, client):
    form = edit_form(client, "alpha-001")
    client.post("/studio/questions/alpha-001/edit", data=form.data(prompt="Newer?", action="save"))
    assert "Publish revision 2" in client.get("/studio/questions/alpha-001").get_data(as_text=True)
    client.post("/studio/questions/alpha-001/status", data={"action": "publish"})
    assert question(studio, "alpha-001") == ("published", 2, 2)


def test_every_post_needs_the_csrf_token(csrf_app):
    client = sign_in(csrf_app)
    for url, data in [("/studio/questions/alpha-001/status", {"action": "retire"}),
                      ("/studio/bulk", {"action": "retire", "ids": "alpha-001", "confirm": "1"}),
                      ("/studio/questions/alpha-001/restore-revision", {"number": "1"})]:
        assert client.post(url, data=data).status_code == 400, url
    assert question(csrf_app, "alpha-001")[0] == "published"


# --- bulk actions ------------------------------------------------------------------------------------

def test_bulk_asks_first_then_changes_every_question(studio, client):
    confirm = client.post("/studio/bulk", data={"action": "unpublish",
                                                "ids": ["alpha-001", "alpha-002"]})
    assert confirm.status_code == 200
    assert "Unpublish 2 questions?" in confirm.get_data(as_text=True)
    assert question(studio, "alpha-001")[0] == "published"  # nothing yet
    done = client.post("/studio/bulk", data={"action": "unpublish", "confirm": "1",
                                             "ids": ["alpha-001", "alpha-002"]})
    assert done.status_code == 302
    assert [question(studio, q)[0] for q in ("alpha-001", "alpha-002", "alpha-003")] == [
        "draft", "draft", "published"]


def test_bulk_is_all_or_nothing_and_says_which_refused(studio, client):
    client.post("/studio/questions/alpha-002/status", data={"action": "retire"})
    before = counts(studio)
    with studio.app_context():
        events = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    response = client.post("/studio/bulk", data={"action": "unpublish", "confirm": "1",
                                                 "ids": ["alpha-001", "alpha-002", "alpha-003"]})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "1 of the 3 questions cannot be unpublished, so none of them was" in html
    assert "alpha-002 is retired, not published" in html
    assert [question(studio, q)[0] for q in ("alpha-001", "alpha-002", "alpha-003")] == [
        "published", "retired", "published"]
    assert counts(studio) == before
    with studio.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == events


def test_bulk_on_all_matching_the_filter(studio, client):
    confirm = client.post("/studio/bulk", data={"action": "retire", "scope": "all",
                                                "topic": "alpha", "type": "single"})
    assert "Retire 1 question?" in confirm.get_data(as_text=True)
    confirm = client.post("/studio/bulk", data={"action": "retire", "scope": "all",
                                                "topic": "alpha"})
    ids = re.findall(r'name="ids" value="([^"]+)"', confirm.get_data(as_text=True))
    assert ids == ["alpha-001", "alpha-002", "alpha-003", "alpha-004"]
    assert '<input type="hidden" name="topic" value="alpha">' in confirm.get_data(as_text=True)
    response = client.post("/studio/bulk", data={"action": "retire", "confirm": "1",
                                                 "ids": ids, "topic": "alpha"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/studio/questions?topic=alpha"  # back to the list
    assert [question(studio, q)[0] for q in ("alpha-001", "alpha-004", "beta-001")] == [
        "retired", "retired", "published"]


@pytest.mark.parametrize("data", [
    {"action": "explode", "ids": "alpha-001"}, {"action": "retire"},
], ids=["unknown action", "nothing chosen"])
def test_bulk_without_an_action_or_questions_changes_nothing(studio, client, data):
    response = client.post("/studio/bulk", data=data)
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/studio/questions")
    assert question(studio, "alpha-001")[0] == "published"


# --- history, diff, restore -----------------------------------------------------------------------

def two_revisions(client):
    form = edit_form(client, "alpha-001")
    client.post("/studio/questions/alpha-001/edit",
                data=form.data(prompt="Prompt of alpha-001, now sharper?", note="Sharper prompt",
                               action="save", **{"choices-1-feedback": "Better feedback b"}))


def test_history_lists_every_revision_with_author_note_and_origin(studio, client):
    two_revisions(client)
    html = client.get("/studio/questions/alpha-001/history").get_data(as_text=True)
    assert "Sharper prompt" in html and "Instructor" in html and "editor" in html
    assert "command line" in html and "file" in html
    assert 'name="a" value="1" checked' in html and 'name="b" value="2" checked' in html
    assert 'name="number" value="1"' in html  # restore revision 1 (not the latest)


def test_the_diff_shows_changed_fields_side_by_side_without_relying_on_colour(studio, client):
    two_revisions(client)
    response = client.get("/studio/questions/alpha-001/diff?a=2&b=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "revision 1 and 2" in html and "2 fields changed" in html
    assert html.count('class="tag notyet">changed</span>') == 2
    assert re.search(r"\[added: </span>[^<]*sharper\?", html)
    assert "<del>" in html and "<ins>" in html
    assert "Choice 2: feedback" in html and "Better feedback b" in plain(html)
    assert "Choice 1: text" not in html  # unchanged fields only with ?all=1
    assert "Choice 1: text" in client.get(
        "/studio/questions/alpha-001/diff?a=1&b=2&all=1").get_data(as_text=True)


@pytest.mark.parametrize(("query", "status"), [
    ("", 400), ("?a=1", 400), ("?a=-1&b=1", 400), ("?a=1&b=3", 404), ("?a=0&b=1", 404),
])
def test_bad_diff_arguments(studio, client, query, status):
    two_revisions(client)
    assert client.get(f"/studio/questions/alpha-001/diff{query}").status_code == status


def test_restoring_a_revision_makes_a_new_draft_with_its_content(studio, client):
    two_revisions(client)
    response = client.post("/studio/questions/alpha-001/restore-revision", data={"number": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/studio/questions/alpha-001")
    assert question(studio, "alpha-001") == ("published", 1, 3)
    with studio.app_context():
        rev = db.session.scalar(db.select(QuestionRevision).filter_by(question_id="alpha-001",
                                                                      number=3))
        assert (rev.origin, rev.prompt) == ("restore", "Prompt of alpha-001?")
        assert rev.lint_warnings is not None
    again = client.post("/studio/questions/alpha-001/restore-revision", data={"number": "3"})
    assert again.status_code == 409
    assert client.post("/studio/questions/alpha-001/restore-revision",
                       data={"number": "7"}).status_code == 409


# --- the audit log ------------------------------------------------------------------------------------

def test_the_audit_log_filters_newest_first(studio, client):
    client.post("/studio/questions/alpha-001/status", data={"action": "retire"})
    client.post("/studio/questions/beta-001/status", data={"action": "unpublish"})
    html = client.get("/studio/audit?actor=" + str(instructor_id(studio))).get_data(as_text=True)
    rows = html[html.index("<tbody>"):]
    assert rows.index("beta-001") < rows.index("alpha-001")  # newest first
    assert "2 events" in html
    html = client.get("/studio/audit?entity=question&id=alpha-001").get_data(as_text=True)
    assert "retire" in html and "beta-001" not in html
    html = client.get("/studio/audit?actor=cli&entity=question").get_data(as_text=True)
    assert "retire</strong>" not in html and "create</strong>" in html
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert "No event matches" in client.get(f"/studio/audit?since={tomorrow}").get_data(
        as_text=True)
    bad = client.get("/studio/audit?since=soon&entity=planet")
    assert bad.status_code == 200
    assert "is not a date" in bad.get_data(as_text=True)


def instructor_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(email="instructor@example.org"))


def test_the_audit_log_sends_the_same_statements_for_few_and_many_events(studio, client):
    urls = ["/studio/audit", "/studio/audit?entity=question&actor=cli&page=2"]
    small = [statements(studio, client, url) for url in urls]
    with studio.app_context():
        db.session.execute(insert(AuditEvent), [
            {"entity_type": "question", "entity_id": f"q-{i}", "action": "revise",
             "summary": "x", "at": datetime.now(UTC)} for i in range(3000)])
        db.session.commit()
    large = [statements(studio, client, url) for url in urls]
    assert small == large


# --- lint counts ----------------------------------------------------------------------------------------

def test_lint_refresh_counts_warnings_of_every_latest_revision(studio):
    with studio.app_context():
        db.session.execute(text("UPDATE question_revision SET lint_warnings = NULL"))
        db.session.commit()
    result = studio.test_cli_runner().invoke(args=["bank", "lint-refresh"])
    assert result.exit_code == 0 and "5 revision(s) updated" in result.output
    with studio.app_context():
        counts_by_id = dict(db.session.execute(db.select(QuestionRevision.question_id,
                                                         QuestionRevision.lint_warnings)).all())
    # "Prompt of alpha-001?" and "... alpha-002?" are near-duplicates of each other.
    assert counts_by_id["alpha-001"] == counts_by_id["alpha-002"] == 1
    assert counts_by_id["alpha-004"] == 0 and None not in counts_by_id.values()


def test_migration_9c5e2a7f1b38_fills_search_text_and_leaves_lint_to_be_counted(tmp_path):
    """Down to 8a3f61c2d9e7 (both columns dropped) and up again: every revision's search text
    is computed as create_revision writes it; lint counts are NULL until `bank lint-refresh`."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from quiz.bank import read_bank
    from quiz.bank.loader import load_bank

    from .test_setup import _fresh_app

    app = _fresh_app(tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        load_bank(read_bank(app.config["BANK_PATH"])[0])
        db.session.commit()
        written = dict(db.session.execute(db.select(QuestionRevision.id,
                                                    QuestionRevision.search_text)).all())
        db.session.remove()
        downgrade(directory=directory, revision="8a3f61c2d9e7")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("question_revision")}
        assert not {"search_text", "lint_warnings"} & columns
        upgrade(directory=directory)
        rows = db.session.execute(db.select(QuestionRevision.id, QuestionRevision.search_text,
                                            QuestionRevision.lint_warnings)).all()
        assert rows and {r.id: r.search_text for r in rows} == written
        assert all(r.lint_warnings is None for r in rows)
        assert "choice a of alpha-001" in written[min(written)]
        db.session.remove()
