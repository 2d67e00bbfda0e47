"""The studio's lists, one page at a time: questions (search, filters, sort) and the audit log.

Search, filter, sort and page in SQL: two statements a page (the count of matches, then the
page), whatever the size of the bank or the log. Filter values are read leniently: a value
that names nothing (an unknown topic, a type that does not exist, a date that is no date) is
dropped and reported in `notices`, never an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    AuditEvent,
    Question,
    QuestionRevision,
    RevisionKeyPoint,
    Topic,
    User,
)
from ..paging import PageNumbers
from ..qtypes import TYPES
from ..staff.roster import PER_PAGE, RosterPage, clean_query, like_pattern
from ..stats import analysis
from ..vocab import STAFF_ROLES, AuditEntity, Difficulty, QuestionStatus

# Each sort key with the direction it opens in (recently changed first).
SORTS = {"id": "asc", "topic": "asc", "updated": "desc", "status": "asc"}
LINT_FILTERS = {"yes": "with lint warnings", "no": "without lint warnings",
                "unknown": "lint not counted yet"}
FLAG_FILTERS = {"yes": "flagged by the statistics"}
FILTER_KEYS = ("q", "topic", "kp", "type", "status", "difficulty", "lint", "flagged")

Latest = aliased(QuestionRevision, name="latest")
Current = aliased(QuestionRevision, name="current")


@dataclass
class QuestionFilter:
    """The list's search and filters, cleaned; `notices` says what was dropped and why."""

    q: str = ""
    topic: str = ""
    kp: str = ""
    type: str = ""
    status: str = ""
    difficulty: str = ""
    lint: str = ""
    flagged: str = ""  # "yes": only questions whose served revision has statistics flags
    notices: list[str] = field(default_factory=list)

    def args(self) -> dict[str, str]:
        """The filter as URL parameters (only those set)."""
        return {k: getattr(self, k) for k in FILTER_KEYS if getattr(self, k)}

    @property
    def active(self) -> bool:
        return bool(self.args())


def read_filter(args: Any, topic_ids: set[str], kp_ids: set[str]) -> QuestionFilter:
    """The filter from request arguments; unknown values are dropped with a notice."""
    f = QuestionFilter(q=clean_query(args.get("q")))
    allowed = {
        "topic": (topic_ids, "topic"),
        "kp": (kp_ids, "key point"),
        "type": (set(TYPES), "question type"),
        "status": ({s.value for s in QuestionStatus}, "status"),
        "difficulty": ({d.value for d in Difficulty}, "difficulty"),
        "lint": (set(LINT_FILTERS), "lint filter"),
        "flagged": (set(FLAG_FILTERS), "flag filter"),
    }
    for key, (values, noun) in allowed.items():
        raw = args.get(key, "")
        if not isinstance(raw, str) or not raw:
            continue
        if raw in values:
            setattr(f, key, raw)
        else:
            f.notices.append(f"There is no {noun} “{raw[:64]}”: that filter was left out.")
    return f


def _where(f: QuestionFilter) -> list:
    where = []
    if f.q:
        where.append(Latest.search_text.like(like_pattern(f.q.lower()), escape="\\"))
    if f.topic:
        where.append(Question.topic_id == f.topic)
    if f.kp:
        where.append(exists().where(RevisionKeyPoint.revision_id == Question.latest_revision_id,
                                    RevisionKeyPoint.key_point_id == f.kp))
    if f.type:
        where.append(Latest.qtype == f.type)
    if f.status:
        where.append(Question.status == f.status)
    if f.difficulty:
        where.append(Latest.difficulty == f.difficulty)
    if f.lint == "yes":
        where.append(Latest.lint_warnings > 0)
    elif f.lint == "no":
        where.append(Latest.lint_warnings == 0)
    elif f.lint == "unknown":
        where.append(Latest.lint_warnings.is_(None))
    if f.flagged:
        where.append(Question.id.in_(flagged_ids()))
    return where


def flagged_ids() -> list[str]:
    """Questions whose served revision is flagged (first attempts, every set): the served
    questions' ids, then one question_flags call. Only the "flagged" filter pays for it."""
    ids = list(db.session.scalars(db.select(Question.id)
                                  .where(Question.current_revision_id.isnot(None))))
    return sorted(qid for qid, flags in analysis.question_flags(ids).items() if flags)


def _joined(stmt):
    return stmt.select_from(Question).outerjoin(Latest, Latest.id == Question.latest_revision_id)


def matching_ids(f: QuestionFilter) -> list[str]:
    """Every question id the filter matches (bulk actions on "all matching"): one statement."""
    return list(db.session.scalars(_joined(db.select(Question.id)).where(*_where(f))
                                   .order_by(Question.id)))


@dataclass
class QuestionRow:
    id: str
    status: str
    topic: str
    qtype: str | None
    difficulty: str | None
    prompt: str | None
    latest: int | None
    current: int | None
    updated: datetime | None
    lint_warnings: int | None

    @property
    def pending(self) -> bool:
        """A published question whose newest revision is not served yet."""
        return (self.status == QuestionStatus.PUBLISHED and self.current is not None
                and self.latest != self.current)


@dataclass
class QuestionPage(RosterPage):
    filter: QuestionFilter = field(default_factory=QuestionFilter)


def question_page(f: QuestionFilter, sort: str = "id", direction: str | None = None,
                  page: int = 1) -> QuestionPage:
    """One page of questions matching `f`; unknown sorts fall back to the defaults and a page
    past the end shows the last one."""
    sort = sort if sort in SORTS else "id"
    direction = direction if direction in ("asc", "desc") else SORTS[sort]
    where = _where(f)
    total = db.session.scalar(_joined(db.select(func.count(Question.id))).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows: list[QuestionRow] = []
    if total:
        key = {"id": Question.id, "topic": Topic.title, "updated": Latest.created_at,
               "status": Question.status}[sort]
        order = key.asc() if direction == "asc" else key.desc()
        stmt = (_joined(db.select(Question.id, Question.status, Topic.title, Latest.qtype,
                                  Latest.difficulty, Latest.prompt, Latest.number,
                                  Current.number, Latest.created_at, Latest.lint_warnings))
                .join(Topic, Topic.id == Question.topic_id)
                .outerjoin(Current, Current.id == Question.current_revision_id)
                .where(*where).order_by(order, Question.id)
                .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
        rows = [QuestionRow(*row) for row in db.session.execute(stmt)]
    return QuestionPage(rows, total, page, pages, f.q, sort, direction, filter=f)


# --- the audit log ------------------------------------------------------------------------

@dataclass
class AuditFilter:
    entity: str = ""
    entity_id: str = ""
    actor: str = ""  # a user id, "cli" (the command line), or "" for anyone
    since: date | None = None
    until: date | None = None
    notices: list[str] = field(default_factory=list)

    def args(self) -> dict[str, str]:
        out = {"entity": self.entity, "id": self.entity_id, "actor": self.actor,
               "since": self.since.isoformat() if self.since else "",
               "until": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in out.items() if v}


def _date(raw: Any, label: str, notices: list[str]) -> date | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        notices.append(f"“{raw[:32]}” is not a date (YYYY-MM-DD): the “{label}” filter was left out.")
        return None


def read_audit_filter(args: Any, actor_ids: set[int]) -> AuditFilter:
    f = AuditFilter()
    entity = args.get("entity", "")
    if entity in {e.value for e in AuditEntity}:
        f.entity = entity
    elif entity:
        f.notices.append(f"There is no kind of record “{str(entity)[:32]}”: that filter was left out.")
    f.entity_id = " ".join(str(args.get("id", "")).split())[:64]
    actor = args.get("actor", "")
    if actor == "cli" or (actor.isascii() and actor.isdigit() and int(actor) in actor_ids):
        f.actor = actor
    elif actor:
        f.notices.append(f"There is no such person “{actor[:32]}”: that filter was left out.")
    f.since = _date(args.get("since"), "from", f.notices)
    f.until = _date(args.get("until"), "to", f.notices)
    if f.since and f.until and f.since > f.until:
        f.notices.append("The dates were the wrong way round: they were swapped.")
        f.since, f.until = f.until, f.since
    return f


def audit_actors() -> list[tuple[int, str]]:
    """Who may appear as an actor: staff accounts (the bank's editors and the admins), by name."""
    return [(uid, name) for uid, name in db.session.execute(
        db.select(User.id, User.name).where(User.role.in_(STAFF_ROLES)).order_by(User.name, User.id))]


@dataclass
class AuditRow:
    id: int
    at: datetime
    actor: str | None
    entity_type: str
    entity_id: str
    action: str
    summary: str


@dataclass
class AuditPage(PageNumbers):
    rows: list[AuditRow]
    total: int
    page: int
    pages: int
    filter: AuditFilter


def audit_page(f: AuditFilter, page: int = 1) -> AuditPage:
    """Newest first, 50 a page: two statements."""
    where = []
    if f.entity:
        where.append(AuditEvent.entity_type == f.entity)
    if f.entity_id:
        where.append(AuditEvent.entity_id == f.entity_id)
    if f.actor == "cli":
        where.append(AuditEvent.actor_id.is_(None))
    elif f.actor:
        where.append(AuditEvent.actor_id == int(f.actor))
    if f.since:
        where.append(AuditEvent.at >= datetime.combine(f.since, time(), UTC))
    if f.until:
        where.append(AuditEvent.at < datetime.combine(f.until + timedelta(days=1), time(), UTC))
    total = db.session.scalar(db.select(func.count(AuditEvent.id)).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows: list[AuditRow] = []
    if total:
        stmt = (db.select(AuditEvent.id, AuditEvent.at, User.name, AuditEvent.entity_type,
                          AuditEvent.entity_id, AuditEvent.action, AuditEvent.summary)
                .outerjoin(User, User.id == AuditEvent.actor_id)
                .where(*where).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
        rows = [AuditRow(*row) for row in db.session.execute(stmt)]
    return AuditPage(rows, total, page, pages, f)

