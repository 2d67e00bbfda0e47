"""Studio pages for topics, key points and sets (quiz/studio/entities.py): lists with question
counts in constant statements, new and edit forms checked by the bank files' own validators
(422, nothing saved), ids from slugs that the bank files accept, audit events, a version token
that refuses a save over someone else's change (409, both versions shown), and sets that keep
learners safe (deactivating hides a set, a new pass mark never rewrites past attempts)."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from sqlalchemy import event

from quiz.attempts import start_attempt, submit_attempt
from quiz.bank import entities as bank_entities
from quiz.bank.entities import StaleEntity, row_hash, slug, values_of
from quiz.bank.files import ID_RE, validate_set
from quiz.extensions import db
from quiz.models import Attempt, AuditEvent, KeyPoint, QuestionSet, Topic, User

from . import bankgen, flows
from .conftest import QueryCounter, _teardown, make_app
from .test_studio_editor import Form

pytestmark = pytest.mark.small_bank

EDIT = {"topic": "/studio/topics/alpha/edit", "key_point": "/studio/key-points/kp-one/edit",
        "set": "/studio/sets/mixed/edit"}
NEW = {"topic": "/studio/topics/new", "key_point": "/studio/key-points/new",
       "set": "/studio/sets/new"}
LISTS = ("/studio/topics", "/studio/key-points", "/studio/sets")


def signed_in(app, role: str = "instructor", email: str | None = None):
    """A new client signed in as a new user of `role` (no password round trip)."""
    return flows.signed_in(app, role, email or f"{role}-{_next()}@example.org")


_counter = iter(range(1, 1_000_000))


def _next() -> int:
    return next(_counter)


def page_form(client, url: str) -> Form:
    response = client.get(url)
    assert response.status_code == 200, url
    return Form(response.get_data(as_text=True), form_id="entity-form")


def errors_of(response) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="error" role="alert">([^<]*)</p>',
                                                 response.get_data(as_text=True))]


def field_of(page: str, message: str) -> str:
    """The wrapper (div.field or fieldset.field) in which the form shows `message`."""
    form = page[page.index('id="entity-form">'):]
    at = form.index(html.escape(message).replace("&#x27;", "&#39;"))
    start = max(form.rfind('<div class="field', 0, at), form.rfind('<fieldset class="field', 0, at))
    return form[start:at]


def snapshot(app) -> tuple:
    """Every topic, key point and set with its values and marker, and the number of audit
    events: what "nothing saved" compares."""
    with app.app_context():
        rows = tuple(
            (type(obj).__name__, obj.id, row_hash(values_of(obj)), obj.file_hash, obj.position)
            for model in (Topic, KeyPoint, QuestionSet)
            for obj in db.session.scalars(db.select(model).order_by(model.id))
        )
        events = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
        return rows, events


def audit_events(app, entity_id: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.entity_id == entity_id).order_by(AuditEvent.id)))


@pytest.fixture
def client(app):
    return signed_in(app)


# --- lists ---------------------------------------------------------------------------------

def test_lists_show_every_row_with_its_question_counts(app, client):
    with app.app_context():
        bank_entities.update_set("beta", {"active": False}, None)
        db.session.commit()
    topics = client.get("/studio/topics").get_data(as_text=True)
    assert re.search(r'<tr id="alpha">.*?Alpha topic.*?<td data-label="Published">3</td>', topics,
                     re.S)
    kps = client.get("/studio/key-points").get_data(as_text=True)
    # kp-one: the three alpha questions; kp-two: the three beta true/false questions
    assert re.search(r'<tr id="kp-one">.*?<td data-label="Questions">3</td>', kps, re.S)
    assert "What is soft tissue?" in kps and "What should I expect?" in kps
    sets = client.get("/studio/sets").get_data(as_text=True)
    assert re.search(r'<tr id="mixed">.*?4 at random from every topic.*?'
                     r'<td data-label="Questions">4</td>', sets, re.S)
    assert re.search(r'<tr id="beta" class="inactive">.*?inactive', sets, re.S)


def test_studio_landing_links_the_lists(client):
    html = client.get("/studio/").get_data(as_text=True)
    for url in LISTS:
        assert f'href="{url}"' in html


def _bank_of(root, n: int):
    """n topics of 2 questions each, n key points (one per topic), n topic sets + a random."""
    topics = [{"id": f"t{i}", "title": f"Topic {i}"} for i in range(n)]
    kps = [{"id": f"kp-{i}", "section": bankgen.SECTIONS[i % 2]["id"], "text": f"Fact {i}.",
            "must_know": i == 0} for i in range(n)]
    questions = {f"t{i}": [bankgen.single(f"q{i}-{j}", kp=f"kp-{i}") for j in range(2)]
                 for i in range(n)}
    sets = [{"id": f"s{i}", "title": f"Set {i}", "kind": "topic", "topic": f"t{i}"}
            for i in range(n)]
    sets.append({"id": "rnd", "title": "Random", "kind": "random", "count": 2,
                 "topics": ["t0", "t1"], "pass_mark": 50})
    return bankgen.write_bank(root, questions=questions, sets=sets, key_points=kps, topics=topics)


@pytest.mark.parametrize("url", LISTS)
def test_list_statements_do_not_grow_with_the_bank(tmp_path, url):
    """Each list costs the same statements with 3 or 40 topics, key points and sets."""
    measured = []
    for n in (3, 40):
        (tmp_path / f"n{n}").mkdir()
        app = make_app(tmp_path / f"n{n}", _bank_of(tmp_path / f"bank{n}", n))
        try:
            client = signed_in(app)
            assert client.get(url).status_code == 200  # warm: templates compiled
            with app.app_context():
                engine = db.engine
            counter = QueryCounter()
            event.listen(engine, "before_cursor_execute", counter)
            try:
                response = client.get(url)
            finally:
                event.remove(engine, "before_cursor_execute", counter)
            assert response.status_code == 200
            last = {"/studio/topics": f"Topic {n - 1}", "/studio/key-points": f"Fact {n - 1}.",
                    "/studio/sets": f"Set {n - 1}"}[url]
            assert last in response.get_data(as_text=True)
            measured.append(counter.count)
        finally:
            _teardown(app)
    assert measured[0] == measured[1], measured
    assert measured[0] <= 5, measured  # the user, then the list's own two or three statements


# --- edit: round trip, changes, audit ------------------------------------------------------------

@pytest.mark.parametrize("what", list(EDIT))
def test_an_unchanged_edit_form_saves_nothing(app, client, what):
    before = snapshot(app)
    form = page_form(client, EDIT[what])
    response = client.post(EDIT[what], data=form.data())
    assert response.status_code == 302, errors_of(response)
    assert snapshot(app) == before  # no event, the file marker kept: still the files' row
    assert "Nothing changed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_editing_a_topic_saves_audits_and_clears_the_file_marker(app, client):
    form = page_form(client, EDIT["topic"])
    assert form.get("title") == "Alpha topic"
    response = client.post(EDIT["topic"], data=form.data(title="  Alpha, renamed  ",
                                                          description="New words.\r\nTwo lines."))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/studio/topics#alpha")
    with app.app_context():
        topic = db.session.get(Topic, "alpha")
        assert (topic.title, topic.description) == ("Alpha, renamed", "New words.\nTwo lines.")
        assert topic.file_hash is None
        user_id = db.session.scalar(db.select(User.id).where(User.role == "instructor"))
    [event] = audit_events(app, "alpha")
    assert (event.entity_type, event.action, event.actor_id) == ("topic", "edit", user_id)
    assert event.detail["before"]["title"] == "Alpha topic"
    assert event.detail["after"]["title"] == "Alpha, renamed"


def test_editing_a_key_point_moves_it_and_sets_must_know(app, client):
    form = page_form(client, EDIT["key_point"])
    assert form.get("section") == "soft-tissue"
    response = client.post(EDIT["key_point"], data=form.data(
        section="what-to-expect", must_know="y", text="Soft tissue includes fascia and muscle."))
    assert response.status_code == 302
    with app.app_context():
        kp = db.session.get(KeyPoint, "kp-one")
        assert (kp.section_id, kp.must_know, kp.text) == (
            "what-to-expect", True, "Soft tissue includes fascia and muscle.")
    assert [e.action for e in audit_events(app, "kp-one")] == ["edit"]


def test_editing_a_set_between_kinds_keeps_only_what_the_kind_uses(app, client):
    form = page_form(client, EDIT["set"])
    assert (form.get("kind"), form.get("count"), form.get("active")) == ("random", "4", "y")
    response = client.post(EDIT["set"], data=form.data(kind="topic", topic="beta", pass_mark="75",
                                                        include_must_know="y"))
    assert response.status_code == 302, errors_of(response)
    with app.app_context():
        s = db.session.get(QuestionSet, "mixed")
        assert (s.kind, s.topic_id, s.draw_count, s.draw_topics, s.pass_mark,
                s.include_must_know, s.active) == ("topic", "beta", None, None, 75, True, True)
    form = page_form(client, EDIT["set"])
    response = client.post(EDIT["set"], data=form.data(kind="random", count="2",
                                                        topics=["alpha"], pass_mark=""))
    assert response.status_code == 302, errors_of(response)
    with app.app_context():
        s = db.session.get(QuestionSet, "mixed")
        assert (s.kind, s.topic_id, s.draw_count, s.draw_topics, s.pass_mark) == (
            "random", None, 2, ["alpha"], None)


# --- new rows: ids, audit -----------------------------------------------------------------------

def test_new_rows_get_unique_slug_ids_and_are_audited(app, client):
    for expected in ("evaluation-and-tests", "evaluation-and-tests-2"):
        form = page_form(client, NEW["topic"])
        response = client.post(NEW["topic"], data=form.data(title="Évaluation and tests!"))
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/studio/topics#{expected}")
    form = page_form(client, NEW["key_point"])
    response = client.post(NEW["key_point"], data=form.data(
        section="soft-tissue", text="Fascia wraps every muscle, tendon and ligament of the body.",
        must_know="y"))
    assert response.status_code == 302, errors_of(response)
    form = page_form(client, NEW["set"])
    assert form.get("active") == "y" and form.get("kind") == "topic"
    response = client.post(NEW["set"], data=form.data(title="Alpha again", topic="alpha",
                                                       pass_mark="60"))
    assert response.status_code == 302, errors_of(response)
    with app.app_context():
        topic = db.session.get(Topic, "evaluation-and-tests-2")
        assert (topic.title, topic.description, topic.file_hash) == ("Évaluation and tests!", "", None)
        assert topic.position == 1 + db.session.get(Topic, "evaluation-and-tests").position
        kp = db.session.scalars(db.select(KeyPoint).where(KeyPoint.id.like("kp-fascia%"))).one()
        assert kp.id == "kp-fascia-wraps-every-muscle-tendon"
        assert (kp.section_id, kp.must_know) == ("soft-tissue", True)
        qset = db.session.get(QuestionSet, "alpha-again")
        assert (qset.kind, qset.topic_id, qset.pass_mark, qset.active) == ("topic", "alpha", 60, True)
    for key, entity in (("evaluation-and-tests", "topic"), (kp.id, "key_point"),
                        ("alpha-again", "set")):
        [event] = audit_events(app, key)
        assert (event.entity_type, event.action) == (entity, "create")
        assert event.actor_id is not None


@pytest.mark.parametrize(("text", "expected"), [
    ("Évaluation & tests", "evaluation-tests"),
    ("  --Hello,   World--  ", "hello-world"),
    ("日本語", ""),
    ("a" * 80, "a" * 48),
    ("word " * 30, "-".join(["word"] * 9)),
])
def test_slug(text, expected):
    assert slug(text) == expected


def test_new_ids_match_the_bank_files_id_pattern(app):
    with app.app_context():
        for model, text in ((Topic, "日本語"), (KeyPoint, "!!!"), (QuestionSet, "x" * 300),
                            (Topic, "Alpha topic"), (KeyPoint, "kp one")):
            key = bank_entities.new_id(model, text)
            assert ID_RE.fullmatch(key) and len(key) <= 64, key
        assert bank_entities.new_id(Topic, "日本語") == "topic"
        assert bank_entities.new_id(Topic, "Alpha") == "alpha-2"  # alpha exists
        assert bank_entities.new_id(KeyPoint, "One!") == "kp-one-2"


# --- validation: the bank's rules, 422, nothing saved --------------------------------------------

SET_PROBLEMS = [
    ({"kind": "topic", "topic": "nope"}, "topic", "'nope' is not a topic id."),
    ({"kind": "topic", "topic": ""}, "topic", "Choose a topic."),
    ({"kind": "random", "count": ""}, "count", "The number of questions must be a positive whole number."),
    ({"kind": "random", "count": "ten"}, "count", "must be a positive whole number"),
    ({"kind": "random", "count": "-3"}, "count", "must be a positive whole number"),
    ({"kind": "random", "count": "0"}, "count", "must be a positive whole number"),
    ({"kind": "random", "count": "9" * 40}, "count", "must be a positive whole number"),
    ({"kind": "random", "count": "7"}, "count", "The set asks for 7 questions but only 6 exist."),
    ({"kind": "random", "count": "4", "topics": ["alpha"]}, "count", "asks for 4 questions but only 3"),
    ({"kind": "random", "count": "2", "topics": ["alpha", "nope"]}, "topics",
     "must be 'all' or a list of topic ids"),
    ({"kind": "lottery"}, "kind", "The kind must be 'topic' or 'random'."),
    ({"kind": ""}, "kind", "Choose the kind of set."),
    ({"pass_mark": "101"}, "pass_mark", "The pass mark must be a whole percentage from 1 to 100."),
    ({"pass_mark": "0"}, "pass_mark", "must be a whole percentage from 1 to 100"),
    ({"pass_mark": "eighty"}, "pass_mark", "must be a whole percentage from 1 to 100"),
    ({"pass_mark": "1" * 30}, "pass_mark", "must be a whole percentage from 1 to 100"),
    ({"title": ""}, "title", "The title is missing or empty."),
    ({"title": "x" * 201}, "title", "The title is longer than 200 characters."),
    ({"title": "Bell\x07"}, "title", "contains the control character U+0007"),
    ({"description": "d" * 1001}, "description", "is longer than 1000 characters"),
]


@pytest.mark.parametrize(("changes", "fld", "message"), SET_PROBLEMS,
                         ids=[str(c)[:60] for c, _, _ in SET_PROBLEMS])
@pytest.mark.parametrize("where", ["new", "edit"])
def test_set_problems_are_shown_at_their_field_and_nothing_is_saved(app, client, changes, fld,
                                                                    message, where):
    url = NEW["set"] if where == "new" else EDIT["set"]
    form = page_form(client, url)
    base = {"title": "A set", "kind": "random", "count": "2", "topics": None}
    before = snapshot(app)
    response = client.post(url, data=form.data(**{**base, **changes}))
    assert response.status_code == 422
    [shown] = [e for e in errors_of(response) if message in e] or [errors_of(response)]
    wrapper = field_of(response.get_data(as_text=True), shown)  # next to its field
    assert f'name="{fld}"' in wrapper or f'id="{fld}"' in wrapper, wrapper
    assert snapshot(app) == before


def test_an_inactive_set_is_not_checked_against_the_questions_it_could_draw(app, client):
    """The export writes active sets only: an inactive set may name a topic with no published
    questions yet (size is checked when it is made active)."""
    with app.app_context():
        bank_entities.create_topic({"title": "Empty", "description": ""}, None)
        db.session.commit()
    form = page_form(client, NEW["set"])
    active = client.post(NEW["set"], data=form.data(title="Later", topic="empty"))
    assert active.status_code == 422
    assert "The topic has no questions." in errors_of(active)
    inactive = client.post(NEW["set"], data=form.data(title="Later", topic="empty", active=None))
    assert inactive.status_code == 302


@pytest.mark.parametrize(("url", "changes", "message"), [
    (EDIT["key_point"], {"section": "nope"}, "'nope' is not a section id."),
    (EDIT["key_point"], {"section": ""}, "Choose the article section."),
    (NEW["key_point"], {"text": "Fact.", "section": "x" * 5000}, "is not a section id"),
    (EDIT["key_point"], {"text": "   "}, "The key point is missing or empty."),
    (EDIT["key_point"], {"text": "t" * 501}, "The key point is longer than 500 characters."),
    (EDIT["topic"], {"title": ""}, "The title is missing or empty."),
    (EDIT["topic"], {"title": "\u200b"}, "The title is missing or empty."),
    (NEW["topic"], {"title": "T", "description": "d" * 1001},
     "The description is longer than 1000 characters."),
    (NEW["topic"], {"title": "x" * 20000}, "The title is longer than 200 characters."),
])
def test_topic_and_key_point_problems_are_422_and_save_nothing(app, client, url, changes, message):
    form = page_form(client, url)
    before = snapshot(app)
    response = client.post(url, data=form.data(**changes))
    assert response.status_code == 422
    assert message in " ".join(errors_of(response)), errors_of(response)
    assert snapshot(app) == before


def test_the_set_rules_are_the_bank_files_rules():
    """One validator: the studio's checks are files.validate_set's (and read_bank uses it)."""
    assert validate_set({"title": "T", "kind": "random", "count": 5, "topics": "all"},
                        ["a"], {"a": 4}) == [("count", "asks for 5 questions but only 4 exist")]
    assert validate_set({"title": "T", "kind": "random", "count": 5, "topics": "all"},
                        ["a"], None) == []


# --- tampered and foreign requests ---------------------------------------------------------------

@pytest.mark.parametrize("what", list(EDIT))
@pytest.mark.parametrize("version", [None, "", "abc", "Z" * 64])
def test_an_edit_without_a_proper_version_is_refused(app, client, what, version):
    form = page_form(client, EDIT[what])
    before = snapshot(app)
    response = client.post(EDIT[what], data=form.data(version=version))
    assert response.status_code == 400
    assert "open the page again" in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("path", ["/studio/topics/nope/edit", "/studio/key-points/nope/edit",
                                  "/studio/sets/nope/edit", "/studio/sets/" + "x" * 300 + "/edit"])
def test_unknown_ids_are_404(client, path):
    assert client.get(path).status_code == 404
    assert client.post(path, data={"title": "T", "version": "0" * 64}).status_code == 404


def test_learners_get_403_and_change_nothing(app):
    learner = signed_in(app, "learner")
    before = snapshot(app)
    for url in (*LISTS, *NEW.values(), *EDIT.values()):
        assert learner.get(url).status_code == 403
    assert learner.post(NEW["topic"], data={"title": "Mine"}).status_code == 403
    assert snapshot(app) == before


def test_posts_need_the_csrf_token(csrf_app):
    client = signed_in(csrf_app)
    before = snapshot(csrf_app)
    html = client.get(EDIT["topic"]).get_data(as_text=True)
    form = Form(html, form_id="entity-form")
    assert form.get("csrf_token")
    refused = client.post(EDIT["topic"], data=form.data(csrf_token=None, title="No token"))
    assert refused.status_code == 400
    refused = client.post(NEW["topic"], data={"title": "No token"})
    assert refused.status_code == 400
    assert snapshot(csrf_app) == before
    saved = client.post(EDIT["topic"], data=form.data(title="With token"))
    assert saved.status_code == 302


# --- two editors at once -------------------------------------------------------------------------

def test_a_save_over_someone_elses_change_is_refused_with_both_versions(app):
    ann, bob = signed_in(app), signed_in(app)
    ann_form, bob_form = page_form(ann, EDIT["topic"]), page_form(bob, EDIT["topic"])
    assert bob.post(EDIT["topic"], data=bob_form.data(title="Bob's title")).status_code == 302
    before = snapshot(app)

    response = ann.post(EDIT["topic"], data=ann_form.data(title="Ann's title"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "someone else changed this topic" in html
    assert re.search(r"Title <span[^>]*>differs</span></th>\s*<td[^>]*>Bob&#39;s title</td>\s*"
                     r"<td[^>]*>Ann&#39;s title</td>", html), html
    assert "Instructor, " in html  # who made the change that won
    assert snapshot(app) == before  # nothing written
    with app.app_context():
        assert db.session.get(Topic, "alpha").title == "Bob's title"

    # "Start again": the form from the saved values
    again = page_form(ann, EDIT["topic"])
    assert again.get("title") == "Bob's title"
    # or save her version deliberately: the 409 form carries the current version
    kept = Form(html, form_id="entity-form")
    assert kept.get("title") == "Ann's title"
    assert kept.get("version") == again.get("version") != ann_form.get("version")
    assert ann.post(EDIT["topic"], data=kept.data()).status_code == 302
    with app.app_context():
        assert db.session.get(Topic, "alpha").title == "Ann's title"
    assert [e.action for e in audit_events(app, "alpha")] == ["edit", "edit"]


def test_a_stale_set_form_is_refused_even_if_its_own_values_are_unchanged(app):
    ann, bob = signed_in(app), signed_in(app)
    ann_form, bob_form = page_form(ann, EDIT["set"]), page_form(bob, EDIT["set"])
    assert bob.post(EDIT["set"], data=bob_form.data(active=None)).status_code == 302
    response = ann.post(EDIT["set"], data=ann_form.data(pass_mark="50"))
    assert response.status_code == 409
    with app.app_context():
        qset = db.session.get(QuestionSet, "mixed")
        assert (qset.active, qset.pass_mark) == (False, None)


def test_update_with_a_stale_hash_writes_nothing(app):
    with app.app_context():
        stale = row_hash(values_of(db.session.get(Topic, "beta")))
        bank_entities.update_topic("beta", {"title": "Changed"}, None)
        db.session.commit()
        with pytest.raises(StaleEntity) as caught:
            bank_entities.update_topic("beta", {"title": "Mine"}, None, base_hash=stale)
        assert caught.value.current["title"] == "Changed"
        db.session.rollback()
        assert db.session.get(Topic, "beta").title == "Changed"


# --- learners stay safe ------------------------------------------------------------------------

def _learner_with_attempt(app, set_id: str) -> tuple[int, int, object]:
    client = signed_in(app, "learner", email=f"learner-{_next()}@example.org")
    with app.app_context():
        learner = db.session.scalars(db.select(User).where(User.role == "learner")
                                     .order_by(User.id.desc())).first()
        attempt = start_attempt(learner, db.session.get(QuestionSet, set_id))
        assert submit_attempt(attempt, {})
        db.session.commit()
        return learner.id, attempt.id, client


def test_deactivating_a_set_hides_it_but_keeps_its_reviews(app, client):
    _, attempt_id, learner = _learner_with_attempt(app, "alpha")
    form = page_form(client, "/studio/sets/alpha/edit")
    assert client.post("/studio/sets/alpha/edit", data=form.data(active=None)).status_code == 302
    assert "/sets/alpha" not in learner.get("/sets").get_data(as_text=True)
    assert learner.get("/sets/alpha").status_code == 404
    assert learner.post("/sets/alpha/start").status_code == 404
    assert learner.get(f"/attempts/{attempt_id}/review").status_code == 200
    assert 'class="inactive"' in client.get("/studio/sets").get_data(as_text=True)
    # and back
    form = page_form(client, "/studio/sets/alpha/edit")
    assert "active" not in [name for name, _ in form.fields]  # the box is unticked
    assert client.post("/studio/sets/alpha/edit", data=form.data(active="y")).status_code == 302
    assert learner.get("/sets/alpha").status_code == 200


def test_a_new_pass_mark_applies_to_new_attempts_only(app, client):
    with app.app_context():
        bank_entities.update_set("alpha", {"pass_mark": 50}, None)
        db.session.commit()
    learner_id, old_id, learner = _learner_with_attempt(app, "alpha")
    form = page_form(client, "/studio/sets/alpha/edit")
    assert form.get("pass_mark") == "50"
    assert client.post("/studio/sets/alpha/edit", data=form.data(pass_mark="90")).status_code == 302
    with app.app_context():
        assert db.session.get(Attempt, old_id).pass_mark == 50
        new = start_attempt(db.session.get(User, learner_id), db.session.get(QuestionSet, "alpha"))
        db.session.commit()
        assert new.pass_mark == 90
    review = learner.get(f"/attempts/{old_id}/review").get_data(as_text=True)
    assert "pass mark 50%" in review and "pass mark 90%" not in review


# --- the bank files stay valid -------------------------------------------------------------------

@pytest.fixture
def shipped(tmp_path):
    app = make_app(tmp_path, None)  # the shipped bank
    yield app
    _teardown(app)


def test_export_after_studio_edits_passes_the_strict_check_and_imports_unchanged(shipped, tmp_path):
    client = signed_in(shipped)
    posts = [
        (NEW["topic"], {"title": "Évaluation: a new topic", "description": "Nothing yet."}),
        (NEW["key_point"], {"text": "A new fact, in our own words.", "section": "soft-tissue",
                            "must_know": "y"}),
        (NEW["set"], {"title": "Tools and basics quick check", "kind": "random", "count": "6",
                      "topics": ["tools", "basics"], "pass_mark": "70", "include_must_know": "y"}),
        (NEW["set"], {"title": "Parked", "kind": "topic", "topic": "evaluation-a-new-topic",
                      "active": None}),
        ("/studio/topics/basics/edit", {"title": "Soft tissue, healing and IASTM",
                                        "description": None}),
        ("/studio/key-points/kp-soft-tissue-components/edit",
         {"section": "what-is-iastm", "must_know": "y"}),
        ("/studio/sets/mixed/edit", {"count": "12", "pass_mark": "60"}),
        ("/studio/sets/tools/edit", {"active": None}),
    ]
    for url, changes in posts:
        form = page_form(client, url)
        response = client.post(url, data=form.data(**changes))
        assert response.status_code == 302, (url, errors_of(response))

    runner = shipped.test_cli_runner()
    out = tmp_path / "export"
    result = runner.invoke(args=["bank", "export", "--format", "yaml", str(out)])
    assert result.exit_code == 0, result.output
    check = runner.invoke(args=["bank", "check", "--strict", str(out)])
    assert check.exit_code == 0, check.output
    sets = {s["id"]: s for s in yaml.safe_load((out / "sets.yaml").read_text())["sets"]}
    assert sets["tools-and-basics-quick-check"] == {
        "id": "tools-and-basics-quick-check", "title": "Tools and basics quick check",
        "kind": "random", "count": 6, "topics": ["tools", "basics"], "pass_mark": 70,
        "include_must_know": True}
    assert "tools" not in sets and "parked" not in sets  # inactive sets are not served
    topics = yaml.safe_load((out / "topics.yaml").read_text())["topics"]
    assert {"id": "basics", "title": "Soft tissue, healing and IASTM"} in topics
    kps = yaml.safe_load((out / "key_points.yaml").read_text())["key_points"]
    assert {"id": "kp-a-new-fact-in-our-own-words", "section": "soft-tissue",
            "text": "A new fact, in our own words.", "must_know": True} in kps
    again = runner.invoke(args=["bank", "import", str(out)])
    assert again.exit_code == 0, again.output
    assert "; 0 changed." in again.output, again.output


def test_import_of_the_files_never_undoes_studio_edits(app, client):
    """`bank import` (and so `init`) reports a row edited in the studio as a conflict."""
    form = page_form(client, EDIT["topic"])
    assert client.post(EDIT["topic"], data=form.data(title="Renamed here")).status_code == 302
    form = page_form(client, NEW["set"])
    assert client.post(NEW["set"], data=form.data(title="Only here", topic="beta")).status_code == 302
    result = app.test_cli_runner().invoke(args=["bank", "import", app.config["BANK_PATH"]])
    assert result.exit_code == 0, result.output
    assert "conflict: topic alpha: edited in the database since the files wrote it" in result.output
    assert "missing: set only-here: not in the files" in result.output
    with app.app_context():
        assert db.session.get(Topic, "alpha").title == "Renamed here"
        assert db.session.get(QuestionSet, "only-here").active


def test_two_creates_of_the_same_id_at_once_give_409_not_500(app, client, monkeypatch):
    """The id is chosen, then inserted: if another editor's row took it in between, the
    insert fails and the page says so (409), nothing written."""
    form = page_form(client, NEW["key_point"])
    monkeypatch.setattr(bank_entities, "new_id", lambda model, text: "kp-one")  # taken meanwhile
    before = snapshot(app)
    response = client.post(NEW["key_point"], data=form.data(text="One.", section="soft-tissue"))
    assert response.status_code == 409
    assert "same id at the same moment" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_two_saves_from_one_version_cannot_both_pass(app):
    """Two editors save from the same version at the same moment: the second waits for the
    first's lock, then sees the row changed and writes nothing."""
    import threading

    with app.app_context():
        version = row_hash(values_of(db.session.get(Topic, "beta")))
    first_locked, outcome = threading.Event(), {}

    def first():
        with app.app_context():
            bank_entities.update_topic("beta", {"title": "First"}, None, base_hash=version)
            first_locked.set()
            threading.Event().wait(0.5)  # the second save arrives while this one is open
            db.session.commit()

    def second():
        first_locked.wait(5)
        with app.app_context():
            try:
                bank_entities.update_topic("beta", {"title": "Second"}, None, base_hash=version)
                db.session.commit()
                outcome["second"] = "saved"
            except StaleEntity as exc:
                db.session.rollback()
                outcome["second"] = exc.current["title"]

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcome == {"second": "First"}
    with app.app_context():
        assert db.session.get(Topic, "beta").title == "First"


def test_a_stale_save_of_the_values_already_saved_is_no_conflict(app):
    ann, bob = signed_in(app), signed_in(app)
    ann_form, bob_form = page_form(ann, EDIT["topic"]), page_form(bob, EDIT["topic"])
    assert bob.post(EDIT["topic"], data=bob_form.data(title="Same")).status_code == 302
    before = snapshot(app)
    response = ann.post(EDIT["topic"], data=ann_form.data(title="Same"))
    assert response.status_code == 302
    assert "already holds these values" in ann.get(response.headers["Location"]).get_data(
        as_text=True)
    assert snapshot(app) == before
