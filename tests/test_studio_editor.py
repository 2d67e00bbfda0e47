"""The studio editor (quiz/studio): the edit part of every question type round trip through
the real page, rows added, removed and reordered without script, tampered forms refused with a
4xx, validation errors next to their fields (422), previews that record nothing, and a constant
number of statements for the editor page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import MultiDict

from quiz.bank.loader import content_hash, revision_content
from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, LearnerQuestionLatest, Question, QuestionRevision
from quiz.qtypes import TYPES
from quiz.studio import editor

from . import bankgen, flows
from .conftest import _teardown, make_app

QUESTIONS = {"single": "alpha-001", "multiple": "alpha-002", "matching": "alpha-003",
             "ordering": "alpha-004", "true_false": "beta-001"}


def studio_bank(root, extra: int = 0):
    alpha = [bankgen.single("alpha-001"), bankgen.multiple("alpha-002"),
             bankgen.matching("alpha-003"), bankgen.ordering("alpha-004")]
    alpha += [bankgen.single(f"alpha-{i:03}") for i in range(5, 5 + extra)]
    return bankgen.write_bank(root, questions={"alpha": alpha, "beta": [bankgen.true_false("beta-001")]},
                              sets=bankgen.default_sets(draw=2))


@pytest.fixture
def studio(tmp_path):
    app = make_app(tmp_path, studio_bank(tmp_path / "bank"))
    yield app
    _teardown(app)


def sign_in(app, role: str = "instructor"):
    return flows.signed_in(app, role, f"{role}@example.org")


@pytest.fixture
def client(studio):
    return sign_in(studio)


class Form(HTMLParser):
    """The fields a browser would post from the page's form `form_id` (no buttons): inputs,
    checked boxes and radios, textareas, selected options."""

    def __init__(self, html: str, form_id: str = "editor"):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: list[list[str]] = []
        self.textarea = self.select = None
        self.feed(html)
        assert self.fields, f"no form #{form_id}"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("type") in ("checkbox", "radio"):
            if "checked" in a:
                self.fields.append([a["name"], a["value"]])
        elif tag == "input":
            self.fields.append([a["name"], a.get("value", "")])
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields.append([a["name"], ""])
        elif tag == "select":
            self.select = a["name"]
            self.fields.append([a["name"], ""])
        elif tag == "option" and self.select and "selected" in a:
            self.fields[-1][1] = a["value"]

    def handle_data(self, data):
        if self.textarea:
            self.fields[-1][1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False

    def data(self, **changes) -> MultiDict:
        """The posted fields with some set (a value), added (a new name) or dropped (None)."""
        out = MultiDict([tuple(f) for f in self.fields if f[0] not in changes])
        for name, value in changes.items():
            if value is not None:
                out.setlist(name, value if isinstance(value, list) else [value])
        return out

    def get(self, name: str) -> str:
        return next(v for n, v in self.fields if n == name)


def read_back(app, posted: MultiDict) -> dict:
    with app.test_request_context():
        entry, errors = editor.read_question_form(posted)
    assert errors == {}
    return entry


def stored_entry(app, qid: str) -> dict:
    with app.app_context():
        return editor.entry_from_revision(editor.newest_revision(qid))


def counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(db.session.scalar(db.select(db.func.count()).select_from(model))
                     for model in (Attempt, AttemptQuestion, LearnerQuestionLatest,
                                   QuestionRevision, Question))


# --- the edit part, through the page -----------------------------------------------------------

@pytest.mark.parametrize("qtype", list(QUESTIONS))
def test_the_edit_page_reads_back_as_the_stored_question(studio, client, qtype):
    qid = QUESTIONS[qtype]
    page = client.get(f"/studio/questions/{qid}/edit")
    assert page.status_code == 200
    form = Form(page.get_data(as_text=True))
    entry = read_back(studio, form.data())
    assert entry == stored_entry(studio, qid)
    assert entry["type"] == qtype
    # and the whole page posts back cleanly: "Check" finds nothing wrong
    response = client.post(f"/studio/questions/{qid}/edit", data=form.data(action="check"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "passes the bank" in response.get_data(as_text=True)


def test_entry_from_revision_is_the_inverse_of_revision_content(studio):
    with studio.app_context():
        for revision in db.session.scalars(db.select(QuestionRevision)):
            entry = editor.entry_from_revision(revision)
            assert content_hash(revision_content(entry)) == revision.content_hash
            errors, _ = editor.check_entry(entry)
            assert errors == {}


@pytest.mark.parametrize("qtype", list(TYPES))
def test_a_new_question_of_each_type_starts_blank_and_checks_with_errors(studio, client, qtype):
    page = client.get(f"/studio/questions/new?type={qtype}")
    assert page.status_code == 200
    form = Form(page.get_data(as_text=True))
    ids = [v for n, v in form.fields if n.endswith("-id")]
    assert all(re.fullmatch(r"[a-z0-9]{4}", i) for i in ids) and len(set(ids)) == len(ids)
    response = client.post("/studio/questions/new", data=form.data(action="check"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Prompt is missing or empty." in html
    assert "Choose a topic." in html


def test_a_new_question_filled_in_passes_the_check(studio, client):
    form = Form(client.get("/studio/questions/new?type=ordering").get_data(as_text=True))
    steps = {f"steps-{i}-{k}": f"{k} {i}" for i in range(3) for k in ("text", "feedback")}
    posted = form.data(topic="alpha", source="soft-tissue", key_points="kp-one",
                       prompt="Put these in order.", explanation="Because.", action="check",
                       **steps)
    response = client.post("/studio/questions/new", data=posted)
    assert response.status_code == 200, response.get_data(as_text=True)
    entry = read_back(studio, posted)
    assert [s["text"] for s in entry["steps"]] == ["text 0", "text 1", "text 2"]
    assert "id" not in entry


# --- rows without script -------------------------------------------------------------------------

def test_add_a_row_keeps_what_was_typed(studio, client):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    response = client.post("/studio/questions/alpha-001/edit",
                           data=form.data(prompt="Typed, not saved.", add="choices"))
    assert response.status_code == 200
    again = Form(response.get_data(as_text=True))
    assert again.get("prompt") == "Typed, not saved."
    assert again.get("choices-count") == "4"
    new_id = again.get("choices-3-id")
    assert re.fullmatch(r"[a-z0-9]{4}", new_id) and new_id not in {"a", "b", "c"}
    assert again.get("choices-3-new") == "1"
    # Left empty, the new row is dropped again by the next post, and its id is no longer
    # one the form may name.
    entry = read_back(studio, again.data())
    assert [c["id"] for c in entry["choices"]] == ["a", "b", "c"]
    third = Form(client.post("/studio/questions/alpha-001/edit",
                             data=again.data(action="check")).get_data(as_text=True))
    assert third.get("choices-count") == "3"
    response = client.post("/studio/questions/alpha-001/edit",
                           data=third.data(**{"choices-0-id": new_id}))
    assert response.status_code == 400


def test_reorder_remove_and_fill_a_new_row(studio, client):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    added = Form(client.post("/studio/questions/alpha-001/edit",
                             data=form.data(add="choices")).get_data(as_text=True))
    new_id = added.get("choices-3-id")
    posted = added.data(**{"choices-3-text": "A new choice", "choices-3-feedback": "Why new.",
                           "choices-3-position": "1", "choices-1-remove": "y",
                           "choices-2-position": "2", "choices-0-position": "3",
                           "action": "check"})
    response = client.post("/studio/questions/alpha-001/edit", data=posted)
    assert response.status_code == 200, response.get_data(as_text=True)
    entry = read_back(studio, posted)
    assert [c["id"] for c in entry["choices"]] == [new_id, "c", "a"]
    assert entry["choices"][0] == {"id": new_id, "text": "A new choice", "correct": False,
                                   "feedback": "Why new."}
    # the page shows the new order, the correct choice still marked
    shown = Form(response.get_data(as_text=True))
    assert [shown.get(f"choices-{i}-id") for i in range(3)] == [new_id, "c", "a"]
    assert shown.get("choices-correct") == "2"


def test_matching_gets_new_options_for_its_items(studio, client):
    form = Form(client.get("/studio/questions/alpha-003/edit").get_data(as_text=True))
    added = Form(client.post("/studio/questions/alpha-003/edit",
                             data=form.data(add="options")).get_data(as_text=True))
    option = added.get("options-2-id")
    posted = added.data(**{"options-2-text": "Maybe", "pairs-2-match": option, "action": "check"})
    response = client.post("/studio/questions/alpha-003/edit", data=posted)
    assert response.status_code == 200, response.get_data(as_text=True)
    entry = read_back(studio, posted)
    assert entry["options"][2] == {"id": option, "text": "Maybe"}
    assert entry["pairs"][2]["match"] == option
    # removing an option that an item still matches is a validation error, next to the item
    posted = added.data(**{"options-2-text": "Maybe", "options-1-remove": "y", "action": "check"})
    response = client.post("/studio/questions/alpha-003/edit", data=posted)
    assert response.status_code == 422
    assert "is not an option id" in field_html(response, "pairs-2-match")


def test_true_false_has_no_rows_to_add(studio, client):
    form = Form(client.get("/studio/questions/beta-001/edit").get_data(as_text=True))
    assert form.get("tf-answer") == "true"
    response = client.post("/studio/questions/beta-001/edit", data=form.data(add="choices"))
    assert response.status_code == 400
    posted = form.data(**{"tf-answer": "false", "action": "check"})
    entry = read_back(studio, posted)
    assert [c["correct"] for c in entry["choices"]] == [False, True]


# --- tampering: a 4xx with a message, never a 500 ---------------------------------------------------

TAMPERED = {
    "unknown id": {"choices-0-id": "zzzz"},
    "malformed id": {"choices-0-id": "A B"},
    "repeated id": {"choices-1-id": "a"},
    "bad position": {"choices-0-position": "first"},
    "unicode digits": {"choices-0-position": "²"},
    "bad count": {"choices-count": "many"},
    "too many rows": {"choices-count": "5000"},
    "bad correct": {"choices-correct": "x"},
    "changed type": {"type": "ordering"},
}


@pytest.mark.parametrize("changes", TAMPERED.values(), ids=list(TAMPERED))
def test_tampered_rows_are_refused_with_a_message(studio, client, changes):
    before = counts(studio)
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    response = client.post("/studio/questions/alpha-001/edit",
                           data=form.data(action="save", **changes))
    assert response.status_code == 400
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert counts(studio) == before


@pytest.mark.parametrize("changes", [
    {"state": "not-signed"}, {"state": None}, {"base_revision": "999"}, {"add": "steps"},
], ids=["forged state", "no state", "other base revision", "add to a list it has not"])
def test_tampered_form_state_is_a_400(studio, client, changes):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    response = client.post("/studio/questions/alpha-001/edit", data=form.data(**changes))
    assert response.status_code == 400
    assert "open the page again" in response.get_data(as_text=True)


def test_a_form_of_one_question_cannot_be_posted_to_another(studio, client):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    assert client.post("/studio/questions/alpha-002/edit", data=form.data()).status_code == 400
    assert client.post("/studio/questions/new", data=form.data()).status_code == 400


# --- validation: the bank's validator, errors next to their fields ------------------------------------

def field_html(response, input_id: str) -> str:
    """The .field block holding the input with this id."""
    html = response.get_data(as_text=True)
    at = html.index(f'id="{input_id}"')
    start = html.rindex('<div class="field', 0, at)
    return html[start:html.index("</div>", at)]


def test_validation_errors_show_next_to_their_fields_and_nothing_is_saved(studio, client):
    before = counts(studio)
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    posted = form.data(prompt="   ", **{"choices-1-feedback": "", "action": "save"})
    response = client.post("/studio/questions/alpha-001/edit", data=posted)
    assert response.status_code == 422
    prompt = field_html(response, "prompt")
    assert "has-error" in prompt and "Prompt is missing or empty." in prompt
    feedback = field_html(response, "choices-1-feedback")
    assert "has-error" in feedback and "Choice 2, feedback is missing or empty." in feedback
    assert "has-error" not in field_html(response, "choices-0-feedback")
    assert counts(studio) == before


def test_two_correct_choices_for_single_is_an_error_of_the_list(studio, client):
    form = Form(client.get("/studio/questions/alpha-002/edit").get_data(as_text=True))
    posted = form.data(**{"choices-0-correct": None, "choices-1-correct": None, "action": "check"})
    response = client.post("/studio/questions/alpha-002/edit", data=posted)
    assert response.status_code == 422
    assert "Choices needs at least one correct choice." in response.get_data(as_text=True)


def test_lint_warnings_show_but_do_not_block(studio, client):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    posted = form.data(**{"choices-1-text": "All of the above", "action": "check"})
    response = client.post("/studio/questions/alpha-001/edit", data=posted)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "warning-summary" in html and "all/none of the above" in html


def test_a_near_duplicate_prompt_of_another_question_is_a_warning(studio, client):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    response = client.post("/studio/questions/alpha-001/edit",
                           data=form.data(prompt="Which tissue does the article describe first?",
                                          action="check"))
    assert "warning-summary" not in response.get_data(as_text=True)
    response = client.post("/studio/questions/alpha-001/edit",
                           data=form.data(prompt="Prompt of alpha-002?", action="check"))
    assert response.status_code == 200
    assert "Same or nearly the same prompt as alpha-002." in response.get_data(as_text=True)


# --- preview ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("qtype", list(QUESTIONS))
def test_preview_of_a_revision_records_nothing(studio, client, qtype):
    qid = QUESTIONS[qtype]
    before = counts(studio)
    page = client.get(f"/studio/questions/{qid}/preview?rev=1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with studio.app_context():
        data = db.session.scalar(db.select(QuestionRevision.data)
                                 .where(QuestionRevision.question_id == qid))
    # tokens, not bank ids, in the answer fields
    form = Form(html, form_id="preview-form")
    names = [n for n, _ in form.fields]
    for kind in TYPES[qtype].tokenised:
        for entry in data[kind]:
            assert f'value="{entry["id"]}"' not in html
            assert f"preview_{entry['id']}" not in names
    answer = _answer_all(html, qtype)
    response = client.post(f"/studio/questions/{qid}/preview?rev=1",
                           data=form.data(action="answer", **answer))
    assert response.status_code == 200, response.get_data(as_text=True)
    review = response.get_data(as_text=True)
    assert "Preview: review" in review and "Explanation of" in review
    assert counts(studio) == before


def _answer_all(html: str, qtype: str) -> dict:
    """The first offered value of every answer field of the preview."""
    if qtype in ("single", "true_false", "multiple"):
        return {"preview": re.search(r'name="preview"[^>]* value="([A-Z0-9]{8})"', html).group(1)}
    fields = re.findall(r'<select id="(preview_[A-Z0-9]{8})"', html)
    if qtype == "matching":
        option = re.search(r'<option value="([A-Z0-9]{8})"', html).group(1)
        return dict.fromkeys(fields, option)
    return {name: str(i + 1) for i, name in enumerate(fields)}


def test_preview_review_shows_the_feedback_of_the_choice_made(studio, client):
    html = client.get("/studio/questions/alpha-001/preview").get_data(as_text=True)
    form = Form(html, form_id="preview-form")
    token = re.search(r'<input id="preview-\d+" name="preview" type="radio" value="([A-Z0-9]{8})"> '
                      r'<span>Choice b of alpha-001', html).group(1)
    response = client.post("/studio/questions/alpha-001/preview",
                           data=form.data(action="answer", preview=token))
    review = response.get_data(as_text=True)
    assert "not correct" in review
    chosen = re.search(r'<li class="wrong chosen">(.*?)</li>', review, re.S).group(1)
    assert "Feedback b of alpha-001" in chosen


def test_an_unanswered_preview_asks_for_an_answer(studio, client):
    html = client.get("/studio/questions/alpha-004/preview").get_data(as_text=True)
    form = Form(html, form_id="preview-form")
    response = client.post("/studio/questions/alpha-004/preview", data=form.data(action="answer"))
    assert response.status_code == 422
    assert "Answer the question first." in response.get_data(as_text=True)


def test_a_tampered_or_foreign_preview_layout_is_a_400(studio, client):
    one = Form(client.get("/studio/questions/alpha-001/preview").get_data(as_text=True),
               form_id="preview-form")
    layout = one.get("preview_layout")
    forged = layout[:-3] + ("AAA" if not layout.endswith("AAA") else "BBB")
    response = client.post("/studio/questions/alpha-001/preview",
                           data=one.data(preview_layout=forged, action="answer"))
    assert response.status_code == 400
    assert "changed outside the studio" in response.get_data(as_text=True)
    # a layout signed for another question's revision
    assert client.post("/studio/questions/alpha-002/preview",
                       data=one.data(action="answer")).status_code == 400


def test_the_editor_previews_unsaved_content_and_records_nothing(studio, client):
    before = counts(studio)
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    posted = form.data(prompt="An unsaved prompt?", **{"choices-0-text": "Unsaved choice"},
                       action="preview")
    response = client.post("/studio/questions/alpha-001/edit", data=posted)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "An unsaved prompt?" in html and "as a learner sees it" in html
    again = Form(html)
    token = re.search(r'name="preview" type="radio" value="([A-Z0-9]{8})"> <span>Unsaved choice',
                      html).group(1)
    response = client.post("/studio/questions/alpha-001/edit",
                           data=again.data(action="answer", preview=token))
    assert response.status_code == 200
    review = response.get_data(as_text=True)
    assert "Preview: review" in review and "correct" in review
    assert "Feedback a of alpha-001" in review
    assert counts(studio) == before


def test_an_editor_preview_whose_content_changed_asks_again(studio, client):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    previewed = Form(client.post("/studio/questions/alpha-001/edit",
                                 data=form.data(action="preview")).get_data(as_text=True))
    response = client.post("/studio/questions/alpha-001/edit",
                           data=previewed.data(action="answer", **{"choices-2-remove": "y"}))
    assert response.status_code == 200
    assert "The question changed since this preview" in response.get_data(as_text=True)


def test_an_invalid_question_is_not_previewed(studio, client):
    form = Form(client.get("/studio/questions/alpha-001/edit").get_data(as_text=True))
    response = client.post("/studio/questions/alpha-001/edit",
                           data=form.data(explanation="", action="preview"))
    assert response.status_code == 422
    assert 'id="preview"' not in response.get_data(as_text=True)


# --- who sees the studio -------------------------------------------------------------------------

def test_the_nav_shows_studio_to_bank_editors_only(studio):
    assert 'href="/studio/"' in sign_in(studio, "instructor").get("/sets").get_data(as_text=True)
    assert 'href="/studio/"' in sign_in(studio, "admin").get("/sets").get_data(as_text=True)
    learner = sign_in(studio, "learner")
    assert 'href="/studio/"' not in learner.get("/sets").get_data(as_text=True)
    assert learner.get("/studio/questions/alpha-001/edit").status_code == 403


# --- statements per page ----------------------------------------------------------------------------

def _statements(tmp_path, extra: int, path: str) -> int:
    from sqlalchemy import event

    from .conftest import QueryCounter
    app = make_app(tmp_path, studio_bank(tmp_path / f"bank{extra}", extra=extra))
    try:
        client = sign_in(app)
        client.get(path)  # warm: templates compiled, the user's row cached nowhere
        with app.app_context():
            engine = db.engine
        counter = QueryCounter()
        event.listen(engine, "before_cursor_execute", counter)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", counter)
        return counter.count
    finally:
        _teardown(app)


@pytest.mark.parametrize("path", ["/studio/questions/alpha-001/edit",
                                  "/studio/questions/alpha-001/preview",
                                  "/studio/questions/new?type=matching"])
def test_studio_pages_issue_a_constant_number_of_statements(tmp_path, path):
    small = _statements(tmp_path / "small", 0, path)
    large = _statements(tmp_path / "large", 60, path)
    assert small == large
    assert small <= 8
