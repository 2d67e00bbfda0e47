"""Moodle import and export in a real browser: an instructor uploads a GIFT file, sees the
preview (what would be created, the new topic, the skipped essay, the reader's warnings),
confirms it, finds the drafts in the question list and a draft's page saying what it still
needs before publishing, and downloads the bank as Moodle XML. Screenshots at 1280 and 390 px
(tmp_path/screenshots, and $QUIZ_SCREENSHOTS when set). Served and driven as
tests/test_e2e.py (CSRF on, Debian Chromium; skipped with the reason where it is missing)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from quiz import accounts
from quiz.extensions import db
from quiz.models import Question

from . import bankgen
from .conftest import PASSWORD, make_app
from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, chromium, serving  # noqa: F401 (fixture)
from .test_exchange_bank import GIFT_FILE

pytestmark = pytest.mark.e2e


@pytest.fixture
def exchange_server(tmp_path) -> Iterator[tuple[str, object]]:
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), WTF_CSRF_ENABLED=True,
                   IMPORT_FOLDER=str(tmp_path / "imports"))
    with app.app_context():
        accounts.create_user("ivy@example.org", PASSWORD, "Ivy Instructor", "instructor")
        db.session.commit()
    with serving(app) as base:
        yield base, app


def test_upload_preview_confirm_and_download(chromium: Path, exchange_server, tmp_path: Path) -> None:  # noqa: F811
    base, app = exchange_server
    shots = Shots(tmp_path / "screenshots")
    upload = tmp_path / "trivia.gift.txt"
    upload.write_bytes(GIFT_FILE)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            context.add_init_script(CSP_RECORDER)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.goto(base + "/auth/login")
            page.get_by_label("E-mail").fill("ivy@example.org")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(re.compile(r"/sets$"))

            page.goto(base + "/studio/")
            page.get_by_role("link", name="Import a Moodle XML or GIFT file").click()
            expect(page.get_by_role("heading", name="Import questions from Moodle")).to_be_visible()
            page.set_input_files("#file", str(upload))
            page.get_by_label("GIFT").check()
            page.get_by_label(re.compile("Skip question types")).check()
            _shots(page, shots, "import-form")
            page.get_by_role("button", name="Preview the import").click()
            heading = page.get_by_role("heading", name="Import 2 questions from trivia.gift.txt?")
            expect(heading).to_be_visible()
            expect(page.get_by_text("Essay (essay)")).to_be_visible()
            _shots(page, shots, "import-preview")
            with app.app_context():
                assert db.session.get(Question, "capital") is None  # nothing written yet
            page.get_by_role("button", name="Import 2 drafts").click()
            expect(page).to_have_url(re.compile(r"/studio/questions\?status=draft"))
            expect(page.get_by_text(re.compile("Imported 2 question"))).to_be_visible()
            _shots(page, shots, "import-done")
            page.goto(base + "/studio/questions/capital")
            expect(page.get_by_text("Before this draft can be published:")).to_be_visible()
            _shots(page, shots, "imported-draft")
            page.goto(base + "/studio/")
            with page.expect_download() as info:
                page.get_by_role("link", name="Download Moodle XML").click()
            assert info.value.suggested_filename == "iastm-bank.xml"
            assert b"<quiz>" in Path(info.value.path()).read_bytes()
            assert not page.evaluate("window.__cspViolations || []")
            assert not problems, problems
        finally:
            browser.close()


def _shots(page: Page, shots: Shots, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shots(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
