"""The manager's dashboard as data: people x assignments, filtered, sorted and paged in SQL.

Rows are the organisation's members (role member), columns its active (not archived)
assignments, each cell where that person stands on that assignment (quiz.orgs.results).

How a page is built, in a fixed number of statements whatever the number of members or
attempts (see docs/orgs-dashboard.md):

1. the active assignments (with their sets and cohorts) and the cohorts, for the columns
   and the filter form;
2. the count of matching people, then the page of 50 (search, cohort, status, sort, LIMIT
   and OFFSET all in SQL);
3. the page's cells: `results.person_results` for the page's people and who of them is
   assigned (`results.assignees`), then `results.assignment_state` per cell in Python.

Status filters and the sort by one assignment's state need every matching person's state,
so those are computed in SQL (`state_expression`): a CASE that mirrors
`results.assignment_state` over per-(assignment, person) sums of the attempts, with the
assignment's dates and the recertification cut-offs as bound values. tests check that the
two agree for every combination of rules and attempts.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union,
)

from ..extensions import db
from ..models import Assignment, AssignmentPerson, Attempt, Cohort, Membership, User
from ..paging import PageNumbers
from ..staff.roster import clean_query, like_pattern
from ..stats.downloads import FORMULA_START
from ..vocab import AssignmentState, AttemptStatus, OrgRole
from . import results
from .results import PersonResult, assignment_state, pass_expires_at

PER_PAGE = 50
CSV_CHUNK = 1000  # people per pair of cell statements in the CSV

STATE_LABELS = {
    AssignmentState.NOT_OPEN: "not open",
    AssignmentState.NOT_STARTED: "not started",
    AssignmentState.IN_PROGRESS: "in progress",
    AssignmentState.PASSED: "passed",
    AssignmentState.NOT_PASSED: "not passed",
    AssignmentState.OVERDUE: "overdue",
    AssignmentState.EXPIRED: "expired",
}
NOT_ASSIGNED = "not assigned"
# Sorting by an assignment, ascending: who needs attention first; people not assigned to
# it come last in either direction.
STATE_ORDER = (AssignmentState.OVERDUE, AssignmentState.EXPIRED, AssignmentState.NOT_PASSED,
               AssignmentState.NOT_STARTED, AssignmentState.IN_PROGRESS,
               AssignmentState.NOT_OPEN, AssignmentState.PASSED)
SORTS = {"name": "asc", "cohort": "asc"}  # and "a<assignment id>", ascending by default
NO_COHORT = "none"


class BadFilter(ValueError):
    """A filter or sort argument that is malformed or names nothing (a 400 with this text)."""


class NotInOrganisation(LookupError):
    """A cohort or assignment id in the arguments that is not this organisation's (a 404)."""


# --- the filters -------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The dashboard's search, filters and sort, validated against the organisation.

    status + status_in: with status_in (an assignment id), people whose cell for that
    assignment is in `status`; without, people with at least one cell in `status`.
    cohort: "" (everyone), "none" (people in no cohort) or a cohort id as text.
    sort: "name", "cohort" or "a<assignment id>" (that assignment's state, then best score).
    """

    q: str = ""
    cohort: str = ""
    status: str = ""
    status_in: int | None = None
    sort: str = "name"
    direction: str = "asc"

    @property
    def sort_assignment(self) -> int | None:
        return int(self.sort[1:]) if self.sort.startswith("a") else None

    def args(self, **changes: Any) -> dict[str, Any]:
        """As URL arguments (defaults left out), with `changes` applied."""
        values = {"q": self.q, "cohort": self.cohort, "status": self.status,
                  "in": self.status_in, "sort": self.sort, "dir": self.direction}
        values.update(changes)
        if values["sort"] == "name" and values["dir"] == "asc":
            values["sort"] = values["dir"] = None
        return {k: v for k, v in values.items() if v not in (None, "")}


def _id(raw: str, noun: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise BadFilter(f"“{raw[:40]}” is not a {noun}.")
    return int(raw)


def read_filters(args: Any, assignment_ids: set[int], cohort_ids: set[int]) -> Filters:
    """The filters from request arguments. Malformed values raise BadFilter; ids that are
    not among this organisation's cohorts or active assignments raise NotInOrganisation."""
    q = clean_query(args.get("q"))
    cohort = (args.get("cohort") or "").strip()
    if cohort and cohort != NO_COHORT:
        if _id(cohort, "cohort") not in cohort_ids:
            raise NotInOrganisation("No such cohort in this organisation.")
        cohort = str(int(cohort))
    status = (args.get("status") or "").strip()
    if status and status not in STATE_LABELS:
        raise BadFilter(f"“{status[:40]}” is not a status: use one of "
                        + ", ".join(s.value for s in STATE_LABELS) + ".")
    status_in = None
    raw_in = (args.get("in") or "").strip()
    if raw_in:
        status_in = _id(raw_in, "assignment")
        if status_in not in assignment_ids:
            raise NotInOrganisation("No such open assignment in this organisation.")
    sort = (args.get("sort") or "name").strip()
    if sort not in SORTS:
        if not sort.startswith("a"):
            raise BadFilter(f"Cannot sort by “{sort[:40]}”: use name, cohort or an assignment.")
        if _id(sort[1:], "assignment") not in assignment_ids:
            raise NotInOrganisation("No such open assignment in this organisation.")
        sort = f"a{int(sort[1:])}"
    direction = (args.get("dir") or "asc").strip()
    if direction not in ("asc", "desc"):
        raise BadFilter("The direction is asc or desc.")
    return Filters(q, cohort, status, status_in, sort, direction)


def page_number(raw: str | None) -> int:
    """The requested page; anything but a plain positive number means page 1."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 1


# --- the columns ---------------------------------------------------------------------------

def active_assignments(org_id: int) -> list[Assignment]:
    """The organisation's assignments that are not archived, with their set and cohort:
    due date first (none last), then id (one statement)."""
    return list(db.session.scalars(
        select(Assignment)
        .where(Assignment.org_id == org_id, Assignment.archived_at.is_(None))
        .options(db.joinedload(Assignment.question_set), db.joinedload(Assignment.cohort))
        .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id)))


def org_cohorts(org_id: int) -> list[tuple[int, str]]:
    return [(cid, name) for cid, name in db.session.execute(
        select(Cohort.id, Cohort.name).where(Cohort.org_id == org_id).order_by(Cohort.name))]


# --- states in SQL ------------------------------------------------------------------------

def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def valid_pass_ranges(months: int, now: datetime) -> list[tuple[datetime, bool, datetime | None]]:
    """The passes that still count at `now` under a recertification period of `months`:
    those at moments p in one of the ranges (low, inclusive, high): p > low (p >= low when
    inclusive) and p < high (no upper end when None).

    Exactly `now < results.add_months(p, months)`, written as plain comparisons so that
    SQLite and PostgreSQL agree without date arithmetic. add_months keeps the time of day
    and clips the day to the target month, so a pass on the 29th-31st may land on the last
    day of the month of `now`: then it counts if its time of day is later than now's.
    """
    now = _utc(now)
    last_day = calendar.monthrange(now.year, now.month)[1]
    index = now.year * 12 + now.month - 1 - months  # the month a pass lands in now's month from
    year0, month0 = divmod(index, 12)
    month0 += 1
    days0 = calendar.monthrange(year0, month0)[1]
    year1, month1 = divmod(index + 1, 12)
    next_month = datetime(year1, month1 + 1, 1, tzinfo=UTC)
    if now.day < last_day:
        if now.day <= days0:  # a pass later than this moment of month0 lands after now
            return [(now.replace(year=year0, month=month0), False, None)]
        return [(next_month, True, None)]  # month0 is too short to reach now's day
    # now is on the last day of its month: passes on that day or later of month0 land on it.
    ranges: list[tuple[datetime, bool, datetime | None]] = []
    for day in range(last_day, days0 + 1):
        low = datetime(year0, month0, day, now.hour, now.minute, now.second, now.microsecond, UTC)
        high = datetime(year0, month0, day + 1, tzinfo=UTC) if day < days0 else None
        ranges.append((low, False, high))
    return ranges or [(next_month, True, None)]


def _at(moment: datetime):
    return literal(_utc(moment), DateTime(timezone=True))


def _in_ranges(column, ranges) -> ColumnElement[bool]:
    parts = []
    for low, inclusive, high in ranges:
        cond = column >= _at(low) if inclusive else column > _at(low)
        parts.append(cond if high is None else and_(cond, column < _at(high)))
    return or_(*parts)


def attempt_sums(assignment_ids: list[int]):
    """Per (assignment, person) with attempts: submitted count, the open attempt, the best
    score and the latest passing submission (the parts of PersonResult the state needs)."""
    submitted = Attempt.status == AttemptStatus.SUBMITTED
    passed = and_(submitted, Attempt.pass_mark.is_not(None), Attempt.score >= Attempt.pass_mark)
    return (select(Attempt.assignment_id.label("assignment_id"), Attempt.user_id.label("user_id"),
                   func.sum(case((submitted, 1), else_=0)).label("submitted"),
                   func.max(case((Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.id)))
                   .label("open_id"),
                   func.max(case((submitted, Attempt.score))).label("best"),
                   func.max(case((passed, Attempt.submitted_at))).label("last_pass"))
            .where(Attempt.assignment_id.in_(assignment_ids))
            .group_by(Attempt.assignment_id, Attempt.user_id)
            .subquery("sums"))


def state_expression(assignments: list[Assignment], now: datetime, sums) -> ColumnElement[str]:
    """results.assignment_state as a SQL CASE over `sums` (attempt_sums, outer-joined: NULL
    for people without attempts) and the Assignment columns, at `now`."""
    now = _utc(now)
    last_pass, open_id = sums.c.last_pass, sums.c.open_id
    months = sorted({a.recert_months for a in assignments if a.recert_months})
    valid = case(
        (Assignment.recert_months.is_(None), true()),
        *[(Assignment.recert_months == m, _in_ranges(last_pass, valid_pass_ranges(m, now)))
          for m in months],
        else_=false())
    S = AssignmentState
    return case(
        (and_(last_pass.is_not(None), valid), literal(S.PASSED.value)),
        (and_(last_pass.is_not(None), open_id.is_not(None)), literal(S.IN_PROGRESS.value)),
        (last_pass.is_not(None), literal(S.EXPIRED.value)),
        (open_id.is_not(None), literal(S.IN_PROGRESS.value)),
        (and_(Assignment.opens_at.is_not(None), Assignment.opens_at > _at(now)),
         literal(S.NOT_OPEN.value)),
        (and_(Assignment.due_at.is_not(None), Assignment.due_at < _at(now)),
         literal(S.OVERDUE.value)),
        (sums.c.submitted > 0, literal(S.NOT_PASSED.value)),
        else_=literal(S.NOT_STARTED.value))


def cells_statement(org_id: int, assignments: list[Assignment], now: datetime,
                    only: int | None = None, cohort: str = "") -> Select:
    """SELECT (user_id, assignment_id, state, best) for every member assigned to one of
    `assignments` (or only to assignment `only`; only the members of `cohort` when given,
    as in Filters), states computed in SQL.

    Who is assigned is results.assigned_condition written as a UNION (members of the
    assignment's cohort, members named on it), which the database joins by hashing instead
    of testing an OR for every member and assignment; tests check both give the same pairs.
    """
    ids = [only] if only is not None else [a.id for a in assignments]
    member = and_(Membership.org_id == org_id, Membership.role == OrgRole.MEMBER,
                  *_in_cohort(cohort))
    by_cohort = (select(Membership.user_id.label("user_id"), Assignment.id.label("assignment_id"))
                 .join(Assignment, and_(Assignment.cohort_id == Membership.cohort_id,
                                        Assignment.org_id == Membership.org_id))
                 .where(member, Assignment.id.in_(ids)))
    named = (select(Membership.user_id, AssignmentPerson.assignment_id)
             .join(AssignmentPerson, AssignmentPerson.user_id == Membership.user_id)
             .where(member, AssignmentPerson.assignment_id.in_(ids)))
    pairs = union(by_cohort, named).subquery("pairs")
    sums = attempt_sums(ids)
    return (select(pairs.c.user_id, pairs.c.assignment_id,
                   state_expression(assignments, now, sums).label("state"),
                   sums.c.best.label("best"))
            .select_from(pairs)
            .join(Assignment, Assignment.id == pairs.c.assignment_id)
            .outerjoin(sums, and_(sums.c.assignment_id == pairs.c.assignment_id,
                                  sums.c.user_id == pairs.c.user_id)))


def sql_states(org_id: int, assignments: list[Assignment], now: datetime
               ) -> dict[tuple[int, int], str]:
    """{(assignment_id, user_id): state} as the filters see it (for checks and tests)."""
    if not assignments:
        return {}
    rows = db.session.execute(cells_statement(org_id, assignments, now)).all()
    return {(aid, uid): state for uid, aid, state, _best in rows}


# --- the page -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One person on one assignment; state None when they are not assigned to it."""

    state: AssignmentState | None
    best: float | None = None
    date: datetime | None = None         # the latest pass, else the latest submission
    expires_at: datetime | None = None   # when that pass stops counting (recertification)
    attempt_id: int | None = None        # the submitted attempt the cell links to
    date_is_pass: bool = False           # `date` is the latest pass (else the latest try)

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state] if self.state else NOT_ASSIGNED


@dataclass
class Row:
    user_id: int
    name: str
    email: str
    cohort: str | None
    cells: list[Cell] = field(default_factory=list)


@dataclass
class DashboardPage(PageNumbers):
    assignments: list[Assignment]
    rows: list[Row]
    total: int
    page: int
    pages: int
    filters: Filters


def _once(stmt: Select, name: str):
    """`stmt` as a CTE that PostgreSQL computes once (MATERIALIZED): left to itself, the
    planner may correlate it with each membership row and redo the grouped pass over the
    attempts for every person (seconds instead of milliseconds at 10,000 members)."""
    return stmt.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")


def _in_cohort(cohort: str) -> list:
    if cohort == NO_COHORT:
        return [Membership.cohort_id.is_(None)]
    return [Membership.cohort_id == int(cohort)] if cohort else []


def _where(org_id: int, assignments: list[Assignment], f: Filters, now: datetime) -> list:
    """The conditions on Membership (and on User, only with a search) that pick the people."""
    where = [Membership.org_id == org_id, Membership.role == OrgRole.MEMBER]
    if f.q:
        pattern = like_pattern(f.q.lower())
        where.append(or_(func.lower(User.name).like(pattern, escape="\\"),
                         User.email.like(pattern, escape="\\")))
    where += _in_cohort(f.cohort)
    if f.status:
        if assignments:
            cells = _once(cells_statement(org_id, assignments, now, only=f.status_in,
                                          cohort=f.cohort), "matching")
            where.append(Membership.user_id.in_(
                select(cells.c.user_id).where(cells.c.state == f.status)))
        else:
            where.append(false())
    return where


def _count(org_id: int, assignments: list[Assignment], f: Filters, now: datetime) -> int:
    """How many people match: the membership rows alone unless a search needs the names."""
    stmt = select(func.count()).select_from(Membership)
    if f.q:
        stmt = stmt.join(User, User.id == Membership.user_id)
    return db.session.scalar(stmt.where(*_where(org_id, assignments, f, now))) or 0


def _people(org_id: int, assignments: list[Assignment], f: Filters, now: datetime
            ) -> tuple[Select, list]:
    """(SELECT of the matching people's user_id, name, e-mail, cohort name; ORDER BY)."""
    stmt = (select(User.id, User.name, User.email, Cohort.name)
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .outerjoin(Cohort, Cohort.id == Membership.cohort_id)
            .where(*_where(org_id, assignments, f, now)))
    asc = f.direction == "asc"
    tie = [User.name.asc() if asc else User.name.desc(), User.id.asc() if asc else User.id.desc()]
    if f.sort == "cohort":
        key = Cohort.name.asc().nulls_last() if asc else Cohort.name.desc().nulls_last()
        order = [key, *tie]
    elif f.sort_assignment is not None:
        cells = _once(cells_statement(org_id, assignments, now, only=f.sort_assignment,
                                      cohort=f.cohort), "sorted")
        stmt = stmt.outerjoin(cells, cells.c.user_id == Membership.user_id)
        rank = case(*[(cells.c.state == s.value, i) for i, s in enumerate(STATE_ORDER)])
        if asc:
            order = [rank.asc().nulls_last(), cells.c.best.asc().nulls_first(), *tie]
        else:
            order = [rank.desc().nulls_last(), cells.c.best.desc().nulls_last(), *tie]
    else:
        order = tie
    return stmt, order


def _cells_for(assignments: list[Assignment], user_ids: list[int], now: datetime
               ) -> dict[int, list[Cell]]:
    """{user_id: [Cell per assignment]} for these people: two statements."""
    ids = [a.id for a in assignments]
    if not ids or not user_ids:
        return {uid: [Cell(None)] * len(ids) for uid in user_ids}
    found = results.person_results(ids, user_ids)
    assigned = {(aid, uid) for aid, uid in db.session.execute(
        results.assignees(ids).where(Membership.user_id.in_(user_ids)))}
    # Plain copies of the rules: reading them off the ORM objects once per cell is most of
    # the CSV's time at 10,000 members.
    rules = [_Rules(a.id, a.opens_at, a.due_at, a.recert_months) for a in assignments]
    blank = Cell(None)
    out: dict[int, list[Cell]] = {}
    for uid in user_ids:
        out[uid] = [_cell(r, found.get((r.id, uid)), now) if (r.id, uid) in assigned else blank
                    for r in rules]
    return out


@dataclass(frozen=True, slots=True)
class _Rules:
    """What results.assignment_state and pass_expires_at read of an assignment."""

    id: int
    opens_at: datetime | None
    due_at: datetime | None
    recert_months: int | None


def _cell(assignment: _Rules, result: PersonResult | None, now: datetime) -> Cell:
    state = assignment_state(assignment, result, now)
    if result is None:
        return Cell(state)
    if result.last_pass_at is not None:
        return Cell(state, result.best_score, result.last_pass_at,
                    pass_expires_at(assignment, result.last_pass_at),
                    result.last_pass_attempt_id, True)
    return Cell(state, result.best_score, result.last_submitted_at, None, result.best_attempt_id)


def dashboard_page(org_id: int, assignments: list[Assignment], f: Filters, page: int,
                   now: datetime) -> DashboardPage:
    """One page of the matrix: count, page of people, then their cells (four statements)."""
    total = _count(org_id, assignments, f, now)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows: list[Row] = []
    if total:
        people, order = _people(org_id, assignments, f, now)
        found = db.session.execute(
            people.order_by(*order).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
        cells = _cells_for(assignments, [r[0] for r in found], now)
        rows = [Row(uid, name, email, cohort, cells[uid]) for uid, name, email, cohort in found]
    return DashboardPage(assignments, rows, total, page, pages, f)


# --- the CSV ------------------------------------------------------------------------------

def neutralise(value: str) -> str:
    """A cell a spreadsheet would read as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_lines(rows: list[list[str]]) -> str:
    """CSV text (CRLF line ends) of these rows, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for values in rows:
        writer.writerow([neutralise(v) for v in values])
    return out.getvalue()


def _iso(moment: datetime | None) -> str:
    return _utc(moment).date().isoformat() if moment is not None else ""


def csv_header(assignments: list[Assignment]) -> list[str]:
    head = ["Name", "E-mail", "Cohort"]
    for a in assignments:
        title = f"{a.question_set.title} (#{a.id})"
        head += [f"{title} status", f"{title} best score", f"{title} date"]
        if a.recert_months:
            head.append(f"{title} expires")
    return head


def csv_chunks(org_id: int, assignments: list[Assignment], f: Filters, now: datetime
               ) -> Iterator[str]:
    """The dashboard with these filters and sort, every page, as CSV text in pieces: a BOM
    and the header, then CSV_CHUNK people at a time (one statement for the people in order,
    then two per chunk for their cells)."""
    yield "\ufeff" + _csv_lines([csv_header(assignments)])
    people, order = _people(org_id, assignments, f, now)
    found = db.session.execute(people.order_by(*order)).all()
    recert = [bool(a.recert_months) for a in assignments]
    for start in range(0, len(found), CSV_CHUNK):
        chunk = found[start:start + CSV_CHUNK]
        cells = _cells_for(assignments, [r[0] for r in chunk], now)
        lines = []
        for uid, name, email, cohort in chunk:
            values = [name, email, cohort or ""]
            for expires, cell in zip(recert, cells[uid], strict=True):
                score = f"{cell.best:.1f}" if cell.best is not None else ""
                values += [cell.label, score, _iso(cell.date)]
                if expires:
                    values.append(_iso(cell.expires_at))
            lines.append(values)
        yield _csv_lines(lines)
