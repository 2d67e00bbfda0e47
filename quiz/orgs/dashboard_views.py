"""The manager's dashboard: people x assignments, filters, sorting, paging, CSV.

For the organisation's viewers (tenancy.Need.VIEW: managers, its instructors, site
admins). The work is in dashboard.py; these views read the arguments and render.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, make_response, render_template, request, stream_with_context
from flask_login import current_user, login_required

from ..web import url_builder
from . import bp
from . import dashboard as dash
from .tenancy import Need, org_or_404


def _message(code: int, message: str):
    return make_response(render_template("error.html", code=code, message=message), code)


def _setup(org_id: int):
    """The organisation (404 unless the visitor may view it), its active assignments, its
    cohorts and the filters read from the arguments (400 / 404 on bad ones)."""
    org = org_or_404(current_user, org_id, Need.VIEW)
    assignments = dash.active_assignments(org.id)
    cohorts = dash.org_cohorts(org.id)
    try:
        filters = dash.read_filters(request.args, {a.id for a in assignments},
                                    {cid for cid, _ in cohorts})
    except dash.BadFilter as exc:
        abort(_message(400, str(exc)))
    except dash.NotInOrganisation as exc:
        abort(_message(404, str(exc)))
    return org, assignments, cohorts, filters


@bp.route("/<id:org_id>/dashboard")
@login_required
def dashboard(org_id: int):
    org, assignments, cohorts, filters = _setup(org_id)
    page = dash.dashboard_page(org.id, assignments, filters, dash.page_number(request.args.get("page")),
                               datetime.now(UTC))
    return render_template("orgs/dashboard.html", org=org, view=page, cohorts=cohorts,
                           states=dash.STATE_LABELS, per_page=dash.PER_PAGE,
                           review_url=url_builder("learn.review", "attempt_id"))


@bp.route("/<id:org_id>/dashboard.csv")
@login_required
def dashboard_csv(org_id: int):
    org, assignments, _cohorts, filters = _setup(org_id)
    now = datetime.now(UTC)
    body = dash.csv_chunks(org.id, assignments, filters, now)
    name = f"dashboard-org{org.id}-{now:%Y-%m-%d}.csv"
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})
