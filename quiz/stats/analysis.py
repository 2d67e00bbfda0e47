"""Item analysis in SQL: the figures of quiz/stats/model.py from aggregates in the database.

Every figure comes from sums computed by the database, grouped by revision (or slot, option,
learner): counts, sums of item scores, of their squares, of the rest-of-attempt score and of
cross-products; window functions give running sums (discriminative efficiency), the top
third of learners and the median. Python only turns those few rows per revision, option or
bin into the figures. Definitions and references: docs/statistics.md.

The building blocks, each a CTE or subquery:
- `_selected`: the attempts a Selection picks (submitted only; first/last per learner and
  set by submitted_at then id, among attempts submitted up to `until`; then `since`).
- `_responses`: the items of those attempts (optionally only some), with x = the item score
  (0..1, an unscored item 0) and rest = the attempt total without this item, as a fraction
  of the rest's maximum (the attempt's item count - 1); NULL for a one-item attempt.
- `_item_rows`: per revision: n and the sums for facility, sd, discrimination and
  discriminative efficiency; with the revision's question id, number, type and prompt.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, cast, func, literal, literal_column, null, or_, text, true, union_all
from sqlalchemy.types import NullType

from ..extensions import db
from ..models import (
    Attempt,
    AttemptQuestion,
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
    RevisionItemSums,
    RevisionKeyPoint,
    Section,
)
from ..qtypes import TYPES
from ..vocab import AttemptStatus
from . import flags as flagging
from .model import (
    AttemptChoice,
    Bin,
    ItemStats,
    OptionStats,
    RollupStats,
    Selection,
    SetStats,
)

# A learner masters a key point or section when their mean score on its items in the
# selection is at least this. The progress page has no such threshold (it counts fully
# correct latest answers per question), so this is the statistics' own: 80 %.
MASTERY = 0.8
ROLLUP_KINDS = ("key_point", "section")
BINS = 10  # histogram: ten bins of ten percentage points, the last one including 100
EPSILON = 1e-12  # variances at or below this are zero (sums of squares carry rounding)
FEW_QUESTIONS = 10  # question_flags: up to this many ids count only the attempts holding them
_BIN_NUDGE = 1e-9  # 100*total/k can land a hair below a bin edge it equals

_aq = AttemptQuestion.__table__
_att = Attempt.__table__
_rev = QuestionRevision.__table__
_sums = RevisionItemSums.__table__


def _without_jit(fn):
    """Run fn with PostgreSQL's JIT compilation off (SET jit = off ... RESET jit: two more
    statements). These statements' cost estimates are far above jit_above_cost, so
    PostgreSQL would spend seconds compiling expressions of queries that run in a fraction
    of that (benchmarks/bench_stats.py). If fn raises inside a transaction, its rollback
    undoes the SET; in autocommit the connection keeps jit off, which does no harm."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if db.engine.dialect.name != "postgresql":
            return fn(*args, **kwargs)
        db.session.execute(text("SET jit = off"))
        result = fn(*args, **kwargs)
        db.session.execute(text("RESET jit"))
        return result

    return wrapper


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# --- which responses -------------------------------------------------------------------------


def _selected(selection: Selection, set_id: str | None = None):
    """CTE `sel` (id, user_id, set_id, points): the submitted attempts the selection picks.

    FIRST and LAST rank each learner's attempts at each set by (submitted_at, id) among those
    submitted up to `until` (inclusive, UTC days); `since` then filters. So FIRST is a
    learner's very first attempt (counted if it falls in the range) and LAST the last one as
    of `until`. `points` is the attempt total as submit stored it: the sum of its item
    scores, unrounded."""
    conds = [_att.c.status == AttemptStatus.SUBMITTED]
    if set_id is not None:
        conds.append(_att.c.set_id == set_id)
    if selection.until is not None:
        conds.append(_att.c.submitted_at < _day_start(selection.until + timedelta(days=1)))
    since = _day_start(selection.since) if selection.since is not None else None
    cols = (_att.c.id, _att.c.user_id, _att.c.set_id, func.coalesce(_att.c.points, 0.0).label("points"))
    if selection.attempts == AttemptChoice.ALL:
        stmt = db.select(*cols).where(*conds)
        if since is not None:
            stmt = stmt.where(_att.c.submitted_at >= since)
        return stmt.cte("sel")
    # "No earlier (later) submitted attempt of the same learner at the same set": an anti-join
    # rather than row_number() = 1, whose selectivity PostgreSQL cannot estimate (it guessed
    # 0.5 % of the rows and planned the joins after it for almost none).
    other = _att.alias("other_attempt")
    if selection.attempts == AttemptChoice.FIRST:
        before = or_(other.c.submitted_at < _att.c.submitted_at,
                     and_(other.c.submitted_at == _att.c.submitted_at, other.c.id < _att.c.id))
    else:
        before = or_(other.c.submitted_at > _att.c.submitted_at,
                     and_(other.c.submitted_at == _att.c.submitted_at, other.c.id > _att.c.id))
    rival = [other.c.user_id == _att.c.user_id, other.c.set_id == _att.c.set_id,
             other.c.status == AttemptStatus.SUBMITTED, before]
    if selection.until is not None:
        rival.append(other.c.submitted_at < _day_start(selection.until + timedelta(days=1)))
    stmt = db.select(*cols).where(*conds, ~db.exists().where(*rival))
    if since is not None:
        stmt = stmt.where(_att.c.submitted_at >= since)
    return stmt.cte("sel")


def _item_counts(attempt_ids):
    """Subquery (attempt_id, k): the number of items of each attempt in `attempt_ids` (a
    select of ids); an index-only count on attempt_question (attempt_id, position)."""
    aq = _aq.alias("aq_count")
    return (
        db.select(aq.c.attempt_id, func.count().label("k"))
        .where(aq.c.attempt_id.in_(attempt_ids))
        .group_by(aq.c.attempt_id)
        .subquery("item_counts")
    )


def _responses(sel, where=None, answers: bool = False, rest: bool = True, few: bool = True):
    """CTE `resp`: one row per selected item: attempt_id, revision_id, question_id,
    position, x, user_id, set_id (, answer), rest. `where(table)`: only the items of that
    attempt_question alias it accepts (the others still count in each attempt's total).
    `few`: `where` keeps a small part of the responses (one question, one key point), so
    only the attempts holding one are counted; else every selected attempt is."""
    x = func.coalesce(_aq.c.score, 0.0)
    cols = [_aq.c.attempt_id, _aq.c.revision_id, _aq.c.question_id, _aq.c.position,
            x.label("x"), sel.c.user_id, sel.c.set_id]
    if answers:
        cols.append(_aq.c.answer)
    stmt = db.select(*cols).join_from(_aq, sel, sel.c.id == _aq.c.attempt_id)
    if not rest:  # only scores (mastery): no item counts needed
        return (stmt.where(where(_aq)) if where is not None else stmt).cte("resp")
    if where is None or not few:
        counts = _item_counts(db.select(sel.c.id))
        stmt = stmt.join(counts, counts.c.attempt_id == _aq.c.attempt_id)
        if where is not None:
            stmt = stmt.where(where(_aq))
    else:
        inner = _aq.alias("aq_where")
        counts = _item_counts(db.select(inner.c.attempt_id).where(where(inner)))
        stmt = stmt.join(counts, counts.c.attempt_id == _aq.c.attempt_id).where(where(_aq))
    k = counts.c.k
    rest_of_attempt = case((k > 1, (sel.c.points - x) / (k - 1)), else_=None)
    return stmt.add_columns(rest_of_attempt.label("rest")).cte("resp")


# --- per revision ------------------------------------------------------------------------------


SUM_COLUMNS = ("n", "sx", "sxx", "nr", "rx", "rxx", "rxmax", "sr", "srr", "sxr")  # _item_sums


def _item_sums(resp):
    """(cells CTE, subquery `agg`): per revision, n and the sums SUM_COLUMNS (and pos).

    The responses are first grouped by (revision, x, rest) with their count m: a few
    thousand rows however many responses, from which every sum follows (Σx = Σ m·x, ...).
    Without a rest (nr = 0), rx, rxx, rxmax, sr, srr and sxr are NULL. The kept sums
    (quiz.stats.summary) are this over the default selection."""
    cells = (
        db.select(resp.c.revision_id, resp.c.x, resp.c.rest,
                  func.cast(func.count(), db.Float).label("m"),
                  func.min(resp.c.position).label("pos"))
        .group_by(resp.c.revision_id, resp.c.x, resp.c.rest)
        .cte("score_cells")
    )
    has_rest = cells.c.rest.isnot(None)
    x, r, m = cells.c.x, cells.c.rest, cells.c.m
    agg = (
        db.select(
            cells.c.revision_id,
            func.sum(m).label("n"),
            func.sum(m * x).label("sx"),
            func.sum(m * x * x).label("sxx"),
            func.sum(case((has_rest, m), else_=0)).label("nr"),
            func.sum(case((has_rest, m * x))).label("rx"),
            func.sum(case((has_rest, m * x * x))).label("rxx"),
            func.max(case((has_rest, x))).label("rxmax"),
            func.sum(m * r).label("sr"),
            func.sum(m * r * r).label("srr"),
            func.sum(m * x * r).label("sxr"),
            func.min(cells.c.pos).label("pos"),
        )
        .group_by(cells.c.revision_id)
        .subquery("agg")
    )
    return cells, agg


def _item_rows(resp, efficiency: bool = True):
    """Per revision: n and the sums (_item_sums) with the revision's question id, number,
    type and prompt; with efficiency, what the sorted pairing needs."""
    cells, agg = _item_sums(resp)
    cols = [*agg.c, _rev.c.question_id, _rev.c.number, _rev.c.qtype, _rev.c.prompt]
    stmt = db.select(*cols).join_from(agg, _rev, _rev.c.id == agg.c.revision_id)
    if efficiency:
        pairs = _sorted_pairs(cells)
        stmt = stmt.add_columns(pairs.c.dvcx).outerjoin(pairs, pairs.c.revision_id == agg.c.revision_id)
    return stmt


def _sorted_pairs(cells):
    """Subquery (revision_id, dvcx) for the largest covariance the item score x and the rest
    X can have with their distributions: pairing the i-th smallest x with the i-th smallest X
    (Moodle's discriminative efficiency). With v_1 < v_2 < ... the distinct x values (v_0 = 0)
    and c(v) the responses with x < v, the i-th smallest x is the sum of (v - v_prev) over the
    v with c(v) < i, so

        sum_i x_(i) X_(i) = sum_v (v - v_prev) * (sum X - CX(c(v))) = max(x) * sum X - dvcx

    where CX(j) is the sum of the j smallest X and dvcx = sum_v (v - v_prev) * CX(c(v)).
    CX comes from the distinct rest values with their counts (m), running count M and running
    sum S in value order: for rank j inside the group of value r, CX(j) = S - m*r +
    (j - (M - m))*r. Both sides are grouped first (`cells`: revision, x, rest, m), so nothing
    sorts the responses themselves."""
    has_rest = cells.c.rest.isnot(None)
    values = (
        db.select(cells.c.revision_id, cells.c.x.label("v"), func.sum(cells.c.m).label("c"))
        .where(has_rest)
        .group_by(cells.c.revision_id, cells.c.x)
        .subquery("x_values")
    )
    window = {"partition_by": values.c.revision_id, "order_by": values.c.v}
    steps = db.select(
        values.c.revision_id,
        (values.c.v - func.coalesce(func.lag(values.c.v).over(**window), 0.0)).label("dv"),
        (func.sum(values.c.c).over(**window) - values.c.c).label("below"),
    ).subquery("x_steps")
    rests = (
        db.select(cells.c.revision_id, cells.c.rest.label("r"), func.sum(cells.c.m).label("m"))
        .where(has_rest)
        .group_by(cells.c.revision_id, cells.c.rest)
        .subquery("rest_values")
    )
    rwindow = {"partition_by": rests.c.revision_id, "order_by": rests.c.r}
    runs = db.select(
        rests.c.revision_id, rests.c.r, rests.c.m,
        func.sum(rests.c.m).over(**rwindow).label("big_m"),
        func.sum(rests.c.m * rests.c.r).over(**rwindow).label("big_s"),
    ).subquery("rest_runs")
    cx = (runs.c.big_s - runs.c.m * runs.c.r) + (steps.c.below - (runs.c.big_m - runs.c.m)) * runs.c.r
    return (
        db.select(steps.c.revision_id, func.sum(steps.c.dv * func.coalesce(cx, 0.0)).label("dvcx"))
        .select_from(steps)
        .outerjoin(runs, and_(runs.c.revision_id == steps.c.revision_id,
                              runs.c.big_m - runs.c.m < steps.c.below,
                              steps.c.below <= runs.c.big_m))
        .group_by(steps.c.revision_id)
        .subquery("sorted_pairs")
    )


def _var(n: int, s: float, ss: float) -> float | None:
    """Sample variance from n, sum and sum of squares; None for n < 2."""
    if n < 2:
        return None
    return max((ss - s * s / n) / (n - 1), 0.0)


@dataclass(frozen=True)
class _Figures:
    n: int
    facility: float | None
    sd: float | None
    discrimination: float | None
    efficiency: float | None
    variance: float | None


def _figures(row: Any) -> _Figures:
    n = int(row.n)  # sums of counts are NUMERIC on PostgreSQL
    facility = row.sx / n if n else None
    variance = _var(n, row.sx or 0.0, row.sxx or 0.0)
    sd = math.sqrt(variance) if variance is not None else None
    discrimination = efficiency = None
    nr = int(row.nr)
    if nr >= 2:
        vx = _var(nr, row.rx, row.rxx)
        vr = _var(nr, row.sr, row.srr)
        cov = (row.sxr - row.rx * row.sr / nr) / (nr - 1)
        if vx > EPSILON and vr > EPSILON:
            discrimination = max(-1.0, min(1.0, cov / math.sqrt(vx * vr)))
            dvcx = getattr(row, "dvcx", None)
            if dvcx is not None:
                smax = row.rxmax * row.sr - float(dvcx)  # the sorted pairing's sum (_sorted_pairs)
                cmax = (smax - row.rx * row.sr / nr) / (nr - 1)
                if cmax > EPSILON:
                    efficiency = cov / cmax
    return _Figures(n, facility, sd, discrimination, efficiency, variance)


def _item(row: Any, options: tuple[OptionStats, ...] = ()) -> ItemStats:
    f = _figures(row)
    return ItemStats(
        question_id=row.question_id, revision_id=row.revision_id, revision_number=row.number,
        qtype=row.qtype, prompt=row.prompt, n=f.n, facility=f.facility, sd=f.sd,
        discrimination=f.discrimination, efficiency=f.efficiency,
        flags=flagging.item_flags(f.n, f.facility, f.discrimination), options=options,
    )


# --- a set -------------------------------------------------------------------------------------


def _attempt_row(totals):
    """One row: attempts, mean, central moment sums, median, points sums, histogram counts."""
    pct = (100.0 * totals.c.total / totals.c.k).label("pct")
    per = db.select(totals.c.attempt_id, totals.c.total, pct).subquery("per_attempt")
    dev = (
        db.select(
            per.c.attempt_id, per.c.pct, per.c.total,
            (per.c.pct - func.avg(per.c.pct).over()).label("d"),
            func.row_number().over(order_by=(per.c.pct, per.c.attempt_id)).label("rn"),
            func.count().over().label("c"),
        )
        .subquery("dev")
    )
    d = dev.c.d
    middle = (2 * dev.c.rn).between(dev.c.c, dev.c.c + 2)  # the one or two middle ranks
    nudged = dev.c.pct + _BIN_NUDGE
    bins = [
        func.sum(case((and_(nudged >= 10.0 * b, nudged < 10.0 * (b + 1)) if b < BINS - 1
                       else nudged >= 10.0 * b, 1), else_=0)).label(f"bin{b}")
        for b in range(BINS)
    ]
    return db.select(
        func.count().label("attempts"), func.avg(dev.c.pct).label("mean"),
        func.sum(d * d).label("m2"), func.sum(d * d * d).label("m3"),
        func.sum(d * d * d * d).label("m4"),
        func.avg(case((middle, dev.c.pct))).label("median"),
        func.sum(dev.c.total).label("st"), func.sum(dev.c.total * dev.c.total).label("stt"),
        *bins,
    )


def _moments(s: int, m2sum: float, m3sum: float, m4sum: float) -> tuple[float | None, ...]:
    """(sd, skewness, kurtosis) with Moodle's formulas (k-statistics) from central sums."""
    if s < 2:
        return None, None, None
    m2, m3, m4 = m2sum / s, m3sum / s, m4sum / s
    k2 = s * m2 / (s - 1)
    sd = math.sqrt(max(k2, 0.0))
    if k2 <= EPSILON:
        return sd, None, None
    skew = kurt = None
    if s >= 3:
        k3 = s * s * m3 / ((s - 1) * (s - 2))
        skew = k3 / k2 ** 1.5
    if s >= 4:
        k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
        kurt = k4 / (k2 * k2)
    return sd, skew, kurt


@_without_jit
def set_statistics(set_id: str, selection: Selection = Selection()) -> SetStats:  # noqa: B008
    """A set's figures over the selected attempts, with one ItemStats per revision served.

    Cronbach's alpha treats each position of the attempt as one item (a slot, as Moodle does
    for random questions): k = the number of positions, the item variances are those of the
    scores at each position, the total variance that of the attempt totals (in points).
    Statements: the set, then one for the attempt figures, the slot variances and the items."""
    found = db.session.execute(
        db.select(QuestionSet.id, QuestionSet.title).where(QuestionSet.id == set_id)).first()
    if found is None:
        raise LookupError(f"No question set {set_id!r}.")
    sel = _selected(selection, set_id)
    x = func.coalesce(_aq.c.score, 0.0)
    # One pass over the selected attempts' items (the covering index), materialised once and
    # read by the three aggregates below, which return in one statement (UNION ALL).
    base = (
        db.select(_aq.c.attempt_id, _aq.c.revision_id, _aq.c.position, x.label("x"))
        .join_from(_aq, sel, sel.c.id == _aq.c.attempt_id)
        .cte("base")
    )
    totals = (db.select(base.c.attempt_id, func.count().label("k"))
              .group_by(base.c.attempt_id).subquery("per_attempt_items"))
    totals = (db.select(totals.c.attempt_id, totals.c.k, sel.c.points.label("total"))
              .join(sel, sel.c.id == totals.c.attempt_id).subquery("totals"))
    rest = case((totals.c.k > 1, (totals.c.total - base.c.x) / (totals.c.k - 1)), else_=None)
    resp = (db.select(*base.c, rest.label("rest"))
            .join_from(base, totals, totals.c.attempt_id == base.c.attempt_id).subquery("resp"))
    slots = (db.select(base.c.position.label("slot"), func.count().label("slot_n"),
                       func.sum(base.c.x).label("slot_s"), func.sum(base.c.x * base.c.x).label("slot_ss"))
             .group_by(base.c.position))
    parts = {"item": _item_rows(resp), "attempts": _attempt_row(totals), "slot": slots}
    rows = db.session.execute(_union(parts)).all()
    a = next(row for row in rows if row.part == "attempts")
    attempts = int(a.attempts or 0)
    sd, skew, kurt = _moments(attempts, a.m2 or 0.0, a.m3 or 0.0, a.m4 or 0.0)
    slot_rows = [_Slot(int(r.slot_n), r.slot_s, r.slot_ss) for r in rows if r.part == "slot"]
    alpha = _alpha(attempts, slot_rows, a.st or 0.0, a.stt or 0.0)
    sem = sd * math.sqrt(1 - alpha) if sd is not None and alpha is not None and alpha <= 1 else None
    rows = sorted((r for r in rows if r.part == "item"), key=lambda r: (r.pos, r.question_id, r.number))
    histogram = tuple(Bin(10.0 * b, 10.0 * (b + 1), getattr(a, f"bin{b}") or 0) for b in range(BINS))
    return SetStats(
        set_id=found.id, title=found.title, selection=selection, attempts=attempts,
        mean=a.mean, median=a.median, sd=sd, skewness=skew, kurtosis=kurt, alpha=alpha, sem=sem,
        histogram=histogram, items=tuple(_item(row) for row in rows),
        flags=flagging.set_flags(attempts, alpha),
    )


@dataclass(frozen=True)
class _Slot:
    n: int
    s: float
    ss: float


def _union(parts: dict[str, Any]):
    """One UNION ALL of differently shaped selects: each row has a `part` column naming its
    select, every other select's columns NULL."""
    names = [[c.key for c in stmt.selected_columns] for stmt in parts.values()]
    types = {c.key: c.type for stmt in parts.values() for c in stmt.selected_columns}
    every = [n for group in names for n in group]
    assert len(every) == len(set(every)), "the parts' column names must differ"  # noqa: S101

    def typed_null(name: str):  # PostgreSQL needs NULLs of the column's type in a UNION
        kind = types[name]
        return cast(null(), db.Float if isinstance(kind, NullType) else kind).label(name)

    selects = []
    for (part, stmt), own in zip(parts.items(), names, strict=True):
        sub = stmt.subquery(f"part_{part}")
        selects.append(db.select(
            literal(part, db.String).label("part"),
            *[cast(sub.c[n], db.Float).label(n) if isinstance(types[n], NullType) and n in own
              else sub.c[n] if n in own else typed_null(n) for n in every]))
    return union_all(*selects)


def _alpha(attempts: int, slots, st: float, stt: float) -> float | None:
    k = len(slots)
    total_var = _var(attempts, st, stt)
    if k < 2 or total_var is None or total_var <= EPSILON:
        return None
    item_vars = [_var(s.n, s.s, s.ss) for s in slots]
    if any(v is None for v in item_vars):
        return None
    return k / (k - 1) * (1 - sum(item_vars) / total_var)


# --- a question, with its options --------------------------------------------------------------


def _cells(resp, shape: str):
    """(FROM clause, key expression) expanding resp.answer into the cells of `shape`
    (quiz.qtypes.ANSWER_CELLS), with the database's JSON table functions; rows whose answer
    is not of that JSON shape (JSON null: unanswered) expand to nothing."""
    answer = resp.c.answer
    if db.engine.dialect.name == "postgresql":
        kind = func.json_typeof(answer)
        if shape == "value":
            key = case((kind == "string", answer.op("#>>")(literal_column("'{}'"))))
            return resp, key
        if shape == "entries":
            tv = (func.json_each_text(case((kind == "object", answer)))
                  .table_valued("key", "value").render_derived())
            return resp.join(tv, true()), tv.c.key + ">" + tv.c.value
        tv = func.json_array_elements_text(case((kind == "array", answer))).table_valued(
            "value", with_ordinality="idx").render_derived()
        if shape == "elements":
            return resp.join(tv, true()), tv.c.value
        return resp.join(tv, true()), tv.c.value + "@" + func.cast(tv.c.idx, db.String)
    tv = func.json_each(answer).table_valued("key", "value", "type")
    src = resp.join(tv, true())
    if shape in ("value", "elements"):
        key = case((tv.c.type == "text", tv.c.value))
    elif shape == "entries":
        key = case((tv.c.type == "text", tv.c.key + ">" + tv.c.value))
    else:
        key = case((tv.c.type == "text", tv.c.value + "@" + func.cast(tv.c.key + 1, db.String)))
    return src, key


def _option_counts(resp, revisions: list[Any]) -> dict[tuple[int, str], Any]:
    """(revision id, cell key) -> (count, mean_rest, top): one statement per answer shape
    among the revisions (at most len(ANSWER_CELLS))."""
    by_shape: dict[str, list[int]] = defaultdict(list)
    for rev in revisions:
        by_shape[TYPES[rev.qtype].answer_cells].append(rev.revision_id)
    ranked = (
        db.select(
            *resp.c,
            func.ntile(3).over(partition_by=resp.c.revision_id,
                               order_by=(case((resp.c.rest.is_(None), 1), else_=0),
                                         resp.c.rest.desc(), resp.c.attempt_id)).label("third"),
        ).cte("thirds")
    )
    out: dict[tuple[int, str], Any] = {}
    for shape, ids in by_shape.items():
        src, key = _cells(ranked, shape)
        stmt = (
            db.select(ranked.c.revision_id, key.label("cell"), func.count().label("count"),
                      func.avg(ranked.c.rest).label("mean_rest"),
                      func.sum(case((and_(ranked.c.third == 1, ranked.c.rest.isnot(None)), 1),
                                    else_=0)).label("top"))
            .select_from(src)
            .where(ranked.c.revision_id.in_(ids), key.isnot(None))
            .group_by(ranked.c.revision_id, key)
        )
        for row in db.session.execute(stmt):
            out[(row.revision_id, row.cell)] = row
    return out


def _options(row: Any, data: dict[str, Any], counts: dict[tuple[int, str], Any]) -> tuple[OptionStats, ...]:
    specs = TYPES[row.qtype].stat_options(data)
    n = int(row.n)
    got = {s.key: counts.get((row.revision_id, s.key)) for s in specs}
    top = {key: (c.top if c is not None else 0) for key, c in got.items()}
    key_top: dict[str, int] = {}
    for s in specs:
        if s.correct:
            key_top[s.group] = min(key_top.get(s.group, top[s.key]), top[s.key])
    out = []
    for s in specs:
        c = got[s.key]
        count = c.count if c is not None else 0
        out.append(OptionStats(
            key=s.key, label=s.label, correct=s.correct, count=count,
            share=count / n if n else None,
            mean_rest=c.mean_rest if c is not None else None,
            flags=flagging.option_flags(n, correct=s.correct, flag_unused=s.flag_unused,
                                        count=count, top_count=top[s.key],
                                        top_key_count=key_top.get(s.group)),
        ))
    return tuple(out)


@_without_jit
def question_statistics(question_id: str, selection: Selection = Selection(),  # noqa: B008
                        set_id: str | None = None) -> list[ItemStats]:
    """One ItemStats per revision of the question with responses, newest first, with options.

    Across every set unless `set_id` is given (FIRST/LAST then per learner and set). The
    rest of the attempt is the attempt total without this item, as a fraction of the rest's
    maximum, so attempts at sets of different sizes are comparable; the top third are the
    responses whose rest ranks in the top third (ties broken by attempt id)."""
    if db.session.scalar(db.select(Question.id).where(Question.id == question_id)) is None:
        raise LookupError(f"No question {question_id!r}.")
    sel = _selected(selection, set_id)
    revisions = db.select(QuestionRevision.id).where(QuestionRevision.question_id == question_id)
    resp = _responses(sel, lambda t: t.c.revision_id.in_(revisions), answers=True)
    rows = db.session.execute(
        _item_rows(resp).add_columns(_rev.c.data).order_by(_rev.c.number.desc())).all()
    counts = _option_counts(resp, rows) if rows else {}
    return [_item(row, _options(row, row.data, counts)) for row in rows]


# --- flags for the question list ---------------------------------------------------------------


def question_flags(question_ids: list[str], selection: Selection = Selection(),  # noqa: B008
                   ) -> dict[str, tuple]:
    """The flags of each question's current revision over the selection, across all sets
    (questions without one get ()). The default selection reads the kept sums
    (revision_item_sums: one statement for any number of ids); any other is computed live
    from the responses (one statement, and two for JIT on PostgreSQL)."""
    ids = list(dict.fromkeys(question_ids))
    out: dict[str, tuple] = {qid: () for qid in ids}
    if not ids:
        return out
    if selection == Selection():
        rows = db.session.execute(
            db.select(Question.id.label("question_id"), *(_sums.c[name] for name in SUM_COLUMNS))
            .join(_sums, _sums.c.revision_id == Question.current_revision_id)
            .where(Question.id.in_(ids)))
    else:
        rows = _live_flag_rows(ids, selection)
    for row in rows:
        f = _figures(row)
        out[row.question_id] = flagging.item_flags(f.n, f.facility, f.discrimination)
    return out


@_without_jit
def _live_flag_rows(ids: list[str], selection: Selection) -> list[Any]:
    """The per-revision sums of the questions' current revisions, from the responses."""
    current = db.select(Question.current_revision_id).where(
        Question.id.in_(ids), Question.current_revision_id.isnot(None))
    sel = _selected(selection)
    resp = _responses(sel, lambda t: t.c.revision_id.in_(current), few=len(ids) <= FEW_QUESTIONS)
    return db.session.execute(_item_rows(resp, efficiency=False)).all()


# --- key points and sections -------------------------------------------------------------------


def _rollup_map(kind: str):
    """(select of (rollup id, revision id), select of (id, title, must_know, position))."""
    if kind == "key_point":
        links = db.select(RevisionKeyPoint.key_point_id.label("rid"),
                          RevisionKeyPoint.revision_id.label("revision_id"))
        heads = db.select(KeyPoint.id, KeyPoint.text.label("title"), KeyPoint.must_know,
                          KeyPoint.position)
        return links, heads, KeyPoint
    if kind == "section":
        links = db.select(QuestionRevision.source_id.label("rid"),
                          QuestionRevision.id.label("revision_id"))
        heads = db.select(Section.id, Section.title, db.false().label("must_know"), Section.position)
        return links, heads, Section
    raise LookupError(f"No kind of rollup {kind!r}: {', '.join(ROLLUP_KINDS)}.")


def _rollup_figures(kind: str, selection: Selection, rollup_id: str | None):
    """(heads, item rows, per-rollup row, revision -> rollup ids): four statements."""
    links, heads, model = _rollup_map(kind)
    if rollup_id is not None:
        heads = heads.where(model.id == rollup_id)
    head_rows = db.session.execute(heads.order_by(model.position, model.id)).all()
    if rollup_id is not None and not head_rows:
        raise LookupError(f"No {kind.replace('_', ' ')} {rollup_id!r}.")
    link = links.subquery("links")
    if rollup_id is not None:
        revisions = db.select(link.c.revision_id).where(link.c.rid == rollup_id)
    else:
        revisions = db.select(link.c.revision_id)

    def where(t):
        return t.c.revision_id.in_(revisions)

    sel = _selected(selection)
    resp = _responses(sel, where, few=rollup_id is not None)
    items = db.session.execute(
        _item_rows(resp, efficiency=rollup_id is not None)
        .order_by(_rev.c.question_id, _rev.c.number)).all()
    resp = _responses(sel, where, rest=False)
    if rollup_id is not None:  # resp holds only this rollup's revisions
        rid = literal(rollup_id, db.String).label("rid")
        per_learner = (db.select(rid, resp.c.user_id, func.count().label("n"),
                                 func.avg(resp.c.x).label("mean"))
                       .group_by(resp.c.user_id).subquery("per_learner"))
    else:
        per_learner = (
            db.select(link.c.rid, resp.c.user_id, func.count().label("n"),
                      func.avg(resp.c.x).label("mean"))
            .join(link, link.c.revision_id == resp.c.revision_id)
            .group_by(link.c.rid, resp.c.user_id)
            .subquery("per_learner")
        )
    stmt = (
        db.select(per_learner.c.rid, func.count().label("learners"),
                  func.sum(per_learner.c.n).label("responses"),
                  func.sum(per_learner.c.mean * per_learner.c.n).label("sx"),
                  func.sum(case((per_learner.c.mean >= MASTERY - EPSILON, 1), else_=0)).label("mastered"))
        .group_by(per_learner.c.rid)
    )
    per_rollup = {row.rid: row for row in db.session.execute(stmt)}
    link_rows = [] if rollup_id is not None else db.session.execute(
        db.select(link.c.rid, link.c.revision_id)).all()
    rev_rollups: dict[int, list[str]] = defaultdict(list)
    for rid, revision_id in link_rows:
        rev_rollups[revision_id].append(rid)
    return head_rows, items, per_rollup, rev_rollups


def _rollup(kind: str, head: Any, items: list[Any], agg: Any, with_items: bool) -> RollupStats:
    figures = [_figures(row) for row in items]
    weighted = [(f.n, f.discrimination) for f in figures if f.discrimination is not None]
    weight = sum(n for n, _ in weighted)
    responses = int(agg.responses) if agg is not None else 0
    return RollupStats(
        kind=kind, id=head.id, title=head.title,
        questions=len({row.question_id for row in items}),
        responses=responses,
        facility=agg.sx / responses if agg is not None and responses else None,
        discrimination=sum(n * d for n, d in weighted) / weight if weight else None,
        learners=agg.learners if agg is not None else 0,
        mastered=agg.mastered if agg is not None else 0,
        must_know=bool(head.must_know),
        items=tuple(_item(row) for row in items) if with_items else (),
    )


@_without_jit
def rollup_statistics(kind: str, id: str, selection: Selection = Selection()) -> RollupStats:  # noqa: A002, B008
    """A key point (via revision_key_point) or section (via question_revision.source_id):
    its revisions' items, facility over all their responses, n-weighted mean discrimination,
    learners and how many of them reach MASTERY (first attempt per learner per set by default)."""
    heads, items, per_rollup, _ = _rollup_figures(kind, selection, id)
    return _rollup(kind, heads[0], items, per_rollup.get(id), with_items=True)


@_without_jit
def rollups(kind: str, selection: Selection = Selection()) -> list[RollupStats]:  # noqa: B008
    """Every key point (or section) in bank order, without items: four statements."""
    heads, items, per_rollup, rev_rollups = _rollup_figures(kind, selection, None)
    by_rollup: dict[str, list[Any]] = defaultdict(list)
    for row in items:
        for rid in rev_rollups.get(row.revision_id, ()):
            by_rollup[rid].append(row)
    return [_rollup(kind, head, by_rollup.get(head.id, []), per_rollup.get(head.id), with_items=False)
            for head in heads]


__all__ = ["MASTERY", "question_flags", "question_statistics", "rollup_statistics", "rollups",
           "set_statistics"]
