"""Account operations: create, authenticate, rotate sessions; the admin's changes (role,
deactivate, reactivate, reset links) and each user's own (name, password), every change with
its audit event. Domain code: flush, never commit."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, with_expression

from . import audit
from .extensions import db
from .models import Membership, PasswordReset, User
from .models._common import utcnow
from .models.accounts import new_session_token
from .vocab import AuditEntity, Role

MIN_PASSWORD, MAX_PASSWORD = 8, 128
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown addresses, so they cost as much as known ones.

    Computed on first use, not at import: an argon2 hash takes tens of megabytes and
    milliseconds, which every worker and CLI run would otherwise pay before serving.
    """
    return _hasher.hash("not a real password, used to even out timing")


class AccountError(ValueError):
    """A problem with account data that the user can fix."""


class EmailTaken(AccountError):
    """The address already has an account (told to administrators, never to the public)."""


class LastAdmin(AccountError):
    """The change would leave no active admin (a conflict with the current state: 409)."""


class WrongPassword(AccountError):
    """The current password given to change it was wrong."""


class ResetLinkError(AccountError):
    """A reset link that cannot be used; `gone` tells a used or expired link (410) from one
    that never existed (404)."""

    def __init__(self, message: str, gone: bool) -> None:
        super().__init__(message)
        self.gone = gone


def normalise_email(email: str) -> str:
    return email.strip().lower()


COMMON_MESSAGE = ("This is one of the most common passwords, the first ones attackers try. "
                  "Choose another.")
GUESSABLE_MESSAGE = ("This password is too easy to guess: a single word or name, or a repeated or "
                     "sequential pattern. A few unrelated words make a strong one.")
PERSONAL_MESSAGE = "Your password must not be your e-mail address or your name."


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, as shipped (lower-cased) with the zxcvbn package."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    """What is wrong with a new password, per NIST SP 800-63B; empty if it is acceptable.

    At least MIN_PASSWORD and at most MAX_PASSWORD characters (any characters, spaces
    included, no composition rules); not a commonly used password; not one guessable in
    under a thousand tries (a dictionary word, a repeat or a sequence, by zxcvbn's
    estimate); not the account's e-mail address, its local part, or the person's name.
    The one password policy: registration and `users create` both use it.
    """
    if len(password) < MIN_PASSWORD:
        return [f"Passwords need at least {MIN_PASSWORD} characters."]
    if len(password) > MAX_PASSWORD:
        return [f"Passwords can have at most {MAX_PASSWORD} characters."]
    folded = password.strip().casefold()
    email = normalise_email(email)
    personal = {email, email.partition("@")[0], name.strip().casefold()} - {""}
    if folded in personal or folded.replace(" ", "") in {p.replace(" ", "") for p in personal}:
        return [PERSONAL_MESSAGE]
    if folded in _common_passwords():
        return [COMMON_MESSAGE]
    from zxcvbn import zxcvbn

    # zxcvbn refuses input over 72 characters; guessing the first 72 is never harder than
    # guessing the whole, so their estimate is a safe lower bound.
    estimate = zxcvbn(password[:72], user_inputs=sorted(personal))
    if float(estimate["guesses"]) < 1000:
        return [GUESSABLE_MESSAGE]
    return []


def check_password_policy(password: str, email: str = "", name: str = "") -> None:
    problems = password_problems(password, email, name)
    if problems:
        raise AccountError(" ".join(problems))


def find_user(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == normalise_email(email)))


def create_user(email: str, password: str, name: str, role: str = Role.LEARNER) -> User:
    """A new account; EmailTaken if the address has one (checked again by the unique index)."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise AccountError("Enter a valid e-mail address.")
    if role not in tuple(Role):
        raise AccountError(f"Role must be one of: {', '.join(Role)}.")
    check_password_policy(password, email, name)
    # Hashed before the look-up, so a taken address costs the same slow hash as a new one.
    password_hash = _hasher.hash(password)
    if find_user(email) is not None:
        raise EmailTaken("An account with this e-mail address already exists.")
    user = User(email=email, name=name.strip()[:100] or email.split("@")[0],
                password_hash=password_hash, role=role)
    try:
        with db.session.begin_nested():  # a concurrent registration of the same address loses here
            db.session.add(user)
    except IntegrityError:
        raise EmailTaken("An account with this e-mail address already exists.") from None
    return user


def register_learner(email: str, password: str, name: str) -> None:
    """Self-registration, which never tells whether an address already has an account.

    A new address gets a learner account; a taken one changes nothing (the existing
    account keeps its password and sessions). The caller answers both alike.
    """
    try:
        create_user(email, password, name)
    except EmailTaken:
        pass


def authenticate(email: str, password: str) -> User | None:
    """The user if the password matches and the account is active; the same work is done
    for unknown addresses, and a deactivated account is refused only after the hash is
    checked, so neither can be told apart from a wrong password. Records the sign-in time."""
    user = find_user(email)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session of this user (the cookie holds the old token)."""
    user.session_token = new_session_token()


# Built once: this runs on every signed-in request, and building the SELECT costs about as
# much as running it. It also tells whether the user belongs to any organisation (an index
# probe), so the pages of the many who don't skip the assignment lookups.
_USER_BY_TOKEN = (
    db.select(User)
    .where(User.session_token == db.bindparam("token"), User.active.is_(True))
    .options(with_expression(User.in_orgs, exists().where(Membership.user_id == User.id)))
)


def load_user(token: str) -> User | None:
    """The user a session belongs to; None (signed out) if the token was rotated or the
    account deactivated since."""
    return db.session.scalar(_USER_BY_TOKEN, {"token": token})


# --- administration: role, deactivate, reactivate ---------------------------------------

def _audit(actor: User | None, user: User, action: str, summary: str, **detail) -> None:
    audit.record(actor, AuditEntity.USER, user.id, action, summary, detail or None)


def _check_leaves_an_admin(user: User) -> None:
    """Refuse a change that takes `user` out of the active admins if nobody would remain.

    The active admins' rows are locked (FOR UPDATE on PostgreSQL) before they are counted,
    so two admins demoting each other at once cannot both pass.
    """
    if user.role != Role.ADMIN or not user.active:
        return
    admins = db.session.scalars(
        db.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
        .order_by(User.id).with_for_update()
    ).all()
    if set(admins) <= {user.id}:
        raise LastAdmin("This is the only active admin account: make another account an "
                        "admin first, so that someone can still manage accounts.")


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(f"Role must be one of: {', '.join(Role)}.") from None


def set_role(actor: User | None, user: User, role: str) -> bool:
    """Give `user` another role; False if it already has it (nothing written)."""
    new = parse_role(role)
    old = user.role
    if new == old:
        return False
    if new != Role.ADMIN:
        _check_leaves_an_admin(user)
    user.role = new.value
    _audit(actor, user, "set-role", f"Role of {user.email}: {old} → {new}", old=old, new=new.value)
    db.session.flush()
    return True


def deactivate(actor: User | None, user: User) -> bool:
    """Close an account: no sign-in, every session ended now, unused reset links void.
    False if it was already inactive."""
    if not user.active:
        return False
    _check_leaves_an_admin(user)
    user.active = False
    end_sessions(user)
    _void_reset_links(user)
    _audit(actor, user, "deactivate", f"Deactivated {user.email}")
    db.session.flush()
    return True


def reactivate(actor: User | None, user: User) -> bool:
    """Open a deactivated account again (with its old password). False if already active."""
    if user.active:
        return False
    user.active = True
    _audit(actor, user, "reactivate", f"Reactivated {user.email}")
    db.session.flush()
    return True


# --- each user's own account -------------------------------------------------------------

def change_name(user: User, name: str) -> bool:
    """A new display name (1 to 100 characters after trimming); False if unchanged."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise AccountError("Enter a name of 1 to 100 characters.")
    if name == user.name:
        return False
    old = user.name
    user.name = name
    _audit(user, user, "rename", f"Name of {user.email}: {old} → {name}")
    db.session.flush()
    return True


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; every session of the user ends
    (the caller signs the current one in again with the new token)."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise WrongPassword("That is not your current password.") from None
    _set_password(user, new)
    _audit(user, user, "change-password", f"{user.email} changed their password")
    db.session.flush()


def _set_password(user: User, password: str) -> None:
    check_password_policy(password, user.email, user.name)
    user.password_hash = _hasher.hash(password)
    end_sessions(user)


# --- password-reset links -----------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class ResetLink:
    token: str  # shown once, never stored
    reset: PasswordReset


def _void_reset_links(user: User) -> None:
    """End every unused link of `user` (expired as of now)."""
    now = utcnow()
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None),
               PasswordReset.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def create_reset_link(actor: User | None, user: User, valid_for: timedelta) -> ResetLink:
    """A one-time link for `user`, valid for `valid_for`; earlier unused links of theirs
    stop working (only the newest link handed out counts)."""
    if not user.active:
        raise AccountError("This account is deactivated: reactivate it before creating a "
                           "reset link.")
    _void_reset_links(user)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    reset = PasswordReset(token_hash=_token_hash(token), user_id=user.id,
                          created_by_id=actor.id if actor is not None else None,
                          created_at=now, expires_at=now + valid_for)
    db.session.add(reset)
    _audit(actor, user, "reset-link", f"Password-reset link for {user.email}, valid until "
           f"{reset.expires_at:%Y-%m-%d %H:%M} UTC")
    db.session.flush()
    return ResetLink(token, reset)


UNKNOWN_LINK = "This password-reset link is not valid. Check that you copied all of it."
USED_LINK = "This password-reset link has already been used. Ask for a new one below."
EXPIRED_LINK = "This password-reset link has expired. Ask for a new one below."


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_reset(token: str) -> PasswordReset:
    """The usable reset behind `token`, or ResetLinkError (unknown: 404; used, expired: 410).

    A deactivated account's link counts as unknown.
    """
    reset = None
    if 20 <= len(token) <= 100:
        reset = db.session.scalar(
            db.select(PasswordReset).options(joinedload(PasswordReset.user))
            .where(PasswordReset.token_hash == _token_hash(token))
        )
    if reset is None or not reset.user.active:
        raise ResetLinkError(UNKNOWN_LINK, gone=False)
    if reset.used_at is not None:
        raise ResetLinkError(USED_LINK, gone=True)
    if aware(reset.expires_at) <= utcnow():
        raise ResetLinkError(EXPIRED_LINK, gone=True)
    return reset


def use_reset_link(token: str, password: str) -> User:
    """Set a new password through a reset link, once: the link is marked used by a
    conditional UPDATE, so of two racing uses exactly one succeeds. Ends every session."""
    reset = find_reset(token)
    user = reset.user
    check_password_policy(password, user.email, user.name)  # before anything is written
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ResetLinkError(USED_LINK, gone=True)
    _set_password(user, password)
    _audit(user, user, "reset-password", f"{user.email} set a new password with a reset link")
    db.session.flush()
    return user
