"""The kept sums (revision_item_sums): per revision, the item analysis sums of the default selection.

The default selection (Selection(): each learner's first submitted attempt at each set, no
date range) only ever grows by whole attempts: submitting a learner's first attempt at a set
adds its items, and nothing else changes it (attempts are never deleted, un-submitted or
re-scored). So its per-revision sums (quiz.stats.analysis._item_sums) are kept in a table,
added to in the submit's transaction (add_attempt_items: one statement), and the question
list's flags read a row per question instead of aggregating every response.

rebuild_item_sums() recomputes the table with the live engine's own SQL (`_selected`,
`_responses`, `_item_sums` of quiz.stats.analysis), so the two cannot define the sums
differently; `flask --app wsgi stats rebuild` runs it after attempts were changed by hand.
One difference by construction: "first" is the first attempt *submitted*, while the live
engine ranks by submitted_at; they differ only if a later submit carries an earlier
submitted_at (a clock set back), and a rebuild then restores the live definition.
"""

from __future__ import annotations

import functools

from sqlalchemy import Integer, bindparam, case, cast, func, literal, text

from ..extensions import db
from ..models import Attempt, AttemptQuestion, RevisionItemSums
from ..vocab import AttemptStatus
from . import analysis
from .model import Selection

COLUMNS = ("revision_id", *analysis.SUM_COLUMNS)
_NULLABLE = {"rxmax"}  # no response with a rest: no maximum


def item_sums_definition():
    """SELECT (revision_id, n, sx, ..., sxr) over the default selection, as the live engine
    sums it; the NULL sums of a revision without a rest are 0 here."""
    sel = analysis._selected(Selection())
    _, agg = analysis._item_sums(analysis._responses(sel))
    cols = [agg.c.revision_id]
    for name in analysis.SUM_COLUMNS:
        column = agg.c[name]
        if name in ("n", "nr"):
            column = cast(column, Integer)
        elif name not in _NULLABLE:
            column = func.coalesce(column, 0.0)
        cols.append(column.label(name))
    return db.select(*cols)


def rebuild_item_sums(connection=None) -> int:
    """Recompute the whole table from attempt_question; the number of rows written.

    One DELETE and one INSERT .. SELECT of item_sums_definition() (with JIT off around it
    on PostgreSQL, as the live engine does). Runs on the session (the caller commits) or on
    a given Connection (the migration)."""
    target = db.session if connection is None else connection
    dialect = (connection.dialect if connection is not None else db.session.get_bind().dialect).name
    table = RevisionItemSums.__table__
    target.execute(table.delete())
    if dialect == "postgresql":
        target.execute(text("SET jit = off"))
    target.execute(table.insert().from_select(list(COLUMNS), item_sums_definition()))
    if dialect == "postgresql":
        target.execute(text("RESET jit"))
    return target.execute(db.select(func.count()).select_from(table)).scalar_one()


@functools.cache
def _add_statement(dialect: str):
    """INSERT .. SELECT the attempt's items (one row each: an attempt holds a revision at most
    once) .. ON CONFLICT (revision_id) DO UPDATE SET each sum = the old + the new, rxmax the
    larger; only if no other submitted attempt of the learner at the set exists. Built once;
    bound: attempt_id and k (the attempt's number of items)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app supports these two
        raise ValueError(f"no upsert for {dialect}")
    aq, att = AttemptQuestion.__table__, Attempt.__table__
    other = att.alias("other_attempt")
    k = bindparam("k", type_=Integer)
    x = func.coalesce(aq.c.score, 0.0)
    has_rest = k > 1
    # As analysis._responses: the rest of the attempt over its maximum; NULL for one item.
    rest = (func.coalesce(att.c.points, 0.0) - x) / func.nullif(k - 1, 0)
    zero = literal(0.0)
    values = {
        "revision_id": aq.c.revision_id,
        "n": literal(1, Integer),
        "sx": x,
        "sxx": x * x,
        "nr": case((has_rest, 1), else_=0),
        "rx": case((has_rest, x), else_=zero),
        "rxx": case((has_rest, x * x), else_=zero),
        "rxmax": case((has_rest, x)),
        "sr": func.coalesce(rest, zero),
        "srr": func.coalesce(rest * rest, zero),
        "sxr": func.coalesce(x * rest, zero),
    }
    first = ~db.exists().where(
        other.c.user_id == att.c.user_id, other.c.set_id == att.c.set_id,
        other.c.status == AttemptStatus.SUBMITTED, other.c.id != att.c.id)
    items = (
        db.select(*(value.label(name) for name, value in values.items()))
        .join_from(aq, att, att.c.id == aq.c.attempt_id)
        .where(aq.c.attempt_id == bindparam("attempt_id"), first)
        .order_by(aq.c.revision_id)  # concurrent submits lock shared rows in one order
    )
    table = RevisionItemSums.__table__
    stmt = insert(table).from_select(list(COLUMNS), items)
    new, old = stmt.excluded, table.c
    changes = {name: old[name] + new[name] for name in analysis.SUM_COLUMNS if name != "rxmax"}
    changes["rxmax"] = case(
        (new.rxmax.is_(None), old.rxmax),
        ((old.rxmax.is_(None)) | (new.rxmax > old.rxmax), new.rxmax),
        else_=old.rxmax)
    return stmt.on_conflict_do_update(index_elements=[old.revision_id], set_=changes)


def add_attempt_items(attempt_id: int, k: int) -> None:
    """Add a just-submitted attempt's items (k of them) to the sums if it is the learner's
    first submitted attempt at its set: one statement, in the caller's transaction. Call it
    after the attempt's status, points and item scores are written."""
    db.session.execute(_add_statement(db.engine.dialect.name), {"attempt_id": attempt_id, "k": k})
