"""A clinic's onboarding, end to end in a real browser (issue 10, part 8).

A manager invites three new staff by CSV upload, assigns the Alpha set to their cohort due
in 7 days; the invitees open their mailed links and choose passwords; one passes, one
fails, one never starts. The manager's dashboard, its CSV and the passing learner's
certificate verification page then say exactly that. Every form goes through the real
pages with CSRF on; the mail is read from the outbox the app writes (no SMTP configured).

Runs headless Debian Chromium like tests/test_e2e.py and is skipped, with the reason,
where Chromium is not installed. Screenshots go to tmp_path/screenshots (and to
$QUIZ_SCREENSHOTS when set).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from quiz import accounts
from quiz.extensions import db
from quiz.mail import read_outbox
from quiz.models import Certificate, Cohort, Membership, Organisation, User
from quiz.vocab import OrgRole

from . import bankgen
from .conftest import PASSWORD, make_app
from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, chromium, serving  # noqa: F401

pytestmark = pytest.mark.e2e

STAFF = [("Pat Passer", "pat.passer@example.org"),
         ("Fay Failer", "fay.failer@example.org"),
         ("Nell Never", "nell.never@example.org")]
COHORT = "Spring 2027 hires"
NEW_PASSWORD = "copper lantern orchard"


class Watch:
    """Console errors, CSP violations and 4xx/5xx responses seen by a browser context."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def attach(self, page: Page) -> Page:
        def on_console(msg) -> None:
            if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
                self.problems.append(f"console error on {msg.location.get('url')}: {msg.text}")

        def on_response(response) -> None:
            if response.status >= 400 and not response.url.endswith("/favicon.ico"):
                self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error on {page.url}: {exc}"))
        page.on("response", on_response)
        return page

    def clean(self, page: Page) -> None:
        violations = page.evaluate("window.__cspViolations || []")
        assert not violations, f"CSP violations on {page.url}: {violations}"
        assert not self.problems, "\n".join(self.problems)


def new_page(browser: Browser, watch: Watch, width: int = 1280) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(CSP_RECORDER)
    context.set_default_timeout(15_000)
    return context, watch.attach(context.new_page())


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/auth/login"))


def take_alpha(page: Page, base: str, choice: str) -> None:
    """From the home page's "My assignments", start Alpha and answer every question with
    the given choice letter (the generated bank's choice a is right, b wrong)."""
    page.goto(base + "/")
    mine = page.locator("section.my-assignments")
    expect(mine).to_contain_text("Alpha set")
    expect(mine).to_contain_text("Not started", ignore_case=True)
    mine.get_by_role("button", name=re.compile(r"^Start")).click()
    expect(page).to_have_url(re.compile(r"/attempts/\d+$"))
    for n in (1, 2, 3):
        page.get_by_label(f"Choice {choice} of alpha-00{n}").check()
    page.get_by_role("button", name=re.compile(r"^Submit")).click()
    expect(page).to_have_url(re.compile(r"/attempts/\d+/review$"))


def test_a_clinic_onboards_three_staff(chromium: Path, tmp_path: Path) -> None:  # noqa: F811
    shots = Shots(tmp_path / "screenshots")
    watch = Watch()
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), WTF_CSRF_ENABLED=True,
                   MAIL_OUTBOX=str(tmp_path / "outbox"))
    with app.app_context():
        manager = accounts.create_user("manager@example.org", PASSWORD, "Mia Manager")
        org = Organisation(name="Riverside Clinic")
        db.session.add(org)
        db.session.flush()
        db.session.add_all([Membership(org_id=org.id, user_id=manager.id, role=OrgRole.MANAGER),
                            Cohort(org_id=org.id, name=COHORT)])
        db.session.commit()
        org_id = org.id

    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            # --- the manager invites three people by CSV ---------------------------------
            boss_context, boss = new_page(browser, watch)
            sign_in(boss, base, "manager@example.org", PASSWORD)
            boss.goto(f"{base}/orgs/{org_id}")
            boss.get_by_role("link", name="Invite people").click()
            rows = "".join(f"{name},{email},{COHORT}\n" for name, email in STAFF)
            boss.get_by_label("Or a CSV file").set_input_files(
                files=[{"name": "new-hires.csv", "mimeType": "text/csv",
                        "buffer": ("\ufeffname,e-mail,cohort\n" + rows).encode()}])
            shots(boss, "invite-form")
            boss.get_by_role("button", name="Preview").click()
            for _, email in STAFF:
                expect(boss.get_by_text(email)).to_be_visible()
            with app.app_context():
                assert read_outbox() == [], "the preview sent mail"
            watch.clean(boss)
            shots(boss, "invite-preview")
            boss.get_by_role("button", name="Send 3 invitations").click()
            expect(boss.locator("body")).to_contain_text("3")
            watch.clean(boss)

            with app.app_context():
                mails = read_outbox()
            links = {}
            for message in mails:
                body = message.get_content()
                found = re.search(r"https?://\S+/orgs/invite/\S+", body)
                assert found, body
                links[message["To"]] = found.group(0)
            assert sorted(links) == sorted(email for _, email in STAFF)

            # --- the manager assigns Alpha to the cohort, due in 7 days ------------------------
            boss.goto(f"{base}/orgs/{org_id}")
            boss.get_by_role("link", name="New assignment").click()
            boss.get_by_label("Question set").select_option(label="Alpha set")
            boss.get_by_label("Cohort").select_option(label=COHORT)
            due = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
            boss.get_by_label("Due (UTC)").fill(due)
            boss.get_by_label("Pass mark (%)").fill("60")
            shots(boss, "assignment-form")
            boss.get_by_role("button", name="Create assignment").click()
            expect(boss.locator("body")).to_contain_text("Alpha set")
            watch.clean(boss)

            # --- each invitee opens their link and chooses a password -------------------------
            people = {}
            for name, email in STAFF:
                context, page = new_page(browser, watch, width=390)
                page.goto(links[email])
                expect(page.get_by_role("heading", level=1)).to_contain_text("Riverside Clinic")
                expect(page.get_by_label("Your name")).to_have_value(name)
                page.get_by_label("Choose a password").fill(NEW_PASSWORD)
                page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
                if email == STAFF[0][1]:
                    shots(page, "invite-accept-phone")
                page.get_by_role("button", name="Create my account and join").click()
                expect(page).not_to_have_url(re.compile(r"/orgs/invite/"))
                watch.clean(page)
                people[email] = (context, page)
            # A used link is spent.
            used = boss_context.request.get(links[STAFF[0][1]])
            assert used.status == 410, used.status

            # --- one passes, one fails, one never starts --------------------------------------
            pat = people[STAFF[0][1]][1]
            take_alpha(pat, base, "a")
            expect(pat.locator("body")).to_contain_text("100")
            shots(pat, "pat-review-phone")
            fay = people[STAFF[1][1]][1]
            take_alpha(fay, base, "b")
            watch.clean(pat)
            watch.clean(fay)
            pat.goto(base + "/")
            expect(pat.locator("section.my-assignments")).to_contain_text("Passed", ignore_case=True)
            shots(pat, "pat-home-phone")

            # --- the dashboard says exactly that --------------------------------------------
            boss.goto(f"{base}/orgs/{org_id}")
            boss.get_by_role("link", name="Dashboard").click()
            expect(boss).to_have_url(re.compile(rf"/orgs/{org_id}/dashboard$"))
            expected = {"Pat Passer": "passed", "Fay Failer": "not passed", "Nell Never": "not started"}
            for name, state in expected.items():
                row = boss.get_by_role("row").filter(has_text=name)
                expect(row).to_have_count(1)
                expect(row.locator("td").last).to_contain_text(re.compile(rf"^\s*{state}", re.I))
            pat_row = boss.get_by_role("row").filter(has_text="Pat Passer")
            expect(pat_row.get_by_role("link")).to_have_count(1)  # the cell links to the review
            nell_row = boss.get_by_role("row").filter(has_text="Nell Never")
            expect(nell_row.get_by_role("link")).to_have_count(0)
            watch.clean(boss)
            shots(boss, "dashboard")

            download = boss_context.request.get(f"{base}/orgs/{org_id}/dashboard.csv")
            assert download.status == 200
            text = download.body().decode("utf-8")
            assert text.startswith("\ufeff")
            table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
            header, body = table[0], table[1:]
            status_col = next(i for i, h in enumerate(header) if h.lower().endswith("status"))
            name_col = next(i for i, h in enumerate(header) if h.lower() == "name")
            assert {r[name_col]: r[status_col] for r in body} == expected

            # --- the passing learner's certificate verifies; nobody else has one -------------------
            with app.app_context():
                certificates = db.session.scalars(db.select(Certificate)).all()
                assert [c.learner_name for c in certificates] == ["Pat Passer"]
                code = certificates[0].code
                assert db.session.scalar(db.select(User.id).where(User.email == STAFF[2][1]))
            public_context, public = new_page(browser, watch)
            public.goto(f"{base}/verify/{code}")
            expect(public.get_by_role("heading", level=1)).to_have_text("Pat Passer")
            expect(public.locator("body")).to_contain_text("Valid")
            expect(public.locator("body")).to_contain_text("Alpha set")
            expect(public.locator("body")).to_contain_text("Riverside Clinic")
            assert "pat.passer@example.org" not in public.content()
            watch.clean(public)
            shots(public, "verify")
            public_context.close()
        finally:
            browser.close()
