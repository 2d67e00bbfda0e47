"""Admin pages: the mail outbox (/admin/outbox) and one message in it.

Messages land there when no mail server is configured, and when the mail server did not
take them (marked undelivered); quiz/mail/outbox.py reads the folders. Admins only (the
blueprint's before_request, as every /admin page).
"""

from __future__ import annotations

from flask import abort, render_template, request

from ..mail import mail_settings, outbox_path
from ..mail.outbox import PER_PAGE, find_message, outbox_page
from ..web import page_number
from . import bp


@bp.route("/outbox")
def outbox():
    listing = outbox_page(outbox_path(), page_number(request.args.get("page")))
    return render_template("admin/outbox.html", listing=listing, per_page=PER_PAGE,
                           smtp=_smtp_server())


@bp.route("/outbox/<name>")
def outbox_message(name: str):
    message = find_message(outbox_path(), name)
    if message is None:
        abort(404)
    return render_template("admin/outbox_message.html", message=message), 200, {
        "Cache-Control": "no-store"}  # it may hold a password-reset link


def _smtp_server() -> str | None:
    try:
        settings = mail_settings()
    except ValueError:
        return "misconfigured"
    return f"{settings.server}:{settings.port}" if settings.server else None
