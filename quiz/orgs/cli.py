"""`flask --app wsgi orgs create NAME --manager EMAIL | list`: organisations on the command line.

Links in the mail (and the one printed) are absolute: in a request they come from it; here
from --base-url, else SERVER_NAME if configured, else BASE_URL (QUIZ_BASE_URL), else
http://localhost:5000.
"""

from __future__ import annotations

import sys

import click
from flask import current_app, url_for
from flask.cli import AppGroup

from ..extensions import db
from . import people

orgs_cli = AppGroup("orgs", help="Organisations (clinics, classes) and their first managers.")

DEFAULT_BASE_URL = "http://localhost:5000"


def _external_builder(base_url: str | None):
    """url_for(..., _external=True) outside a request: against `base_url`."""
    def external(endpoint: str, **values) -> str:
        if current_app.config.get("SERVER_NAME") and not base_url:
            return url_for(endpoint, _external=True, **values)
        base = base_url or current_app.config.get("BASE_URL") or DEFAULT_BASE_URL
        with current_app.test_request_context("/", base_url=base):
            return url_for(endpoint, _external=True, **values)

    return external


@orgs_cli.command("create")
@click.argument("name")
@click.option("--manager", "email", required=True, metavar="EMAIL",
              help="The first manager: an existing account, or a new one made for this address.")
@click.option("--manager-name", default=None, help="Name for a new account (default: the "
              "e-mail's local part).")
@click.option("--base-url", default=None, help="Where the site is served, for the links in "
              f"the mail (default: BASE_URL or {DEFAULT_BASE_URL}).")
def orgs_create(name: str, email: str, manager_name: str | None, base_url: str | None) -> None:
    """Create an organisation and its first manager.

    A new account gets a one-time link to choose its password: mailed, and printed here.
    Exits non-zero, writing nothing, on a taken name or a bad address.
    """
    try:
        created = people.create_organisation(
            None, name, email, manager_name, external=_external_builder(base_url),
            link_valid_for=people.manager_link_lifetime(current_app.config))
    except people.PeopleError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    org_id, org_name = created.org.id, created.org.name
    manager, new, link = created.manager.email, created.created_account, created.link
    db.session.commit()
    click.echo(f"Created organisation {org_id} {org_name}; manager {manager}"
               + (" (new account)." if new else " (existing account)."))
    if link:
        click.echo(f"One-time link to choose a password (also mailed): {link}")


@orgs_cli.command("list")
def orgs_list() -> None:
    """One tab-separated line per organisation: id, name, status, members, managers, cohorts."""
    for row in people.organisation_rows():
        name = " ".join(row.name.split())
        click.echo("\t".join((str(row.id), name, "active" if row.active else "inactive",
                              str(row.members), str(row.managers), str(row.cohorts))))
