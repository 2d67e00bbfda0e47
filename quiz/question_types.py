"""The question types now live in the quiz.qtypes package (one module per type, one
registry); this module re-exports them so existing imports keep working."""

from __future__ import annotations

from .qtypes import *  # noqa: F403
from .qtypes import __all__  # noqa: F401
from .qtypes.base import _check_entries, _is_text, _kind  # noqa: F401
