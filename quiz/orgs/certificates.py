"""Certificates: issued when an attempt made for an assignment passes; the PDF; the public
verification by code; an organisation's list; revoking.

A certificate states what was true when it was issued (learner, set, organisation, score:
copied, so a later rename changes no document already handed out) and carries a random
code. The public page /verify/<code> shows whether it is valid, expired (past the
assignment's recertification date) or revoked, and those facts only.

Codes: CODE_LENGTH characters drawn with `secrets` from an alphabet without look-alikes
(no 0/O, 1/I/L), shown in groups of four (ABCD-EFGH-JKMN), stored without the dashes in
upper case. 31**12 is about 7.9e17 codes (59 bits): guessing one of a million issued codes
takes some 10**11 tries, and the verification page is rate-limited per address.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..extensions import db
from ..models import Assignment, Attempt, Certificate, Organisation, QuestionSet, User
from ..staff.roster import PER_PAGE, RosterPage, clean_query, like_pattern
from ..vocab import AttemptStatus, AuditEntity
from .results import _aware, pass_expires_at
from .tenancy import Need, can_act

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
_CODE_SHAPE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
MAX_REASON = 200  # Certificate.revoke_reason


class CertificateError(ValueError):
    """A change to a certificate that cannot be made (the message says why)."""


class AlreadyRevoked(CertificateError):
    """The certificate was revoked before (revoking is final)."""


class CertificateStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


# --- codes ---------------------------------------------------------------------------------

def new_code() -> str:
    """A fresh random code (not derived from any id or time)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str | None) -> str | None:
    """The stored form of a typed or linked code (case, spaces and dashes do not matter),
    or None if it cannot be a code at all (then there is nothing to look up)."""
    if not raw or len(raw) > 64:
        return None
    code = re.sub(r"[\s\-]", "", raw).upper()
    return code if _CODE_SHAPE.fullmatch(code) else None


def display_code(code: str) -> str:
    """ABCDEFGHJKMN -> ABCD-EFGH-JKMN."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


# --- status --------------------------------------------------------------------------------

def certificate_status(cert: Any, now: datetime) -> CertificateStatus:
    """Revoked (final), else expired once past `expires_at`, else valid (a pure function)."""
    if cert.revoked_at is not None:
        return CertificateStatus.REVOKED
    expires = _aware(cert.expires_at)
    if expires is not None and now >= expires:
        return CertificateStatus.EXPIRED
    return CertificateStatus.VALID


def _status_condition(status: CertificateStatus, now: datetime) -> ColumnElement[bool]:
    """The SQL twin of certificate_status."""
    if status is CertificateStatus.REVOKED:
        return Certificate.revoked_at.is_not(None)
    if status is CertificateStatus.EXPIRED:
        return and_(Certificate.revoked_at.is_(None), Certificate.expires_at.is_not(None),
                    Certificate.expires_at <= now)
    return and_(Certificate.revoked_at.is_(None),
                or_(Certificate.expires_at.is_(None), Certificate.expires_at > now))


# --- issuing -------------------------------------------------------------------------------

def _passed(attempt: Attempt) -> bool:
    return (attempt.status == AttemptStatus.SUBMITTED and attempt.pass_mark is not None
            and attempt.score is not None and attempt.score >= attempt.pass_mark)


def _facts() -> Select:
    """(attempt, assignment, organisation name, set title, learner name) of attempts."""
    return (select(Attempt, Assignment, Organisation.name, QuestionSet.title, User.name)
            .join(Assignment, Assignment.id == Attempt.assignment_id)
            .join(Organisation, Organisation.id == Assignment.org_id)
            .join(QuestionSet, QuestionSet.id == Attempt.set_id)
            .join(User, User.id == Attempt.user_id))


def _new_certificate(attempt: Attempt, assignment: Assignment, org_name: str, set_title: str,
                     learner_name: str) -> Certificate:
    passed_at = _aware(attempt.submitted_at)
    cert = Certificate(
        code=new_code(), org_id=assignment.org_id, assignment_id=assignment.id,
        user_id=attempt.user_id, attempt_id=attempt.id, learner_name=learner_name,
        set_title=set_title, org_name=org_name, score=attempt.score, issued_at=passed_at,
        expires_at=pass_expires_at(assignment, passed_at),
    )
    db.session.add(cert)
    return cert


def issue_if_passed(attempt: Attempt) -> Certificate | None:
    """After a submit: the certificate of a passing attempt made for an assignment, in the
    submit's transaction (one SELECT of the facts, one INSERT). Free practice and attempts
    that did not pass send no statement at all."""
    if attempt.assignment_id is None or not _passed(attempt):
        return None
    row = db.session.execute(_facts().where(Attempt.id == attempt.id)).one_or_none()
    if row is None:  # the assignment is gone (deleted between start and submit)
        return None
    _, assignment, org_name, set_title, learner_name = row
    cert = _new_certificate(attempt, assignment, org_name, set_title, learner_name)
    db.session.flush()
    return cert


def backfill() -> list[Certificate]:
    """Certificates for passing assignment attempts that have none (passes made before
    certificates existed). Idempotent: a second run issues nothing. One SELECT, then the
    INSERTs; issued_at is each attempt's own submission time."""
    rows = db.session.execute(
        _facts().where(
            Attempt.status == AttemptStatus.SUBMITTED, Attempt.pass_mark.is_not(None),
            Attempt.score >= Attempt.pass_mark,
            ~exists().where(Certificate.attempt_id == Attempt.id))
        .order_by(Attempt.submitted_at, Attempt.id)
    ).all()
    issued = [_new_certificate(*row) for row in rows]
    db.session.flush()
    return issued


# --- reading -------------------------------------------------------------------------------

def find_by_code(raw: str | None) -> Certificate | None:
    """The certificate with exactly this code (after normalising case, spaces, dashes)."""
    code = normalise_code(raw)
    if code is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def can_download(user: Any, cert: Certificate) -> bool:
    """Its learner, the organisation's managers and instructors, and site admins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return cert.user_id == user.id or can_act(user, cert.org_id, Need.VIEW)


def my_certificates(user_id: int) -> list[Certificate]:
    """A learner's certificates, newest first (one statement)."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


@dataclass
class CertificateRow:
    id: int
    code: str
    learner_name: str
    set_title: str
    score: float
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass
class CertificatePage(RosterPage):
    status: str = ""  # "" for every status


STATUS_CHOICES = tuple(s.value for s in CertificateStatus)


def org_certificate_page(org_id: int, now: datetime, query: str = "", status: str = "",
                         page: int = 1) -> CertificatePage:
    """One page (50) of an organisation's certificates, newest first: two statements (the
    count, the page). `query` is a case-insensitive part of the learner's name; `status`
    one of STATUS_CHOICES or "" for all; unknown values fall back to the defaults and a
    page past the end shows the last one."""
    status = status if status in STATUS_CHOICES else ""
    query = clean_query(query)
    where = [Certificate.org_id == org_id]
    if query:
        where.append(func.lower(Certificate.learner_name).like(like_pattern(query.lower()),
                                                               escape="\\"))
    if status:
        where.append(_status_condition(CertificateStatus(status), now))
    total = db.session.scalar(select(func.count()).select_from(Certificate).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows: list[CertificateRow] = []
    if total:
        rows = [CertificateRow(*row) for row in db.session.execute(
            select(Certificate.id, Certificate.code, Certificate.learner_name,
                   Certificate.set_title, Certificate.score, Certificate.issued_at,
                   Certificate.expires_at, Certificate.revoked_at)
            .where(*where)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            .limit(PER_PAGE).offset((page - 1) * PER_PAGE))]
    return CertificatePage(rows, total, page, pages, query, "issued", "desc", status=status)


# --- revoking ------------------------------------------------------------------------------

def revoke(cert: Certificate, actor: User, reason: str, now: datetime) -> None:
    """Revoke a certificate for good, with the reason, audited. A conditional UPDATE decides:
    of two revokes (or a double click) one wins and the other raises AlreadyRevoked."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise CertificateError("Say why the certificate is revoked.")
    if len(reason) > MAX_REASON:
        raise CertificateError(f"Keep the reason to {MAX_REASON} characters.")
    result = db.session.execute(
        update(Certificate)
        .where(Certificate.id == cert.id, Certificate.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor.id, revoke_reason=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.expire(cert, ["revoked_at", "revoked_by_id", "revoke_reason"])
        raise AlreadyRevoked("This certificate was already revoked; revoking is final.")
    for name, value in (("revoked_at", now), ("revoked_by_id", actor.id), ("revoke_reason", reason)):
        set_committed_value(cert, name, value)
    audit.record(actor, AuditEntity.CERTIFICATE, cert.id, "revoke",
                 f"Revoked certificate {display_code(cert.code)} of {cert.learner_name}",
                 {"code": cert.code, "org_id": cert.org_id, "reason": reason})
