"""must-know key points; answer tokens for attempts still in progress

The article names no safety rules, so "safety-critical" key points are "must-know" ones:
key_point.safety_critical -> must_know, question_set.include_safety_critical ->
include_must_know.

Attempts started before answer tokens existed pinned only the served order; the attempt page
would keep showing them the bank's ids. Each open attempt's layout gets a random token for
every choice, option, pair and step, as a new attempt does (submitted attempts are left as they
are: their page is the review, which shows the key anyway).

Revision ID: 7c1e5a9b2f40
Revises: d62943bb080f
Create Date: 2026-11-25 22:00:00
"""
import json
import secrets

import sqlalchemy as sa
from alembic import op

revision = "7c1e5a9b2f40"
down_revision = "d62943bb080f"
branch_labels = None
depends_on = None

ENTRY_LISTS = ("choices", "options", "pairs", "steps")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as quiz.question_types.TOKEN_ALPHABET


def _tokens(ids):
    tokens, used = {}, set()
    for entry_id in ids:
        token = ""
        while not token or token in used:
            token = "".join(secrets.choice(ALPHABET) for _ in range(8))
        used.add(token)
        tokens[entry_id] = token
    return tokens


def _rename(table, old, new):
    op.execute(f'ALTER TABLE {table} RENAME COLUMN {old} TO {new}')


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade():
    # RENAME COLUMN (SQLite 3.25+, PostgreSQL) keeps the table: a batch copy would have to
    # drop tables that attempts refer to.
    _rename("key_point", "safety_critical", "must_know")
    _rename("question_set", "include_safety_critical", "include_must_know")

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT aq.id, aq.layout, r.data FROM attempt_question aq "
        "JOIN attempt a ON a.id = aq.attempt_id "
        "JOIN question_revision r ON r.id = aq.revision_id "
        "WHERE a.status = 'in_progress'"
    )).all()
    update = sa.text("UPDATE attempt_question SET layout = :layout WHERE id = :id")
    if conn.dialect.name == "postgresql":
        update = sa.text("UPDATE attempt_question SET layout = CAST(:layout AS JSON) WHERE id = :id")
    for row_id, layout, data in rows:
        layout, data = _json(layout), _json(data)
        if "tokens" in layout:
            continue
        layout["tokens"] = {kind: _tokens([e["id"] for e in data[kind]])
                            for kind in ENTRY_LISTS if kind in data}
        conn.execute(update, {"layout": json.dumps(layout), "id": row_id})


def downgrade():
    # Tokens stay in the layouts: code without them reads the bank ids as before.
    _rename("question_set", "include_must_know", "include_safety_critical")
    _rename("key_point", "must_know", "safety_critical")
