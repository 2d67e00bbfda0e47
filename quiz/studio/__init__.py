from flask import Blueprint

bp = Blueprint("studio", __name__, url_prefix="/studio")

from . import entities, exchange_views, questions, stats, views  # noqa: E402,F401
