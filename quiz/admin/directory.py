"""Every account, one page at a time for admins: search, filter, sort and page in SQL.

Two statements a page (the count of matches, then the page), as the learner roster
(staff/roster.py), whose query cleaning, LIKE escaping and page links this reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_

from ..extensions import db
from ..models import User
from ..staff.roster import PER_PAGE, RosterPage, clean_query, like_pattern
from ..vocab import Role

# Each sort key with the direction it opens in (recent sign-ins and new accounts first).
SORTS = {"name": "asc", "email": "asc", "role": "asc", "login": "desc", "joined": "desc"}
STATUSES = ("all", "active", "inactive")


@dataclass
class UserRow:
    user_id: int
    name: str
    email: str
    role: str
    active: bool
    last_login_at: datetime | None
    joined: datetime


@dataclass
class UserPage(RosterPage):
    role: str = ""  # "" for every role
    status: str = "all"


def _where(query: str, role: str, status: str) -> list:
    where = []
    if query:
        pattern = like_pattern(query.lower())
        where.append(or_(func.lower(User.name).like(pattern, escape="\\"),
                         User.email.like(pattern, escape="\\")))
    if role:
        where.append(User.role == role)
    if status != "all":
        where.append(User.active.is_(status == "active"))
    return where


def user_page(query: str = "", role: str = "", status: str = "all", sort: str = "name",
              direction: str | None = None, page: int = 1) -> UserPage:
    """One page of accounts whose name or e-mail holds `query` (case-insensitive), of `role`
    ("" for any) and `status` ("all", "active", "inactive"); unknown values fall back to the
    defaults and a page past the end shows the last one."""
    role = role if role in tuple(Role) else ""
    status = status if status in STATUSES else "all"
    sort = sort if sort in SORTS else "name"
    direction = direction if direction in ("asc", "desc") else SORTS[sort]
    query = clean_query(query)
    where = _where(query, role, status)

    total = db.session.scalar(db.select(func.count()).select_from(User).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows: list[UserRow] = []
    if total:
        key = {"name": User.name, "email": User.email, "role": User.role,
               "login": User.last_login_at, "joined": User.created_at}[sort]
        if sort == "login":  # never signed in counts as the oldest
            first = key.desc().nulls_last() if direction == "desc" else key.asc().nulls_first()
        else:
            first = key.asc() if direction == "asc" else key.desc()
        tie = [User.name, User.id] if sort != "name" else [User.id]
        stmt = (db.select(User.id, User.name, User.email, User.role, User.active,
                          User.last_login_at, User.created_at)
                .where(*where).order_by(first, *tie)
                .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
        rows = [UserRow(*row) for row in db.session.execute(stmt)]
    return UserPage(rows, total, page, pages, query, sort, direction, role=role, status=status)
