"""Every registered question type provides every part (quiz/qtypes/base.py PARTS), and its
take and review templates exist and render its example: the check that makes "a module plus
one registry line" enough to add a type."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import MultiDict

from quiz import create_app
from quiz.qtypes import PARTS, TYPES, QuestionType

METHODS = ("validate", "data", "layout", "take_view", "review_view", "form_data", "read_answer",
           "grade", "export", "edit_values", "read_edit", "blank_values", "stat_options")
ATTRIBUTES = tuple(part for part in PARTS if part not in METHODS)


@pytest.fixture(scope="module")
def jinja():
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context():
        yield app.jinja_env


class _Fields(HTMLParser):
    """What a browser could post from a take page: the first value of each input, and the
    k-th offered option of the k-th select (so positions differ)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.selects: dict[str, list[str]] = {}
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input":
            self.values.setdefault(a["name"], a["value"])
        elif tag == "select":
            self.select = a["name"]
            self.selects[self.select] = []
        elif tag == "option" and self.select and a.get("value"):
            self.selects[self.select].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None

    def posted(self) -> dict[str, str]:
        chosen = {name: options[k % len(options)]
                  for k, (name, options) in enumerate(self.selects.items())}
        return {**self.values, **chosen}


def test_the_registry_holds_the_five_types_under_their_names():
    assert list(TYPES) == ["single", "multiple", "true_false", "matching", "ordering"]
    assert all(name == qtype.name for name, qtype in TYPES.items())


def test_parts_are_the_attributes_and_methods_checked_here():
    assert set(PARTS) == set(ATTRIBUTES) | set(METHODS)
    assert {"name", "label", "data_fields", "take_template", "review_template",
            "edit_template"} <= set(ATTRIBUTES)


@pytest.mark.parametrize("qtype", TYPES.values(), ids=list(TYPES))
def test_every_type_provides_every_part(qtype):
    assert isinstance(qtype, QuestionType)  # instantiated: no abstract method left out
    for part in ATTRIBUTES:
        assert getattr(qtype, part, None), f"{qtype.name} has no {part}"
    for part in METHODS:
        assert callable(getattr(qtype, part, None)), f"{qtype.name} has no {part}()"
    assert set(qtype.example) == set(qtype.data_fields)
    assert qtype.validate(qtype.example) == []
    assert set(qtype.data_fields) <= set(qtype.export(qtype.data(qtype.example)))


@pytest.mark.parametrize("qtype", TYPES.values(), ids=list(TYPES))
def test_templates_exist_and_render_the_example(qtype, jinja):
    take = jinja.get_template(qtype.take_template).module.take
    review = jinja.get_template(qtype.review_template).module.review
    data = qtype.data(qtype.example)
    layout = qtype.layout(data, random.Random(1))
    view = qtype.take_view(data, layout)

    page = str(take("q7", view, MultiDict()))
    assert "q7" in page
    for entry in data[qtype.shuffled]:
        assert entry["id"] != qtype.token(layout, qtype.shuffled, entry["id"])  # tokens, not ids
        assert qtype.token(layout, qtype.shuffled, entry["id"]) in page
    assert qtype.read_answer("q7", MultiDict(), data, layout) is None

    # Post the first value of every field, read it back, show it again.
    fields = _Fields()
    fields.feed(page)
    posted = fields.posted()
    assert posted
    answer = qtype.read_answer("q7", MultiDict(posted), data, layout)
    assert answer is not None
    shown = qtype.form_data("q7", answer, layout)
    assert shown == {name: [value] for name, value in posted.items()}
    again = str(take("q7", view, MultiDict([(k, v) for k, vs in shown.items() for v in vs])))
    assert " checked" in again or " selected" in again
    assert 0.0 <= qtype.grade(data, answer) <= 1.0

    for given in (None, answer):
        html = str(review(qtype.review_view(data, layout, given)))
        assert all(e["text"] in html for e in data[qtype.shuffled])


class _Posted(HTMLParser):
    """What a browser posts from an edit form as rendered: inputs, checked boxes, textareas
    and selected options (no buttons)."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") in ("checkbox", "radio"):
            if "checked" in a:
                self.fields.append((a["name"], a["value"]))
        elif tag == "input":
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a["value"]))

    def handle_data(self, data):
        if self.textarea:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None


@pytest.mark.parametrize("qtype", TYPES.values(), ids=list(TYPES))
def test_edit_template_renders_the_example_and_reads_back(qtype, jinja):
    """The edit part: edit_values -> the edit macro's form -> read_edit is the data again."""
    edit = jinja.get_template(qtype.edit_template).module.edit
    data = qtype.data(qtype.example)
    page = str(edit(qtype.edit_values(data), {}))
    posted = _Posted()
    posted.feed(page)
    assert posted.fields
    read, problems = qtype.read_edit(MultiDict(posted.fields))
    assert problems == []
    assert read == data
    # A new question's blank form renders too, and reads back as empty lists.
    blank = str(edit(qtype.blank_values(set()), {}))
    posted = _Posted()
    posted.feed(blank)
    read, problems = qtype.read_edit(MultiDict(posted.fields))
    assert problems == []
    assert qtype.validate(read)  # empty: not a valid question yet
