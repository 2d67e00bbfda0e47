"""Item analysis in SQL: the figures of quiz/stats/model.py from aggregates in the database.

Every figure comes from sums computed by the database, grouped by revision (or slot, option,
learner): counts, sums of item scores, of their squares, of the rest-of-attempt score and of
cross-products; window functions pick the selected attempts, rank responses (discriminative
efficiency, the top third of learners) and find the median. Python only turns those few rows
per revision, option or bin into the figures. Definitions and references: docs/statistics.md.

The building blocks, each a CTE:
- `_selected`: the attempts a Selection picks (submitted only; first/last per learner and
  set by submitted_at then id, ranked over attempts submitted up to `until`; then `since`).
- `_responses`: the items of those attempts (optionally only some), with x = the item score
  (0..1, an unscored item 0) and rest = the attempt total without this item, as a fraction
  of the rest's maximum (the attempt's item count - 1); NULL for a one-item attempt.
- `_item_rows`: per revision: n and the sums for facility, sd, discrimination and
  discriminative efficiency; with the revision's question id, number, type and prompt.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal_column, true

from ..extensions import db
from ..models import (
    Attempt,
    AttemptQuestion,
    KeyPoint,
    Question,
    QuestionRevision,
    QuestionSet,
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
_BIN_NUDGE = 1e-9  # 100*total/k can land a hair below a bin edge it equals

_aq = AttemptQuestion.__table__
_att = Attempt.__table__
_rev = QuestionRevision.__table__


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# --- which responses -------------------------------------------------------------------------


def _selected(selection: Selection, set_id: str | None = None):
    """CTE `sel` (id, user_id, set_id): the submitted attempts the selection picks.

    FIRST and LAST rank each learner's attempts at each set by (submitted_at, id) among those
    submitted up to `until` (inclusive, UTC days); `since` then filters. So FIRST is a
    learner's very first attempt (counted if it falls in the range) and LAST the last one as
    of `until`."""
    conds = [_att.c.status == AttemptStatus.SUBMITTED]
    if set_id is not None:
        conds.append(_att.c.set_id == set_id)
    if selection.until is not None:
        conds.append(_att.c.submitted_at < _day_start(selection.until + timedelta(days=1)))
    since = _day_start(selection.since) if selection.since is not None else None
    if selection.attempts == AttemptChoice.ALL:
        stmt = db.select(_att.c.id, _att.c.user_id, _att.c.set_id).where(*conds)
        if since is not None:
            stmt = stmt.where(_att.c.submitted_at >= since)
        return stmt.cte("sel")
    if selection.attempts == AttemptChoice.FIRST:
        order = (_att.c.submitted_at.asc(), _att.c.id.asc())
    else:
        order = (_att.c.submitted_at.desc(), _att.c.id.desc())
    ranked = (
        db.select(_att.c.id, _att.c.user_id, _att.c.set_id, _att.c.submitted_at,
                  func.row_number().over(partition_by=(_att.c.user_id, _att.c.set_id),
                                         order_by=order).label("rn"))
        .where(*conds)
        .subquery("ranked_attempts")
    )
    stmt = db.select(ranked.c.id, ranked.c.user_id, ranked.c.set_id).where(ranked.c.rn == 1)
    if since is not None:
        stmt = stmt.where(ranked.c.submitted_at >= since)
    return stmt.cte("sel")


def _totals(sel, restrict=None):
    """CTE `totals` (attempt_id, k, total): item count and sum of item scores per attempt,
    for the selected attempts (only those holding a response of `restrict`, a CTE with an
    attempt_id column, when given)."""
    aq = _aq.alias("aq_all")
    stmt = (
        db.select(aq.c.attempt_id, func.count().label("k"),
                  func.sum(func.coalesce(aq.c.score, 0.0)).label("total"))
        .join(sel, sel.c.id == aq.c.attempt_id)
        .group_by(aq.c.attempt_id)
    )
    if restrict is not None:
        stmt = stmt.where(aq.c.attempt_id.in_(db.select(restrict.c.attempt_id)))
    return stmt.cte("totals")


def _responses(sel, where=None, answers: bool = False):
    """CTE `resp`: one row per selected item (x, rest, ...), optionally only `where`."""
    x = func.coalesce(_aq.c.score, 0.0)
    cols = [_aq.c.attempt_id, _aq.c.revision_id, _aq.c.question_id, _aq.c.position,
            x.label("x"), sel.c.user_id, sel.c.set_id]
    if answers:
        cols.append(_aq.c.answer)
    target = db.select(*cols).join_from(_aq, sel, sel.c.id == _aq.c.attempt_id)
    if where is None:
        target = target.cte("target")
        totals = _totals(sel)
    else:
        target = target.where(where).cte("target")
        totals = _totals(sel, target)
    rest = case((totals.c.k > 1, (totals.c.total - target.c.x) / (totals.c.k - 1)), else_=None)
    return (
        db.select(*target.c, rest.label("rest"))
        .join_from(target, totals, totals.c.attempt_id == target.c.attempt_id)
        .cte("resp")
    )


# --- per revision ------------------------------------------------------------------------------


def _item_rows(resp, efficiency: bool = True):
    """Per revision: n, the sums and (with efficiency) the sorted-pairs cross-product."""
    has_rest = resp.c.rest.isnot(None)
    x, r = resp.c.x, resp.c.rest
    agg = (
        db.select(
            resp.c.revision_id,
            func.count().label("n"),
            func.sum(x).label("sx"),
            func.sum(x * x).label("sxx"),
            func.count(r).label("nr"),
            func.sum(case((has_rest, x))).label("rx"),
            func.sum(case((has_rest, x * x))).label("rxx"),
            func.sum(r).label("sr"),
            func.sum(r * r).label("srr"),
            func.sum(x * r).label("sxr"),
            func.min(resp.c.position).label("pos"),
        )
        .group_by(resp.c.revision_id)
        .subquery("agg")
    )
    cols = [*agg.c, _rev.c.question_id, _rev.c.number, _rev.c.qtype, _rev.c.prompt]
    stmt = db.select(*cols).join_from(agg, _rev, _rev.c.id == agg.c.revision_id)
    if efficiency:
        # The largest covariance two variables with these marginals can have pairs them in
        # the same order: the i-th smallest item score with the i-th smallest rest (Moodle's
        # discriminative efficiency). Rank both, join rank to rank, sum the products.
        ranked = (
            db.select(
                resp.c.revision_id, x.label("x"), r.label("rest"),
                func.row_number().over(partition_by=resp.c.revision_id,
                                       order_by=(x, resp.c.attempt_id)).label("rx"),
                func.row_number().over(partition_by=resp.c.revision_id,
                                       order_by=(r, resp.c.attempt_id)).label("rr"),
            )
            .where(has_rest)
            .cte("ranked")
        )
        other = ranked.alias("ranked_rest")
        sorted_pairs = (
            db.select(ranked.c.revision_id, func.sum(ranked.c.x * other.c.rest).label("smax"))
            .join(other, and_(other.c.revision_id == ranked.c.revision_id, other.c.rr == ranked.c.rx))
            .group_by(ranked.c.revision_id)
            .subquery("sorted_pairs")
        )
        stmt = stmt.add_columns(sorted_pairs.c.smax).outerjoin(
            sorted_pairs, sorted_pairs.c.revision_id == agg.c.revision_id)
    return stmt


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
    n = row.n
    facility = row.sx / n if n else None
    variance = _var(n, row.sx or 0.0, row.sxx or 0.0)
    sd = math.sqrt(variance) if variance is not None else None
    discrimination = efficiency = None
    nr = row.nr
    if nr >= 2:
        vx = _var(nr, row.rx, row.rxx)
        vr = _var(nr, row.sr, row.srr)
        cov = (row.sxr - row.rx * row.sr / nr) / (nr - 1)
        if vx > EPSILON and vr > EPSILON:
            discrimination = max(-1.0, min(1.0, cov / math.sqrt(vx * vr)))
            smax = getattr(row, "smax", None)
            if smax is not None:
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


def set_statistics(set_id: str, selection: Selection = Selection()) -> SetStats:  # noqa: B008
    """A set's figures over the selected attempts, with one ItemStats per revision served.

    Cronbach's alpha treats each position of the attempt as one item (a slot, as Moodle does
    for random questions): k = the number of positions, the item variances are those of the
    scores at each position, the total variance that of the attempt totals (in points).
    Statements: the set, the attempt figures, the slot variances, the items: four."""
    found = db.session.execute(
        db.select(QuestionSet.id, QuestionSet.title).where(QuestionSet.id == set_id)).first()
    if found is None:
        raise LookupError(f"No question set {set_id!r}.")
    sel = _selected(selection, set_id)
    totals = _totals(sel)
    a = db.session.execute(_attempt_row(totals)).one()
    attempts = a.attempts or 0
    sd, skew, kurt = _moments(attempts, a.m2 or 0.0, a.m3 or 0.0, a.m4 or 0.0)

    resp = _responses(sel)
    slots = db.session.execute(
        db.select(resp.c.position, func.count().label("n"), func.sum(resp.c.x).label("s"),
                  func.sum(resp.c.x * resp.c.x).label("ss"))
        .group_by(resp.c.position)
    ).all()
    alpha = _alpha(attempts, slots, a.st or 0.0, a.stt or 0.0)
    sem = sd * math.sqrt(1 - alpha) if sd is not None and alpha is not None and alpha <= 1 else None

    rows = db.session.execute(
        _item_rows(resp).order_by(literal_column("pos"), _rev.c.question_id, _rev.c.number)).all()
    histogram = tuple(Bin(10.0 * b, 10.0 * (b + 1), getattr(a, f"bin{b}") or 0) for b in range(BINS))
    return SetStats(
        set_id=found.id, title=found.title, selection=selection, attempts=attempts,
        mean=a.mean, median=a.median, sd=sd, skewness=skew, kurtosis=kurt, alpha=alpha, sem=sem,
        histogram=histogram, items=tuple(_item(row) for row in rows),
        flags=flagging.set_flags(attempts, alpha),
    )


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
    n = row.n
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
    resp = _responses(sel, _aq.c.question_id == question_id, answers=True)
    rows = db.session.execute(
        _item_rows(resp).add_columns(_rev.c.data).order_by(_rev.c.number.desc())).all()
    counts = _option_counts(resp, rows) if rows else {}
    return [_item(row, _options(row, row.data, counts)) for row in rows]


# --- flags for the question list ---------------------------------------------------------------


def question_flags(question_ids: list[str], selection: Selection = Selection(),  # noqa: B008
                   ) -> dict[str, tuple]:
    """The flags of each question's current revision over the selection, across all sets
    (two statements for any number of ids; questions without one get ())."""
    ids = list(dict.fromkeys(question_ids))
    out: dict[str, tuple] = {qid: () for qid in ids}
    if not ids:
        return out
    current = db.select(Question.current_revision_id).where(
        Question.id.in_(ids), Question.current_revision_id.isnot(None))
    sel = _selected(selection)
    resp = _responses(sel, _aq.c.revision_id.in_(current))
    for row in db.session.execute(_item_rows(resp, efficiency=False)):
        f = _figures(row)
        out[row.question_id] = flagging.item_flags(f.n, f.facility, f.discrimination)
    return out


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
        where = _aq.c.revision_id.in_(revisions)
    else:
        where = _aq.c.revision_id.in_(db.select(link.c.revision_id))
    sel = _selected(selection)
    resp = _responses(sel, where)
    items = db.session.execute(
        _item_rows(resp, efficiency=rollup_id is not None)
        .order_by(_rev.c.question_id, _rev.c.number)).all()
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
    if rollup_id is not None:
        stmt = stmt.where(per_learner.c.rid == rollup_id)
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


def rollup_statistics(kind: str, id: str, selection: Selection = Selection()) -> RollupStats:  # noqa: A002, B008
    """A key point (via revision_key_point) or section (via question_revision.source_id):
    its revisions' items, facility over all their responses, n-weighted mean discrimination,
    learners and how many of them reach MASTERY (first attempt per learner per set by default)."""
    heads, items, per_rollup, _ = _rollup_figures(kind, selection, id)
    return _rollup(kind, heads[0], items, per_rollup.get(id), with_items=True)


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
