"""The app's fixed vocabularies: statuses, set kinds, roles, question types, difficulties.

Each is a `StrEnum`, so a member equals its string ("submitted" == AttemptStatus.SUBMITTED)
and is stored as that string. The models' CHECK constraints are generated from these
enums with `check_in`, so adding a value here is the one place to start (plus a migration
that rewrites the constraint). No Flask or database imports: bank/files.py uses it too.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint


class AttemptStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class SetKind(StrEnum):
    TOPIC = "topic"
    RANDOM = "random"


class Role(StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.INSTRUCTOR, Role.ADMIN})


class OrgRole(StrEnum):
    """A person's role inside one organisation (a clinic, a school class).

    Manager: runs onboarding and sees the organisation's members and results. Instructor:
    sees the organisation's results (and may be attached to several organisations).
    Member: a learner who is assigned work. Independent of the site-wide Role.
    """

    MANAGER = "manager"
    INSTRUCTOR = "instructor"
    MEMBER = "member"


class AssignmentState(StrEnum):
    """Where one person stands on one assignment (quiz.orgs.results.assignment_state)."""

    NOT_OPEN = "not_open"        # the assignment opens later
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    PASSED = "passed"            # a pass that has not expired
    NOT_PASSED = "not_passed"    # submitted, never passed (yet)
    OVERDUE = "overdue"          # past the due date without a pass
    EXPIRED = "expired"          # passed once, but the recertification period has run out


class ReminderKind(StrEnum):
    """Which reminder of an assignment went to a person (quiz.models.ReminderSent)."""

    DUE_SOON = "due_soon"    # a few days before the due date
    OVERDUE = "overdue"      # once the due date has passed without a pass


class QuestionTypeName(StrEnum):
    """Must equal the keys of quiz.question_types.TYPES (a test checks it)."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    MATCHING = "matching"
    ORDERING = "ordering"


class QuestionStatus(StrEnum):
    """Draft: never served. Published: served at its current revision. Retired: not served."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class RevisionOrigin(StrEnum):
    """Where a revision came from (stored with it, with a file path or note where known)."""

    FILE = "file"        # the shipped bank files (init, bank load/import)
    IMPORT = "import"    # other importers (Moodle XML, GIFT)
    EDITOR = "editor"    # the studio in the browser
    RESTORE = "restore"  # "restore" of an older revision in the studio


class AuditEntity(StrEnum):
    QUESTION = "question"
    SET = "set"
    SECTION = "section"
    TOPIC = "topic"
    KEY_POINT = "key_point"
    USER = "user"
    ORGANISATION = "organisation"
    MEMBERSHIP = "membership"
    COHORT = "cohort"
    ASSIGNMENT = "assignment"
    INVITATION = "invitation"
    JOIN_CODE = "join_code"
    CERTIFICATE = "certificate"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


def in_sql(column: str, values: type[StrEnum]) -> str:
    """`column IN ('a', 'b')` in the enum's order (values are plain identifiers, never quoted)."""
    quoted = []
    for member in values:
        if "'" in member.value:  # plain identifiers only: nothing is escaped
            raise ValueError(f"{member!r} cannot go into a CHECK constraint unquoted")
        quoted.append(f"'{member.value}'")
    return f"{column} IN ({', '.join(quoted)})"


def check_in(column: str, values: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """CHECK (column IN (...)) named `name` (default: the column), as the migrations created it."""
    return CheckConstraint(in_sql(column, values), name=name or column)
