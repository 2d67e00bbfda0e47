"""Opaque answers: the browser sees random per-attempt tokens, never the bank's ids, so a
learner who reads no question scores what chance gives and passes no onboarding check."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest

from quiz import attempts as attempt_ops
from quiz.extensions import db
from quiz.models import Attempt, QuestionRevision, QuestionSet, User
from quiz.question_types import TYPES, AnswerError, QuestionType

from . import flows

ENTRY_LISTS = ("choices", "options", "pairs", "steps")


def bank_ids(data: dict) -> set[str]:
    """Every id of a question's choices, options, pairs and steps."""
    return {e["id"] for key in ENTRY_LISTS for e in data.get(key, [])}


def all_bank_ids(app) -> set[str]:
    with app.app_context():
        return {i for data in db.session.scalars(db.select(QuestionRevision.data)) for i in bank_ids(data)}


def served_tokens(item: dict) -> set[str]:
    return {t for tokens in item["layout"]["tokens"].values() for t in tokens.values()}


def test_tokens_differ_between_attempts_and_never_equal_a_bank_id(client, auth, app):
    auth.register()
    first_id = flows.start(client, "reactions")
    first = flows.items(app, first_id)
    assert flows.submit(client, first_id, flows.answers(first)).status_code == 302
    second = flows.items(app, flows.start(client, "reactions"))
    assert [i["question_id"] for i in first] == [i["question_id"] for i in second]
    every_id = all_bank_ids(app)
    for a, b in zip(first, second, strict=True):
        assert served_tokens(a).isdisjoint(served_tokens(b)), a["question_id"]
        assert served_tokens(a).isdisjoint(every_id) and served_tokens(b).isdisjoint(every_id)
        # One token for every entry, all different within the question.
        for kind, tokens in a["layout"]["tokens"].items():
            assert set(tokens) == {e["id"] for e in a["data"][kind]}
            assert len(set(tokens.values())) == len(tokens)


ANSWER_TAG_RE = re.compile(r'<input\b[^>]*type="(?:radio|checkbox)"[^>]*>|<option\b[^>]*>|<select\b[^>]*>')
ATTR_RE = re.compile(r'\b(name|value|id)="([^"]*)"')
FIELD_NAME_RE = re.compile(r"q(\d+)(?:_([A-Z2-9]{8}))?")
POSITION_RE = re.compile(r"[1-9][0-9]?")


def test_attempt_page_names_and_values_carry_no_bank_id(client, auth, app):
    """Every answer field's name is q<item> or q<item>_<token>; every value is a token, a step
    position or empty; no name, value or id holds a bank id."""
    auth.register()
    attempt_id = flows.start(client, "onboarding")
    its = flows.items(app, attempt_id)
    html = client.get(f"/attempts/{attempt_id}").data.decode()
    ids = set().union(*(bank_ids(i["data"]) for i in its))
    tokens = set().union(*(served_tokens(i) for i in its))
    values = []
    tags = ANSWER_TAG_RE.findall(html)
    assert len(tags) > 60  # radios, checkboxes, selects and their options of 20 questions
    for tag in tags:
        for attr, value in ATTR_RE.findall(tag):
            if attr == "name":
                match = FIELD_NAME_RE.fullmatch(value)
                assert match and (match.group(2) is None or match.group(2) in tokens), value
            if attr == "value":
                values.append(value)
                assert value in tokens or POSITION_RE.fullmatch(value) or value == "", value
            assert not set(re.split(r"[_-]", value)) & ids, f"{attr}={value!r} holds a bank id"
    assert set(values) & tokens


def test_a_bank_id_sent_instead_of_a_token_is_refused(client, auth, app):
    auth.register()
    attempt_id = flows.start(client, "basics")
    its = flows.items(app, attempt_id)
    single = next(i for i in its if i["qtype"] == "single")
    form = {**flows.answers(its), f"q{single['id']}": flows.key(single)}
    response = flows.submit(client, attempt_id, form)
    assert response.status_code == 400 and b"not one of this question" in response.data
    assert all(i["answer"] is None for i in flows.items(app, attempt_id))


def test_a_layout_pinned_before_tokens_existed_still_reads():
    """Attempts started before this change have no tokens: there an id is its own token."""
    qtype = TYPES["single"]
    data = {"choices": [{"id": c, "text": c, "correct": c == "b", "feedback": c} for c in "abc"]}
    legacy = {"choices": ["c", "a", "b"]}
    assert [c["token"] for c in qtype.take_view(data, legacy)["choices"]] == ["c", "a", "b"]
    assert QuestionType.untoken(legacy, "choices", data, "b") == "b"
    with pytest.raises(AnswerError):
        QuestionType.untoken(legacy, "choices", data, "z")


# --- blind learners ---------------------------------------------------------------------------

Policy = Callable[[str, dict], object]


def _first(qtype: str, view: dict) -> object:
    """Pick the first option shown; number steps 1..n as shown."""
    if qtype in ("single", "true_false"):
        return view["choices"][0]["token"]
    if qtype == "multiple":
        return [view["choices"][0]["token"]]
    if qtype == "matching":
        return {p["token"]: view["options"][0]["token"] for p in view["pairs"]}
    return {s["token"]: str(n) for n, s in enumerate(view["steps"], start=1)}


def _smallest(qtype: str, view: dict) -> object:
    """Pick the option with the smallest value (how 'a' used to win); steps by token order."""
    if qtype in ("single", "true_false"):
        return min(c["token"] for c in view["choices"])
    if qtype == "multiple":
        return [min(c["token"] for c in view["choices"])]
    if qtype == "matching":
        return {p["token"]: min(o["token"] for o in view["options"]) for p in view["pairs"]}
    ordered = sorted(s["token"] for s in view["steps"])
    return {t: str(ordered.index(t) + 1) for t in ordered}


def _last(qtype: str, view: dict) -> object:
    """Pick the last option shown; number steps n..1."""
    if qtype in ("single", "true_false"):
        return view["choices"][-1]["token"]
    if qtype == "multiple":
        return [view["choices"][-1]["token"]]
    if qtype == "matching":
        return {p["token"]: view["options"][-1]["token"] for p in view["pairs"]}
    n = len(view["steps"])
    return {s["token"]: str(n - i) for i, s in enumerate(view["steps"])}


def _read(qtype: QuestionType, data: dict, layout: dict, sent: object) -> object:
    """What the server stores for what the policy sent (the same mapping the form reading uses)."""
    if isinstance(sent, str):
        return qtype.untoken(layout, "choices", data, sent)
    if isinstance(sent, list):
        return sorted({qtype.untoken(layout, "choices", data, v) for v in sent})
    if "pairs" in data:
        pairs = {qtype.token(layout, "pairs", p["id"]): p["id"] for p in data["pairs"]}
        return {pairs[t]: qtype.untoken(layout, "options", data, o) for t, o in sent.items()}
    steps = {qtype.token(layout, "steps", s["id"]): s["id"] for s in data["steps"]}
    return [steps[t] for t, _ in sorted(sent.items(), key=lambda kv: int(kv[1]))]


ATTEMPTS_PER_POLICY = 100


@pytest.mark.parametrize("policy", [_first, _smallest, _last], ids=lambda p: p.__name__.strip("_"))
def test_a_blind_learner_scores_chance_and_passes_no_onboarding_check(app, make_user, policy):
    """A learner who answers from the page's tokens and order alone, never reading a question.

    Over 100 onboarding attempts (20 questions each) the share of single-choice and true/false
    questions answered right must stay within 4 standard deviations of chance (a binomial bound:
    with n answers at chance p the count of hits has mean n*p and sd sqrt(n*p*(1-p))), and no
    attempt reaches the 80 % pass mark. Before answer tokens, 'smallest value' picked choice 'a',
    the key of every single-choice question, and passed 14 times in 20.
    """
    learner = make_user("learner")
    hits = chance = variance = 0.0
    answered = 0
    scores = []
    with app.app_context():
        user = db.session.get(User, learner["id"])
        qset = db.session.get(QuestionSet, "onboarding")
        for _ in range(ATTEMPTS_PER_POLICY):
            attempt = attempt_ops.start_attempt(user, qset)
            attempt = attempt_ops.load_attempt(attempt.id)
            answers = {}
            for item in attempt.items:
                rev, qtype = item.revision, TYPES[item.revision.qtype]
                view = qtype.take_view(rev.data, item.layout)
                answers[item.id] = _read(qtype, rev.data, item.layout, policy(rev.qtype, view))
                if rev.qtype in ("single", "true_false"):
                    p = 1 / len(rev.data["choices"])
                    hits += qtype.grade(rev.data, answers[item.id])
                    chance, variance, answered = chance + p, variance + p * (1 - p), answered + 1
            assert attempt_ops.submit_attempt(attempt, answers)
            db.session.commit()
            scores.append(attempt.score)
        passed = db.session.scalar(db.select(db.func.count()).select_from(Attempt).where(
            Attempt.user_id == learner["id"], Attempt.score >= Attempt.pass_mark))
    assert len(scores) == ATTEMPTS_PER_POLICY and passed == 0, max(scores)
    assert answered > 500  # the bound is about something
    assert hits <= chance + 4 * math.sqrt(variance), (hits, chance, answered)
    assert max(scores) < 80
