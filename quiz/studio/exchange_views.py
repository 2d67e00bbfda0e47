"""The studio's Moodle XML / GIFT pages: upload a file, preview what importing it would do,
confirm (all or nothing, at most once per preview), and download the bank in either format.
Thin views: quiz/exchange/bank.py maps and imports, quiz/exchange/formats.py reads and
writes, quiz/exchange/uploads.py keeps the file between preview and confirm."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.utils import secure_filename

from .. import policy
from ..exchange import uploads
from ..exchange.bank import import_questions
from ..exchange.formats import EXTENSIONS, FORMATS, MEDIA_TYPES, export_file, read_file
from ..exchange.model import MAX_FILE_BYTES, ExchangeError
from ..extensions import db
from ..models import Topic
from ..qtypes import TYPES
from ..web import allow_upload
from . import bp
from .questions import _bad, _checked_form
from .views import StudioForm

MIB = 1024 * 1024
# The body of an upload: the file plus the form's few fields (and multipart's boundaries).
allow_upload("studio.import_page", MAX_FILE_BYTES + 64 * 1024, policy.can_edit_bank)


def _folder() -> Path:
    """Where uploads wait for their confirm: IMPORT_FOLDER, else instance/imports (owner-only)."""
    return Path(current_app.config.get("IMPORT_FOLDER")
                or Path(current_app.instance_path) / "imports")


def _topics() -> list[tuple[str, str]]:
    return [(tid, title) for tid, title in db.session.execute(
        db.select(Topic.id, Topic.title).order_by(Topic.position, Topic.id))]


def _form_page(status: int = 200, error: str | None = None, values: dict | None = None):
    # formdata=None: a form built without reading the request (after a 413 it cannot be read)
    return render_template("studio/import.html", form=StudioForm(formdata=None), formats=FORMATS,
                           topics=_topics(), error=error, values=values or {},
                           max_mib=MAX_FILE_BYTES // MIB), status


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    """GET: the upload form. POST: read the file and show what importing it would do;
    nothing is written. A file that can be imported is kept (uploads.save) for the confirm
    step."""
    if request.method == "GET":
        return _form_page()
    return _preview()


@bp.errorhandler(413)
def too_large(error):
    """An upload over the limit is refused before it is read (web.check_request)."""
    if request.endpoint == "studio.import_page" and policy.can_edit_bank(current_user):
        return _form_page(413, f"The file is larger than {MAX_FILE_BYTES // MIB} MiB: nothing was "
                               "read. Split it into smaller files.")
    return render_template("error.html", code=413, message=str(error.description)), 413


def _preview():
    _checked_form()
    fmt = request.form.get("format", "")
    topic = request.form.get("topic", "") or None
    skip = bool(request.form.get("skip_unsupported"))
    values = {"format": fmt, "topic": topic or "", "skip_unsupported": skip}
    if fmt not in FORMATS:
        return _form_page(400, "Choose the file's format: Moodle XML or GIFT.", values)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form_page(400, "Choose a file to import.", values)
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return _form_page(413, f"The file is larger than {MAX_FILE_BYTES // MIB} MiB: nothing was "
                               "read. Split it into smaller files.", values)
    if topic is not None and topic not in {tid for tid, _ in _topics()}:
        return _form_page(400, "That topic does not exist (any more): choose another.", values)
    filename = (secure_filename(upload.filename) or "upload")[:200]
    try:
        questions = read_file(data, fmt)
    except ExchangeError as exc:
        return _form_page(400, f"{filename} could not be read as {FORMATS[fmt]}: {exc}. Nothing "
                               "was imported.", values)
    report = import_questions(questions, filename=filename, topic_id=topic,
                              skip_unsupported=skip, dry_run=True, author=current_user)
    db.session.rollback()  # a dry run writes nothing; this makes sure
    token = None
    if not report.refused:
        token = uploads.save(_folder(), data, uploads.Upload(
            filename=filename, fmt=fmt, topic=topic, skip_unsupported=skip,
            user_id=current_user.id, sha256=hashlib.sha256(data).hexdigest()))
    return render_template("studio/import_preview.html", report=report, token=token,
                           fmt=FORMATS[fmt], form=StudioForm(), values=values, types=TYPES,
                           confirmed=False), 422 if report.refused else 200


@bp.route("/import/confirm", methods=["POST"])
def import_confirm():
    """Import a previewed upload, all or nothing. The upload is claimed first, so the same
    preview confirmed twice (a double click, a reload, a second tab) imports once."""
    _checked_form()
    token = request.form.get("token", "")
    try:
        data, upload = uploads.claim(_folder(), token, current_user.id)
    except uploads.UploadGone:
        return render_template(
            "error.html", code=409,
            message="This upload was already imported, or it is no longer here: nothing was "
                    "imported now. Look for its drafts in the question list, or upload the file "
                    "again."), 409
    try:
        report = import_questions(read_file(data, upload.fmt), filename=upload.filename,
                                  topic_id=upload.topic, skip_unsupported=upload.skip_unsupported,
                                  author=current_user)
        if report.refused:  # the bank changed since the preview (a topic went, an id...)
            db.session.rollback()
            return render_template("studio/import_preview.html", report=report, token=None,
                                   fmt=FORMATS[upload.fmt], form=StudioForm(), values={}, types=TYPES,
                                   confirmed=True), 409
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        uploads.put_back(_folder(), token, data, upload)
        return render_template(
            "error.html", code=409,
            message="Someone changed the bank while this file was imported: nothing was "
                    "imported. Go back and confirm again."), 409
    except Exception:
        db.session.rollback()
        uploads.put_back(_folder(), token, data, upload)
        raise
    flash(f"{report.summary()} Choose each draft's source section and key points, then publish it.",
          "success")
    return redirect(url_for("studio.questions", status="draft"))


@bp.route("/export")
def export_download():
    """The published bank as one Moodle XML or GIFT file (a download)."""
    fmt = request.args.get("format", "")
    if fmt not in FORMATS:
        return _bad("Choose a format to download: moodle-xml or gift.")
    data, _left_out, _losses = export_file(fmt)
    response = make_response(data)
    response.headers["Content-Type"] = MEDIA_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="iastm-bank.{EXTENSIONS[fmt]}"'
    return response
