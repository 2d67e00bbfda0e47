"""End to end in a real browser: register, take the Alpha set, review it, see progress.

Runs headless Debian Chromium (/usr/bin/chromium) through Playwright against the app served
by werkzeug in a background thread, with CSRF protection on as in production. Skipped when
Chromium is not installed (`apt-get install chromium`; .ci/run installs it).

Screenshots go to tmp_path/screenshots, and also to $QUIZ_SCREENSHOTS when that is set.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright
from werkzeug.serving import make_server

from . import bankgen
from .conftest import PASSWORD, _teardown, make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Recorded in the page before any of its own code runs; CSP violations also reach the console,
# but this catches them even if Chromium stops logging them there.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""

pytestmark = pytest.mark.e2e


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; the test is skipped (with the reason) where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian Chromium not found at {CHROMIUM}: install it with "
                    "`apt-get install chromium` (.ci/run does)")
    return CHROMIUM


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve `app` (werkzeug, threaded) on a free loopback port; yields its base URL and
    stops the server and disposes of the app's database afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        _teardown(app)


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    """The app with the small generated bank, CSRF on, served on a free loopback port."""
    with serving(make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"),
                          WTF_CSRF_ENABLED=True)) as base:
        yield base


class Shots:
    """Numbered full-page screenshots into tmp_path, copied to $QUIZ_SCREENSHOTS if set."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        extra = os.environ.get("QUIZ_SCREENSHOTS")
        self.extra = Path(extra) if extra else None
        if self.extra:
            self.extra.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if self.extra:
            shutil.copy2(path, self.extra / path.name)
        return path


def test_register_take_review_progress(chromium: Path, live_server: str, tmp_path: Path) -> None:
    shots = Shots(tmp_path / "screenshots")
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        # The app has no favicon; Chromium's own request for /favicon.ico 404s and logs that.
        if msg.location.get("url", "").endswith("/favicon.ico"):
            return
        if msg.type in ("error", "warning"):
            problems.append(f"console {msg.type} on {msg.location.get('url')}: {msg.text}")

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    def assert_clean(page: Page) -> None:
        """No console errors, CSP violations or failed requests so far."""
        violations = page.evaluate("window.__cspViolations || []")
        assert not violations, f"CSP violations on {page.url}: {violations}"
        assert not problems, "\n".join(problems)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 800})
            context.add_init_script(CSP_RECORDER)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", lambda exc: problems.append(f"page error on {page.url}: {exc}"))
            page.on("response", on_response)

            # --- home and registration -------------------------------------------------
            page.goto(live_server + "/")
            expect(page.get_by_role("heading", level=1)).to_contain_text("Learn IASTM")
            assert_clean(page)
            shots(page, "home")
            page.get_by_role("link", name="Create an account").click()
            expect(page).to_have_url(re.compile(r"/auth/register$"))
            page.get_by_label("Your name").fill("Erin End-to-end")
            page.get_by_label("E-mail").fill("erin@example.org")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_label("Repeat password").fill(PASSWORD)
            shots(page, "register")
            assert_clean(page)
            page.get_by_role("button", name="Create account").click()

            # --- sign in (registering does not: a taken address gets the same answer) -----
            expect(page).to_have_url(re.compile(r"/auth/login$"))
            expect(page.get_by_role("status").first).to_contain_text("Sign in below")
            expect(page.get_by_label("E-mail")).to_have_value("erin@example.org")
            assert_clean(page)
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()

            # --- catalogue -----------------------------------------------------------------
            expect(page).to_have_url(re.compile(r"/sets$"))
            expect(page.get_by_role("heading", name="Question sets")).to_be_visible()
            for title in ("Alpha set", "Beta set", "Mixed"):
                expect(page.get_by_role("link", name=title, exact=True)).to_be_visible()
            assert_clean(page)
            shots(page, "catalogue")

            # The forms really are CSRF-protected: a POST without the token is refused.
            refused = context.request.post(live_server + "/sets/alpha/start", max_redirects=0)
            assert refused.status == 400, refused.status
            assert "Your form expired" in refused.text()

            alpha_row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Alpha set"))
            alpha_row.get_by_role("button", name="Start").click()

            # --- the attempt -----------------------------------------------------------------
            expect(page).to_have_url(re.compile(r"/attempts/\d+$"))
            attempt_url = page.url
            expect(page.get_by_role("heading", level=1)).to_have_text("Alpha set")
            questions = page.locator("section.question")
            expect(questions).to_have_count(3)
            html = page.content()
            for secret in ("Feedback a of alpha-001", "Feedback b of alpha-002", "Explanation of",
                           "Source:", "Soft tissue includes fascia.", "correct answer"):
                assert secret not in html, f"{secret!r} shown before submission"
            assert_clean(page)
            shots(page, "attempt")

            # Answer the first question wrong and the others right; save half-way first.
            page.get_by_label("Choice b of alpha-001").check()
            page.get_by_role("button", name=re.compile(r"^Save")).click()
            expect(page).to_have_url(attempt_url)
            expect(page.get_by_role("status").first).to_contain_text("Your answers are saved")
            expect(page.get_by_label("Choice b of alpha-001")).to_be_checked()
            expect(page.get_by_text("1 answered so far")).to_be_visible()
            assert_clean(page)
            shots(page, "attempt-saved")
            page.get_by_label("Choice a of alpha-002").check()
            page.get_by_label("Choice a of alpha-003").check()
            for n in (1, 2, 3):  # every question has exactly one checked radio button
                expect(questions.nth(n - 1).locator("input[type=radio]:checked")).to_have_count(1)
            page.get_by_role("button", name=re.compile(r"^Submit")).click()

            # --- the review --------------------------------------------------------------------
            expect(page).to_have_url(re.compile(r"/attempts/\d+/review$"))
            expect(page.get_by_role("heading", level=1)).to_have_text("Your result: 67%")
            expect(page.locator("main")).to_contain_text("2 of 3 points")
            expect(page.locator("section.question")).to_have_count(3)
            first = page.locator("section.question").filter(has_text="Prompt of alpha-001?")
            expect(first.get_by_role("heading", level=2)).to_contain_text("not correct")
            expect(first).to_contain_text("Feedback b of alpha-001")   # why the chosen one is wrong
            expect(first).to_contain_text("Feedback a of alpha-001")   # and why the right one is right
            expect(first).to_contain_text("Explanation of alpha-001.")
            expect(first).to_contain_text("Source: article section “What is soft tissue?”")
            expect(first).to_contain_text("Soft tissue includes fascia.")  # the key point tested
            for qid in ("alpha-002", "alpha-003"):
                item = page.locator("section.question").filter(has_text=f"Prompt of {qid}?")
                expect(item.get_by_role("heading", level=2)).to_contain_text("correct")
                expect(item.get_by_role("heading", level=2)).not_to_contain_text("not correct")
                expect(item).to_contain_text(f"Feedback a of {qid}")
                expect(item).to_contain_text(f"Explanation of {qid}.")
                expect(item).to_contain_text("Source: article section")
            assert_clean(page)
            shots(page, "review")

            # Going back to the attempt now shows the result, not the form.
            page.goto(attempt_url)
            expect(page).to_have_url(re.compile(r"/attempts/\d+/review$"))

            # --- progress --------------------------------------------------------------------
            page.get_by_role("link", name="See your progress").click()
            expect(page).to_have_url(re.compile(r"/progress$"))
            expect(page.get_by_role("heading", name="Your progress")).to_be_visible()
            expect(page.get_by_role("heading", name="Overall mastery")).to_be_visible()
            overall = page.locator("section").filter(
                has=page.get_by_role("heading", name="Overall mastery"))
            expect(overall).to_contain_text("33%")  # 2 of the bank's 6 questions fully correct
            alpha = page.get_by_role("row").filter(has_text="Alpha topic")
            expect(alpha).to_contain_text("67%")
            expect(alpha).to_contain_text("2 / 3 / 3")
            beta = page.get_by_role("row").filter(has_text="Beta topic")
            expect(beta).to_contain_text("0%")
            expect(beta).to_contain_text("0 / 0 / 3")
            expect(page.get_by_text("Soft tissue includes fascia.").first).to_be_visible()  # missed
            expect(page.get_by_role("img", name=re.compile(r"^Scores of"))).to_be_visible()
            assert_clean(page)
            shots(page, "progress")

            # --- sign out (another CSRF-protected form) ------------------------------------------
            page.get_by_role("button", name="Sign out").click()
            expect(page).to_have_url(re.compile(r"/auth/login$"))
            expect(page.get_by_role("status").first).to_contain_text("You are signed out.")
            page.goto(live_server + "/progress")
            expect(page).to_have_url(re.compile(r"/auth/login\?next="))
            assert_clean(page)
        finally:
            browser.close()

    assert shots.count == 7
    assert all(p.stat().st_size > 1000 for p in shots.folder.glob("*.png"))
