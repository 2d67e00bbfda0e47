"""Self-service password resets: "Forgot your password?" mails a one-time link.

Nothing here tells whether an address has an account: the page answers every request alike,
and both paths run the same statements (the account look-up, the count of recent requests,
the UPDATE voiding older links, an INSERT) and build the same message; only an active
account's message is queued. The link is quiz.accounts' reset link (only its SHA-256 is
stored; a new one voids the older ones), valid for PASSWORD_RESET_HOURS. An account gets at
most RESET_MAILS_PER_HOUR such mails an hour, whoever asks; further requests change nothing,
and the newest link sent keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import false, func, insert, literal, select, update

from .. import accounts, audit
from ..extensions import db
from ..mail import build_message, send_mail
from ..models import PasswordReset
from ..models._common import utcnow
from ..vocab import AuditEntity

RESET_MAILS_PER_HOUR = 3
NOBODY = 0  # no user has id 0: the statements of the no-account path match nothing

SUBJECT = "Reset your IASTM quiz password"


def reset_text(name: str, link: str, expires_at: datetime) -> str:
    return (f"Hello {name},\n\n"
            "Someone, probably you, asked to reset the password of your IASTM training quiz "
            "account. Choose a new password here:\n\n"
            f"{link}\n\n"
            f"The link works once, until {expires_at:%d %b %Y, %H:%M} UTC.\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n")


def request_password_reset(email: str, valid_for: timedelta, link_for: Callable[[str], str],
                           now: datetime | None = None) -> bool:
    """Mail a reset link to the active account with this address, if any. True if a mail
    was queued (for tests and logs only: the caller answers alike either way). Flushes."""
    now = now or utcnow()
    user = accounts.find_user(email)
    target = user.id if user is not None and user.active else NOBODY
    recent = db.session.scalar(
        select(func.count()).select_from(PasswordReset)
        .where(PasswordReset.user_id == target, PasswordReset.created_by_id.is_(None),
               PasswordReset.created_at > now - timedelta(hours=1)))
    if target == NOBODY or recent >= RESET_MAILS_PER_HOUR:
        _same_work_without_a_link(now, valid_for)
        return False
    link = accounts.create_reset_link(None, user, valid_for)
    send_mail(user.email, SUBJECT,
              reset_text(user.name, link_for(link.token), accounts.aware(link.reset.expires_at)))
    return True


def _same_work_without_a_link(now: datetime, valid_for: timedelta) -> None:
    """The statements of create_reset_link, matching and inserting nothing, with an audit
    event (no address recorded), and the message built but not queued."""
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == NOBODY, PasswordReset.used_at.is_(None),
               PasswordReset.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False))
    db.session.execute(  # the link's INSERT, of no row
        insert(PasswordReset).from_select(
            ["token_hash", "user_id", "created_at", "expires_at"],
            select(literal("-"), literal(NOBODY), literal(now), literal(now + valid_for))
            .where(false())))
    audit.record(None, AuditEntity.USER, "-", "reset-request",
                 "A password reset was asked for an address without an active account, "
                 "or too often for one (nothing sent)")
    build_message("nobody@invalid", SUBJECT, reset_text("", "", now + valid_for))
    db.session.flush()

