"""Command-line interface: `flask --app wsgi init | bank ... | users ... | progress rebuild`."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from . import accounts, progress
from .bank import read_bank
from .bank.coverage import MIN_QUESTIONS_PER_KEY_POINT, coverage
from .bank.cues import cue_check
from .bank.export import export_bank
from .bank.lint import lint_bank
from .bank.loader import load_bank
from .extensions import db
from .models import User
from .vocab import Role

bank_cli = AppGroup("bank", help="Check, load and export the question bank.")
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


@bank_cli.command("load")
@click.argument("path", required=False)
def bank_load(path: str | None) -> None:
    """Validate, then upsert the bank in one transaction (a bank with errors loads nothing)."""
    bank = _read_or_exit(path, "nothing loaded")
    try:
        report = load_bank(bank)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Loaded {len(bank.questions)} questions: {report}.")


@bank_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.argument("output", type=click.File("w", encoding="utf-8"), default="-")
def bank_export(fmt: str, output) -> None:
    """Write the loaded bank as JSON to OUTPUT (a file, or - for standard output)."""
    json.dump(export_bank(), output, indent=2, ensure_ascii=False)
    output.write("\n")


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
    """Create or upgrade the database schema and load the shipped bank. Safe to run again."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    bank = _read_or_exit(None, "schema ready, bank not loaded")
    report = load_bank(bank)
    db.session.commit()
    click.echo(f"Database ready; question bank: {report}.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(bank_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(progress_cli)
    app.cli.add_command(init_command)
