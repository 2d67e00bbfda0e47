"""The studio's item-analysis pages: the index (sets, key points, sections), a set, a question,
a key point and an article section, each with its filter form and CSV / JSON downloads of its
table (`?format=csv|json`). Thin views: the figures come from quiz/stats (analysis.py), the
arguments and the table's order from stats_view.py."""

from __future__ import annotations

from typing import Any

from flask import abort, make_response, render_template, request

from ..extensions import db
from ..models import Question, QuestionRevision, QuestionSet
from ..qtypes import TYPES
from ..stats import analysis, downloads
from ..stats import flags as thresholds
from ..stats.model import AttemptChoice, RollupStats, Selection
from ..web import url_builder
from . import bp, stats_view
from .stats_view import BadArgument

bp.app_template_global("thresholds_lines")(stats_view.threshold_lines)

ROLLUP_KINDS = {"key_point": ("key point", "key points"), "section": ("section", "sections")}


@bp.app_template_filter("fig")
def figure(value: float | None, places: int = 2) -> str:
    """A statistic as the pages show it: 0.73 (two places), or an en dash when undefined."""
    return "\u2013" if value is None else f"{value:.{places}f}"


def _message(code: int, message: str):
    return make_response(render_template("error.html", code=code, message=message), code)


def _read(reader, *args):
    try:
        return reader(request.args, *args)
    except BadArgument as exc:
        abort(_message(400, str(exc)))


def _not_found(message: str):
    abort(_message(404, message))


OPTION_COLUMNS = ("question_id", "revision", "option", "label", "correct", "count", "share",
                  "mean_rest", "flags")
ROLLUP_COLUMNS = ("kind", "id", "title", "questions", "responses", "facility", "discrimination",
                  "learners", "mastered", "must_know")


def _download(fmt: str, rows: list[dict[str, Any]], obj: Any, name: str,
              columns: tuple[str, ...] | None = None):
    """CSV (UTF-8 with a byte order mark, so spreadsheet programs read it as UTF-8) or JSON,
    as an attachment. `columns`: the CSV header (for rows other than items'), kept when
    there are no rows."""
    if fmt == "csv":
        body = downloads.to_csv(rows, columns)
        if not body.startswith("\ufeff"):
            body = "\ufeff" + body
        mimetype, ext = "text/csv; charset=utf-8", "csv"
    else:
        body = downloads.to_json(obj)
        mimetype, ext = "application/json; charset=utf-8", "json"
    response = make_response(body)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{ext}"'
    return response


def _page(template: str, selection: Selection, page_args: dict[str, str] | None = None,
          **context):
    """`page_args`: the page's own URL values (its id, ?set=); links add the selection."""
    args = stats_view.selection_args(selection)
    return render_template(template, selection=selection, selection_args=args,
                           page_args={**(page_args or {}), **args},
                           selection_text=stats_view.describe(selection),
                           attempt_choices=list(AttemptChoice), thresholds=thresholds,
                           mastery=analysis.MASTERY,
                           types=TYPES, **context)


def _rollup_rows(rollups: list[RollupStats]) -> list[dict[str, Any]]:
    return [{k: getattr(r, k) for k in ROLLUP_COLUMNS} for r in rollups]


_file = stats_view.file_name


# --- the index ---------------------------------------------------------------------------------

@bp.route("/stats")
def stats_index():
    selection = _read(stats_view.read_selection)
    fmt = _read(stats_view.read_format)
    key_points = analysis.rollups("key_point", selection)
    sections = analysis.rollups("section", selection)
    if fmt != "html":
        table = request.args.get("table", "key-points")
        if fmt == "csv" and table not in ("key-points", "sections"):
            abort(_message(400, f"“{table[:32]}” is no table here: use key-points or sections."))
        rows = _rollup_rows(sections if table == "sections" else key_points)
        obj = {"selection": selection, "key_points": _rollup_rows(key_points),
               "sections": _rollup_rows(sections)}
        name = _file("sections" if fmt == "csv" and table == "sections"
                     else "key-points" if fmt == "csv" else "rollups", selection=selection)
        return _download(fmt, rows, obj, name, ROLLUP_COLUMNS)
    sets = db.session.execute(
        db.select(QuestionSet.id, QuestionSet.title, QuestionSet.kind)
        .where(QuestionSet.active.is_(True)).order_by(QuestionSet.position, QuestionSet.id)).all()
    return _page("studio/stats/index.html", selection, sets=sets, key_points=key_points,
                 sections=sections, kp_url=url_builder("studio.stats_key_point", "kp_id"),
                 section_url=url_builder("studio.stats_section", "section_id"),
                 set_url=url_builder("studio.stats_set", "set_id"))


# --- a set ---------------------------------------------------------------------------------------

@bp.route("/stats/sets/<set_id>")
def stats_set(set_id: str):
    selection = _read(stats_view.read_selection)
    fmt = _read(stats_view.read_format)
    sort, direction = _read(stats_view.read_sort)
    try:
        stats = analysis.set_statistics(set_id, selection)
    except LookupError:
        _not_found(f"There is no set “{set_id[:64]}”.")
    items = stats_view.sort_items(stats.items, sort, direction)
    if fmt != "html":
        return _download(fmt, downloads.item_rows(items), stats,
                         _file("set", set_id, selection=selection))
    return _page("studio/stats/set.html", selection, page_args={"set_id": set_id}, stats=stats,
                 items=items, sort=sort, direction=direction, sorts=stats_view.ITEM_SORTS,
                 histogram=stats_view.histogram(stats.histogram),
                 question_url=url_builder("studio.stats_question", "question_id",
                                          set=set_id, **stats_view.selection_args(selection)))


# --- a question ----------------------------------------------------------------------------------

def _option_rows(revisions) -> list[dict[str, Any]]:
    rows = []
    for item in revisions:
        for o in item.options:
            rows.append({"question_id": item.question_id, "revision": item.revision_number,
                         "option": o.key, "label": o.label, "correct": o.correct,
                         "count": o.count, "share": o.share, "mean_rest": o.mean_rest,
                         "flags": "; ".join(f.message for f in o.flags)})
    return rows


@bp.route("/stats/questions/<question_id>")
def stats_question(question_id: str):
    selection = _read(stats_view.read_selection)
    fmt = _read(stats_view.read_format)
    set_id = request.args.get("set", "") or None
    qset = None
    if set_id is not None:
        qset = db.session.execute(db.select(QuestionSet.id, QuestionSet.title)
                                  .where(QuestionSet.id == set_id)).first()
        if qset is None:
            _not_found(f"There is no set “{set_id[:64]}”.")
    question = db.session.execute(
        db.select(Question.id, Question.status, QuestionRevision.prompt, QuestionRevision.qtype)
        .outerjoin(QuestionRevision, QuestionRevision.id == Question.latest_revision_id)
        .where(Question.id == question_id)).first()
    if question is None:
        _not_found(f"There is no question “{question_id[:64]}”.")
    try:
        revisions = analysis.question_statistics(question_id, selection, set_id)
    except LookupError:
        _not_found(f"There is no question “{question_id[:64]}”.")
    if fmt == "csv":
        return _download(fmt, _option_rows(revisions), None,
                         _file("question", question_id, *([set_id] if set_id else []),
                               selection=selection) + "-options", OPTION_COLUMNS)
    if fmt == "json":
        return _download(fmt, [], {"question_id": question_id, "set_id": set_id,
                                   "selection": selection, "revisions": revisions},
                         _file("question", question_id, *([set_id] if set_id else []),
                               selection=selection))
    page_args = {"question_id": question_id, **({"set": set_id} if set_id else {})}
    return _page("studio/stats/question.html", selection, page_args=page_args,
                 question=question, qset=qset,
                 revisions=revisions)


# --- a key point, a section -----------------------------------------------------------------------

def _rollup(kind: str, rollup_id: str):
    selection = _read(stats_view.read_selection)
    fmt = _read(stats_view.read_format)
    sort, direction = _read(stats_view.read_sort)
    try:
        rollup = analysis.rollup_statistics(kind, rollup_id, selection)
    except LookupError:
        _not_found(f"There is no {ROLLUP_KINDS[kind][0]} “{rollup_id[:64]}”.")
    items = stats_view.sort_items(rollup.items, sort, direction)
    if fmt != "html":
        return _download(fmt, downloads.item_rows(items), rollup,
                         _file(kind.replace("_", "-"), rollup_id, selection=selection))
    id_args = {"kp_id" if kind == "key_point" else "section_id": rollup_id}
    return _page("studio/stats/rollup.html", selection, page_args=id_args, id_args=id_args,
                 rollup=rollup, items=items, sort=sort,
                 direction=direction, sorts=stats_view.ITEM_SORTS, noun=ROLLUP_KINDS[kind][0],
                 question_url=url_builder("studio.stats_question", "question_id",
                                          **stats_view.selection_args(selection)))


@bp.route("/stats/key-points/<kp_id>")
def stats_key_point(kp_id: str):
    return _rollup("key_point", kp_id)


@bp.route("/stats/sections/<section_id>")
def stats_section(section_id: str):
    return _rollup("section", section_id)

