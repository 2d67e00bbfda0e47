"""Helpers for flow tests: start an attempt through the routes and build answers."""

from __future__ import annotations

import re

from quiz import accounts
from quiz.extensions import db
from quiz.models import Attempt

from .conftest import PASSWORD


def signed_in(app, role: str, email: str):
    """A new test client signed in as a new user (`role`, `email`), without the password
    round trip: the session holds the user's token as Flask-Login would put it there."""
    with app.app_context():
        user = accounts.create_user(email, PASSWORD, role.title(), role)
        db.session.commit()
        user_id = user.id
    return client_for(app, user_id)


def client_for(app, user_id: int):
    """A new test client signed in as an existing user, the same way as `signed_in`."""
    from quiz.models import User

    with app.app_context():
        token = db.session.get(User, user_id).session_token
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def start(client, set_id: str) -> int:
    response = client.post(f"/sets/{set_id}/start")
    assert response.status_code == 302, response.data
    return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))


def items(app, attempt_id: int) -> list[dict]:
    """The served items with their answer keys (what a cheating test may know)."""
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        return [
            {"id": i.id, "qtype": i.revision.qtype, "data": i.revision.data, "layout": i.layout,
             "question_id": i.question_id, "revision_id": i.revision_id, "score": i.score,
             "answer": i.answer}
            for i in attempt.items
        ]


def token(item: dict, kind: str, entry_id: str) -> str:
    """The token the attempt page shows for a bank id (what the browser sends back)."""
    return item["layout"]["tokens"][kind][entry_id]


def field(item: dict, kind: str, entry_id: str) -> str:
    """The form field name of a matching pair or an ordering step (named by its token)."""
    return f"q{item['id']}_{token(item, kind, entry_id)}"


def key(item: dict) -> object:
    """The answer stored (in bank ids) for a fully right answer."""
    data = item["data"]
    if item["qtype"] in ("single", "true_false"):
        return next(c["id"] for c in data["choices"] if c["correct"])
    if item["qtype"] == "multiple":
        return sorted(c["id"] for c in data["choices"] if c["correct"])
    if item["qtype"] == "matching":
        return {p["id"]: p["match"] for p in data["pairs"]}
    return [s["id"] for s in data["steps"]]


def right_answer(item: dict) -> dict[str, object]:
    """Form fields answering an item fully correctly."""
    name, data = f"q{item['id']}", item["data"]
    tok = lambda kind, entry_id: token(item, kind, entry_id)  # noqa: E731
    if item["qtype"] in ("single", "true_false"):
        return {name: tok("choices", next(c["id"] for c in data["choices"] if c["correct"]))}
    if item["qtype"] == "multiple":
        return {name: [tok("choices", c["id"]) for c in data["choices"] if c["correct"]]}
    if item["qtype"] == "matching":
        return {f"{name}_{tok('pairs', p['id'])}": tok("options", p["match"]) for p in data["pairs"]}
    if item["qtype"] == "ordering":
        return {f"{name}_{tok('steps', s['id'])}": str(i + 1) for i, s in enumerate(data["steps"])}
    raise AssertionError(item["qtype"])


def wrong_answer(item: dict) -> dict[str, object]:
    """Form fields answering an item with no credit."""
    name, data = f"q{item['id']}", item["data"]
    tok = lambda kind, entry_id: token(item, kind, entry_id)  # noqa: E731
    if item["qtype"] in ("single", "true_false"):
        return {name: tok("choices", next(c["id"] for c in data["choices"] if not c["correct"]))}
    if item["qtype"] == "multiple":
        wrong = [c["id"] for c in data["choices"] if not c["correct"]]
        return {name: [tok("choices", c) for c in wrong or [data["choices"][0]["id"]]]}
    if item["qtype"] == "matching":
        options = [o["id"] for o in data["options"]]
        return {f"{name}_{tok('pairs', p['id'])}": tok("options", next(o for o in options if o != p["match"]))
                for p in data["pairs"]}
    if item["qtype"] == "ordering":
        n = len(data["steps"])
        return {f"{name}_{tok('steps', s['id'])}": str(n - i) for i, s in enumerate(data["steps"])}
    raise AssertionError(item["qtype"])


def answers(its: list[dict], right: int | None = None) -> dict[str, object]:
    """Answer the first `right` items correctly (all if None), the rest wrongly."""
    form: dict[str, object] = {}
    for index, item in enumerate(its):
        ok = right is None or index < right
        form.update(right_answer(item) if ok else wrong_answer(item))
    return form


def submit(client, attempt_id: int, form: dict, button: str = "finish"):
    return client.post(f"/attempts/{attempt_id}", data={**form, button: "1"})
