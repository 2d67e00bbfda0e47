"""Record changes in the audit log, in the caller's transaction (never a commit here).

Every change to questions, sets, topics, key points and accounts calls `record` next to
the change, so the log and the change commit or roll back together.
"""

from __future__ import annotations

from typing import Any

from .extensions import db
from .models import AuditEvent, User
from .vocab import AuditEntity


def record(actor: User | None, entity_type: AuditEntity, entity_id: str | int, action: str,
           summary: str = "", detail: dict[str, Any] | None = None) -> AuditEvent:
    """Add one audit event. `actor` is None for the command line."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        entity_type=str(entity_type), entity_id=str(entity_id), action=action,
        summary=summary, detail=detail,
    )
    db.session.add(event)
    return event
