"""The studio's statistics pages (quiz/studio/stats.py, stats_view.py): figures as the engine
(quiz/stats/analysis.py) computes them from real attempts, downloads, flags in the question
list and on the question's page, 4xx for every bad argument, constant statements."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import update

from quiz import accounts
from quiz.attempts import start_attempt, submit_attempt
from quiz.bank.loader import revision_content
from quiz.bank.revisions import create_revision
from quiz.extensions import db
from quiz.models import Attempt, QuestionSet, User
from quiz.qtypes import TYPES
from quiz.stats import analysis, downloads
from quiz.stats.flags import MIN_RESPONSES
from quiz.stats.model import AttemptChoice, Bin, ItemStats, Selection
from quiz.studio import stats_view
from quiz.studio.stats_view import BadArgument
from quiz.vocab import RevisionOrigin

from . import bankgen
from .conftest import PASSWORD, _teardown, make_app
from .test_access import _password_hash
from .test_e2e import CHROMIUM_ARGS, CSP_RECORDER, Shots, chromium, serving  # noqa: F401 (fixture)
from .test_queries import right_answer, wrong_answer
from .test_studio_editor import sign_in, studio_bank
from .test_studio_questions import statements

# --- plain functions -----------------------------------------------------------------------------


def test_the_selection_is_read_from_the_arguments():
    assert stats_view.read_selection({}) == Selection()
    got = stats_view.read_selection({"attempts": "last", "since": "2026-01-02", "until": "2026-01-31"})
    assert got == Selection(AttemptChoice.LAST, date(2026, 1, 2), date(2026, 1, 31))
    assert stats_view.selection_args(got) == {"attempts": "last", "since": "2026-01-02",
                                              "until": "2026-01-31"}
    assert stats_view.selection_args(Selection()) == {}
    assert stats_view.read_selection({"since": "2026-01-02", "until": "2026-01-02"}).until == date(2026, 1, 2)


@pytest.mark.parametrize(("args", "message"), [
    ({"attempts": "foo"}, "use first, all or last"),
    ({"since": "2026-13-40"}, "is not a date"),
    ({"until": "20260101"}, "is not a date"),
    ({"since": "yesterday"}, "is not a date"),
    ({"since": "2026-02-01", "until": "2026-01-31"}, "before the “from” date"),
])
def test_bad_selections_are_refused_with_a_reason(args, message):
    with pytest.raises(BadArgument, match=message):
        stats_view.read_selection(args)


def _item(qid, rev=1, n=40, facility=None, discrimination=None):
    return ItemStats(question_id=qid, revision_id=rev, revision_number=rev, qtype="single",
                     prompt="p", n=n, facility=facility, sd=None, discrimination=discrimination,
                     efficiency=None)


def test_items_sort_by_a_column_with_undefined_figures_last():
    items = [_item("b", facility=0.5), _item("a", facility=None), _item("c", facility=0.9),
             _item("d", facility=0.1)]
    assert [i.question_id for i in stats_view.sort_items(items, "facility", "asc")] == list("dbca")
    assert [i.question_id for i in stats_view.sort_items(items, "facility", "desc")] == list("cbda")
    assert [i.question_id for i in stats_view.sort_items(items, "question", "desc")] == list("dcba")
    assert stats_view.read_sort({}) == ("question", "asc")
    assert stats_view.read_sort({"sort": "n"}) == ("n", "desc")
    for bad in ({"sort": "prompt"}, {"sort": "n", "dir": "up"}):
        with pytest.raises(BadArgument):
            stats_view.read_sort(bad)


def test_the_histogram_scales_bars_to_the_largest_bin():
    h = stats_view.histogram([Bin(0, 50, 1), Bin(50, 100, 4)])
    assert h.top == 4 and h.total == 5
    low, high = h.bars
    assert (low.x, low.height, low.y) == (0, h.height / 4, h.height * 3 / 4)
    assert (high.x, high.height, high.y) == (h.width / 2, h.height, 0)
    assert stats_view.histogram([]).bars == ()


def test_file_names_carry_the_selection():
    sel = Selection(AttemptChoice.ALL, date(2026, 1, 1), None)
    assert stats_view.file_name("set", "alpha", selection=sel) == "stats-set-alpha-all-2026-01-01-to-now"
    assert stats_view.file_name("question", "a b/c", selection=Selection()) == "stats-question-a_b_c-first"


# --- a world of real attempts ---------------------------------------------------------------------

QUESTIONS = ("alpha-001", "alpha-002", "alpha-003", "alpha-004")


def _right(learner: int, position: int) -> bool:
    """alpha-001 everyone gets right (too easy); the others vary with the learner."""
    return {0: True, 1: learner % 2 == 0, 2: learner % 3 != 0, 3: learner % 4 < 2}[position]


def add_learners(app, n: int, start: int = 0) -> None:
    """n learners, each one submitted attempt at set alpha (dates 2026-01-01 .. 2026-01-10)."""
    with app.app_context():
        qset = db.session.get(QuestionSet, "alpha")
        for i in range(start, start + n):
            user = User(email=f"learner{i}@example.org", name=f"Learner {i}",
                        password_hash=_password_hash(), role="learner")
            db.session.add(user)
            db.session.flush()
            attempt = start_attempt(user, qset)
            answers = {}
            for item in attempt.items:
                position = QUESTIONS.index(item.question_id)
                make = right_answer if _right(i, position) else wrong_answer
                answers[item.id] = make(item.revision.qtype, item.revision.data)
            assert submit_attempt(attempt, answers)
            db.session.execute(update(Attempt).where(Attempt.id == attempt.id).values(
                submitted_at=datetime(2026, 1, 1 + i % 10, 12, tzinfo=UTC)))
        db.session.commit()


@pytest.fixture
def world(tmp_path):
    app = make_app(tmp_path, studio_bank(tmp_path / "bank"))
    add_learners(app, MIN_RESPONSES + 2)
    yield app
    _teardown(app)


@pytest.fixture
def client(world):
    return sign_in(world)


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def fig(value, places=2) -> str:
    return "\u2013" if value is None else f"{value:.{places}f}"


def dd(html: str, label: str) -> str:
    """The text of the <dd> after the <dt> that starts with `label`."""
    m = re.search(r"<dt>" + re.escape(label) + r".*?</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert m, label
    return unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()


def test_the_set_page_shows_the_engines_figures(world, client):
    html = page(client, "/studio/stats/sets/alpha")
    with world.app_context():
        stats = analysis.set_statistics("alpha")
    assert stats.attempts == MIN_RESPONSES + 2
    assert dd(html, "Attempts") == str(stats.attempts)
    for label, value, places, unit in (("Mean", stats.mean, 1, "%"), ("Median", stats.median, 1, "%"),
                                       ("Standard deviation", stats.sd, 1, "%"),
                                       ("Skewness", stats.skewness, 2, ""),
                                       ("Kurtosis", stats.kurtosis, 2, ""),
                                       ("Cronbach's alpha", stats.alpha, 2, ""),
                                       ("Standard error of measurement", stats.sem, 1, "%")):
        assert dd(html, label) == fig(value, places) + (unit if value is not None else ""), label
    assert stats.alpha is not None and stats.sd is not None
    # The histogram: an SVG with a title, one bar per bin, and the same counts as a table.
    assert '<svg class="histogram"' in html and "<title id=\"histogram-svg-title\">" in html
    assert html.count('<rect class="bar"') == len(stats.histogram)
    assert sum(b.count for b in stats.histogram) == stats.attempts
    # Every item with its figures and a link to its own page.
    for item in stats.items:
        row = re.search(r'<tr[^>]*>\s*<td><a href="/studio/stats/questions/' + item.question_id
                        + r'\?set=alpha">.*?</tr>', html, re.S)
        assert row, item.question_id
        cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)]
        assert cells[1:8] == [str(item.revision_number), TYPES[item.qtype].label, str(item.n),
                              fig(item.facility), fig(item.sd),
                              fig(item.discrimination), fig(item.efficiency)]
    assert "style=" not in html and "<script" not in html


def test_the_item_table_sorts_by_column(world, client):
    def order(url):
        return re.findall(r'<td><a href="/studio/stats/questions/([\w-]+)\?', page(client, url))
    with world.app_context():
        items = analysis.set_statistics("alpha").items
    by_facility = [i.question_id for i in sorted(items, key=lambda i: (i.facility, i.question_id))]
    assert order("/studio/stats/sets/alpha?sort=facility&dir=asc") == by_facility
    assert order("/studio/stats/sets/alpha?sort=question&dir=desc") == sorted(QUESTIONS, reverse=True)
    assert 'aria-sort="ascending"' in page(client, "/studio/stats/sets/alpha?sort=facility")


def test_a_too_easy_question_is_flagged_in_the_list_on_its_page_and_in_the_tables(world, client):
    with world.app_context():
        flags = analysis.question_flags(list(QUESTIONS))
    easy = [f for f in flags["alpha-001"] if f.code == "too-easy"]
    assert easy, flags
    listing = page(client, "/studio/questions")
    row = re.search(r'value="alpha-001".*?</tr>', listing, re.S).group(0)
    assert "too-easy" in row and "/studio/stats/questions/alpha-001" in row
    assert unescape(easy[0].message) in unescape(row)
    question = page(client, "/studio/questions/alpha-001")
    assert "too-easy" in question and easy[0].message in unescape(question)
    assert 'href="/studio/stats/questions/alpha-001"' in question
    set_page = unescape(page(client, "/studio/stats/sets/alpha"))
    assert easy[0].message in set_page
    assert f"at least {MIN_RESPONSES} responses" in set_page  # the thresholds are explained


def test_the_list_filters_flagged_questions(world, client):
    with world.app_context():
        flags = analysis.question_flags([*QUESTIONS, "beta-001"])
    flagged = sorted(q for q, f in flags.items() if f)
    assert flagged and "beta-001" not in flagged
    html = page(client, "/studio/questions?flagged=yes")
    assert re.findall(r'name="ids" value="([\w-]+)"', html) == flagged
    assert 'value="flagged"' not in html and '<option value="yes" selected>' in html
    html = unescape(page(client, "/studio/questions?flagged=maybe"))
    assert "There is no flag filter “maybe”" in html
    assert len(re.findall(r'name="ids"', html)) == 5


def test_under_30_responses_nothing_is_flagged_and_the_page_says_why(tmp_path):
    app = make_app(tmp_path, studio_bank(tmp_path / "bank"))
    try:
        add_learners(app, 5)
        client = sign_in(app)
        html = unescape(page(client, "/studio/stats/sets/alpha"))
        assert html.count(f"not enough responses yet to flag (n < {MIN_RESPONSES})") == 4
        assert "too-easy" not in page(client, "/studio/questions")
        assert "too-easy" not in page(client, "/studio/questions/alpha-001")
    finally:
        _teardown(app)


def test_the_question_page_shows_each_option_as_the_engine_counts_it(world, client):
    for qid in QUESTIONS:
        html = unescape(page(client, f"/studio/stats/questions/{qid}"))
        with world.app_context():
            revisions = analysis.question_statistics(qid)
        assert len(revisions) == 1 and revisions[0].options
        r = revisions[0]
        assert dd(html, "Responses (n)") == str(r.n) == str(MIN_RESPONSES + 2)
        assert dd(html, "Facility") == fig(r.facility)
        assert dd(html, "Discrimination") == fig(r.discrimination)
        rows = re.findall(r'<tr(?: class="key")?>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*'
                          r'<td class="num">(\d+)</td>', html, re.S)
        assert len(rows) == len(r.options)
        for (label, correct, count), option in zip(rows, r.options, strict=True):
            assert re.sub(r"<[^>]+>", "", label).strip() == option.label
            assert ("yes" in correct) == option.correct
            assert int(count) == option.count
        assert sum(o.count for o in r.options if o.correct) >= 0
    # within one set, and no responses in a set it is not in
    assert "Revision 1" in page(client, "/studio/stats/questions/alpha-001?set=alpha")
    assert "No learner has answered" in page(client, "/studio/stats/questions/alpha-001?set=beta")


def test_each_revision_with_responses_has_its_own_figures_newest_first(world, client):
    """Revision 2 of alpha-001 (reworded, a new wrong choice d) answered by five new learners."""
    with world.app_context():
        entry = bankgen.single("alpha-001", n=4)
        entry["prompt"] = "Reworded prompt of alpha-001?"
        create_revision("alpha-001", revision_content(entry), author=None, origin=RevisionOrigin.EDITOR,
                        publish=True)
        db.session.commit()
    add_learners(world, 5, start=100)
    html = unescape(page(client, "/studio/stats/questions/alpha-001"))
    with world.app_context():
        revisions = analysis.question_statistics("alpha-001")
    assert [r.revision_number for r in revisions] == [2, 1]
    assert [r.n for r in revisions] == [5, MIN_RESPONSES + 2]
    assert html.index("Revision 2") < html.index("Revision 1")
    assert "Reworded prompt of alpha-001?" in html and "Choice d of alpha-001" in html
    second = html[html.index("Revision 2"):html.index("Revision 1")]
    assert dd(second, "Responses (n)") == "5"
    assert f"not enough responses yet to flag (n < {MIN_RESPONSES})" in second
    assert "too-easy" in html[html.index("Revision 1"):]


def test_the_key_point_and_section_pages_show_mastery(world, client):
    with world.app_context():
        kp = analysis.rollup_statistics("key_point", "kp-one")
        section = analysis.rollup_statistics("section", "soft-tissue")
    html = unescape(page(client, "/studio/stats/key-points/kp-one"))
    assert kp.learners == MIN_RESPONSES + 2
    assert f"{kp.mastered} of {kp.learners} learners" in html
    assert dd(html, "Facility") == fig(kp.facility)
    assert dd(html, "Responses") == str(kp.responses)
    for item in kp.items:
        assert f"/studio/stats/questions/{item.question_id}" in html
    html = unescape(page(client, "/studio/stats/sections/soft-tissue"))
    assert f"{section.mastered} of {section.learners} learner" in html
    index = unescape(page(client, "/studio/stats"))
    assert "/studio/stats/sets/alpha" in index and "/studio/stats/key-points/kp-one" in index
    assert "/studio/stats/sections/soft-tissue" in index
    assert f"{kp.mastered} of {kp.learners}" in index


def test_the_selection_changes_the_figures(world, client):
    """Dates are inclusive; attempts=all counts a second attempt, first does not."""
    html = page(client, "/studio/stats/sets/alpha?since=2026-01-01&until=2026-01-02")
    with world.app_context():
        stats = analysis.set_statistics("alpha", Selection(since=date(2026, 1, 1),
                                                           until=date(2026, 1, 2)))
    assert 0 < stats.attempts < MIN_RESPONSES
    assert dd(html, "Attempts") == str(stats.attempts)
    assert 'value="2026-01-02"' in html  # the form shows the selection
    later = page(client, "/studio/stats/sets/alpha?since=2027-01-01")
    assert dd(later, "Attempts") == "0" and "No submitted attempt in this selection yet." in later
    with world.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="learner1@example.org"))
        again = start_attempt(user, db.session.get(QuestionSet, "alpha"))
        assert submit_attempt(again, {})
        db.session.commit()
    assert dd(page(client, "/studio/stats/sets/alpha"), "Attempts") == str(MIN_RESPONSES + 2)
    assert dd(page(client, "/studio/stats/sets/alpha?attempts=all"), "Attempts") == str(MIN_RESPONSES + 3)
    assert dd(page(client, "/studio/stats/sets/alpha?attempts=last"), "Attempts") == str(MIN_RESPONSES + 2)


# --- downloads ---------------------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_set_downloads_hold_the_tables_figures(world, client):
    response = client.get("/studio/stats/sets/alpha?format=csv&attempts=all")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="stats-set-alpha-all.csv"'
    with world.app_context():
        stats = analysis.set_statistics("alpha", Selection(AttemptChoice.ALL))
        expected = downloads.item_rows(stats_view.sort_items(stats.items, "question", "asc"))
        expected_json = json.loads(downloads.to_json(stats))
    rows = read_csv(response)
    assert rows[0] == list(expected[0])
    assert len(rows) == 1 + len(stats.items) == 5
    col = {name: i for i, name in enumerate(rows[0])}
    for row, item in zip(rows[1:], stats_view.sort_items(stats.items, "question", "asc"), strict=True):
        assert row[col["question_id"]] == item.question_id
        assert int(row[col["n"]]) == item.n
        assert float(row[col["facility"]]) == item.facility
        assert row[col["flags"]] == " ".join(f.code for f in item.flags)
    response = client.get("/studio/stats/sets/alpha?format=json&attempts=all")
    assert response.headers["Content-Disposition"] == 'attachment; filename="stats-set-alpha-all.json"'
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.get_data(as_text=True)) == expected_json
    assert expected_json["attempts"] == MIN_RESPONSES + 2
    html = page(client, "/studio/stats/sets/alpha?attempts=all")
    assert "/studio/stats/sets/alpha?format=csv&amp;attempts=all" in html
    assert "/studio/stats/sets/alpha?format=json&amp;attempts=all" in html


def test_the_other_downloads(world, client):
    with world.app_context():
        revisions = analysis.question_statistics("alpha-003")
        kp = analysis.rollup_statistics("key_point", "kp-one")
        kps = analysis.rollups("key_point")
        sections = analysis.rollups("section")
    options = read_csv(client.get("/studio/stats/questions/alpha-003?format=csv"))
    assert options[0][:4] == ["question_id", "revision", "option", "label"]
    assert [r[2] for r in options[1:]] == [o.key for o in revisions[0].options]
    assert [int(r[5]) for r in options[1:]] == [o.count for o in revisions[0].options]
    got = json.loads(client.get("/studio/stats/questions/alpha-003?format=json").get_data(as_text=True))
    assert got["question_id"] == "alpha-003" and len(got["revisions"]) == 1
    assert got["revisions"][0]["n"] == revisions[0].n
    rows = read_csv(client.get("/studio/stats/key-points/kp-one?format=csv"))
    assert len(rows) == 1 + len(kp.items)
    assert json.loads(client.get("/studio/stats/key-points/kp-one?format=json")
                      .get_data(as_text=True))["mastered"] == kp.mastered
    index = read_csv(client.get("/studio/stats?format=csv"))
    assert [r[index[0].index("id")] for r in index[1:]] == [r.id for r in kps]
    index = read_csv(client.get("/studio/stats?format=csv&table=sections"))
    assert [r[index[0].index("id")] for r in index[1:]] == [r.id for r in sections]
    both = json.loads(client.get("/studio/stats?format=json").get_data(as_text=True))
    assert [r["id"] for r in both["key_points"]] == [r.id for r in kps]
    assert client.get("/studio/stats?format=csv&table=sets").status_code == 400
    # no responses: the header still names the table's columns
    empty = read_csv(client.get("/studio/stats/questions/beta-001?format=csv"))
    assert empty == [["question_id", "revision", "option", "label", "correct", "count", "share",
                      "mean_rest", "flags"]]
    assert read_csv(client.get("/studio/stats?format=csv&since=2027-01-01"))[0][:3] == \
        ["kind", "id", "title"]


# --- bad input ---------------------------------------------------------------------------------------

BAD = [
    ("/studio/stats?attempts=foo", 400, "use first, all or last"),
    ("/studio/stats/sets/alpha?attempts=foo", 400, "use first, all or last"),
    ("/studio/stats/sets/alpha?since=2026-13-40", 400, "is not a date"),
    ("/studio/stats/sets/alpha?since=2026-02-01&until=2026-01-01", 400, "is before"),
    ("/studio/stats/sets/alpha?format=xml", 400, "no download format"),
    ("/studio/stats/sets/alpha?sort=prompt", 400, "cannot be sorted"),
    ("/studio/stats/sets/nope", 404, "There is no set “nope”"),
    ("/studio/stats/sets/nope?format=csv", 404, "There is no set"),
    ("/studio/stats/questions/nope", 404, "There is no question “nope”"),
    ("/studio/stats/questions/alpha-001?set=nope", 404, "There is no set “nope”"),
    ("/studio/stats/questions/alpha-001?until=31/01/2026", 400, "is not a date"),
    ("/studio/stats/key-points/nope", 404, "There is no key point “nope”"),
    ("/studio/stats/key-points/kp-one?attempts=every", 400, "use first, all or last"),
    ("/studio/stats/sections/nope", 404, "There is no section “nope”"),
    ("/studio/stats/sections/soft-tissue?since=2026-02-30", 400, "is not a date"),
]


@pytest.mark.parametrize(("url", "status", "message"), BAD)
def test_bad_arguments_get_a_clear_4xx(world, client, url, status, message):
    assert message in unescape(page(client, url, status))


# --- statements and lazy loads ------------------------------------------------------------------------

STATEMENT_URLS = ["/studio/stats", "/studio/stats/sets/alpha", "/studio/stats/sets/alpha?attempts=all",
                  "/studio/stats/questions/alpha-003", "/studio/stats/key-points/kp-one",
                  "/studio/stats/sections/soft-tissue", "/studio/questions",
                  "/studio/questions/alpha-001"]


def test_the_pages_send_the_same_statements_for_few_and_many_attempts(tmp_path):
    app = make_app(tmp_path, studio_bank(tmp_path / "bank"))
    try:
        add_learners(app, 3)
        client = sign_in(app)
        small = [statements(app, client, url) for url in STATEMENT_URLS]
        add_learners(app, 40, start=3)
        with app.app_context():
            user = db.session.scalar(db.select(User).filter_by(email="learner5@example.org"))
            assert submit_attempt(start_attempt(user, db.session.get(QuestionSet, "alpha")), {})
            db.session.commit()
        large = [statements(app, client, url) for url in STATEMENT_URLS]
        assert small == large
    finally:
        _teardown(app)


# --- in a real browser ---------------------------------------------------------------------------------

BROWSER_PAGES = ["/studio/stats", "/studio/stats/sets/alpha?sort=facility",
                 "/studio/stats/questions/alpha-003?set=alpha", "/studio/stats/key-points/kp-one",
                 "/studio/stats/sections/what-to-expect", "/studio/questions?flagged=yes",
                 "/studio/questions/alpha-001"]


@pytest.mark.e2e
def test_the_pages_in_chromium_at_desktop_and_phone_widths(chromium, world, tmp_path):  # noqa: F811
    """No CSP violation (no inline style or script), nothing wider than the window (wide
    tables scroll inside their frame), the histogram drawn; screenshots at 1280 and 390 px."""
    with world.app_context():
        accounts.create_user("ivy@example.org", PASSWORD, "Ivy Instructor", "instructor")
        db.session.commit()
    shots = Shots(tmp_path / "screenshots")
    with serving(world) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), chromium_sandbox=False,
                                    args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(viewport={"width": width, "height": 900})
                context.add_init_script(CSP_RECORDER)
                page_ = context.new_page()
                page_.goto(base + "/auth/login")
                page_.get_by_label("E-mail").fill("ivy@example.org")
                page_.get_by_label("Password", exact=True).fill(PASSWORD)
                page_.get_by_role("button", name="Sign in").click()
                page_.goto(base + "/studio/")
                page_.get_by_role("link", name="Statistics").click()
                assert page_.url.endswith("/studio/stats")
                for url in BROWSER_PAGES:
                    response = page_.goto(base + url)
                    assert response.status == 200, url
                    shots(page_, f"{width}-{url.strip('/').replace('/', '-').split('?')[0]}")
                    assert page_.evaluate("window.__cspViolations") == [], url
                    assert page_.evaluate(
                        "document.documentElement.scrollWidth <= window.innerWidth"), (url, width)
                page_.goto(base + "/studio/stats/sets/alpha")
                assert page_.locator("svg.histogram rect.bar").count() == 10
                assert page_.locator("svg.histogram").bounding_box()["width"] <= width
                page_.get_by_text("The histogram as a table").click()
                assert page_.locator(".histogram-table table").is_visible()
                # the filter form is a plain GET form
                page_.select_option("#f-attempts", "all")
                page_.get_by_role("button", name="Show").click()
                assert "attempts=all" in page_.url
                context.close()
        finally:
            browser.close()
