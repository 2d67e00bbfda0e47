from flask import Blueprint

bp = Blueprint("studio", __name__, url_prefix="/studio")

from . import views  # noqa: E402,F401
