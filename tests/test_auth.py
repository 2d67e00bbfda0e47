"""Accounts: register, sign in, sign out (really), roles, the users CLI."""

import pytest

from quiz import accounts
from quiz.extensions import db
from quiz.models import User

from .conftest import PASSWORD

pytestmark = pytest.mark.small_bank


def test_register_creates_a_learner_who_then_signs_in(client, auth, app):
    response = auth.register(email="New.Person@Example.org", sign_in=False)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert client.get("/sets").status_code == 302  # registering alone signs nobody in
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Sign in below" in page
    assert 'value="new.person@example.org"' in page  # the address is filled in
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.email == "new.person@example.org"
        assert user.role == "learner"
        assert user.password_hash.startswith("$argon2")
        assert PASSWORD not in user.password_hash
    assert auth.login("new.person@example.org").status_code == 302
    assert b"Alpha set" in client.get("/sets").data


def _answer(client, response) -> tuple:
    """Everything a registering visitor sees: status, redirect, cookies set, the next page."""
    cookies = sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie"))
    page = client.get(response.headers["Location"]).get_data(as_text=True) \
        if response.status_code == 302 else response.get_data(as_text=True)
    return response.status_code, response.headers.get("Location"), cookies, page


def test_a_taken_address_gets_the_same_answer_and_changes_nothing(app, auth, make_user):
    """Registration does not reveal which addresses have accounts (nor touch them)."""
    owner = make_user("learner", email="sam@example.org")
    with app.app_context():
        before = db.session.scalar(db.select(User).where(User.id == owner["id"]))
        before = (before.password_hash, before.session_token, before.name)
    new_client, taken_client = app.test_client(), app.test_client()
    new = new_client.post("/auth/register", data={
        "name": "Sam Other", "email": "sal@example.org", "password": "another good one",
        "confirm": "another good one"})
    taken = taken_client.post("/auth/register", data={
        "name": "Sam Other", "email": "SAM@Example.ORG", "password": "another good one",
        "confirm": "another good one"})
    new_answer, taken_answer = _answer(new_client, new), _answer(taken_client, taken)
    assert new_answer[:3] == taken_answer[:3] == (302, "/auth/login", ["session"])
    assert new_answer[3].replace("sal@", "sam@") == taken_answer[3]
    for client in (new_client, taken_client):
        assert client.get("/sets").status_code == 302  # nobody signed in
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2
        after = db.session.scalar(db.select(User).where(User.id == owner["id"]))
        assert (after.password_hash, after.session_token, after.name) == before
    # The owner's password still works; the newcomer's does not open the owner's account.
    assert auth.login("sam@example.org", "another good one").status_code == 400
    assert auth.login("sam@example.org", PASSWORD).status_code == 302


def test_a_registration_racing_another_for_the_same_address_gets_the_same_answer(
        app, client, make_user, monkeypatch):
    """Two registrations of one new address at once: the unique index decides, no 500."""
    make_user("learner", email="race@example.org")
    monkeypatch.setattr(accounts, "find_user", lambda email: None)  # both saw it free
    response = client.post("/auth/register", data={
        "name": "R", "email": "race@example.org", "password": "another good one",
        "confirm": "another good one"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


def test_cli_still_says_when_an_address_is_taken(runner, make_user):
    make_user("learner", email="taken@example.org")
    result = runner.invoke(args=["users", "create", "Taken@example.org"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "already exists" in result.output


@pytest.mark.parametrize("length, ok", [(7, False), (8, True), (64, True), (128, True), (129, False)])
def test_password_length(auth, app, length, ok):
    response = auth.register(password=("zq7-Vx2m" * 20)[:length])
    assert (response.status_code == 302) is ok
    if not ok:
        assert b"characters" in response.data


def test_register_rejects_mismatched_confirmation(client):
    response = client.post("/auth/register", data={
        "name": "A", "email": "a@example.org", "password": PASSWORD, "confirm": PASSWORD + "x"})
    assert response.status_code == 400
    assert b"do not match" in response.data


def test_login_with_any_case_and_wrong_password(client, auth):
    auth.register(email="kim@example.org")
    auth.logout()
    bad = auth.login(email="kim@example.org", password="wrong password")
    assert bad.status_code == 400 and b"do not match an account" in bad.data
    good = auth.login(email="KIM@example.org")
    assert good.status_code == 302
    assert client.get("/sets").status_code == 200


def test_unknown_email_gets_the_same_message(auth):
    response = auth.login(email="nobody@example.org")
    assert response.status_code == 400 and b"do not match an account" in response.data


def test_logout_ends_the_session_even_for_a_replayed_cookie(client, auth, app):
    auth.register()
    cookie = client.get_cookie("session")
    assert cookie is not None
    stolen = cookie.value
    assert client.get("/progress").status_code == 200
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/progress").status_code == 302  # signed out
    # Replay the old cookie, as an attacker who copied it would.
    client.set_cookie("session", stolen)
    response = client.get("/progress")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_sign_in_starts_a_new_session(client, auth):
    auth.register(sign_in=False)
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    auth.login()
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_logout_requires_post(client, auth):
    auth.register()
    assert client.get("/auth/logout").status_code == 405


def test_cli_creates_staff_from_stdin(runner, app):
    result = runner.invoke(args=["users", "create", "Teach@Example.org", "--role", "instructor"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Created instructor teach@example.org" in result.output
    assert PASSWORD not in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "teach@example.org"))
        assert user.role == "instructor"
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "teach@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_cli_refuses_short_password_and_duplicates(runner, app):
    short = runner.invoke(args=["users", "create", "a@example.org"], input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    runner.invoke(args=["users", "create", "b@example.org", "--role", "admin"], input=PASSWORD + "\n")
    again = runner.invoke(args=["users", "create", "B@example.org"], input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_cli_has_no_password_option(runner):
    result = runner.invoke(args=["users", "create", "c@example.org", "--password", PASSWORD])
    assert result.exit_code != 0
    assert "No such option" in result.output


def test_cli_rejects_unknown_role(runner):
    result = runner.invoke(args=["users", "create", "d@example.org", "--role", "owner"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 2


def test_repeated_failed_sign_ins_are_throttled(tmp_path):
    from . import bankgen
    from .conftest import make_app

    app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), RATELIMIT_ENABLED=True,
                   LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    client.post("/auth/register", data={"name": "T", "email": "t@example.org",
                                        "password": PASSWORD, "confirm": PASSWORD})
    statuses = [client.post("/auth/login", data={"email": "t@example.org", "password": "guess 1234"})
                .status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    blocked = client.post("/auth/login", data={"email": "t@example.org", "password": PASSWORD})
    assert blocked.status_code == 429
    assert b"Too many attempts" in blocked.data
    assert client.get("/auth/login").status_code == 200  # reading the page is not limited


# --- sign-in throttling: by address, and by (address, account); never by account alone ---

ATTACKER, OWNER, PROXY = "203.0.113.9", "198.51.100.7", "10.0.0.1"


@pytest.fixture
def throttled(tmp_path, request):
    """make(**config) -> an app with rate limits on (the default limits unless overridden)."""
    from . import bankgen
    from .conftest import _teardown, make_app

    apps = []

    def _make(**config):
        app = make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), RATELIMIT_ENABLED=True,
                       **config)
        apps.append(app)
        with app.app_context():
            for email in ("victim@example.org", "other@example.org"):
                accounts.create_user(email, PASSWORD, "V")
            db.session.commit()
        return app

    yield _make
    for app in apps:
        _teardown(app)


def _sign_in(client, email, password, address=None, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    environ = {"REMOTE_ADDR": address} if address else None
    return client.post("/auth/login", data={"email": email, "password": password},
                       headers=headers, environ_base=environ).status_code


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(throttled):
    app = throttled()
    attacker, owner = app.test_client(), app.test_client()
    statuses = [_sign_in(attacker, "victim@example.org", f"guess {i:04}", ATTACKER)
                for i in range(30)]
    limit = 5  # LOGIN_ACCOUNT_RATE_LIMIT's first window
    assert statuses == [400] * limit + [429] * (30 - limit)
    # The attacker's address is throttled, even with the right password now ...
    assert _sign_in(attacker, "victim@example.org", PASSWORD, ATTACKER) == 429
    assert attacker.get("/sets").status_code == 302
    # ... and its owner, elsewhere, signs in at once.
    assert _sign_in(owner, "victim@example.org", PASSWORD, OWNER) == 302
    assert owner.get("/sets").status_code == 200


def test_one_address_trying_many_accounts_is_throttled(throttled):
    app = throttled(LOGIN_RATE_LIMIT="4 per minute")
    client = app.test_client()
    statuses = [_sign_in(client, f"user{i}@example.org", "guess 1234", ATTACKER) for i in range(6)]
    assert statuses == [400] * 4 + [429] * 2
    assert _sign_in(client, "victim@example.org", PASSWORD, ATTACKER) == 429
    assert _sign_in(app.test_client(), "victim@example.org", PASSWORD, OWNER) == 302


def test_successful_sign_ins_do_not_use_up_the_allowance(throttled):
    """A clinic behind one address: many good sign-ins, then one typo, all fine."""
    app = throttled(LOGIN_RATE_LIMIT="3 per minute", LOGIN_ACCOUNT_RATE_LIMIT="2 per minute")
    for _ in range(6):
        assert _sign_in(app.test_client(), "victim@example.org", PASSWORD, ATTACKER) == 302
    assert _sign_in(app.test_client(), "victim@example.org", "typo typo", ATTACKER) == 400
    assert _sign_in(app.test_client(), "victim@example.org", PASSWORD, ATTACKER) == 302


def test_behind_a_trusted_proxy_x_forwarded_for_is_the_address(throttled):
    app = throttled(TRUSTED_PROXIES=1)
    attacker, owner = app.test_client(), app.test_client()
    # Every request arrives from the proxy; the proxy appends the client's own address,
    # after anything the client wrote in the header itself.
    statuses = [_sign_in(attacker, "victim@example.org", f"guess {i:04}", PROXY,
                         forwarded=f"192.0.2.{i}, {ATTACKER}") for i in range(10)]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}
    assert _sign_in(owner, "victim@example.org", PASSWORD, PROXY, forwarded=OWNER) == 302


def test_without_trusted_proxies_x_forwarded_for_is_ignored(throttled):
    app = throttled()
    attacker = app.test_client()
    statuses = [_sign_in(attacker, "victim@example.org", f"guess {i:04}", ATTACKER,
                         forwarded=f"192.0.2.{i}") for i in range(10)]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}
    # A header naming another address does not get the attacker a fresh allowance either.
    assert _sign_in(app.test_client(), "victim@example.org", PASSWORD, ATTACKER,
                    forwarded=OWNER) == 429


def test_trusted_proxies_must_be_a_number(tmp_path):
    from . import bankgen
    from .conftest import make_app

    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        make_app(tmp_path, bankgen.write_bank(tmp_path / "bank"), TRUSTED_PROXIES="yes")


def test_the_throttle_uses_the_configured_shared_store(tmp_path, monkeypatch):
    """QUIZ_RATELIMIT_STORAGE_URI reaches Flask-Limiter (redis:// etc. for several workers)."""
    from quiz import create_app
    from quiz.extensions import limiter

    monkeypatch.setenv("QUIZ_RATELIMIT_STORAGE_URI", "memory://?shared-by=test")
    monkeypatch.setenv("QUIZ_SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    app = create_app(instance_path=str(tmp_path / "instance"))
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://?shared-by=test"
    assert app.config["RATELIMIT_ENABLED"] is True
    assert type(limiter.storage).__name__ == "MemoryStorage"



# --- the password policy (NIST SP 800-63B): one function for the form and the CLI ----------

COMMON = ["password", "PASSWORD", "12345678", "iloveyou", "Qwertyuiop", "trustno1", "sunshine",
          "password123", "baseball1"]
GUESSABLE = ["aaaaaaaa", "abcdefgh", "12341234", "elephant", "zzzzzzzzzzzzzzzzzzzzzzzz"]
GOOD = [PASSWORD, "zq7-Vx2m", "tulip ladder 47 quietly", "Grüße aus Köln, Mittwoch früh",
        "ümlaut ünïcödé pässphrase ✓", ("long passphrase " * 8)[:128]]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused(password):
    assert accounts.password_problems(password, "kim@example.org", "Kim") == [accounts.COMMON_MESSAGE]


@pytest.mark.parametrize("password", GUESSABLE)
def test_trivially_guessable_passwords_are_refused(password):
    problems = accounts.password_problems(password, "kim@example.org", "Kim")
    assert problems in ([accounts.GUESSABLE_MESSAGE], [accounts.COMMON_MESSAGE]), problems
    assert problems  # not acceptable either way


@pytest.mark.parametrize(("password", "email", "name"), [
    ("kim.lee@example.org", "kim.lee@example.org", "K"),
    ("KIM.LEE@EXAMPLE.ORG", "kim.lee@example.org", "K"),
    ("kim.lee.physio", "kim.lee.physio@example.org", "K"),
    ("Kimberly Leeward", "k@example.org", "Kimberly Leeward"),
    ("kimberlyleeward", "k@example.org", "Kimberly Leeward"),
])
def test_the_email_its_local_part_or_the_name_are_refused(password, email, name):
    assert accounts.password_problems(password, email, name) == [accounts.PERSONAL_MESSAGE]


@pytest.mark.parametrize("password", GOOD)
def test_good_passwords_pass(password):
    assert accounts.password_problems(password, "kim@example.org", "Kim") == []


@pytest.mark.parametrize(("password", "message"), [
    ("password123", accounts.COMMON_MESSAGE),
    ("abcdefgh", accounts.GUESSABLE_MESSAGE),
    ("Pat Physio", accounts.PERSONAL_MESSAGE),
    ("pat.physio", accounts.PERSONAL_MESSAGE),
    ("short", "at least 8 characters"),
])
def test_registration_form_explains_a_refused_password(app, client, password, message):
    response = client.post("/auth/register", data={
        "name": "Pat Physio", "email": "pat.physio@example.org", "password": password,
        "confirm": password})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message.replace("'", "&#39;") in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


@pytest.mark.parametrize(("password", "message"), [
    ("password123", accounts.COMMON_MESSAGE),
    ("aaaaaaaaaa", accounts.GUESSABLE_MESSAGE),
    ("ana.lopez", accounts.PERSONAL_MESSAGE),
    ("Ana Lopez", accounts.PERSONAL_MESSAGE),
])
def test_cli_applies_the_same_password_policy(runner, app, password, message):
    result = runner.invoke(args=["users", "create", "ana.lopez@clinic.example", "--role", "instructor",
                                 "--name", "Ana Lopez"], input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert accounts.find_user("ana.lopez@clinic.example") is None


def test_registration_is_throttled_per_address(throttled):
    app = throttled(REGISTER_RATE_LIMIT="3 per minute")
    client = app.test_client()

    def register(i, address):
        return client.post("/auth/register", environ_base={"REMOTE_ADDR": address}, data={
            "name": "N", "email": f"probe{i}@example.org", "password": PASSWORD,
            "confirm": PASSWORD}).status_code

    assert [register(i, ATTACKER) for i in range(5)] == [302, 302, 302, 429, 429]
    assert register(9, OWNER) == 302
    with app.app_context():
        assert accounts.find_user("probe3@example.org") is None
        assert accounts.find_user("probe9@example.org") is not None
    assert client.get("/auth/register", environ_base={"REMOTE_ADDR": ATTACKER}).status_code == 200
