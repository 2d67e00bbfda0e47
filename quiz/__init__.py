"""IASTM training quiz: the application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import csrf, db, limiter, login_manager, migrate
from .web import (
    REQUEST_LIMITS,
    apply_proxy_fix,
    private_files,
    register_error_pages,
    register_fixed_urls,
    register_read_only_requests,
    register_request_checks,
)

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: defaults, then instance config.py and QUIZ_* env vars, then test overrides."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=_database_url(app),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # Throttles; the store is per process unless RATELIMIT_STORAGE_URI names a shared one.
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        LOGIN_RATE_LIMIT="10 per minute;100 per day",  # failed sign-ins per client address
        LOGIN_ACCOUNT_RATE_LIMIT="5 per minute;20 per hour",  # ... per (address, account)
        REGISTER_RATE_LIMIT="5 per minute;50 per day",  # registrations per client address
        # CSRF tokens live as long as the session (which sign-out ends), so a learner who
        # spends more than an hour on a set does not lose answers to an expired token.
        WTF_CSRF_TIME_LIMIT=None,
        TRUSTED_PROXIES=0,  # proxy hops in front of the app whose X-Forwarded-* to believe
        **REQUEST_LIMITS,
        BANK_PATH=str(Path(app.root_path).parent / "question_bank"),
        PASSWORD_RESET_HOURS=24,  # how long a password-reset link made by an admin works
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("QUIZ")
    else:
        app.config.from_mapping(test_config)
    private_files(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 15}})

    register_request_checks(app)  # first: before any extension's hook reads the request
    apply_proxy_fix(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    _limit_in_views_only(app)

    from . import (
        mail,  # noqa: F401  (delivers queued mail after each commit)
        models,  # noqa: F401  (registers the tables on db.metadata)
    )
    from .account import bp as account_bp
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .cli import register_cli
    from .learn import bp as learn_bp
    from .orgs import bp as orgs_bp
    from .orgs.certificate_views import public_bp as certificates_bp
    from .policy import register_policy
    from .rendering import register_filters
    from .staff import bp as staff_bp
    from .studio import bp as studio_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(learn_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(studio_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(certificates_bp)  # /verify/<code> (public), /certificates (a learner's)
    register_cli(app)
    register_filters(app)
    register_policy(app)
    _register_security_headers(app)
    register_error_pages(app)
    register_fixed_urls(app)
    register_read_only_requests(app)
    return app


def _limit_in_views_only(app: Flask) -> None:
    """Drop Flask-Limiter's app-wide before_request check: every limit here is a route
    decorator (sign-in, registration, password change), and decorated views check their
    own limits when called. The app-wide hook only adds default and application limits,
    which this app does not set, yet it costs every request of every page."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or manager._blueprint_limits:
        return  # then the hook is needed
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [
        hook for hook in hooks
        if getattr(hook, "__func__", None) is not type(limiter)._check_request_limit
    ]


def _database_url(app: Flask) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(app.instance_path) / "quiz.sqlite")
    return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and route them through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(app: Flask) -> str:
    """A per-install secret kept in the instance folder, so a fresh clone needs no setup."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        try:
            with open(path, "x") as fh:  # "x": two workers starting together never overwrite
                fh.write(secrets.token_hex(32))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: WAL for concurrent readers, a busy timeout instead of 'locked', real FKs.

    synchronous=NORMAL is SQLite's recommended setting with WAL: a commit is safe from an
    application or process crash and the database is never corrupted; only a power loss
    or OS crash may lose the last commits before a checkpoint. It spares an fsync per
    commit (each submit and save), which otherwise costs more than the request itself.
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
