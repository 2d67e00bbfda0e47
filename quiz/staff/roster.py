"""The learner roster, one page at a time: search, sort and page in SQL, two statements a page.

Offset pages (not keyset cursors): staff see "page 3 of 12" and can jump, a page is a plain
bookmarkable number, and every sort but name and e-mail orders by per-learner aggregates, which
the database computes for all matching learners whatever the paging. See RosterPage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, or_

from ..extensions import db
from ..models import Attempt, User
from ..paging import PageNumbers
from ..vocab import AttemptStatus, Role

PER_PAGE = 50
# Longer than any name (100) or address (254) in the database, so nothing longer can match.
MAX_QUERY = 254
# Each sort key with the direction it opens in (most recent activity and best results first).
SORTS = {"name": "asc", "email": "asc", "active": "desc", "result": "desc"}


@dataclass
class RosterRow:
    user_id: int
    name: str
    email: str
    joined: datetime
    attempts: int
    last_active: datetime | None
    best_gated: float | None  # best score on checks with a pass mark (onboarding)
    passed_gated: bool


@dataclass
class RosterPage(PageNumbers):
    rows: list[RosterRow]
    total: int  # learners matching the search
    page: int  # 1-based, clamped to the pages that exist
    pages: int  # at least 1, so an empty roster is "page 1 of 1"
    query: str
    sort: str
    direction: str


def clean_query(raw: str | None) -> str:
    return " ".join((raw or "").split())[:MAX_QUERY]


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _learners(query: str, learners: ColumnElement[bool] | None):
    """`learners` (default: every learner) whose name or e-mail holds `query`, case-insensitive
    (e-mails are stored lower-case)."""
    where = [User.role == Role.LEARNER if learners is None else learners]
    if query:
        pattern = like_pattern(query.lower())
        where.append(or_(func.lower(User.name).like(pattern, escape="\\"),
                         User.email.like(pattern, escape="\\")))
    return where


def _activity():
    """Per learner: submitted attempts, last submission, best gated score, any gated pass."""
    gated = Attempt.pass_mark.is_not(None)
    return (
        db.select(
            Attempt.user_id.label("user_id"),
            func.count().label("attempts"),
            func.max(Attempt.submitted_at).label("last_active"),
            func.max(case((gated, Attempt.score))).label("best"),
            func.max(case((gated & (Attempt.score >= Attempt.pass_mark), 1), else_=0))
            .label("passed"),
        )
        .where(Attempt.status == AttemptStatus.SUBMITTED)
        .group_by(Attempt.user_id)
    )


def _ordered(column, direction: str):
    """`column` in `direction`, NULLs (never active, never taken) counting as the lowest value."""
    return column.desc().nulls_last() if direction == "desc" else column.asc().nulls_first()


def roster_page(query: str = "", sort: str = "name", direction: str | None = None,
                page: int = 1, learners: ColumnElement[bool] | None = None) -> RosterPage:
    """One page of learners matching `query`, sorted by `sort` ("name", "email", "active" or
    "result") in `direction`; unknown values fall back to name order and page 1. `learners`
    is the viewer's policy.visible_learners (default: every learner)."""
    sort = sort if sort in SORTS else "name"
    direction = direction if direction in ("asc", "desc") else SORTS[sort]
    query = clean_query(query)
    where = _learners(query, learners)

    total = db.session.scalar(db.select(func.count()).select_from(User).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    offset = (page - 1) * PER_PAGE
    rows: list[RosterRow] = []
    if total:
        rows = _fetch(where, sort, direction, offset)
    return RosterPage(rows, total, page, pages, query, sort, direction)


def _fetch(where, sort: str, direction: str, offset: int) -> list[RosterRow]:
    if sort in ("name", "email"):
        # Page the user table first (an index walk on role, name or on e-mail), then join only
        # those 50 learners' attempts: the cost does not depend on the number of learners.
        # Both columns are NOT NULL, so plain ASC/DESC, which the indexes serve as they are.
        key = User.name if sort == "name" else User.email
        # E-mails are unique: no tiebreaker, so the unique index alone serves the order.
        tie = [User.id] if sort == "name" else []
        order = [c.asc() if direction == "asc" else c.desc() for c in (key, *tie)]
        users = (db.select(User.id, User.name, User.email, User.created_at)
                 .where(*where).order_by(*order).limit(PER_PAGE).offset(offset).subquery())
        gated = Attempt.pass_mark.is_not(None)
        key = users.c.name if sort == "name" else users.c.email
        stmt = (db.select(
                    users.c.id, users.c.name, users.c.email, users.c.created_at,
                    func.count(Attempt.id), func.max(Attempt.submitted_at),
                    func.max(case((gated, Attempt.score))),
                    func.max(case((gated & (Attempt.score >= Attempt.pass_mark), 1), else_=0)))
                .select_from(users)
                .outerjoin(Attempt, (Attempt.user_id == users.c.id)
                           & (Attempt.status == AttemptStatus.SUBMITTED))
                .group_by(users.c.id, users.c.name, users.c.email, users.c.created_at)
                .order_by(key.asc() if direction == "asc" else key.desc(),
                          users.c.id.asc() if direction == "asc" else users.c.id.desc()))
    else:
        # Ordering by an aggregate needs it for every matching learner: one grouped pass over
        # the (user_id, submitted_at) index of submitted attempts, then the page.
        activity = _activity().subquery()
        if sort == "active":
            order = [_ordered(activity.c.last_active, direction)]
        else:
            order = [_ordered(activity.c.passed, direction), _ordered(activity.c.best, direction)]
        stmt = (db.select(User.id, User.name, User.email, User.created_at, activity.c.attempts,
                          activity.c.last_active, activity.c.best, activity.c.passed)
                .outerjoin(activity, activity.c.user_id == User.id)
                .where(*where)
                .order_by(*order, User.name, User.id)
                .limit(PER_PAGE).offset(offset))
    return [RosterRow(uid, name, email, joined, n or 0, last, best, bool(passed))
            for uid, name, email, joined, n, last, best, passed in db.session.execute(stmt)]
