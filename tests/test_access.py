"""Access matrix: every route x every kind of visitor, with the exact response expected.

The matrix is a data table (ROUTES). To add a route, add a row: the coverage test
below fails until every URL rule of the app (and each of its methods) has one.

Visitors ("roles" of the matrix):
  anonymous   - not signed in
  owner       - the learner who owns the attempts used in the paths
  other       - another learner
  instructor  - staff
  admin       - staff

Path placeholders: {open} the owner's in-progress attempt, {done} the owner's submitted
attempt, {owner} / {other} the learners' user ids, {me} the visitor's own user id (the
owner's for anonymous), {missing} an id that exists nowhere, {reset} the token of an unused
password-reset link for the owner.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from werkzeug.exceptions import MethodNotAllowed, NotFound

from quiz.accounts import create_reset_link
from quiz.attempts import start_attempt, submit_attempt
from quiz.bank.entities import row_hash
from quiz.bank.loader import key_point_values, set_values, topic_values
from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, QuestionSet, User

from . import bankgen
from .conftest import PASSWORD

pytestmark = pytest.mark.small_bank

ROLES = ("anonymous", "owner", "other", "instructor", "admin")
MISSING_ID = 987654


# --- expectations -----------------------------------------------------------------------

@dataclass(frozen=True)
class Redirect:
    """A 302 to `target` (a path; `{new}` stands for any attempt id), or to the login page."""

    target: str | None = None  # None: the login page, with next=<requested path>

    def __str__(self) -> str:
        return f"302->{self.target or 'login'}"


LOGIN = Redirect()
CATALOGUE = Redirect("/sets")
OK, BAD, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 400, 403, 404, 405


def to(target: str) -> Redirect:
    return Redirect(target)


def expect(*, everyone=None, signed_in=None, learners=None, staff=None, anonymous=None,
           owner=None, other=None, instructor=None, admin=None) -> dict[str, int | Redirect]:
    """Expected outcome per role; the most specific argument wins."""
    out: dict[str, int | Redirect] = {}
    groups = [
        (everyone, ROLES),
        (signed_in, ("owner", "other", "instructor", "admin")),
        (learners, ("owner", "other")),
        (staff, ("instructor", "admin")),
    ]
    for value, roles in groups:
        if value is not None:
            out.update(dict.fromkeys(roles, value))
    for role, value in zip(ROLES, (anonymous, owner, other, instructor, admin), strict=True):
        if value is not None:
            out[role] = value
    missing = set(ROLES) - set(out)
    if missing:
        raise ValueError(f"no expectation for {sorted(missing)}")
    return out


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    expected: dict[str, int | Redirect]
    data: dict[str, str] = field(default_factory=dict)

    @property
    def probes_missing(self) -> bool:
        return "{missing}" in self.path or "/nope" in self.path


REGISTER_DATA = {"name": "New Person", "email": "new.person@example.org",
                 "password": PASSWORD, "confirm": PASSWORD}
LOGIN_DATA = {"email": "owner@example.org", "password": PASSWORD}
SAVE = {"save": "Save and finish later"}
NEW_PASSWORD_DATA = {"current": PASSWORD, "password": "violet tugboat anthem",
                     "confirm": "violet tugboat anthem"}

ROUTES: list[Route] = [
    # Home
    Route("GET", "/", expect(anonymous=OK, signed_in=CATALOGUE)),
    Route("POST", "/", expect(everyone=NOT_ALLOWED)),
    # Accounts
    Route("GET", "/auth/register", expect(anonymous=OK, signed_in=CATALOGUE)),
    # Registering never signs in (a taken address must get the same answer as a new one).
    Route("POST", "/auth/register", expect(anonymous=to("/auth/login"), signed_in=CATALOGUE),
          data=REGISTER_DATA),
    Route("GET", "/auth/login", expect(anonymous=OK, signed_in=CATALOGUE)),
    Route("POST", "/auth/login", expect(everyone=CATALOGUE), data=LOGIN_DATA),
    Route("POST", "/auth/logout", expect(anonymous=LOGIN, signed_in=to("/auth/login"))),
    Route("GET", "/auth/logout", expect(everyone=NOT_ALLOWED)),
    # Catalogue and sets
    Route("GET", "/sets", expect(anonymous=LOGIN, signed_in=OK)),
    Route("GET", "/sets/alpha", expect(anonymous=LOGIN, signed_in=OK)),
    Route("GET", "/sets/nope", expect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    # The owner resumes their open attempt; everyone else gets a new one.
    Route("POST", "/sets/alpha/start",
          expect(anonymous=LOGIN, owner=to("/attempts/{open}"), other=to("/attempts/{new}"),
                 staff=to("/attempts/{new}"))),
    Route("POST", "/sets/nope/start", expect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    Route("GET", "/sets/alpha/start", expect(everyone=NOT_ALLOWED)),
    # Taking an attempt: only its owner, staff included.
    Route("GET", "/attempts/{open}", expect(anonymous=LOGIN, owner=OK, other=NOT_FOUND,
                                            staff=NOT_FOUND)),
    Route("POST", "/attempts/{open}",
          expect(anonymous=LOGIN, owner=to("/attempts/{open}"), other=NOT_FOUND, staff=NOT_FOUND),
          data=SAVE),
    Route("GET", "/attempts/{done}",
          expect(anonymous=LOGIN, owner=to("/attempts/{done}/review"), other=NOT_FOUND,
                 staff=NOT_FOUND)),
    Route("POST", "/attempts/{done}",
          expect(anonymous=LOGIN, owner=to("/attempts/{done}/review"), other=NOT_FOUND,
                 staff=NOT_FOUND),
          data=SAVE),
    Route("GET", "/attempts/{missing}", expect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    Route("POST", "/attempts/{missing}", expect(anonymous=LOGIN, signed_in=NOT_FOUND), data=SAVE),
    Route("GET", "/attempts/not-a-number", expect(everyone=NOT_FOUND)),
    Route("PUT", "/attempts/{open}", expect(everyone=NOT_ALLOWED)),
    # Review: the owner and staff, once submitted.
    Route("GET", "/attempts/{done}/review", expect(anonymous=LOGIN, owner=OK, other=NOT_FOUND,
                                                   staff=OK)),
    Route("GET", "/attempts/{open}/review",
          expect(anonymous=LOGIN, owner=to("/attempts/{open}"), other=NOT_FOUND, staff=NOT_FOUND)),
    Route("GET", "/attempts/{missing}/review", expect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    Route("POST", "/attempts/{done}/review", expect(everyone=NOT_ALLOWED)),
    # Progress: one's own, and staff see any learner's.
    Route("GET", "/progress", expect(anonymous=LOGIN, signed_in=OK)),
    Route("POST", "/progress", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/learners/{owner}/progress", expect(anonymous=LOGIN, owner=OK, other=NOT_FOUND,
                                                      staff=OK)),
    Route("GET", "/learners/{me}/progress", expect(anonymous=LOGIN, signed_in=OK)),
    Route("GET", "/learners/{missing}/progress", expect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    Route("POST", "/learners/{owner}/progress", expect(everyone=NOT_ALLOWED)),
    # Staff pages
    Route("GET", "/staff/learners", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    # Search, sort and page parameters change nothing about who may see the roster, and
    # bad values fall back to defaults.
    Route("GET", "/staff/learners?q=owner&sort=active&dir=asc&page=2",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/staff/learners?sort=bogus&dir=up&page=-3",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("POST", "/staff/learners", expect(everyone=NOT_ALLOWED)),
    # One's own account: everyone signed in.
    Route("GET", "/account", expect(anonymous=LOGIN, signed_in=OK)),
    Route("POST", "/account", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/account/name", expect(anonymous=LOGIN, signed_in=to("/account")),
          data={"name": "A New Name"}),
    Route("POST", "/account/name", expect(anonymous=LOGIN, signed_in=BAD), data={"name": ""}),
    Route("GET", "/account/name", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/account/password", expect(anonymous=LOGIN, signed_in=to("/account")),
          data=NEW_PASSWORD_DATA),
    Route("POST", "/account/password", expect(anonymous=LOGIN, signed_in=BAD),
          data={**NEW_PASSWORD_DATA, "current": "not the password"}),
    Route("GET", "/account/password", expect(everyone=NOT_ALLOWED)),
    # A reset link works for whoever holds it, signed in or not (the owner's, here).
    Route("GET", "/reset/{reset}", expect(everyone=OK)),
    Route("POST", "/reset/{reset}", expect(everyone=to("/auth/login")),
          data={"password": "violet tugboat anthem", "confirm": "violet tugboat anthem"}),
    Route("GET", "/reset/nope", expect(everyone=NOT_FOUND)),
    Route("POST", "/reset/nope", expect(everyone=NOT_FOUND),
          data={"password": "violet tugboat anthem", "confirm": "violet tugboat anthem"}),
    Route("PUT", "/reset/{reset}", expect(everyone=NOT_ALLOWED)),
    # Admin pages: admins only; learners and instructors get 403, whatever the id.
    Route("GET", "/admin/users", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                        instructor=FORBIDDEN, admin=OK)),
    Route("GET", "/admin/users?q=owner&role=learner&status=inactive&sort=login&dir=asc&page=2",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=OK)),
    Route("GET", "/admin/users?role=root&status=gone&sort=bogus&dir=up&page=-3",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=OK)),
    Route("POST", "/admin/users", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/admin/users/{owner}", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                                instructor=FORBIDDEN, admin=OK)),
    Route("GET", "/admin/users/{missing}", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                                  instructor=FORBIDDEN, admin=NOT_FOUND)),
    Route("GET", "/admin/users/not-a-number", expect(everyone=NOT_FOUND)),
    Route("POST", "/admin/users/{owner}", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/admin/users/{owner}/role",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN,
                 admin=to("/admin/users/{owner}")), data={"role": "instructor"}),
    Route("POST", "/admin/users/{owner}/role",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=BAD),
          data={"role": "superuser"}),
    Route("POST", "/admin/users/{missing}/role",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=NOT_FOUND),
          data={"role": "instructor"}),
    Route("GET", "/admin/users/{owner}/role", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/admin/users/{owner}/deactivate",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN,
                 admin=to("/admin/users/{owner}"))),
    Route("POST", "/admin/users/{missing}/deactivate",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=NOT_FOUND)),
    Route("GET", "/admin/users/{owner}/deactivate", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/admin/users/{owner}/reactivate",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN,
                 admin=to("/admin/users/{owner}"))),
    Route("POST", "/admin/users/{missing}/reactivate",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=NOT_FOUND)),
    Route("GET", "/admin/users/{owner}/reactivate", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/admin/users/{owner}/reset-link",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=OK)),
    Route("POST", "/admin/users/{missing}/reset-link",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=NOT_FOUND)),
    Route("GET", "/admin/users/{owner}/reset-link", expect(everyone=NOT_ALLOWED)),
    # The studio: instructors and admins (can_edit_bank); learners 403 as on the staff pages.
    Route("GET", "/studio/", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/?question=alpha-001",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=to("/studio/questions/alpha-001/edit"))),
    Route("GET", "/studio/?question=nope", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    Route("POST", "/studio/", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/studio/questions/new", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions/new?type=matching",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    # A post without the editor's signed state is no editor form.
    Route("POST", "/studio/questions/new", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD),
          data={"action": "check"}),
    Route("GET", "/studio/questions/alpha-001/edit",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions/nope/edit", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                                      staff=NOT_FOUND)),
    Route("POST", "/studio/questions/alpha-001/edit",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD), data={"action": "check"}),
    Route("POST", "/studio/questions/nope/edit",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND), data={"action": "check"}),
    Route("PUT", "/studio/questions/alpha-001/edit", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/studio/questions/alpha-001/preview",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions/alpha-001/preview?rev=1",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions/alpha-001/preview?rev=9",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    Route("GET", "/studio/questions/alpha-001/preview?rev=x",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    Route("GET", "/studio/questions/nope/preview",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    # "Check answer" without the signed layout.
    Route("POST", "/studio/questions/alpha-001/preview",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD), data={"action": "answer"}),
    Route("POST", "/studio/questions/nope/preview",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND), data={"action": "answer"}),
    # Studio: questions (list, bulk actions, a question's page and status, history, diff,
    # restore, audit log). Learners 403 whatever the id; bad filters are left out (200).
    Route("GET", "/studio/questions", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions?q=prompt&topic=alpha&kp=kp-one&type=single&status=published"
                 "&difficulty=easy&lint=no&sort=updated&dir=asc&page=2",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions?topic=nope&type=essay&status=gone&lint=maybe&sort=bogus"
                 "&dir=up&page=-3", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions?flagged=yes&sort=updated",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("POST", "/studio/questions", expect(everyone=NOT_ALLOWED)),
    # Without `confirm`: the confirmation page; with it, the change and back to the list.
    Route("POST", "/studio/bulk", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK),
          data={"action": "unpublish", "ids": "alpha-001"}),
    Route("POST", "/studio/bulk",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=to("/studio/questions")),
          data={"action": "unpublish", "ids": "alpha-001", "confirm": "1"}),
    Route("POST", "/studio/bulk", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=409),
          data={"action": "restore", "ids": "alpha-001", "confirm": "1"}),
    Route("POST", "/studio/bulk", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=409),
          data={"action": "retire", "ids": "nope", "confirm": "1"}),
    Route("POST", "/studio/bulk", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD),
          data={"action": "retire", "scope": "all", "topic": "nope"}),
    Route("GET", "/studio/bulk", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/studio/questions/alpha-001", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions/nope", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                                 staff=NOT_FOUND)),
    Route("POST", "/studio/questions/alpha-001", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/studio/questions/alpha-001/status",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=to("/studio/questions/alpha-001")),
          data={"action": "unpublish"}),
    Route("POST", "/studio/questions/alpha-001/status",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=409), data={"action": "publish"}),
    Route("POST", "/studio/questions/alpha-001/status",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD), data={"action": "delete"}),
    Route("POST", "/studio/questions/nope/status",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND), data={"action": "retire"}),
    Route("GET", "/studio/questions/alpha-001/status", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/studio/questions/alpha-001/history",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions/nope/history",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    Route("POST", "/studio/questions/alpha-001/history", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/studio/questions/alpha-001/diff",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD)),
    Route("GET", "/studio/questions/nope/diff",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    Route("GET", "/studio/questions/alpha-001/diff?a=1&b=1",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/questions/alpha-001/diff?a=x&b=1",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD)),
    Route("GET", "/studio/questions/alpha-001/diff?a=1&b=9",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    Route("GET", "/studio/questions/nope/diff?a=1&b=1",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
    Route("POST", "/studio/questions/alpha-001/diff", expect(everyone=NOT_ALLOWED)),
    # alpha-001 has one revision: restoring its latest is refused.
    Route("POST", "/studio/questions/alpha-001/restore-revision",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=409), data={"number": "1"}),
    Route("POST", "/studio/questions/alpha-001/restore-revision",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD), data={"number": "x"}),
    Route("POST", "/studio/questions/nope/restore-revision",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND), data={"number": "1"}),
    Route("GET", "/studio/questions/alpha-001/restore-revision", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/studio/audit", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/audit?entity=question&id=alpha-001&actor=cli&since=2020-01-01"
                 "&until=2999-12-31&page=2", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/audit?entity=planet&actor=nobody&since=yesterday&until=13/13&page=x",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("POST", "/studio/audit", expect(everyone=NOT_ALLOWED)),
    # Studio: Moodle XML / GIFT import (preview, confirm) and download
    Route("GET", "/studio/import", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("POST", "/studio/import", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD),
          data={"format": "gift"}),  # no file
    Route("POST", "/studio/import", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD),
          data={"format": "xls"}),
    Route("PUT", "/studio/import", expect(everyone=NOT_ALLOWED)),
    Route("POST", "/studio/import/confirm", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=409),
          data={"token": "x" * 32}),  # no such upload
    Route("GET", "/studio/import/confirm", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/studio/export?format=moodle-xml",
          expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/export?format=gift", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
    Route("GET", "/studio/export?format=pdf", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD)),
    Route("GET", "/studio/export", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD)),
    Route("POST", "/studio/export", expect(everyone=NOT_ALLOWED)),
    # Studio: item statistics (the owner's submitted attempt of beta is in the figures)
    *[Route("GET", path, expect(anonymous=LOGIN, learners=FORBIDDEN, staff=status)) for path, status in (
        ("/studio/stats", OK),
        ("/studio/stats?attempts=all&since=2020-01-01&until=2999-12-31", OK),
        ("/studio/stats?format=csv&table=sections", OK),
        ("/studio/stats?format=json", OK),
        ("/studio/stats?attempts=foo", BAD),
        ("/studio/stats?format=csv&table=nope", BAD),
        ("/studio/stats/sets/beta", OK),
        ("/studio/stats/sets/beta?attempts=last&sort=facility&dir=desc", OK),
        ("/studio/stats/sets/beta?format=csv", OK),
        ("/studio/stats/sets/beta?format=json", OK),
        ("/studio/stats/sets/beta?since=2026-13-40", BAD),
        ("/studio/stats/sets/beta?since=2026-02-01&until=2026-01-01", BAD),
        ("/studio/stats/sets/beta?sort=nope", BAD),
        ("/studio/stats/sets/nope", NOT_FOUND),
        ("/studio/stats/questions/beta-001", OK),
        ("/studio/stats/questions/beta-001?set=beta&attempts=all", OK),
        ("/studio/stats/questions/beta-001?format=csv", OK),
        ("/studio/stats/questions/beta-001?format=json", OK),
        ("/studio/stats/questions/beta-001?format=xml", BAD),
        ("/studio/stats/questions/beta-001?set=nope", NOT_FOUND),
        ("/studio/stats/questions/nope", NOT_FOUND),
        ("/studio/stats/key-points/kp-two", OK),
        ("/studio/stats/key-points/kp-two?format=csv", OK),
        ("/studio/stats/key-points/kp-two?format=json", OK),
        ("/studio/stats/key-points/kp-two?attempts=foo", BAD),
        ("/studio/stats/key-points/nope", NOT_FOUND),
        ("/studio/stats/sections/what-to-expect", OK),
        ("/studio/stats/sections/what-to-expect?format=csv", OK),
        ("/studio/stats/sections/what-to-expect?until=yesterday", BAD),
        ("/studio/stats/sections/nope", NOT_FOUND),
    )],
    *[Route("POST", path, expect(everyone=NOT_ALLOWED)) for path in (
        "/studio/stats", "/studio/stats/sets/beta", "/studio/stats/questions/beta-001",
        "/studio/stats/key-points/kp-two", "/studio/stats/sections/what-to-expect")],
    # Studio: topics, key points, sets
    # (edit POSTs: without `version` 400; with a wrong one 409; with the row's own, saved;
    # 422: the bank's validator refuses the values)
    # (version: the hash of the small bank's row, as its edit form carries it)
    *[row for kind, key, version, new, good, bad in (
        ("topics", "alpha", row_hash(topic_values(bankgen.TOPICS[0])), {"title": "A new topic"},
         {"title": "Alpha renamed"}, {"title": ""}),
        ("key-points", "kp-one", row_hash(key_point_values(bankgen.KEY_POINTS[0])),
         {"text": "A new fact.", "section": "soft-tissue"},
         {"text": "Soft tissue includes fascia.", "section": "what-to-expect"},
         {"text": "Fact.", "section": "nope"}),
        ("sets", "alpha", row_hash(set_values(bankgen.default_sets()[0])),
         {"title": "A new set", "kind": "topic", "topic": "beta", "active": "y"},
         {"title": "Alpha set", "kind": "topic", "topic": "alpha", "pass_mark": "80"},
         {"title": "Alpha set", "kind": "random", "count": "ten"}),
    ) for row in (
        Route("GET", f"/studio/{kind}", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
        Route("POST", f"/studio/{kind}", expect(everyone=NOT_ALLOWED)),
        Route("GET", f"/studio/{kind}/new", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
        Route("POST", f"/studio/{kind}/new",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=to(f"/studio/{kind}")), data=new),
        Route("POST", f"/studio/{kind}/new", expect(anonymous=LOGIN, learners=FORBIDDEN, staff=422),
              data=bad),
        Route("PUT", f"/studio/{kind}/new", expect(everyone=NOT_ALLOWED)),
        Route("GET", f"/studio/{kind}/{key}/edit",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=OK)),
        Route("GET", f"/studio/{kind}/nope/edit",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND)),
        Route("POST", f"/studio/{kind}/{key}/edit",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=BAD), data=good),
        Route("POST", f"/studio/{kind}/{key}/edit",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=409),
              data={**good, "version": "0" * 64}),
        Route("POST", f"/studio/{kind}/{key}/edit",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=to(f"/studio/{kind}")),
              data={**good, "version": version}),
        Route("POST", f"/studio/{kind}/{key}/edit",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=422),
              data={**bad, "version": version}),
        Route("POST", f"/studio/{kind}/nope/edit",
              expect(anonymous=LOGIN, learners=FORBIDDEN, staff=NOT_FOUND),
              data={**good, "version": "0" * 64}),
        Route("PUT", f"/studio/{kind}/{key}/edit", expect(everyone=NOT_ALLOWED)),
    )],
]

# Site-wide routes of the onboarding work (issue 10), one list per area so that each
# area adds its rows in its own place.
# Mail: the forgotten-password page, the admins' outbox.
MAIL_ROUTES: list[Route] = [
    # The same answer whether or not the address has an account; signed-in people have
    # their account page instead.
    Route("GET", "/auth/forgot", expect(anonymous=OK, signed_in=CATALOGUE)),
    Route("POST", "/auth/forgot", expect(anonymous=to("/auth/login"), signed_in=CATALOGUE),
          data={"email": "owner@example.org"}),
    Route("POST", "/auth/forgot", expect(anonymous=to("/auth/login"), signed_in=CATALOGUE),
          data={"email": "nobody@example.org"}),
    Route("POST", "/auth/forgot", expect(anonymous=BAD, signed_in=CATALOGUE),
          data={"email": "not an address"}),
    Route("PUT", "/auth/forgot", expect(everyone=NOT_ALLOWED)),
    # The outbox: admins only, like the other /admin pages (a real message's page is in
    # tests/test_mail_smtp.py).
    Route("GET", "/admin/outbox", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                         instructor=FORBIDDEN, admin=OK)),
    Route("GET", "/admin/outbox?page=99", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                                 instructor=FORBIDDEN, admin=OK)),
    Route("POST", "/admin/outbox", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/admin/outbox/nope", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                              instructor=FORBIDDEN, admin=NOT_FOUND)),
    Route("GET", "/admin/outbox/20270315T120000000000-0badf00d.eml",
          expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=NOT_FOUND)),
    Route("GET", "/admin/outbox/..%2Fsecret_key", expect(everyone=NOT_FOUND)),
    Route("POST", "/admin/outbox/nope", expect(everyone=NOT_ALLOWED)),
]
# Certificates: the public verification page, a learner's own certificates.
# (A real code and the PDF are in tests/test_access_orgs.py, whose world has certificates.)
CERTIFICATE_ROUTES: list[Route] = [
    Route("GET", "/verify", expect(everyone=OK)),
    Route("GET", "/verify?code=abcd-efgh-jkmn", expect(everyone=to("/verify/ABCDEFGHJKMN"))),
    Route("GET", "/verify?code=not+a+code", expect(everyone=BAD)),
    Route("POST", "/verify", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/verify/nope", expect(everyone=NOT_FOUND)),
    Route("GET", "/verify/ABCDEFGHJKMN", expect(everyone=NOT_FOUND)),  # well-formed, unknown
    Route("POST", "/verify/ABCDEFGHJKMN", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/certificates", expect(anonymous=LOGIN, signed_in=OK)),
    Route("POST", "/certificates", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/certificates/{missing}.pdf", expect(anonymous=LOGIN, signed_in=NOT_FOUND)),
    Route("GET", "/certificates/not-a-number.pdf", expect(everyone=NOT_FOUND)),
    Route("POST", "/certificates/{missing}.pdf", expect(everyone=NOT_ALLOWED)),
]
# Organisations created by site admins (/admin/orgs).
ADMIN_ORG_ROUTES: list[Route] = [
    # (on the orgs blueprint: /orgs/admin; refused like /admin/users, 403 for non-admins)
    Route("GET", "/orgs/admin", expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN,
                                       admin=OK)),
    Route("POST", "/orgs/admin", expect(everyone=NOT_ALLOWED)),
    Route("GET", "/orgs/admin/new", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                           instructor=FORBIDDEN, admin=OK)),
    Route("POST", "/orgs/admin/new", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                            instructor=FORBIDDEN, admin=to("/orgs/admin")),
          data={"name": "Clinic New", "manager_email": "new.manager@example.org"}),
    Route("POST", "/orgs/admin/new", expect(anonymous=LOGIN, learners=FORBIDDEN,
                                            instructor=FORBIDDEN, admin=BAD),
          data={"name": "Clinic New", "manager_email": "not an address"}),
    Route("PUT", "/orgs/admin/new", expect(everyone=NOT_ALLOWED)),
    # (an existing organisation's rename and status: tests/test_orgs_people.py)
    *[row for action, data in (("rename", {"name": "Renamed"}), ("active", {"active": "no"}))
      for row in (
        Route("POST", f"/orgs/admin/{{missing}}/{action}",
              expect(anonymous=LOGIN, learners=FORBIDDEN, instructor=FORBIDDEN, admin=NOT_FOUND),
              data=data),
        Route("GET", f"/orgs/admin/{{missing}}/{action}", expect(everyone=NOT_ALLOWED)),
    )],
]
ROUTES += MAIL_ROUTES + CERTIFICATE_ROUTES + ADMIN_ORG_ROUTES


# --- the world every matrix case runs in ------------------------------------------------

@functools.cache
def _password_hash() -> str:
    """One argon2 hash for every test user: hashing per user would make the matrix slow."""
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def world(app):
    """Four accounts; the owner has an open attempt of 'alpha' and a submitted one of 'beta'."""
    with app.app_context():
        users = {}
        for role, account_role in (("owner", "learner"), ("other", "learner"),
                                   ("instructor", "instructor"), ("admin", "admin")):
            user = User(email=f"{role}@example.org", name=role.title(),
                        password_hash=_password_hash(), role=account_role)
            db.session.add(user)
            users[role] = user
        db.session.flush()
        owner = users["owner"]
        open_attempt = start_attempt(owner, db.session.get(QuestionSet, "alpha"))
        done = start_attempt(owner, db.session.get(QuestionSet, "beta"))
        assert submit_attempt(done, {})
        link = create_reset_link(users["admin"], owner, timedelta(hours=1))
        db.session.commit()
        return {
            "ids": {"open": open_attempt.id, "done": done.id, "owner": owner.id,
                    "other": users["other"].id, "missing": MISSING_ID, "reset": link.token},
            "users": {role: u.id for role, u in users.items()},
            "tokens": {role: u.session_token for role, u in users.items()},
        }


def sign_in(client, world, role: str) -> None:
    """Sign in without the password round trip (argon2 is slow): what login_user stores."""
    if role == "anonymous":
        return
    with client.session_transaction() as session:
        session["_user_id"] = world["tokens"][role]
        session["_fresh"] = True


def fill(path: str, world, role: str) -> str:
    ids = dict(world["ids"])
    ids["me"] = world["users"].get(role, world["users"]["owner"])
    return path.format(**ids)


def _case_id(route: Route, role: str) -> str:
    return f"{route.method} {route.path} [{role}]"


CASES = [pytest.param(route, role, id=_case_id(route, role)) for route in ROUTES for role in ROLES]


@pytest.mark.parametrize(("route", "role"), CASES)
def test_access(client, world, route: Route, role: str):
    sign_in(client, world, role)
    path = fill(route.path, world, role)
    response = client.open(path, method=route.method, data=route.data)
    expected = route.expected[role]

    if isinstance(expected, int):
        assert response.status_code == expected, f"{route.method} {path} as {role}"
        return
    assert response.status_code == 302, f"{route.method} {path} as {role}"
    location = urlsplit(response.headers["Location"])
    assert not location.netloc or location.netloc == "localhost"
    if expected.target is None:
        assert location.path == "/auth/login"
        assert parse_qs(location.query).get("next") == [path]
    else:
        pattern = re.escape(fill(expected.target.replace("{new}", "NEW"), world, role))
        pattern = pattern.replace("NEW", r"\d+")
        assert re.fullmatch(pattern, location.path), (location.path, expected.target)


def test_new_attempts_from_start_belong_to_the_starter(app, client, world):
    """The {new} attempt of the matrix is the starter's own, not the owner's."""
    sign_in(client, world, "other")
    response = client.post("/sets/alpha/start")
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.user_id == world["users"]["other"]
        assert attempt.id != world["ids"]["open"]


@pytest.mark.parametrize("role", ["other", "instructor", "admin"])
def test_posting_to_someone_elses_attempt_changes_nothing(app, client, world, role):
    with app.app_context():
        items = db.session.scalars(
            db.select(AttemptQuestion).where(AttemptQuestion.attempt_id == world["ids"]["open"])
        ).all()
        answers = {f"q{item.id}": item.layout["choices"][0] for item in items}
    sign_in(client, world, role)
    response = client.post(f"/attempts/{world['ids']['open']}",
                           data={**answers, "finish": "Submit answers"})
    assert response.status_code == 404
    with app.app_context():
        attempt = db.session.get(Attempt, world["ids"]["open"])
        assert attempt.status == "in_progress"
        assert attempt.score is None
        assert all(item.answer is None for item in attempt.items)


@pytest.mark.parametrize("role", ["owner", "other", "instructor"])
def test_retired_set_is_gone_but_its_reviews_stay(app, client, world, role):
    """A set dropped from the bank: no page, no new attempts; submitted reviews remain."""
    with app.app_context():
        db.session.get(QuestionSet, "beta").active = False
        db.session.commit()
    sign_in(client, world, role)
    assert client.get("/sets/beta").status_code == 404
    assert client.post("/sets/beta/start").status_code == 404
    assert "/sets/beta" not in client.get("/sets").get_data(as_text=True)
    review = client.get(f"/attempts/{world['ids']['done']}/review").status_code
    assert review == (404 if role == "other" else 200)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Attempt)
                                 .where(Attempt.set_id == "beta")) == 1


# --- the matrix covers every route ------------------------------------------------------

def _endpoint(app, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    for method in ("GET", "POST"):
        try:
            return adapter.match(path, method=method)[0]
        except MethodNotAllowed:
            continue
        except NotFound:
            return None
    return None


def _dummy(path: str) -> str:
    return re.sub(r"\{\w+\}", "1", path)


def test_every_route_is_in_the_matrix(app):
    from .test_access_orgs import ORG_ROUTES  # the organisation routes' own matrix

    covered: dict[tuple[str, str], list[Route]] = {}
    for route in [*ROUTES, *ORG_ROUTES]:
        endpoint = _endpoint(app, _dummy(route.path))
        if endpoint is not None:
            covered.setdefault((endpoint, route.method), []).append(route)

    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = set(rule.methods) - {"HEAD", "OPTIONS"}
        for method in sorted(methods):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule}")
        if "GET" not in methods:
            # A POST-only route: a GET row must show it answers 405.
            rows = covered.get((rule.endpoint, "GET"), [])
            if not any(set(r.expected.values()) == {NOT_ALLOWED} for r in rows):
                missing.append(f"GET {rule.rule} (expected 405)")
        if rule.arguments and not any(
            r.probes_missing for m in methods for r in covered.get((rule.endpoint, m), [])
        ):
            missing.append(f"{rule.rule} with an id that does not exist (expected 404)")
    assert not missing, "routes without access tests: " + ", ".join(missing)


def test_matrix_rows_name_every_role():
    for route in ROUTES:
        assert set(route.expected) == set(ROLES), route
