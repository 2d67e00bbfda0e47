"""Account operations: create, authenticate, rotate sessions. Domain code: flush, never commit."""

from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import User
from .models.accounts import new_session_token
from .vocab import Role

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
    """The user if the password matches; the same work is done for unknown addresses."""
    user = find_user(email)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session of this user (the cookie holds the old token)."""
    user.session_token = new_session_token()


# Built once: this runs on every signed-in request, and building the SELECT costs about as
# much as running it.
_USER_BY_TOKEN = db.select(User).where(User.session_token == db.bindparam("token"))


def load_user(token: str) -> User | None:
    return db.session.scalar(_USER_BY_TOKEN, {"token": token})
