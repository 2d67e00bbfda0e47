"""the database is the bank's home: question status, revision provenance, file markers

- question.active -> question.status (draft / published / retired): active -> published,
  inactive -> retired; question.latest_revision_id (the newest revision, a pending draft when
  it differs from current_revision_id) starts equal to current_revision_id.
- question_revision gains author_id, note, origin (file / import / editor / restore) and
  origin_ref; every existing revision came from the bank files (origin 'file').
- section, topic, key_point and question_set gain file_hash: the hash of the values the bank
  files last wrote (quiz.bank.entities.row_hash; a frozen copy is below). Existing rows were
  all written by the files, so each gets the hash of its present values.
- question_revision.content_hash now treats key points as a set (sorted before hashing, as
  quiz.bank.revisions.content_hash does): recomputed for every revision.

SQLite: columns are added and dropped with ALTER TABLE (3.35+), constraints declared on the
column, so no table is copied (attempts refer to questions and revisions).

Downgrade: status published -> active, anything else -> inactive; the provenance columns and
file markers are dropped (their values are lost).

Revision ID: 6b1d94e7c2a8
Revises: 5f2c8a1e9d34
Create Date: 2026-11-26 01:00:00
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "6b1d94e7c2a8"
down_revision = "5f2c8a1e9d34"
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('draft', 'published', 'retired')"
ORIGIN_CHECK = "origin IN ('file', 'import', 'editor', 'restore')"

# Frozen copy of quiz.bank.entities.FIELDS and row_hash as of this revision.
FIELDS = {
    "section": ("title",),
    "topic": ("title", "description"),
    "key_point": ("section_id", "text", "must_know"),
    "question_set": ("title", "description", "kind", "topic_id", "draw_count", "draw_topics",
                     "pass_mark", "include_must_know", "active"),
}
TYPES = {"must_know": sa.Boolean, "include_must_know": sa.Boolean, "active": sa.Boolean,
         "draw_topics": sa.JSON, "draw_count": sa.Integer, "pass_mark": sa.Integer}
MARKED = tuple(FIELDS)


def _row_hash(values):
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _content_hash(content):
    """Frozen copy of quiz.bank.revisions.content_hash: key points count as a set."""
    return _row_hash({**content, "key_points": sorted(content["key_points"])})


def _rehash_revisions(conn):
    """Revisions' content hashes now treat key points as a set (the database keeps no order)."""
    rev = sa.table("question_revision", sa.column("id", sa.Integer),
                   sa.column("content_hash", sa.String), sa.column("qtype", sa.String),
                   sa.column("difficulty", sa.String), sa.column("scenario", sa.Boolean),
                   sa.column("prompt", sa.Text), sa.column("explanation", sa.Text),
                   sa.column("source_id", sa.String), sa.column("data", sa.JSON))
    rkp = sa.table("revision_key_point", sa.column("revision_id", sa.Integer),
                   sa.column("key_point_id", sa.String))
    key_points = {}
    for revision_id, kp in conn.execute(sa.select(rkp.c.revision_id, rkp.c.key_point_id)):
        key_points.setdefault(revision_id, []).append(kp)
    for row in conn.execute(sa.select(rev)).all():
        content = {"type": row.qtype, "difficulty": row.difficulty, "scenario": bool(row.scenario),
                   "prompt": row.prompt, "explanation": row.explanation, "source": row.source_id,
                   "key_points": key_points.get(row.id, []), "data": row.data}
        digest = _content_hash(content)
        if digest != row.content_hash:
            conn.execute(rev.update().where(rev.c.id == row.id).values(content_hash=digest))


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"


def _fill_file_hashes(conn):
    for name, fields in FIELDS.items():
        table = sa.table(name, sa.column("id", sa.String),
                         sa.column("file_hash", sa.String),
                         *(sa.column(f, TYPES.get(f, sa.String)) for f in fields))
        rows = conn.execute(sa.select(table.c.id, *(table.c[f] for f in fields))).all()
        for row in rows:
            values = {f: getattr(row, f) for f in fields}
            conn.execute(table.update().where(table.c.id == row.id)
                         .values(file_hash=_row_hash(values)))


def upgrade():
    conn = op.get_bind()
    for name in MARKED:
        op.add_column(name, sa.Column("file_hash", sa.String(length=64), nullable=True))
    _fill_file_hashes(conn)
    _rehash_revisions(conn)

    if _sqlite():
        op.execute("ALTER TABLE question ADD COLUMN latest_revision_id INTEGER "
                   "CONSTRAINT fk_question_latest_revision_id_question_revision "
                   "REFERENCES question_revision (id)")
        op.execute("ALTER TABLE question ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'draft' "
                   f"CONSTRAINT ck_question_status CHECK ({STATUS_CHECK})")
        op.execute('ALTER TABLE question_revision ADD COLUMN author_id INTEGER '
                   'CONSTRAINT fk_question_revision_author_id_user REFERENCES "user" (id)')
        op.execute("ALTER TABLE question_revision ADD COLUMN note TEXT NOT NULL DEFAULT ''")
        op.execute("ALTER TABLE question_revision ADD COLUMN origin VARCHAR(16) NOT NULL "
                   f"DEFAULT 'file' CONSTRAINT ck_question_revision_origin CHECK ({ORIGIN_CHECK})")
        op.execute("ALTER TABLE question_revision ADD COLUMN origin_ref VARCHAR(255)")
    else:
        op.add_column("question", sa.Column("latest_revision_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_question_latest_revision_id_question_revision"),
                              "question", "question_revision", ["latest_revision_id"], ["id"])
        op.add_column("question", sa.Column("status", sa.String(length=16), nullable=False,
                                            server_default="draft"))
        op.alter_column("question", "status", server_default=None)
        op.create_check_constraint(op.f("ck_question_status"), "question", STATUS_CHECK)
        op.add_column("question_revision", sa.Column("author_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_question_revision_author_id_user"),
                              "question_revision", "user", ["author_id"], ["id"])
        op.add_column("question_revision", sa.Column("note", sa.Text(), nullable=False,
                                                     server_default=""))
        op.alter_column("question_revision", "note", server_default=None)
        op.add_column("question_revision", sa.Column("origin", sa.String(length=16),
                                                     nullable=False, server_default="file"))
        op.alter_column("question_revision", "origin", server_default=None)
        op.create_check_constraint(op.f("ck_question_revision_origin"), "question_revision",
                                   ORIGIN_CHECK)
        op.add_column("question_revision",
                      sa.Column("origin_ref", sa.String(length=255), nullable=True))

    # Data: active -> published (retired if inactive; a question never given a revision
    # stays a draft); the newest revision is the current one, as the old loader kept it.
    op.execute("UPDATE question SET latest_revision_id = current_revision_id")
    op.execute("UPDATE question SET status = CASE "
               "WHEN NOT active THEN 'retired' "
               "WHEN current_revision_id IS NULL THEN 'draft' "
               "ELSE 'published' END")
    op.execute("UPDATE question_revision SET origin = 'file', note = ''")
    if _sqlite():
        op.execute("ALTER TABLE question DROP COLUMN active")
    else:
        op.drop_column("question", "active")


def downgrade():
    if _sqlite():
        op.execute("ALTER TABLE question ADD COLUMN active BOOLEAN NOT NULL DEFAULT 1")
    else:
        op.add_column("question", sa.Column("active", sa.Boolean(), nullable=False,
                                            server_default=sa.true()))
        op.alter_column("question", "active", server_default=None)
    op.execute("UPDATE question SET active = (status = 'published')")
    if _sqlite():
        for table, column in (("question", "status"), ("question", "latest_revision_id"),
                              ("question_revision", "origin_ref"),
                              ("question_revision", "origin"), ("question_revision", "note"),
                              ("question_revision", "author_id")):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for name in MARKED:
            op.execute(f"ALTER TABLE {name} DROP COLUMN file_hash")
    else:
        op.drop_constraint(op.f("ck_question_status"), "question", type_="check")
        op.drop_column("question", "status")
        op.drop_constraint(op.f("fk_question_latest_revision_id_question_revision"), "question",
                           type_="foreignkey")
        op.drop_column("question", "latest_revision_id")
        op.drop_constraint(op.f("ck_question_revision_origin"), "question_revision",
                           type_="check")
        op.drop_constraint(op.f("fk_question_revision_author_id_user"), "question_revision",
                           type_="foreignkey")
        for column in ("origin_ref", "origin", "note", "author_id"):
            op.drop_column("question_revision", column)
        for name in MARKED:
            op.drop_column(name, "file_hash")
