"""Bringing staff in: invitations (by an e-mail list or a CSV file) and join codes.

Plain functions; they only flush. The views (invitation_views.py) parse forms, call these,
commit once.

Invitations. A manager's list or file is read into rows (`parse_email_list`, `parse_csv`:
no database), each row checked against the organisation (`check_rows`: unknown cohort,
already a member, already invited and pending, repeated address, bad address). The preview
writes nothing; what it would write travels to the confirm step in a signed, timed hidden
field (`sign_preview` / `read_preview`: tampered or stale -> PreviewRefused, a 400).
`create_invitations` takes the organisation's row lock, checks every row again and writes
all of them or none (StalePreview when something changed since the preview). Each
invitation gets a random token (`secrets`), of which only the SHA-256 is stored; the link
goes out by mail (quiz.mail: delivered only if the transaction commits).

Accepting: `find_invitation` (unknown 404; used, revoked, expired 410), then
`accept_existing` (the signed-in owner of the invited address) or `accept_new` (creates the
account). Both first claim the invitation with a conditional UPDATE, so a double submit or
two racing tabs accept it once.

Join codes: ten characters from an alphabet without look-alikes (about 50 bits); a use is
counted by `UPDATE .. SET uses = uses + 1 WHERE uses < max_uses` and only a row actually
updated lets the person in, so two people racing for the last use cannot both join.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import accounts, audit
from ..extensions import db
from ..mail import send_mail
from ..models import Cohort, Invitation, JoinCode, Membership, Organisation, User
from ..vocab import AuditEntity, OrgRole
from .tenancy import add_member

MAX_CSV_BYTES = 1024 * 1024
MAX_ROWS = 2000
MAX_PREVIEW_FIELD = 120 * 1024  # the signed rows must fit one form field (MAX_FORM_MEMORY_SIZE)
PREVIEW_MAX_AGE = 2 * 3600  # seconds a preview can be confirmed
DEFAULT_INVITATION_DAYS = 14
INVITABLE_ROLES = (OrgRole.MEMBER, OrgRole.INSTRUCTOR)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 10
PAGE_SIZE = 50
STATUSES = ("pending", "accepted", "expired", "revoked")

_SALT = "orgs.invitations.preview"


# --- errors -------------------------------------------------------------------------------

class InviteFileError(ValueError):
    """A list or file that cannot be read at all (nothing previewed): 400, or 413 if too big."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class PreviewRefused(ValueError):
    """A confirm POST whose signed preview is missing, changed, someone else's or too old."""


class StalePreview(ValueError):
    """Something changed since the preview (a member joined, another manager invited the same
    address, a cohort went): nothing was written; `rows` carry the new errors."""

    def __init__(self, rows: list[Row]) -> None:
        super().__init__("The organisation changed since the preview.")
        self.rows = rows


class LinkError(ValueError):
    """An invitation link or join code that cannot be used: 404 (unknown), 410 (used, revoked,
    expired, used up), 403 (signed in as someone else), 409 (an account appeared meanwhile)."""

    def __init__(self, message: str, status: int, invitation: Invitation | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.invitation = invitation  # the used or expired invitation, where there is one


class Conflict(ValueError):
    """A manager's change the row's state refuses (resending an accepted invitation): 409."""


# --- time and tokens ----------------------------------------------------------------------

def invitation_days() -> int:
    """INVITATION_DAYS (QUIZ_INVITATION_DAYS), default 14: how long an invitation link works."""
    days = current_app.config.get("INVITATION_DAYS", DEFAULT_INVITATION_DAYS)
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = DEFAULT_INVITATION_DAYS
    return max(1, days)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(32)


aware = accounts.aware


# --- reading a list or a file -------------------------------------------------------------

@dataclass
class Row:
    """One invitee as read from the list or file, with what is wrong with it."""

    line: int  # the file's line (the header is line 1), or the position in the list
    email: str
    name: str = ""
    cohort_name: str = ""
    cohort_id: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _check_address(row: Row) -> None:
    if not row.email:
        row.errors.append("No e-mail address.")
    elif len(row.email) > 254 or not accounts.EMAIL_RE.match(row.email):
        row.errors.append("Not a valid e-mail address.")


def parse_email_list(text: str) -> list[Row]:
    """Addresses one per line or separated by commas or semicolons; blanks are skipped."""
    entries = [part.strip() for line in (text or "").splitlines()
               for part in line.replace(";", ",").split(",")]
    entries = [e for e in entries if e]
    if not entries:
        raise InviteFileError("Enter at least one e-mail address, or choose a CSV file.")
    if len(entries) > MAX_ROWS:
        raise InviteFileError(f"That is {len(entries)} addresses; at most {MAX_ROWS} at once. "
                              "Split the list.")
    rows = []
    for number, entry in enumerate(entries, start=1):
        row = Row(line=number, email=accounts.normalise_email(entry))
        _check_address(row)
        rows.append(row)
    return rows


HEADERS = {"name": "name", "full name": "name", "e-mail": "email", "email": "email",
           "e-mail address": "email", "email address": "email", "cohort": "cohort"}
REQUIRED = ("name", "email")


def parse_csv(data: bytes) -> tuple[list[Row], list[str]]:
    """The rows of a CSV file with a header row: name, e-mail and (optionally) cohort.

    UTF-8 with or without a byte-order mark; comma, semicolon or tab separated (the
    header line decides). Returns the rows and notes (ignored columns). InviteFileError
    when the file as a whole cannot be used: too large, not UTF-8, no header, a missing
    column, no rows or too many.
    """
    if len(data) > MAX_CSV_BYTES:
        raise InviteFileError(f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB: "
                              "split it into smaller files.", 413)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InviteFileError("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload "
                              "it again.") from None
    if "\x00" in text:
        raise InviteFileError("The file holds NUL characters: it is not a CSV text file.")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first.strip() else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # blank lines before the header
        if header is None:
            raise InviteFileError("The file is empty. The first row names the columns: "
                                  "name, e-mail, cohort.")
        columns: dict[str, int] = {}
        ignored = []
        for index, cell in enumerate(header):
            key = HEADERS.get(" ".join(cell.strip().lower().split()))
            if key is None or key in columns:
                if cell.strip():
                    ignored.append(cell.strip())
                continue
            columns[key] = index
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise InviteFileError(
                "The first row must name the columns: name, e-mail and (optionally) cohort. "
                f"Missing: {', '.join('e-mail' if m == 'email' else m for m in missing)}.")
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if len(rows) >= MAX_ROWS:
                raise InviteFileError(f"The file has more than {MAX_ROWS} rows: split it.", 413)
            rows.append(_csv_row(reader.line_num, cells, columns))
    except csv.Error as exc:
        raise InviteFileError(f"The file could not be read as CSV (line {reader.line_num}): "
                              f"{exc}.") from None
    if not rows:
        raise InviteFileError("The file has a header row but nobody in it.")
    notes = [f"Column “{c}” is not used (the columns are name, e-mail, cohort)." for c in ignored]
    return rows, notes


def _csv_row(line: int, cells: list[str], columns: dict[str, int]) -> Row:
    def cell(key: str) -> str | None:
        index = columns.get(key)
        if index is None:
            return ""
        return " ".join(cells[index].split()) if index < len(cells) else None

    email, name, cohort = cell("email"), cell("name"), cell("cohort")
    row = Row(line=line, email=accounts.normalise_email(email or ""), name=name or "",
              cohort_name=cohort or "")
    if email is None or name is None or cohort is None:
        row.errors.append("This row has fewer cells than the header: a column is missing.")
    _check_address(row)
    if len(row.name) > 100:
        row.errors.append("The name is longer than 100 characters.")
    return row


# --- checking rows against the organisation -----------------------------------------------

def cohort_choices(org_id: int) -> list[tuple[int, str]]:
    return list(db.session.execute(
        select(Cohort.id, Cohort.name).where(Cohort.org_id == org_id).order_by(Cohort.name)))


def check_rows(org_id: int, rows: list[Row], now: datetime, *,
               default_cohort_id: int | None = None, by_name: bool = True) -> None:
    """Add to each row what stops it: a repeated address, an unknown cohort, an address that
    is already a member or has a pending invitation. Three queries, whatever the count."""
    cohorts = dict(cohort_choices(org_id))
    by_folded = {name.casefold(): cid for cid, name in cohorts.items()}
    seen: dict[str, int] = {}
    for row in rows:
        if by_name:
            if row.cohort_name:
                row.cohort_id = by_folded.get(row.cohort_name.casefold())
                if row.cohort_id is None:
                    row.errors.append(f"No cohort called “{row.cohort_name}” here. Create it "
                                      "first, or leave the cell empty.")
                else:
                    row.cohort_name = cohorts[row.cohort_id]  # as the organisation spells it
            else:
                row.cohort_id = default_cohort_id
                row.cohort_name = cohorts.get(default_cohort_id, "") if default_cohort_id else ""
        elif row.cohort_id is not None:
            if row.cohort_id not in cohorts:
                row.errors.append("Its cohort was deleted since the preview.")
            else:
                row.cohort_name = cohorts[row.cohort_id]
        if row.email and row.email in seen:
            row.errors.append(f"Repeats the address of line {seen[row.email]}.")
        elif row.email:
            seen[row.email] = row.line
    emails = list(seen)
    if not emails:
        return
    members = set(db.session.scalars(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id, User.email.in_(emails))))
    pending = set(db.session.scalars(
        select(Invitation.email).where(Invitation.org_id == org_id, Invitation.email.in_(emails),
                                       _pending(now))))
    for row in rows:
        if row.email in members:
            row.errors.append("Already a member of this organisation.")
        elif row.email in pending:
            row.errors.append("Already invited, and the invitation is pending: resend it from "
                              "the invitations list instead.")


def _pending(now: datetime):
    return and_(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
                Invitation.expires_at > now)


# --- the signed preview -------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def sign_preview(org_id: int, user_id: int, role: OrgRole, rows: list[Row]) -> str | None:
    """The valid rows, signed for the confirm step; None if they do not fit one form field."""
    payload = {"o": org_id, "u": user_id, "r": role.value,
               "rows": [[r.line, r.email, r.name, r.cohort_id] for r in rows if r.ok]}
    signed = _serializer().dumps(payload)  # zlib-compressed when that is shorter
    return signed if len(signed) <= MAX_PREVIEW_FIELD else None


def read_preview(signed: str | None, org_id: int, user_id: int) -> tuple[OrgRole, list[Row]]:
    """The role and rows a preview signed; PreviewRefused if anything about it is off."""
    if not signed:
        raise PreviewRefused("The confirmation is missing its preview: preview the list again.")
    try:
        payload = _serializer().loads(signed, max_age=PREVIEW_MAX_AGE)
    except SignatureExpired:
        raise PreviewRefused("This preview is more than two hours old: preview the list "
                             "again.") from None
    except BadSignature:
        raise PreviewRefused("The confirmation was changed after the preview: nothing was "
                             "written. Preview the list again.") from None
    try:
        if payload["o"] != org_id or payload["u"] != user_id:
            raise PreviewRefused("This preview was made for another organisation or person.")
        role = OrgRole(payload["r"])
        rows = [Row(line=int(line), email=str(email), name=str(name or ""),
                    cohort_id=int(cohort) if cohort is not None else None)
                for line, email, name, cohort in payload["rows"]]
    except (KeyError, TypeError, ValueError):
        raise PreviewRefused("The confirmation could not be read: preview the list "
                             "again.") from None
    if role not in INVITABLE_ROLES or not rows:
        raise PreviewRefused("The confirmation could not be read: preview the list again.")
    return role, rows


# --- writing invitations ------------------------------------------------------------------

def _lock_org(org_id: int) -> None:
    """Serialise invitation writes of one organisation: a no-op UPDATE of its row takes the
    row lock on PostgreSQL and the write lock on SQLite, before anything is read again."""
    db.session.execute(update(Organisation).where(Organisation.id == org_id)
                       .values(name=Organisation.name).execution_options(synchronize_session=False))


Link = Callable[[str], str]


def create_invitations(org: Organisation, actor: User, role: OrgRole, rows: list[Row],
                       now: datetime, link: Link, days: int | None = None) -> list[Invitation]:
    """Invite every row, or nobody (StalePreview). Each invitee is mailed their link."""
    if role not in INVITABLE_ROLES:
        raise ValueError(f"Invitations are for members and instructors, not {role}.")
    _lock_org(org.id)
    fresh = [Row(line=r.line, email=r.email, name=r.name, cohort_id=r.cohort_id) for r in rows]
    for row in fresh:
        _check_address(row)
    check_rows(org.id, fresh, now, by_name=False)
    if not all(r.ok for r in fresh):
        raise StalePreview(fresh)
    expires = now + timedelta(days=days or invitation_days())
    made = []
    for row in fresh:
        token = _new_token()
        invitation = Invitation(org_id=org.id, email=row.email, name=row.name or None,
                                role=role.value, cohort_id=row.cohort_id,
                                token_hash=_hash(token), created_by_id=actor.id,
                                created_at=now, expires_at=expires)
        made.append((invitation, token))
    db.session.add_all([inv for inv, _ in made])
    db.session.flush()
    for invitation, token in made:
        _mail(org, invitation, link(token), expires)
    audit.record(actor, AuditEntity.ORGANISATION, org.id, "invite",
                 f"Invited {len(made)} people to {org.name} as {role.value}s",
                 {"emails": [inv.email for inv, _ in made][:50], "count": len(made)})
    db.session.flush()
    return [inv for inv, _ in made]


def _mail(org: Organisation, invitation: Invitation, url: str, expires: datetime) -> None:
    greeting = f"Hello {invitation.name}," if invitation.name else "Hello,"
    role = "an instructor" if invitation.role == OrgRole.INSTRUCTOR else "a member"
    send_mail(invitation.email, f"You are invited to join {org.name}", (
        f"{greeting}\n\n"
        f"{org.name} invites you to its IASTM training as {role}.\n\n"
        f"Open this link to accept (it works once, until {aware(expires):%d %b %Y} UTC):\n\n"
        f"{url}\n\n"
        "If you have no account yet, the page lets you choose your password. If you have one "
        "with this address, sign in and you join.\n\n"
        "If you did not expect this invitation, ignore this message.\n"))


def invitation_status(invitation: Invitation, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if aware(invitation.expires_at) <= now else "pending"


def resend(org: Organisation, invitation: Invitation, actor: User, now: datetime,
           link: Link, days: int | None = None) -> None:
    """A new link (the old one stops working) and a new expiry; pending or expired only."""
    token = _new_token()
    expires = now + timedelta(days=days or invitation_days())
    done = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.org_id == org.id,
                                 Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(token_hash=_hash(token), expires_at=expires)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise Conflict("This invitation was accepted or withdrawn: it cannot be sent again. "
                       "Invite the address anew if needed.")
    _mail(org, invitation, link(token), expires)
    audit.record(actor, AuditEntity.INVITATION, invitation.id, "resend",
                 f"Sent the invitation of {invitation.email} to {org.name} again")
    db.session.flush()


def revoke(org: Organisation, invitation: Invitation, actor: User, now: datetime) -> bool:
    """Withdraw an invitation not yet accepted; False if it was withdrawn already.
    Conflict if it was accepted (remove the member instead)."""
    done = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.org_id == org.id,
                                 Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.refresh(invitation)
        if invitation.accepted_at is not None:
            raise Conflict("This invitation was accepted already: the person is a member. "
                           "Remove them from the members list if they should not be.")
        return False
    audit.record(actor, AuditEntity.INVITATION, invitation.id, "revoke",
                 f"Withdrew the invitation of {invitation.email} to {org.name}")
    db.session.flush()
    return True


# --- the manager's list -------------------------------------------------------------------

@dataclass
class InvitationPage:
    rows: list  # Row mappings: id, email, name, role, cohort, created_at, expires_at, ...
    counts: dict[str, int]
    status: str | None
    page: int
    pages: int


def _status_conditions(now: datetime) -> dict:
    return {
        "pending": _pending(now),
        "accepted": Invitation.accepted_at.is_not(None),
        "expired": and_(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
                        Invitation.expires_at <= now),
        "revoked": and_(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None)),
    }


def list_invitations(org_id: int, now: datetime, status: str | None = None,
                     page: int = 1) -> InvitationPage:
    """A page of the organisation's invitations, newest first, and the count per status:
    two statements, whatever the number of invitations."""
    conditions = _status_conditions(now)
    status = status if status in conditions else None
    counts_row = db.session.execute(
        select(*[func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name)
                 for name, cond in conditions.items()])
        .where(Invitation.org_id == org_id)).one()
    counts = dict(zip(conditions, (int(c) for c in counts_row), strict=True))
    total = counts[status] if status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    query = (select(Invitation.id, Invitation.email, Invitation.name, Invitation.role,
                    Cohort.name.label("cohort"), Invitation.created_at, Invitation.expires_at,
                    Invitation.accepted_at, Invitation.revoked_at)
             .outerjoin(Cohort, Cohort.id == Invitation.cohort_id)
             .where(Invitation.org_id == org_id)
             .order_by(Invitation.created_at.desc(), Invitation.id.desc())
             .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    if status:
        query = query.where(conditions[status])
    rows = db.session.execute(query).all()
    return InvitationPage(rows=rows, counts=counts, status=status, page=page, pages=pages)


def row_status(row, now: datetime) -> str:
    if row.accepted_at is not None:
        return "accepted"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if aware(row.expires_at) <= now else "pending"


# --- the invitee's side -------------------------------------------------------------------

UNKNOWN_INVITATION = ("This invitation link is not valid. Check that you copied all of it, or ask "
                      "the person who invited you for a new one.")


def find_invitation(token: str, now: datetime) -> Invitation:
    """The invitation behind a link: LinkError 404 (unknown), 410 (used, withdrawn, expired,
    or the organisation closed)."""
    invitation = None
    if 20 <= len(token) <= 100:
        invitation = db.session.scalar(
            select(Invitation).options(joinedload(Invitation.organisation),
                                      joinedload(Invitation.cohort))
            .where(Invitation.token_hash == _hash(token)))
    if invitation is None:
        raise LinkError(UNKNOWN_INVITATION, 404)
    _usable(invitation, now)
    return invitation


def _usable(invitation: Invitation, now: datetime) -> None:
    if invitation.accepted_at is not None:
        raise LinkError("This invitation has already been used. If you accepted it, sign in "
                        "with its e-mail address: you are a member already.", 410, invitation)
    if invitation.revoked_at is not None:
        raise LinkError("This invitation was withdrawn by the organisation. Ask them for a new "
                        "one if you still need it.", 410, invitation)
    if aware(invitation.expires_at) <= now:
        raise LinkError("This invitation has expired. Ask the organisation to send it again.",
                        410, invitation)
    if not invitation.organisation.active:
        raise LinkError("This organisation is no longer active on this site.", 410, invitation)


def _claim(invitation: Invitation, now: datetime, user_id: int | None = None) -> None:
    """Mark the invitation accepted, once: of two racing requests one gets the row."""
    claimed = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, _pending(now))
        .values(accepted_at=now, accepted_user_id=user_id)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise LinkError("This invitation has already been used. If you accepted it, sign in "
                        "with its e-mail address: you are a member already.", 410)


def wrong_account_message(invitation: Invitation) -> str:
    return (f"This invitation is for {invitation.email}, and you are signed in with another "
            "account. Sign out, then open the link again and sign in (or create the account) "
            "with the invited address.")


def _join(org: Organisation, user: User, role: OrgRole, cohort_id: int | None) -> bool:
    """Add the membership; False if the person is a member already (a race included)."""
    if db.session.scalar(select(Membership.id).where(Membership.org_id == org.id,
                                                     Membership.user_id == user.id)) is not None:
        return False
    if cohort_id is not None and db.session.scalar(
            select(Cohort.org_id).where(Cohort.id == cohort_id)) != org.id:
        cohort_id = None  # deleted since (the invitation keeps no foreign cohort)
    try:
        with db.session.begin_nested():
            add_member(org, user, role, cohort_id)
    except IntegrityError:
        return False
    return True


def accept_existing(invitation: Invitation, user: User, now: datetime) -> bool:
    """The signed-in owner of the invited address joins; False if they were a member already
    (the invitation is used up either way). LinkError 403 for another account."""
    if accounts.normalise_email(user.email) != invitation.email:
        raise LinkError(wrong_account_message(invitation), 403)
    _claim(invitation, now, user.id)
    joined = _join(invitation.organisation, user, OrgRole(invitation.role), invitation.cohort_id)
    audit.record(user, AuditEntity.INVITATION, invitation.id, "accept",
                 f"{user.email} accepted the invitation to {invitation.organisation.name}")
    db.session.flush()
    return joined


def accept_new(invitation: Invitation, name: str, password: str, now: datetime) -> User:
    """Create the invitee's account with the password they chose, and join. AccountError
    (the password policy) or LinkError 409 (an account with the address appeared meanwhile)."""
    accounts.check_password_policy(password, invitation.email, name)
    _claim(invitation, now)
    try:
        user = accounts.create_user(invitation.email, password, name)
    except accounts.EmailTaken:
        raise LinkError("An account with this address exists now. Sign in with it and open "
                        "the link again to join.", 409) from None
    db.session.execute(update(Invitation).where(Invitation.id == invitation.id)
                       .values(accepted_user_id=user.id)
                       .execution_options(synchronize_session=False))
    _join(invitation.organisation, user, OrgRole(invitation.role), invitation.cohort_id)
    audit.record(user, AuditEntity.INVITATION, invitation.id, "accept",
                 f"{user.email} created an account and joined {invitation.organisation.name}")
    db.session.flush()
    return user


def account_for(email: str) -> User | None:
    return accounts.find_user(email)


# --- join codes ---------------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """What people type: any case, with spaces or hyphens ("abcde-fghjk")."""
    return "".join(ch for ch in (raw or "").upper() if ch not in " -\t")


def pretty_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def create_join_code(org: Organisation, actor: User, now: datetime, days: int,
                     max_uses: int | None = None, cohort_id: int | None = None) -> JoinCode:
    if not 1 <= days <= 365:
        raise ValueError("A join code works for 1 to 365 days.")
    if max_uses is not None and not 1 <= max_uses <= 10000:
        raise ValueError("The number of uses is 1 to 10,000, or empty for no limit.")
    if cohort_id is not None and db.session.scalar(
            select(Cohort.org_id).where(Cohort.id == cohort_id)) != org.id:
        raise ValueError("Choose one of this organisation's cohorts.")
    join_code = JoinCode(org_id=org.id, code=new_code(), cohort_id=cohort_id,
                         created_by_id=actor.id, created_at=now,
                         expires_at=now + timedelta(days=days), max_uses=max_uses, uses=0)
    db.session.add(join_code)
    db.session.flush()
    audit.record(actor, AuditEntity.JOIN_CODE, join_code.id, "create",
                 f"Join code for {org.name}, {days} days, "
                 f"{max_uses if max_uses else 'unlimited'} uses")
    return join_code


def list_join_codes(org_id: int, limit: int = 100) -> list:
    """The organisation's newest join codes with their cohort's name (one statement)."""
    return db.session.execute(
        select(JoinCode.id, JoinCode.code, JoinCode.created_at, JoinCode.expires_at,
               JoinCode.max_uses, JoinCode.uses, JoinCode.revoked_at, Cohort.name.label("cohort"))
        .outerjoin(Cohort, Cohort.id == JoinCode.cohort_id)
        .where(JoinCode.org_id == org_id)
        .order_by(JoinCode.created_at.desc(), JoinCode.id.desc()).limit(limit)).all()


def code_status(row, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if aware(row.expires_at) <= now:
        return "expired"
    if row.max_uses is not None and row.uses >= row.max_uses:
        return "used up"
    return "active"


def revoke_join_code(org: Organisation, join_code: JoinCode, actor: User, now: datetime) -> bool:
    done = db.session.execute(
        update(JoinCode).where(JoinCode.id == join_code.id, JoinCode.org_id == org.id,
                               JoinCode.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    if done:
        audit.record(actor, AuditEntity.JOIN_CODE, join_code.id, "revoke",
                     f"Revoked a join code of {org.name}")
        db.session.flush()
    return bool(done)


UNKNOWN_CODE = "There is no such join code. Check the code, or ask the organisation for it."


def find_join_code(raw: str, now: datetime) -> JoinCode:
    """LinkError 404 (unknown), 410 (revoked, expired, used up, organisation closed)."""
    code = normalise_code(raw)
    join_code = None
    if len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code):
        join_code = db.session.scalar(select(JoinCode).options(joinedload(JoinCode.organisation),
                                                              joinedload(JoinCode.cohort))
                                      .where(JoinCode.code == code))
    if join_code is None:
        raise LinkError(UNKNOWN_CODE, 404)
    status = code_status(join_code, now)
    if status != "active" or not join_code.organisation.active:
        raise LinkError({
            "revoked": "This join code was withdrawn by the organisation.",
            "expired": "This join code has expired. Ask the organisation for a new one.",
            "used up": "This join code has been used as often as it may be. Ask the "
                       "organisation for a new one.",
        }.get(status, "This organisation is no longer active on this site."), 410)
    return join_code


def is_member(org_id: int, user_id: int) -> bool:
    return db.session.scalar(select(Membership.id).where(
        Membership.org_id == org_id, Membership.user_id == user_id)) is not None


class AlreadyMember(ValueError):
    """The person is in the organisation already: no second membership, no use counted."""


def use_join_code(join_code: JoinCode, user: User, now: datetime) -> None:
    """Join with a code: count the use in SQL (only while uses < max_uses, not revoked, not
    expired), then add the membership. LinkError 410 when the last use went to someone else;
    AlreadyMember (the caller rolls back, so no use is counted) if they are a member."""
    if is_member(join_code.org_id, user.id):
        raise AlreadyMember(join_code.organisation.name)
    counted = db.session.execute(
        update(JoinCode).where(
            JoinCode.id == join_code.id, JoinCode.revoked_at.is_(None), JoinCode.expires_at > now,
            (JoinCode.max_uses.is_(None)) | (JoinCode.uses < JoinCode.max_uses))
        .values(uses=JoinCode.uses + 1).execution_options(synchronize_session=False)).rowcount
    if counted != 1:
        raise LinkError("This join code has just been used up or withdrawn. Ask the "
                        "organisation for a new one.", 410)
    if not _join(join_code.organisation, user, OrgRole.MEMBER, join_code.cohort_id):
        raise AlreadyMember(join_code.organisation.name)
    audit.record(user, AuditEntity.JOIN_CODE, join_code.id, "use",
                 f"{user.email} joined {join_code.organisation.name} with a join code")
    db.session.flush()
