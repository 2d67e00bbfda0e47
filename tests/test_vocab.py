"""The vocab enums: the models' CHECK constraints come from them, the migrations match, the
database refuses anything else (SQLite and PostgreSQL), and question types match TYPES."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from quiz.attempts import start_attempt
from quiz.bank.files import DIFFICULTIES
from quiz.extensions import db
from quiz.models import Attempt, Question, QuestionRevision, QuestionSet, User
from quiz.question_types import TYPES
from quiz.vocab import (
    AttemptStatus,
    Difficulty,
    QuestionStatus,
    QuestionTypeName,
    RevisionOrigin,
    Role,
    SetKind,
    in_sql,
)

MIGRATIONS = Path(__file__).resolve().parent.parent / "quiz" / "migrations" / "versions"

# (table, column, enum, a value outside it)
ENUM_COLUMNS = [
    ("user", "role", Role, "superuser"),
    ("question_set", "kind", SetKind, "mixed"),
    ("attempt", "status", AttemptStatus, "abandoned"),
    ("question_revision", "qtype", QuestionTypeName, "essay"),
    ("question_revision", "difficulty", Difficulty, "extreme"),
    ("question", "status", QuestionStatus, "deleted"),
    ("question_revision", "origin", RevisionOrigin, "magic"),
]
# Constraints added after the initial schema, with the migration that added them.
LATER = {("question", "status"): "6b1d94e7c2a8_bank_home.py",
         ("question_revision", "origin"): "6b1d94e7c2a8_bank_home.py"}


def test_question_type_names_are_the_types():
    assert set(TYPES) == set(QuestionTypeName)
    assert len(TYPES) == len(QuestionTypeName)


def test_enums_compare_equal_to_their_strings():
    assert AttemptStatus.SUBMITTED == "submitted"
    assert Role.LEARNER == "learner" and f"{Role.ADMIN}" == "admin"
    assert DIFFICULTIES == ("easy", "medium", "hard")


@pytest.mark.parametrize(("table", "column", "enum", "bad"), ENUM_COLUMNS)
def test_constraint_is_generated_from_the_enum(table, column, enum, bad):
    constraints = {c.name: str(c.sqltext) for c in db.metadata.tables[table].constraints
                   if hasattr(c, "sqltext")}
    assert constraints[f"ck_{table}_{column}"] == in_sql(column, enum)
    if (table, column) in LATER:  # that migration holds the same SQL under the same name
        later = (MIGRATIONS / LATER[table, column]).read_text()
        assert f'_CHECK = "{in_sql(column, enum)}"' in later
        assert f"ck_{table}_{column}" in later
        return
    # The initial migration created exactly this constraint, under the same name.
    initial = (MIGRATIONS / "d62943bb080f_initial_schema.py").read_text()
    assert f'sa.CheckConstraint("{in_sql(column, enum)}", name=op.f(\'ck_{table}_{column}\'))' in initial


def _rows():
    """One row of each table holding an enum column, for the updates below."""
    user = User(email="vocab@example.org", name="V", password_hash="x")
    db.session.add(user)
    db.session.flush()
    qset = db.session.scalars(db.select(QuestionSet).order_by(QuestionSet.id)).first()
    attempt = start_attempt(user, qset, random.Random(1))
    db.session.commit()
    revision = db.session.scalars(db.select(QuestionRevision)).first()
    return {"user": (User, user.id), "question_set": (QuestionSet, qset.id),
            "attempt": (Attempt, attempt.id), "question_revision": (QuestionRevision, revision.id),
            "question": (Question, revision.question_id)}


@pytest.mark.small_bank
@pytest.mark.parametrize(("table", "column", "enum", "bad"), ENUM_COLUMNS)
def test_database_takes_every_member_and_refuses_others(app, table, column, enum, bad):
    with app.app_context():
        model, row_id = _rows()[table]

        def update(value):
            extra = {}
            if model is Attempt:  # the submitted_at constraint couples the two columns
                extra["submitted_at"] = datetime.now(UTC) if value == "submitted" else None
            db.session.execute(db.update(model).where(model.id == row_id)
                               .values({column: value, **extra}))

        for member in enum:
            with db.session.begin_nested():
                update(member)
            assert db.session.scalar(db.select(getattr(model, column))
                                     .where(model.id == row_id)) == member
        with pytest.raises(IntegrityError), db.session.begin_nested():
            update(bad)
        db.session.rollback()
