"""Set-up: config, the init command, migrations, no schema work at import."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from quiz import create_app
from quiz.extensions import db

from . import bankgen
from .conftest import database_url_for_tests

pytestmark = pytest.mark.small_bank


def _fresh_app(tmp_path, **extra):
    url = database_url_for_tests(tmp_path, "fresh.sqlite")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False,
                      "BANK_PATH": str(bankgen.write_bank(tmp_path / "bank")), **extra})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return app


def test_creating_the_app_touches_no_schema(tmp_path):
    app = _fresh_app(tmp_path)
    create_app({"TESTING": True, "SECRET_KEY": "x",
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []


def test_init_creates_schema_loads_bank_and_is_idempotent(tmp_path):
    app = _fresh_app(tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "6 new" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert "0 new, 0 revised, 6 unchanged" in second.output
    client = app.test_client()
    client.post("/auth/register", data={"name": "N", "email": "n@example.org",
                                        "password": "n is for night", "confirm": "n is for night"})
    # Registering does not sign in (it must not tell a taken address from a new one).
    client.post("/auth/login", data={"email": "n@example.org", "password": "n is for night"})
    assert b"Alpha set" in client.get("/sets").data


def test_migrations_upgrade_downgrade_upgrade_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade

    app = _fresh_app(tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []


def test_sqlite_connections_use_wal_normal_sync_busy_timeout_and_foreign_keys(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}"})
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL (FULL is 2)
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_database_url_selects_postgresql_with_psycopg(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/quiz")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/quiz"
    monkeypatch.delenv("DATABASE_URL")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/quiz.sqlite")


def test_secret_key_is_generated_once_per_instance(tmp_path, monkeypatch):
    a = create_app()
    b = create_app()
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"]
    assert len(a.config["SECRET_KEY"]) >= 32


def test_upgrade_gives_open_attempts_answer_tokens_and_keeps_must_know(tmp_path):
    """Attempts started before answer tokens existed get them on upgrade (open ones only), and
    the renamed must-know flags keep their values through downgrade and upgrade."""
    from flask_migrate import downgrade, upgrade

    from quiz import accounts
    from quiz.attempts import start_attempt, submit_attempt
    from quiz.bank import read_bank
    from quiz.bank.loader import load_bank
    from quiz.models import AttemptQuestion, KeyPoint, QuestionSet

    app = _fresh_app(tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        load_bank(read_bank(app.config["BANK_PATH"])[0])
        user = accounts.create_user("old@example.org", "a long passphrase", "Old", "learner")
        done = start_attempt(user, db.session.get(QuestionSet, "alpha"))
        submit_attempt(done, {})
        still_open = start_attempt(user, db.session.get(QuestionSet, "beta"))
        db.session.commit()
        done_id, open_id = done.id, still_open.id
        must_know = set(db.session.scalars(db.select(KeyPoint.id).where(KeyPoint.must_know)))
        assert must_know
        legacy = {}
        for item in db.session.scalars(db.select(AttemptQuestion)):
            layout = {k: v for k, v in item.layout.items() if k != "tokens"}
            legacy[item.id] = (item.attempt_id, layout)
            item.layout = layout
        db.session.commit()
        db.session.remove()

        downgrade(directory=directory, revision="d62943bb080f")
        upgrade(directory=directory)

        assert set(db.session.scalars(db.select(KeyPoint.id).where(KeyPoint.must_know))) == must_know
        for item in db.session.scalars(db.select(AttemptQuestion)):
            attempt_id, layout = legacy[item.id]
            if attempt_id == done_id:
                assert item.layout == layout
            else:
                assert attempt_id == open_id
                tokens = item.layout.pop("tokens")
                assert item.layout == layout
                kinds = [k for k in ("choices", "options", "pairs", "steps") if k in item.revision.data]
                assert sorted(tokens) == sorted(kinds) and kinds
                for kind in kinds:
                    assert set(tokens[kind]) == {e["id"] for e in item.revision.data[kind]}


def test_importing_the_app_computes_no_password_hash(tmp_path):
    """The dummy argon2 hash (for unknown sign-in addresses) is made on first use, not at import."""
    import subprocess
    import sys

    code = ("import quiz, quiz.accounts as a; quiz.create_app({'TESTING': True, 'SECRET_KEY': 'x', "
            f"'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'i.sqlite'}'}}); "
            "print(a._dummy_hash.cache_info().currsize)")
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "0"


def test_the_dummy_hash_is_made_once_for_unknown_addresses(app):
    from quiz import accounts

    accounts._dummy_hash.cache_clear()
    with app.app_context():
        assert accounts.authenticate("nobody@example.org", "whatever password") is None
        assert accounts.authenticate("nobody2@example.org", "whatever password") is None
    info = accounts._dummy_hash.cache_info()
    assert (info.currsize, info.misses) == (1, 1)
    assert accounts._dummy_hash().startswith("$argon2")


def test_upgrade_turns_active_into_status_and_marks_rows_as_written_by_the_files(tmp_path):
    """6b1d94e7c2a8: active -> published, inactive -> retired (and back on downgrade); every
    revision came from the files; file markers hold the hash of each row's values."""
    from flask_migrate import downgrade, upgrade

    from quiz.bank import read_bank
    from quiz.bank.entities import FIELDS, from_files
    from quiz.bank.loader import load_bank
    from quiz.bank.revisions import retire
    from quiz.models import KeyPoint, Question, QuestionRevision, QuestionSet, Section, Topic

    app = _fresh_app(tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        load_bank(read_bank(app.config["BANK_PATH"])[0])
        retire(db.session.get(Question, "alpha-002"), None)
        db.session.commit()
        db.session.remove()

        downgrade(directory=directory, revision="5f2c8a1e9d34")
        with db.engine.connect() as conn:
            active = dict(conn.execute(text("SELECT id, active FROM question")).all())
            columns = {c["name"] for c in inspect(conn).get_columns("question_revision")}
        assert {k: bool(v) for k, v in active.items()} == {
            "alpha-001": True, "alpha-002": False, "alpha-003": True,
            "beta-001": True, "beta-002": True, "beta-003": True}
        assert not {"origin", "origin_ref", "note", "author_id"} & columns
        with db.engine.begin() as conn:  # as the old loader left a question missing from files
            conn.execute(text("UPDATE question SET active = :no WHERE id = 'beta-003'"),
                         {"no": False})

        upgrade(directory=directory)
        status = dict(db.session.execute(db.select(Question.id, Question.status)).all())
        assert status == {"alpha-001": "published", "alpha-002": "retired",
                          "alpha-003": "published", "beta-001": "published",
                          "beta-002": "published", "beta-003": "retired"}
        for q in db.session.scalars(db.select(Question)):
            assert q.latest_revision_id == q.current_revision_id is not None
        origins = set(db.session.scalars(db.select(QuestionRevision.origin)))
        assert origins == {"file"}
        for model in FIELDS:
            rows = db.session.scalars(db.select(model)).all()
            assert rows and all(from_files(row) for row in rows), model
        assert {Section, Topic, KeyPoint, QuestionSet} == set(FIELDS)
        # The upgraded bank imports as unchanged (the retired ones stay retired).
        report = load_bank(read_bank(app.config["BANK_PATH"])[0])
        assert (report.created, report.revised, report.unchanged, report.conflicts) == (
            0, 0, 6, [])
        assert db.session.get(Question, "beta-003").status == "retired"
        db.session.rollback()
        db.session.remove()
