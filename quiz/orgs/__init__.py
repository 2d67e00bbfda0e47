"""Organisations: clinics and school classes, their members, cohorts and assignments.

tenancy.py is the one place that scopes queries by organisation (every manager page looks
its rows up through it); results.py computes where each person stands on each assignment.
"""

from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

from . import (  # noqa: E402,F401
    assignment_views,
    certificate_views,
    dashboard_views,
    invitation_views,
    people_views,
    views,
)
