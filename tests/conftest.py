"""Fixtures: app (temporary database, SQLite or TEST_DATABASE_URL), client, runner, auth."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import event

from quiz import accounts, create_app, normalise_database_url
from quiz.bank import read_bank
from quiz.bank.loader import load_bank
from quiz.extensions import db

from . import bankgen

SHIPPED_BANK = Path(__file__).resolve().parent.parent / "question_bank"
PASSWORD = "correct horse battery"


def database_url_for_tests(tmp_path: Path, name: str = "test.sqlite") -> str:
    """TEST_DATABASE_URL (PostgreSQL in CI), else a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else f"sqlite:///{tmp_path / name}"


def make_app(tmp_path: Path, bank_path: Path | None, **config):
    url = database_url_for_tests(tmp_path)
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BANK_PATH": str(bank_path or SHIPPED_BANK),
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        **config,
    })
    with app.app_context():
        db.drop_all()
        db.create_all()
        if bank_path is not False:
            bank, problems = read_bank(app.config["BANK_PATH"])
            assert not [p for p in problems if p.severity == "error"], problems
            load_bank(bank)
            db.session.commit()
    return app


def _teardown(app) -> None:
    # The next test's make_app() drops and recreates the schema, so nothing to drop here.
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close every engine a test created, so no connection outlives its test (psycopg warns)."""
    yield
    for engines in list(db._app_engines.values()):
        for engine in engines.values():
            engine.dispose()


@pytest.fixture
def small_bank(tmp_path):
    """A small generated bank: topic alpha (3 single), beta (3 true/false), a mixed set of 4."""
    return bankgen.write_bank(tmp_path / "bank")


@pytest.fixture
def app(tmp_path, request):
    """The app on a fresh database, loaded with the shipped bank (or @pytest.mark.bank(path))."""
    marker = request.node.get_closest_marker("small_bank")
    bank_path = bankgen.write_bank(tmp_path / "bank") if marker else None
    app = make_app(tmp_path, bank_path)
    yield app
    _teardown(app)


@pytest.fixture
def csrf_app(tmp_path):
    """The app with CSRF protection on, as in production."""
    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), WTF_CSRF_ENABLED=True)
    yield app
    _teardown(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create an account directly: make_user('instructor') -> User (detached ids usable)."""
    counter = iter(range(1, 10_000))

    def _make(role: str = "learner", email: str | None = None, password: str = PASSWORD):
        with app.app_context():
            user = accounts.create_user(
                email or f"{role}{next(counter)}@example.org", password, role.title(), role
            )
            db.session.commit()
            return {"id": user.id, "email": user.email, "password": password, "role": role}

    return _make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def register(self, email="learner@example.org", password=PASSWORD, name="Lee Learner",
                 sign_in=True):
        """Register, then (as a person would, and unless told not to) sign in; the register response."""
        response = self._client.post("/auth/register", data={
            "name": name, "email": email, "password": password, "confirm": password,
        })
        if sign_in and response.status_code == 302:
            self.login(email, password)
        return response

    def login(self, email="learner@example.org", password=PASSWORD):
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """Context manager counting SQL statements sent while it is open."""
    from contextlib import contextmanager

    @contextmanager
    def _count():
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return _count
