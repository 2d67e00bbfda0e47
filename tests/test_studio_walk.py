"""The studio end to end in a real browser (issue 8, part 5).

An instructor creates a question of each of the five types in the studio, previews and
publishes each; a learner starts the topic set that draws them and is served them; the
instructor edits one and publishes revision 2; the learner's open attempt still shows
revision 1 while a new attempt gets revision 2; the history shows the diff. Screenshots of
the list, a question's page, history, diff and audit log at 1280 and 390 px.

Served and driven as tests/test_e2e.py (werkzeug in a thread, CSRF on, Debian Chromium;
skipped with the reason where Chromium is missing). Screenshots go to tmp_path/screenshots
and to $QUIZ_SCREENSHOTS when set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from quiz import accounts
from quiz.extensions import db

from . import bankgen
from .conftest import PASSWORD, make_app
from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, chromium, serving  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

WIDTHS = (1280, 390)


@pytest.fixture
def studio_server(tmp_path) -> Iterator[str]:
    """The small generated bank (topic set "alpha" draws every alpha question), an instructor
    and a learner, CSRF on, on a free loopback port."""
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), WTF_CSRF_ENABLED=True)
    with app.app_context():
        accounts.create_user("ivy@example.org", PASSWORD, "Ivy Instructor", "instructor")
        accounts.create_user("lee@example.org", PASSWORD, "Lee Learner", "learner")
        db.session.commit()
    with serving(app) as base:
        yield base


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/sets$"))


def fill_rows(page: Page, kind: str, n: int, fields=("text", "feedback"), label: str = "") -> None:
    for i in range(n):
        for f in fields:
            page.fill(f'[name="{kind}-{i}-{f}"]', f"{label} {kind} {i + 1} {f}".strip())


def fill_common(page: Page, qtype: str) -> None:
    page.select_option("#topic", "alpha")
    page.fill("#prompt", f"Walk {qtype} prompt, first version?")
    page.fill("#explanation", f"Why the {qtype} answer is right.")
    page.select_option("#source", "soft-tissue")
    page.check('input[name="key_points"][value="kp-one"]')
    page.fill("#note", f"New {qtype} question")


def fill_type(page: Page, qtype: str) -> None:
    if qtype in ("single", "multiple"):
        fill_rows(page, "choices", 4, label=qtype)
        if qtype == "single":
            page.locator('input[name="choices-correct"]').first.check()
        else:
            page.check('[name="choices-0-correct"]')
            page.check('[name="choices-1-correct"]')
    elif qtype == "true_false":
        page.check('input[name="tf-answer"][value="true"]')
        page.fill('[name="tf-true-feedback"]', "Right: it is true.")
        page.fill('[name="tf-false-feedback"]', "It is true, in fact.")
    elif qtype == "matching":
        fill_rows(page, "options", 2, fields=("text",), label="walk")
        fill_rows(page, "pairs", 3, label="walk")
        for i, option in enumerate((1, 2, 1)):
            page.select_option(f'[name="pairs-{i}-match"]', index=option)
    else:
        fill_rows(page, "steps", 3, label="walk")


def answer_everything(page: Page) -> None:
    """Some answer to every question (submitting needs them all): the first radio button or
    check box, and menu i its option i (ordering: positions 1, 2, 3...; matching: the last
    option when there are fewer)."""
    for section in page.locator("section.question").all():
        for kind in ("radio", "checkbox"):
            boxes = section.locator(f"input[type={kind}]")
            if boxes.count():
                boxes.first.check()
        for i, menu in enumerate(section.locator("select").all()):
            menu.select_option(index=min(i + 1, menu.locator("option").count() - 1))


def test_instructor_writes_publishes_revises_and_the_learner_is_served_each_revision(
        chromium: Path, studio_server: str, tmp_path: Path) -> None:  # noqa: F811
    base = studio_server
    shots = Shots(tmp_path / "screenshots")
    problems: list[str] = []

    def watch(page: Page) -> None:
        page.on("pageerror", lambda exc: problems.append(f"page error on {page.url}: {exc}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    def assert_clean(page: Page) -> None:
        assert not page.evaluate("window.__cspViolations || []"), page.url
        assert not problems, "\n".join(problems)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            staff = browser.new_context(viewport={"width": 1280, "height": 900})
            learner = browser.new_context(viewport={"width": 1280, "height": 900})
            for context in (staff, learner):
                context.add_init_script(CSP_RECORDER)
                context.set_default_timeout(15_000)
            page = staff.new_page()
            watch(page)
            sign_in(page, base, "ivy@example.org")

            # --- the instructor writes, previews and publishes one question of each type ----
            created: dict[str, str] = {}
            for qtype in ("single", "multiple", "true_false", "matching", "ordering"):
                page.goto(f"{base}/studio/questions/new?type={qtype}")
                fill_common(page, qtype)
                fill_type(page, qtype)
                page.get_by_role("button", name="Save", exact=True).click()
                expect(page).to_have_url(re.compile(r"/studio/questions/alpha-\d{3}$"))
                expect(page.get_by_role("status").first).to_contain_text("a draft")
                qid = page.url.rsplit("/", 1)[1]
                created[qtype] = qid
                page.get_by_role("link", name="Preview latest").click()
                expect(page.get_by_role("heading", level=1)).to_contain_text(f"Preview of {qid}")
                expect(page.locator("#preview")).to_contain_text(
                    f"Walk {qtype} prompt, first version?")
                if qtype == "single":
                    page.locator("#preview input[type=radio]").first.check()
                    page.get_by_role("button", name="Check answer").click()
                    expect(page.locator("#preview")).to_contain_text("Preview: review")
                    shots(page, "preview-review")
                page.goto(f"{base}/studio/questions/{qid}")
                page.get_by_role("button", name="Publish revision 1").click()
                expect(page.get_by_role("status").first).to_contain_text(f"Published {qid}")
                expect(page.locator("h1")).to_contain_text("published")
                assert_clean(page)
            assert list(created.values()) == [f"alpha-{n:03}" for n in range(4, 9)]

            # --- the learner starts the topic set and is served all five -----------------------
            lpage = learner.new_page()
            watch(lpage)
            sign_in(lpage, base, "lee@example.org")
            row = lpage.get_by_role("row").filter(has=lpage.get_by_role("link", name="Alpha set"))
            row.get_by_role("button", name="Start").click()
            expect(lpage).to_have_url(re.compile(r"/attempts/\d+$"))
            attempt_url = lpage.url
            for qtype in created:
                expect(lpage.locator("main")).to_contain_text(f"Walk {qtype} prompt, first version?")

            # --- the instructor edits the single question and publishes revision 2 -------------
            single = created["single"]
            page.goto(f"{base}/studio/questions/{single}/edit")
            page.fill("#prompt", "Walk single prompt, second version?")
            page.fill("#note", "Sharper prompt")
            page.get_by_role("button", name="Save", exact=True).click()
            expect(page).to_have_url(re.compile(rf"/studio/questions/{single}$"))
            expect(page.locator("main")).to_contain_text("a draft: publish to serve it")
            page.get_by_role("button", name="Publish revision 2").click()
            expect(page.get_by_role("status").first).to_contain_text(f"Published {single}")

            # --- the open attempt keeps revision 1, a new attempt gets revision 2 ---------------
            lpage.goto(attempt_url)
            expect(lpage.locator("main")).to_contain_text("Walk single prompt, first version?")
            expect(lpage.locator("main")).not_to_contain_text("second version")
            answer_everything(lpage)
            lpage.get_by_role("button", name=re.compile(r"^Submit")).click()
            expect(lpage).to_have_url(re.compile(r"/attempts/\d+/review$"))
            expect(lpage.locator("main")).to_contain_text("Walk single prompt, first version?")
            lpage.goto(base + "/sets")
            row = lpage.get_by_role("row").filter(has=lpage.get_by_role("link", name="Alpha set"))
            row.get_by_role("button", name=re.compile(r"^(Start|Try again|Retake)")).click()
            expect(lpage).to_have_url(re.compile(r"/attempts/\d+$"))
            assert lpage.url != attempt_url
            expect(lpage.locator("main")).to_contain_text("Walk single prompt, second version?")
            expect(lpage.locator("main")).not_to_contain_text("Walk single prompt, first version?")
            assert_clean(lpage)

            # --- the history shows the diff -------------------------------------------------------
            page.goto(f"{base}/studio/questions/{single}/history")
            expect(page.locator("table.history")).to_contain_text("Sharper prompt")
            page.get_by_role("button", name="Compare A and B").click()
            expect(page).to_have_url(re.compile(rf"/studio/questions/{single}/diff\?(a=1&b=2|b=2&a=1)$"))
            diff = page.locator("table.diff")
            expect(diff).to_contain_text("Prompt")
            expect(diff.locator("del")).to_contain_text("first")
            expect(diff.locator("ins")).to_contain_text("second")
            expect(page.locator("main")).to_contain_text("1 field changed")
            assert_clean(page)

            # --- screenshots at two widths ----------------------------------------------------------
            pages = {"list": "/studio/questions", "question": f"/studio/questions/{single}",
                     "history": f"/studio/questions/{single}/history",
                     "diff": f"/studio/questions/{single}/diff?a=1&b=2",
                     "audit": "/studio/audit"}
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for name, path in pages.items():
                    page.goto(base + path)
                    # Nothing wider than the window at 390 px (tables scroll in their wrap).
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 0, f"{name} at {width}px is {overflow}px too wide"
                    shots(page, f"{name}-{width}")
            assert_clean(page)

            # --- restore revision 1, and a bulk change, through the real forms (CSRF on) -------
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{base}/studio/questions/{single}/history")
            page.get_by_role("button", name="Restore this revision").click()
            expect(page).to_have_url(re.compile(rf"/studio/questions/{single}$"))
            expect(page.get_by_role("status").first).to_contain_text(
                "Revision 1 restored as revision 3")
            expect(page.locator(".prompt-card")).to_contain_text("first version")
            page.goto(f"{base}/studio/questions?type=ordering")
            page.get_by_label(f"Choose {created['ordering']}").check()
            page.select_option("#bulk-action", "unpublish")
            page.get_by_role("button", name="Continue…").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Unpublish 1 question?")
            page.get_by_role("button", name="Unpublish 1 question").click()
            expect(page).to_have_url(re.compile(r"/studio/questions\?type=ordering$"))
            expect(page.get_by_role("status").first).to_contain_text("Unpublished: 1 question")
            expect(page.locator("table.questions")).to_contain_text("draft")
            assert_clean(page)
        finally:
            browser.close()
