"""Hardening of the web side: request limits, id ranges, NUL bytes, proxies, error pages, files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from flask import Flask, render_template, request, url_for
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, ValidationError

# The largest value of a 32-bit signed integer column (PostgreSQL "integer"): every id the
# app serves fits, so a larger one names nothing and must not reach the database (where
# PostgreSQL refuses it with an error, and SQLite beyond 2**63 - 1 too).
MAX_ID = 2**31 - 1

# Request limits. The largest legitimate body is an attempt page: 25 questions of a dozen
# fields each are ~300 fields and ~20 KB, a quarter or less of each limit below.
REQUEST_LIMITS = {
    "MAX_CONTENT_LENGTH": 256 * 1024,  # any body; larger is refused before it is read
    "MAX_FORM_MEMORY_SIZE": 128 * 1024,  # a url-encoded form, or one multipart text field
    "MAX_FORM_PARTS": 1000,  # fields in one form (Werkzeug counts multipart; we count both)
}


def page_number(raw: str | None) -> int:
    """A list page's requested page number; anything but a plain positive number means 1."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 and int(raw) > 0 else 1


# Endpoints that take a file upload larger than MAX_CONTENT_LENGTH: endpoint -> (limit in
# bytes, who may send that much: a function of the current user). Anyone else keeps the
# ordinary limit, so a stranger cannot make the app read a large body.
UPLOAD_LIMITS: dict[str, tuple[int, Callable[[object], bool]]] = {}


def allow_upload(endpoint: str, limit: int, who: Callable[[object], bool]) -> None:
    UPLOAD_LIMITS[endpoint] = (limit, who)


class IdConverter(BaseConverter):
    """`<id:name>`: a database id, 1 to MAX_ID in ASCII digits; anything else is a 404.

    Werkzeug's `int` converter takes any Unicode digits and any size, so /attempts/9...9
    reaches the database and fails there with a 500.
    """

    regex = r"[0-9]{1,10}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


# A value no real id or set id takes, standing in for the row's value in url_builder.
_URL_SLOT = "987654321"


def url_builder(endpoint: str, slot: str, **values) -> Callable[[object], str]:
    """`url_for(endpoint, slot=x, **values)` for every row of a page, built once.

    url_for costs about as much as rendering a table row; a page that links each of 50
    rows calls it 50 times. This calls it once, with a placeholder, and splits the result:
    each row's link is then a string join. For ids and bank ids (ASCII letters, digits and
    hyphens, which need no quoting in a path); anything else is quoted like url_for does.
    """
    built = url_for(endpoint, **{slot: int(_URL_SLOT)}, **values)
    head, found, tail = built.rpartition(_URL_SLOT)
    if not found:
        raise ValueError(f"{endpoint} does not put {slot} in its path")

    def build(value: object) -> str:
        return f"{head}{quote(str(value), safe='')}{tail}"

    return build


def register_fixed_urls(app: Flask) -> None:
    """`fixed_url(endpoint, **values)` for templates: url_for of a link that is the same on
    every page (the layout's stylesheet and menu), computed once per script root.

    Only for literal endpoints and values written in a template, so the cache stays as
    small as the templates; links that vary with the data use url_for or url_builder.
    """
    cache: dict[tuple, str] = {}

    def fixed_url(endpoint: str, **values) -> str:
        key = (request.script_root, endpoint, *sorted(values.items()))
        url = cache.get(key)
        if url is None:
            url = cache[key] = url_for(endpoint, **values)
        return url

    app.add_template_global(fixed_url)


def register_request_checks(app: Flask) -> None:
    """Before any other request handling: size, field count and NUL checks, once for all views.

    Registered before the extensions' own hooks (the sign-in throttle reads the form), so
    an oversized or malformed request is refused before anything else looks at it.
    """
    app.url_map.converters["id"] = IdConverter

    @app.before_request
    def check_request():
        upload = UPLOAD_LIMITS.get(request.endpoint or "")
        if upload is not None and request.method == "POST":
            from flask_login import current_user
            if upload[1](current_user):
                request.max_content_length = upload[0]
        sources = [request.args] if request.query_string else []
        if request.headers.get("Content-Type"):  # without one there is no form to parse
            form = request.form  # parsing enforces MAX_CONTENT_LENGTH and MAX_FORM_MEMORY_SIZE
            limit = app.config.get("MAX_FORM_PARTS")
            if limit is not None and sum(len(values) for _, values in form.lists()) > limit:
                raise RequestEntityTooLarge("The form has too many fields.")
            sources.append(form)
        for source in sources:
            for key, values in source.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    raise BadRequest("The request holds a NUL character.")
        for value in (request.view_args or {}).values():
            if isinstance(value, str) and "\x00" in value:
                raise BadRequest("The address holds a NUL character.")


def apply_proxy_fix(app: Flask) -> None:
    """Behind QUIZ_TRUSTED_PROXIES proxies, take the client address and scheme from them.

    Only then: without it X-Forwarded-For is an ordinary header anyone can write, and
    trusting it would let a client pick its own address (and dodge the sign-in throttle).
    """
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if isinstance(hops, str) and hops.strip().isdigit():
        hops = int(hops.strip())
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise ValueError(f"TRUSTED_PROXIES must be a number of proxy hops (0 or more), not {hops!r}.")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


ERROR_MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "We could not find that page.",
    405: "That action is not allowed here.",
    409: "That change conflicts with the current state. Reload and try again.",
    413: "That request was too large. If you were answering questions, reload the page and "
         "try again.",
    429: "Too many attempts in a short time. Wait a minute, then try again.",
}


FALLBACK_500 = ("<!doctype html><html lang=en><meta charset=utf-8><title>Error · IASTM Quiz</title>"
                "<h1>Something went wrong on our side</h1><p>Nothing from this request was saved. "
                "Try again in a moment.</p></html>")


def register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from .extensions import db

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = "Your form expired or was not sent from this site. Reload the page and try again."
        return render_template("error.html", code=400, message=message), 400

    for code, message in ERROR_MESSAGES.items():
        app.register_error_handler(
            code, lambda e, c=code, m=message: (render_template("error.html", code=c,
                                                                message=m), c)
        )

    @app.errorhandler(InternalServerError)
    def server_error(error: HTTPException):
        # Whatever the failed request wrote is undone before the page is drawn: the page
        # may load the signed-in user, which a broken transaction (PostgreSQL) would refuse.
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001, S110 - a dead connection must not hide the page
            pass
        try:
            return render_template("errors/500.html"), 500
        except Exception:  # noqa: BLE001 - e.g. the database is down and the page loads the user
            app.logger.exception("The 500 page itself failed")
            return FALLBACK_500, 500, {"Content-Type": "text/html; charset=utf-8"}


def private_files(app: Flask) -> None:
    """The instance folder (0700) and a SQLite database file (0600) readable by the owner only.

    Both are created here with those modes; SQLite gives its -wal and -shm files the
    database file's mode.
    """
    instance = Path(app.instance_path)
    if not instance.exists():
        instance.mkdir(parents=True, mode=0o700)
        instance.chmod(0o700)  # mkdir's mode is cut by the umask; chmod is not
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        path = Path(url.database)
        if not path.exists() and path.parent.is_dir():
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:  # another worker created it first
                return
            os.close(fd)
            path.chmod(0o600)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteInReadRequest(RuntimeError):
    """A GET (or HEAD, OPTIONS) request tried to change rows: such requests only read."""


def register_read_only_requests(app: Flask) -> None:
    """On PostgreSQL, GET, HEAD and OPTIONS requests read without a transaction.

    At PostgreSQL's READ COMMITTED level every statement sees its own snapshot, inside a
    transaction or not, so a page that only reads gains nothing from BEGIN and ROLLBACK:
    in autocommit it spares those two round trips (about a tenth of a catalogue page).
    These requests must not write; a flush of changed objects in one raises
    WriteInReadRequest (a bug to fix, never a half-written change). SQLite needs nothing:
    its driver begins a transaction only before a write.
    """
    from .extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return

    @app.before_request
    def read_without_transaction():
        if request.method in SAFE_METHODS and request.endpoint != "static":
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            db.session.info["read_only"] = True


@event.listens_for(Session, "before_flush")
def _no_writes_in_reads(session, flush_context, instances) -> None:
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise WriteInReadRequest(f"{request.method} {request.path} tried to write")
