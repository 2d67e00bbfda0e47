"""The database is the bank's home: one write path for revisions, statuses, import rules that
never undo browser work, `init` on every deploy, and the YAML export round trip."""

from __future__ import annotations

import copy
import random

import pytest
import yaml

from quiz import accounts
from quiz.attempts import choose_questions
from quiz.bank import read_bank
from quiz.bank.entities import from_files, update_key_point, update_set, update_topic
from quiz.bank.loader import import_bank, revision_content
from quiz.bank.revisions import (
    StaleRevision,
    StatusError,
    content_hash,
    create_revision,
    publish,
    restore,
    restore_revision,
    retire,
    unpublish,
)
from quiz.extensions import db
from quiz.models import (
    Attempt,
    AuditEvent,
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
    Topic,
)
from quiz.vocab import QuestionStatus, RevisionOrigin

from . import bankgen, flows
from .test_setup import _fresh_app

pytestmark = pytest.mark.small_bank


def _instructor():
    return accounts.create_user(f"i{random.randrange(10**9)}@example.org", "a long passphrase",
                                "Ina Instructor", "instructor")


def _content(qid: str = "alpha-001", **changes) -> dict:
    entry = bankgen.single(qid)
    entry.update(changes)
    return revision_content(entry)


def _served_ids(set_id: str) -> set[str]:
    qset = db.session.get(QuestionSet, set_id)
    return {q.id for q in choose_questions(qset, random.Random(1))}


def _revision_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(QuestionRevision))


# --- the write path ----------------------------------------------------------------------

def test_a_new_question_is_a_draft_until_published(app):
    with app.app_context():
        author = _instructor()
        rev = create_revision("alpha-new", _content("alpha-new"), topic_id="alpha", author=author,
                              note="first try", origin=RevisionOrigin.EDITOR)
        db.session.commit()
        q = db.session.get(Question, "alpha-new")
        assert (q.status, q.current_revision_id, q.latest_revision_id) == ("draft", None, rev.id)
        assert (rev.number, rev.author_id, rev.note, rev.origin, rev.origin_ref) == (
            1, author.id, "first try", "editor", None)
        assert rev.content_hash == content_hash(_content("alpha-new"))
        assert [k.id for k in rev.key_points] == ["kp-one"]
        assert q.position == 6  # after the six loaded questions
        assert "alpha-new" not in _served_ids("alpha")
        events = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.entity_id == "alpha-new")).all()
        assert [(e.entity_type, e.action, e.actor_id) for e in events] == [
            ("question", "create", author.id)]

        publish(q, author)
        db.session.commit()
        assert (q.status, q.current_revision_id) == ("published", rev.id)
        assert "alpha-new" in _served_ids("alpha")


def test_a_new_question_needs_a_topic(app):
    with app.app_context(), pytest.raises(ValueError, match="needs a topic"):
        create_revision("alpha-new", _content("alpha-new"), author=None,
                        origin=RevisionOrigin.EDITOR)


def test_editing_a_published_question_makes_a_draft_until_published(app):
    with app.app_context():
        author = _instructor()
        q = db.session.get(Question, "alpha-001")
        first = q.current_revision_id
        draft = create_revision("alpha-001", _content(prompt="Reworded?"), author=author,
                                origin=RevisionOrigin.EDITOR, base_revision_id=first)
        db.session.commit()
        assert draft.number == 2
        assert (q.status, q.current_revision_id, q.latest_revision_id) == (
            "published", first, draft.id)
        publish(q, author)
        db.session.commit()
        assert q.current_revision_id == draft.id
        with pytest.raises(StatusError, match="already published"):
            publish(q, author)


def test_saving_over_a_changed_question_is_refused_and_writes_nothing(app):
    with app.app_context():
        author = _instructor()
        q = db.session.get(Question, "alpha-001")
        opened = q.latest_revision_id
        theirs = create_revision("alpha-001", _content(prompt="Theirs?"), author=author,
                                 origin=RevisionOrigin.EDITOR, base_revision_id=opened)
        db.session.commit()
        before = (_revision_count(), db.session.scalar(
            db.select(db.func.count()).select_from(AuditEvent)))
        with pytest.raises(StaleRevision) as caught:
            create_revision("alpha-001", _content(prompt="Mine?"), author=author,
                            origin=RevisionOrigin.EDITOR, base_revision_id=opened)
        assert caught.value.current.id == theirs.id
        assert caught.value.current.prompt == "Theirs?"
        db.session.rollback()
        assert (_revision_count(), db.session.scalar(
            db.select(db.func.count()).select_from(AuditEvent))) == before


def test_status_transitions_and_the_impossible_ones(app):
    with app.app_context():
        actor = _instructor()
        q = db.session.get(Question, "alpha-002")
        with pytest.raises(StatusError, match="not retired"):
            restore(q, actor)
        unpublish(q, actor)
        assert q.status == QuestionStatus.DRAFT
        assert "alpha-002" not in _served_ids("alpha")
        with pytest.raises(StatusError, match="not published"):
            unpublish(q, actor)
        retire(q, actor)
        assert q.status == QuestionStatus.RETIRED
        with pytest.raises(StatusError, match="already retired"):
            retire(q, actor)
        with pytest.raises(StatusError, match="restore it before publishing"):
            publish(q, actor)
        restore(q, actor)  # it had been published: it comes back published
        assert q.status == QuestionStatus.PUBLISHED
        db.session.commit()
        assert "alpha-002" in _served_ids("alpha")

        create_revision("alpha-new", _content("alpha-new"), topic_id="alpha", author=actor,
                        origin=RevisionOrigin.EDITOR)
        new = db.session.get(Question, "alpha-new")
        retire(new, actor)
        restore(new, actor)  # never published: back to draft
        assert new.status == QuestionStatus.DRAFT
        actions = db.session.scalars(db.select(AuditEvent.action).where(
            AuditEvent.entity_id == "alpha-002").order_by(AuditEvent.id)).all()
        assert actions == ["create", "unpublish", "retire", "restore"]  # create: the seed


def test_restoring_a_revision_makes_a_new_draft_with_the_old_content(app):
    with app.app_context():
        actor = _instructor()
        q = db.session.get(Question, "alpha-001")
        old = q.current_revision
        create_revision("alpha-001", _content(prompt="Worse?"), author=actor,
                        origin=RevisionOrigin.EDITOR, publish=True)
        restored = restore_revision(q, 1, actor, "the old one was better")
        db.session.commit()
        assert (restored.number, restored.origin, restored.origin_ref, restored.note) == (
            3, "restore", "revision 1", "the old one was better")
        assert restored.content_hash == old.content_hash and restored.prompt == old.prompt
        assert q.current_revision.number == 2 and q.latest_revision_id == restored.id
        with pytest.raises(StatusError, match="no revision 9"):
            restore_revision(q, 9, actor)
        with pytest.raises(StatusError, match="already the latest"):
            restore_revision(q, 3, actor)


def test_open_attempts_keep_the_revision_they_were_served(app, client, auth):
    auth.register()
    opened = flows.start(client, "alpha")
    with app.app_context():
        served = {i.question_id: i.revision_id for i in db.session.get(Attempt, opened).items}
        create_revision("alpha-001", _content(prompt="The second wording?"), author=None,
                        origin=RevisionOrigin.EDITOR, publish=True)
        db.session.commit()
        second = db.session.get(Question, "alpha-001").current_revision_id
    assert "The second wording?" not in client.get(f"/attempts/{opened}").data.decode()
    with app.app_context():
        again = {i.question_id: i.revision_id for i in db.session.get(Attempt, opened).items}
        assert again == served and served["alpha-001"] != second
    flows.submit(client, opened, flows.answers(flows.items(app, opened)))
    fresh = flows.start(client, "alpha")
    assert "The second wording?" in client.get(f"/attempts/{fresh}").data.decode()


# --- import rules ------------------------------------------------------------------------

def _bank(tmp_path, name="b", questions=None, **kw):
    bank, problems = read_bank(bankgen.write_bank(tmp_path / name, questions=questions, **kw))
    assert problems == []
    return bank


def test_file_changes_apply_only_where_the_files_wrote_last(app, tmp_path):
    questions = bankgen.default_questions()
    questions["alpha"][0]["prompt"] = "File wording one?"
    questions["alpha"][1]["prompt"] = "File wording two?"
    with app.app_context():
        create_revision("alpha-002", _content("alpha-002", prompt="Browser wording?"),
                        author=_instructor(), origin=RevisionOrigin.EDITOR, publish=True)
        db.session.commit()
        report = import_bank(_bank(tmp_path, questions=questions))
        db.session.commit()
        assert (report.created, report.revised, report.unchanged) == (0, 1, 4)
        assert report.conflicts == [
            "question alpha-002: changed in the files, but revision 2 came from the editor, "
            "not the files; left alone"]
        assert db.session.get(Question, "alpha-001").current_revision.prompt == "File wording one?"
        assert db.session.get(Question, "alpha-002").current_revision.prompt == "Browser wording?"

        report = import_bank(_bank(tmp_path, questions=questions), overwrite=True)
        db.session.commit()
        assert (report.revised, report.conflicts) == (1, [])
        q = db.session.get(Question, "alpha-002")
        assert q.current_revision.prompt == "File wording two?"
        assert (q.current_revision.origin, q.current_revision.number) == ("file", 3)


@pytest.mark.parametrize("change", ["unpublish", "retire", "draft"])
def test_unpublished_retired_or_drafted_questions_are_conflicts(app, tmp_path, change):
    questions = bankgen.default_questions()
    questions["alpha"][0]["prompt"] = "File wording?"
    with app.app_context():
        q = db.session.get(Question, "alpha-001")
        if change == "unpublish":
            unpublish(q, None)
        elif change == "retire":
            retire(q, None)
        else:
            create_revision("alpha-001", _content(prompt="Pending?"), author=None,
                            origin=RevisionOrigin.EDITOR)
        db.session.commit()
        report = import_bank(_bank(tmp_path, questions=questions))
        db.session.commit()
        assert [c.split(",")[0] for c in report.conflicts] == [
            "question alpha-001: changed in the files"]
        assert q.current_revision.prompt == "Prompt of alpha-001?"
        assert q.status == {"unpublish": "draft", "retire": "retired", "draft": "published"}[change]


def test_topics_key_points_and_sets_edited_in_the_browser_are_conflicts(app, tmp_path):
    topics = copy.deepcopy(bankgen.TOPICS)
    topics[0]["title"] = "Alpha from the files"
    topics[1]["title"] = "Beta from the files"
    key_points = copy.deepcopy(bankgen.KEY_POINTS)
    key_points[0]["text"] = "Key point from the files."
    sets = bankgen.default_sets()
    sets[0]["title"] = "Alpha set from the files"
    sets[1]["title"] = "Beta set from the files"
    with app.app_context():
        actor = _instructor()
        update_topic("alpha", {"title": "Alpha from the browser"}, actor)
        update_key_point("kp-one", {"text": "Key point from the browser."}, actor)
        update_set("alpha", {"title": "Alpha set from the browser", "pass_mark": 70}, actor)
        db.session.commit()
        assert db.session.get(Topic, "alpha").file_hash is None
        report = import_bank(_bank(tmp_path, topics=topics, key_points=key_points, sets=sets))
        db.session.commit()
        assert sorted(report.conflicts) == sorted([
            "topic alpha: edited in the database since the files wrote it; left alone",
            "key point kp-one: edited in the database since the files wrote it; left alone",
            "set alpha: edited in the database since the files wrote it; left alone",
        ])
        assert db.session.get(Topic, "alpha").title == "Alpha from the browser"
        assert db.session.get(KeyPoint, "kp-one").text == "Key point from the browser."
        assert db.session.get(QuestionSet, "alpha").pass_mark == 70
        # Rows nobody edited follow the files, and stay under their control.
        assert db.session.get(Topic, "beta").title == "Beta from the files"
        assert from_files(db.session.get(Topic, "beta"))
        assert db.session.get(QuestionSet, "beta").title == "Beta set from the files"
        audited = db.session.scalars(db.select(AuditEvent.entity_type).where(
            AuditEvent.action == "edit").order_by(AuditEvent.id)).all()
        assert audited == ["topic", "key_point", "set"]

        report = import_bank(_bank(tmp_path, topics=topics, key_points=key_points, sets=sets),
                             overwrite=True)
        db.session.commit()
        assert report.conflicts == []
        assert db.session.get(Topic, "alpha").title == "Alpha from the files"
        assert db.session.get(QuestionSet, "alpha").pass_mark is None


def test_a_row_changed_behind_the_markers_back_is_still_a_conflict(app, tmp_path):
    topics = copy.deepcopy(bankgen.TOPICS)
    topics[0]["description"] = "From the files."
    with app.app_context():
        db.session.get(Topic, "alpha").description = "Changed by hand in SQL."
        db.session.commit()
        report = import_bank(_bank(tmp_path, topics=topics))
        assert report.conflicts == [
            "topic alpha: edited in the database since the files wrote it; left alone"]


def test_unknown_rows_and_fields_are_refused(app):
    from quiz.bank.entities import EntityError

    with app.app_context():
        with pytest.raises(EntityError, match="no topic 'nope'"):
            update_topic("nope", {"title": "x"}, None)
        with pytest.raises(EntityError, match="Cannot edit id"):
            update_set("alpha", {"id": "other"}, None)


# --- the command line --------------------------------------------------------------------

def test_init_never_undoes_browser_work(tmp_path):
    app = _fresh_app(tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "seeded from the files: 6 new" in first.output
    with app.app_context():
        actor = _instructor()
        create_revision("alpha-001", _content(prompt="Edited in the browser?"), author=actor,
                        note="clearer", origin=RevisionOrigin.EDITOR, publish=True,
                        base_revision_id=db.session.get(Question, "alpha-001").latest_revision_id)
        retire(db.session.get(Question, "beta-001"), actor)
        update_set("mixed", {"draw_count": 2, "title": "Quick mix"}, actor)
        update_topic("beta", {"description": "Edited in the browser."}, actor)
        db.session.commit()
    # The shipped files now differ from the database in those places.
    questions = bankgen.default_questions()
    questions["beta"][0]["prompt"] = "A file change to a retired question."
    bankgen.write_bank(tmp_path / "bank", questions=questions)
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert "0 new, 0 revised, 4 unchanged, 0 retired, 4 conflict(s), 0 missing" in second.output
    for line in ("conflict: question alpha-001: changed in the files, but revision 2 came from "
                 "the editor", "conflict: question beta-001: changed in the files, but retired",
                 "conflict: set mixed: edited", "conflict: topic beta: edited"):
        assert line in second.output
    with app.app_context():
        q = db.session.get(Question, "alpha-001")
        assert (q.current_revision.prompt, q.current_revision.note) == (
            "Edited in the browser?", "clearer")
        assert db.session.get(Question, "beta-001").status == "retired"
        assert db.session.get(QuestionSet, "mixed").draw_count == 2
        assert db.session.get(Topic, "beta").description == "Edited in the browser."
        db.session.remove()


def test_import_dry_run_writes_nothing_and_exit_codes(runner, app, tmp_path):
    questions = bankgen.default_questions()
    questions["alpha"][0]["prompt"] = "Would change?"
    root = bankgen.write_bank(tmp_path / "b", questions=questions)
    result = runner.invoke(args=["bank", "import", "--dry-run", str(root)])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing written" in result.output and "1 revised" in result.output
    with app.app_context():
        assert db.session.get(Question, "alpha-001").current_revision.number == 1
    questions["alpha"].pop()
    root = bankgen.write_bank(tmp_path / "c", questions=questions)
    result = runner.invoke(args=["bank", "import", "--retire-missing", str(root)])
    assert result.exit_code == 0, result.output
    assert "missing: question alpha-003: not in the files; retired" in result.output
    assert "1 revised, 4 unchanged, 1 retired" in result.output
    with app.app_context():
        assert db.session.get(Question, "alpha-003").status == "retired"


def test_yaml_export_round_trips_with_browser_edits(runner, app, tmp_path):
    with app.app_context():
        create_revision("alpha-001", _content(prompt="Line one\nline two of a browser edit?",
                                              scenario=True),
                        author=None, origin=RevisionOrigin.EDITOR, publish=True)
        create_revision("alpha-002", _content("alpha-002", prompt="A pending draft?"),
                        author=None, origin=RevisionOrigin.EDITOR)
        retire(db.session.get(Question, "beta-003"), None)
        db.session.commit()
    out = tmp_path / "export"
    result = runner.invoke(args=["bank", "export", "--format", "yaml", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 5 questions" in result.output
    # (The generated bank itself has lint warnings, so no --strict here; see the shipped test.)
    check = runner.invoke(args=["bank", "check", str(out)])
    assert check.exit_code == 0, check.output
    doc = yaml.safe_load((out / "questions" / "alpha.yaml").read_text())
    assert doc["questions"][0]["prompt"] == "Line one\nline two of a browser edit?"
    assert doc["questions"][0]["scenario"] is True
    assert [q["id"] for q in doc["questions"]] == ["alpha-001", "alpha-002", "alpha-003"]
    again = runner.invoke(args=["bank", "import", str(out)])
    assert again.exit_code == 0, again.output
    # The published edit is exported as served; the pending draft of alpha-002 is a conflict,
    # the retired beta-003 is not in the export: nothing changes.
    assert "0 new, 0 revised, 4 unchanged, 0 retired, 1 conflict(s), 0 missing; 0 changed" in (
        again.output)
    refused = runner.invoke(args=["bank", "export", "--format", "yaml", str(out)])
    assert refused.exit_code == 2 and "new or empty folder" in refused.output


def test_yaml_export_of_the_shipped_bank_round_trips(tmp_path):
    from .conftest import SHIPPED_BANK, _teardown, make_app

    app = make_app(tmp_path, SHIPPED_BANK)
    try:
        runner = app.test_cli_runner()
        out = tmp_path / "shipped"
        assert runner.invoke(args=["bank", "export", "--format", "yaml", str(out)]).exit_code == 0
        check = runner.invoke(args=["bank", "check", "--strict", str(out)])
        assert check.exit_code == 0, check.output
        again = runner.invoke(args=["bank", "import", str(out)])
        assert again.exit_code == 0, again.output
        assert " 0 revised, " in again.output and "; 0 changed." in again.output
        assert "0 conflict(s), 0 missing" in again.output
    finally:
        _teardown(app)


def test_init_counts_lint_warnings_of_revisions_made_before_the_count_existed(tmp_path):
    """Migration 9c5e2a7f1b38 leaves older revisions' lint count empty; init fills it."""
    app = _fresh_app(tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        db.session.execute(db.update(QuestionRevision).values(lint_warnings=None))
        db.session.commit()
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0, again.output
    assert "Lint warnings counted: 6 revision(s)." in again.output
    with app.app_context():
        counts = db.session.scalars(db.select(QuestionRevision.lint_warnings)).all()
        assert counts and None not in counts
    assert "Lint warnings counted" not in runner.invoke(args=["init"]).output
