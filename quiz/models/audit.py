"""The audit log: who changed what in the bank and the accounts, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._common import utcnow
from .accounts import User


class AuditEvent(db.Model):
    """One change, written in the same transaction as the change itself (quiz.audit.record)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at", "id"),
        Index("ix_audit_event_entity", "entity_type", "entity_id", "at"),
        Index("ix_audit_event_actor", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Null for changes made from the command line (bank import, init, users ...).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # AuditEntity / a verb such as "revise", "publish", "set-role" (quiz.audit).
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
