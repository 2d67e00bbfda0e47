"""Command-line interface: `flask --app wsgi init | bank ... | users ... | progress rebuild`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from . import accounts, progress
from .bank import read_bank
from .bank.coverage import MIN_QUESTIONS_PER_KEY_POINT, coverage
from .bank.cues import cue_check
from .bank.export import export_bank, write_bank_files
from .bank.lint import lint_bank
from .bank.loader import import_bank
from .bank.revisions import refresh_lint
from .exchange.model import MAX_FILE_BYTES, ExchangeError
from .extensions import db
from .mail.cli import mail_cli
from .models import Question, QuestionRevision, User
from .orgs.cli import orgs_cli
from .stats.cli import stats_cli
from .vocab import Role

EXCHANGE_FORMATS = ("moodle-xml", "gift")  # quiz/exchange/formats.py FORMATS
bank_cli = AppGroup("bank", help="Check, import and export the question bank.")
users_cli = AppGroup("users", help="Manage accounts.")
progress_cli = AppGroup("progress", help="Maintain the progress summaries.")


def _bank_path(path: str | None) -> str:
    return path or current_app.config["BANK_PATH"]


def _read_or_exit(path: str | None, consequence: str = "fix them and run again"):
    bank, problems = read_bank(_bank_path(path))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} error(s): {consequence}.", err=True)
        sys.exit(1)
    return bank


@bank_cli.command("check")
@click.argument("path", required=False)
@click.option("--strict", is_flag=True, help="Fail on item-writing warnings too.")
def bank_check(path: str | None, strict: bool) -> None:
    """Validate the bank files, lint the items and check for cues; one line per problem.

    Prints the cue figures (quiz/bank/cues.py) before the summary. Exits non-zero on any
    error, or with --strict on any warning, cue warnings included.
    """
    bank = _read_or_exit(path)
    cues = cue_check(bank)
    warnings = lint_bank(bank) + cues.warnings
    for warning in warnings:
        click.echo(str(warning), err=True)
    for figure in cues.figures:
        click.echo(figure)
    click.echo(f"{len(bank.questions)} questions, {len(bank.topics)} topics, {len(bank.sets)} sets, "
               f"{len(bank.key_points)} key points: no errors, {len(warnings)} warning(s).")
    if strict and warnings:
        click.echo("Strict mode: warnings count as failures.", err=True)
        sys.exit(1)


@bank_cli.command("coverage")
@click.argument("path", required=False)
@click.option("--min", "minimum", type=int, default=MIN_QUESTIONS_PER_KEY_POINT, show_default=True,
              help="Questions each key point needs.")
def bank_coverage(path: str | None, minimum: int) -> None:
    """Each key point with the questions that test it; non-zero exit if any has too few."""
    bank = _read_or_exit(path)
    short = 0
    for kp in coverage(bank):
        flag = "" if len(kp.question_ids) >= minimum else "  <-- needs more questions"
        short += bool(flag)
        mark = " [must-know]" if kp.must_know else ""
        click.echo(f"{kp.key_point_id}{mark} ({len(kp.question_ids)}): {kp.text}{flag}")
        click.echo(f"    {', '.join(kp.question_ids) or '(no questions)'}")
    if short:
        click.echo(f"{short} key point(s) tested by fewer than {minimum} questions.", err=True)
        sys.exit(1)
    click.echo(f"Every key point is tested by at least {minimum} questions.")


def _import(path: str | None, *, overwrite: bool, retire_missing: bool, dry_run: bool,
            what: str = "Imported") -> None:
    """Validate, import in one transaction (all or nothing), print the report."""
    bank = _read_or_exit(path, "nothing imported")
    try:
        report = import_bank(bank, overwrite=overwrite, retire_missing=retire_missing)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for line in report.lines():
        click.echo(line)
    prefix = "Dry run, nothing written: would have imported" if dry_run else what
    click.echo(f"{prefix} {len(bank.questions)} questions: {report}.")


_IMPORT_HELP = """Import bank files (default: the shipped bank) without undoing browser work.

    New questions are created and published; a question whose latest revision came from the
    files is revised when its file changed; one changed in the browser since (editor, import,
    restore, unpublished, retired) is reported as a conflict and left alone unless
    --overwrite. Questions in the database but not in the files are reported, and retired
    only with --retire-missing. Sections, topics, key points and sets follow the same rule.
    All or nothing: a bank with any error imports nothing (non-zero exit).
    """
_IMPORT_HELP_EXCHANGE = """
    With --format moodle-xml|gift, PATH is one exchange file: its questions arrive as drafts
    (never served) without source section or key points unless the file carries this bank's
    own (an export of it), in the topic of their category (--topic: one topic for all). All
    or nothing: a question type this app lacks refuses the whole file unless
    --skip-unsupported; a question that fails the bank's checks refuses it too.
    """


@bank_cli.command("import", help=_IMPORT_HELP + _IMPORT_HELP_EXCHANGE)
@click.argument("path", required=False)
@click.option("--format", "fmt", type=click.Choice(EXCHANGE_FORMATS), default=None,
              help="PATH is one Moodle XML or GIFT file: import its questions as drafts.")
@click.option("--topic", default=None,
              help="With --format: put every question in this topic (id or title).")
@click.option("--skip-unsupported", is_flag=True,
              help="With --format: skip question types this app lacks instead of refusing.")
@click.option("--overwrite", is_flag=True, help="Let the files win over browser edits.")
@click.option("--retire-missing", is_flag=True,
              help="Retire questions (and deactivate sets) that are not in the files.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
def bank_import(path: str | None, fmt: str | None, topic: str | None, skip_unsupported: bool,
                overwrite: bool, retire_missing: bool, dry_run: bool) -> None:
    if fmt is not None:
        if overwrite or retire_missing:
            _fail("--overwrite and --retire-missing apply to bank folders, not to --format files.")
        if not path:
            _fail(f"--format {fmt} needs the FILE to import.")
        _exchange_import(path, fmt, topic=topic, skip_unsupported=skip_unsupported,
                         dry_run=dry_run)
        return
    if topic is not None or skip_unsupported:
        _fail("--topic and --skip-unsupported apply to --format moodle-xml|gift files.")
    _import(path, overwrite=overwrite, retire_missing=retire_missing, dry_run=dry_run)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _exchange_import(path: str, fmt: str, *, topic: str | None, skip_unsupported: bool,
                     dry_run: bool) -> None:
    from .exchange import bank as exchange_bank
    from .exchange.formats import read_file

    source = Path(path)
    if not source.is_file():
        _fail(f"{path} is not a file.")
    if source.stat().st_size > MAX_FILE_BYTES:
        _fail(f"{source.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: nothing imported.",
              1)
    try:
        questions = read_file(source.read_bytes(), fmt)
    except ExchangeError as exc:
        _fail(f"{source.name}: {exc}; nothing imported.", 1)
    try:
        report = exchange_bank.import_questions(
            questions, filename=source.name, topic_id=topic, skip_unsupported=skip_unsupported,
            dry_run=dry_run)
        if report.written:
            db.session.commit()
        else:
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    for line in report.lines():
        click.echo(line, err=line.startswith("error:"))
    click.echo(report.summary(), err=report.refused)
    if report.refused:
        sys.exit(1)


@bank_cli.command("load", help="The same as `bank import` (kept for old scripts).")
@click.argument("path", required=False)
@click.option("--overwrite", is_flag=True, help="Let the files win over browser edits.")
@click.option("--retire-missing", is_flag=True,
              help="Retire questions (and deactivate sets) that are not in the files.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
def bank_load(path: str | None, overwrite: bool, retire_missing: bool, dry_run: bool) -> None:
    _import(path, overwrite=overwrite, retire_missing=retire_missing, dry_run=dry_run,
            what="Loaded")


@bank_cli.command("lint-refresh")
def bank_lint_refresh() -> None:
    """Recount the item-writing warnings of every question's latest revision (the studio
    list's "has lint warnings" filter), near-duplicate prompts across the bank included.
    Needed once after migration 9c5e2a7f1b38 (older revisions have no count); safe to rerun."""
    changed = refresh_lint()
    db.session.commit()
    click.echo(f"Lint warnings recounted: {changed} revision(s) updated.")


@bank_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml", *EXCHANGE_FORMATS]),
              default="json", show_default=True)
@click.argument("output", default="-")
def bank_export(fmt: str, output: str) -> None:
    """Write the bank: published questions at their current revision, active sets, every
    topic, section and key point (drafts and retired questions are left out).

    json: to OUTPUT, a file or - for standard output. yaml: bank files (the layout of
    question_bank/) in the folder OUTPUT, which must be new or empty; `bank import OUTPUT`
    then reports nothing changed. moodle-xml, gift: the published questions as one Moodle
    XML or GIFT file (OUTPUT or -), categories = topic titles; what the format cannot hold
    is listed (GIFT has no ordering questions: they are left out).
    """
    if fmt in EXCHANGE_FORMATS:
        from .exchange.formats import export_file
        try:
            data, left_out, losses = export_file(fmt)
        except ExchangeError as exc:
            _fail(f"{exc}; nothing written.", 1)
        for qid, reason in left_out:
            click.echo(f"left out: {qid}: {reason}", err=True)
        for qid, loss in losses:
            click.echo(f"loses: {qid}: {loss}", err=True)
        with click.open_file(output, "wb") as out:
            out.write(data)
        if output != "-":
            click.echo(f"Wrote {fmt} to {output}" + (f"; {len(left_out)} question(s) left out."
                                                      if left_out else "."))
        return
    if fmt == "yaml":
        root = Path(output)
        if output == "-" or (root.exists() and (not root.is_dir() or any(root.iterdir()))):
            click.echo(f"Error: {output} must be a new or empty folder for --format yaml.",
                       err=True)
            sys.exit(2)
        counts = write_bank_files(root)
        click.echo(f"Wrote {counts['questions']} questions, {counts['topics']} topics, "
                   f"{counts['sets']} sets and {counts['key_points']} key points to {root}.")
        return
    with click.open_file(output, "w", encoding="utf-8") as out:
        json.dump(export_bank(), out, indent=2, ensure_ascii=False)
        out.write("\n")


@users_cli.command("create")
@click.argument("email")
# Values, not members: click matches Enum choices by name ("LEARNER").
@click.option("--role", type=click.Choice([role.value for role in Role]),
              default=Role.LEARNER.value, show_default=True)
@click.option("--name", default=None, help="Display name (defaults to the e-mail's local part).")
def users_create(email: str, role: str, name: str | None) -> None:
    """Create an account; the password is read from a prompt or standard input, never argv."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(email, password, name=name or email.split("@")[0], role=role)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Created {user.role} {user.email}.")


def _account_or_exit(email: str):
    user = accounts.find_user(email)
    if user is None:
        click.echo(f"Error: no account has the address {accounts.normalise_email(email)}.", err=True)
        sys.exit(1)
    return user


def _commit_or_exit(change) -> bool:
    """Run `change` and commit; an AccountError rolls back and exits non-zero."""
    try:
        changed = change()
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    return changed


@users_cli.command("list")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=None,
              help="Only accounts with this role.")
@click.option("--inactive", is_flag=True, help="Only deactivated accounts (default: active ones).")
def users_list(role: str | None, inactive: bool) -> None:
    """One tab-separated line per account: e-mail, name, role, status, last sign-in (UTC)."""
    stmt = db.select(User).where(User.active.is_(not inactive)).order_by(User.email)
    if role:
        stmt = stmt.where(User.role == role)
    for user in db.session.scalars(stmt):
        login = (accounts.aware(user.last_login_at).strftime("%Y-%m-%dT%H:%MZ")
                 if user.last_login_at else "never")
        status = "active" if user.active else "inactive"
        name = " ".join(user.name.split())  # no tabs or newlines inside a field
        click.echo("\t".join((user.email, name, user.role, status, login)))


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role")
def users_set_role(email: str, role: str) -> None:
    """Give an account another role (learner, instructor or admin)."""
    user = _account_or_exit(email)
    if _commit_or_exit(lambda: accounts.set_role(None, user, role)):
        click.echo(f"{user.email} is now {user.role}.")
    else:
        click.echo(f"{user.email} already is {user.role}; nothing changed.")


@users_cli.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Close an account: it cannot sign in and every session of it ends now."""
    user = _account_or_exit(email)
    if _commit_or_exit(lambda: accounts.deactivate(None, user)):
        click.echo(f"Deactivated {user.email}; its sessions have ended.")
    else:
        click.echo(f"{user.email} was already deactivated; nothing changed.")


@users_cli.command("reactivate")
@click.argument("email")
def users_reactivate(email: str) -> None:
    """Open a deactivated account again (it keeps its password)."""
    user = _account_or_exit(email)
    if _commit_or_exit(lambda: accounts.reactivate(None, user)):
        click.echo(f"Reactivated {user.email}.")
    else:
        click.echo(f"{user.email} was already active; nothing changed.")


@progress_cli.command("rebuild")
def progress_rebuild() -> None:
    """Recompute every learner's latest answer per question from the submitted attempts.

    Submitting keeps the summary up to date; run this after changing attempts by hand.
    """
    try:
        rows = progress.rebuild_latest_answers()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Rebuilt the latest-answer summary: {rows} row(s).")


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema, then import the shipped bank. Safe on every deploy.

    Latest revisions without a lint-warning count (made before migration 9c5e2a7f1b38) are
    counted, as `bank lint-refresh` does.

    An empty bank is seeded from the files; after that this is `bank import` of the shipped
    bank without --overwrite or --retire-missing: work done in the browser is never undone
    (changed questions and rows are reported as conflicts and left alone).
    """
    upgrade(directory=current_app.extensions["migrate"].directory)
    bank = _read_or_exit(None, "schema ready, bank not loaded")
    seeding = db.session.scalar(db.select(Question.id).limit(1)) is None
    try:
        report = import_bank(bank)
        uncounted = db.session.scalar(
            db.select(QuestionRevision.id)
            .join(Question, Question.latest_revision_id == QuestionRevision.id)
            .where(QuestionRevision.lint_warnings.is_(None)).limit(1))
        if uncounted is not None:  # revisions from before migration 9c5e2a7f1b38
            click.echo(f"Lint warnings counted: {refresh_lint()} revision(s).")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for line in report.lines():
        click.echo(line)
    what = "seeded from the files" if seeding else "question bank"
    click.echo(f"Database ready; {what}: {report}.")


def register_cli(app: Flask) -> None:
    from .time_limits import attempts_cli  # (assignments) `attempts close-overdue`

    app.cli.add_command(attempts_cli)
    app.cli.add_command(bank_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(progress_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(init_command)
