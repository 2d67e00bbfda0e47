"""Organisation pages: the organisations one belongs to, and an organisation's home.

Thin, like every blueprint here: tenancy.org_or_404 decides who may see an organisation
(404 for everyone else); the pages of members, cohorts, invitations, assignments, the
dashboard and certificates live in their own modules of this package.
"""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import Assignment, Cohort, Membership
from ..vocab import OrgRole
from . import bp
from .tenancy import Need, can_act, my_organisations, org_or_404


@bp.route("/")
@login_required
def index():
    """Every organisation the signed-in person belongs to, with their role there."""
    return render_template("orgs/index.html", organisations=my_organisations(current_user))


@bp.route("/<id:org_id>")
@login_required
def home(org_id: int):
    """An organisation at a glance, for its managers and instructors (404 for others)."""
    org = org_or_404(current_user, org_id, Need.VIEW)
    counts = db.session.execute(select(
        select(func.count()).where(Membership.org_id == org.id,
                                   Membership.role == OrgRole.MEMBER).scalar_subquery(),
        select(func.count()).where(Membership.org_id == org.id,
                                   Membership.role != OrgRole.MEMBER).scalar_subquery(),
        select(func.count()).where(Cohort.org_id == org.id).scalar_subquery(),
        select(func.count()).where(Assignment.org_id == org.id,
                                   Assignment.archived_at.is_(None)).scalar_subquery(),
    )).one()
    return render_template("orgs/home.html", org=org, members=counts[0], staff=counts[1],
                           cohorts=counts[2], assignments=counts[3],
                           can_manage=can_act(current_user, org.id, Need.MANAGE))
