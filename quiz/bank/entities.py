"""Sections, topics, key points and sets: the file marker, and edits from the studio.

The rule that keeps `bank import` and `init` from undoing browser work:

- Each of these rows has `file_hash`: the hash (`row_hash`) of its FIELDS values as the bank
  files last wrote them.
- The studio changes a row only through the `update_*` functions below; they set
  `file_hash` to NULL and record an audit event.
- Import compares the file's values with the row: equal -> unchanged (the marker is left as it
  is). Different -> the row is rewritten only if it still holds what the files wrote
  (`row_hash(row) == row.file_hash`, so a NULL marker or a row changed by any other means
  never qualifies), or with --overwrite; otherwise it is reported as a conflict and left alone.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .. import audit
from ..extensions import db
from ..models import KeyPoint, QuestionSet, Section, Topic, User
from ..vocab import AuditEntity

# The values the files own, per model (position is the files' order, not hashed).
FIELDS: dict[type, tuple[str, ...]] = {
    Section: ("title",),
    Topic: ("title", "description"),
    KeyPoint: ("section_id", "text", "must_know"),
    QuestionSet: ("title", "description", "kind", "topic_id", "draw_count", "draw_topics",
                  "pass_mark", "include_must_know", "active"),
}
ENTITY = {Section: AuditEntity.SECTION, Topic: AuditEntity.TOPIC, KeyPoint: AuditEntity.KEY_POINT,
          QuestionSet: AuditEntity.SET}
LABEL = {Section: "section", Topic: "topic", KeyPoint: "key point", QuestionSet: "set"}


def row_hash(values: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of `values` (a copy is frozen in migration 6b1d94e7c2a8)."""
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def values_of(obj) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in FIELDS[type(obj)]}


def from_files(obj) -> bool:
    """True while the row holds exactly what the bank files last wrote into it."""
    return obj.file_hash is not None and row_hash(values_of(obj)) == obj.file_hash


class EntityError(ValueError):
    """An edit that cannot be applied (unknown row, or a field that is not editable)."""


def _update(model, key: str, values: dict[str, Any], actor: User | None):
    obj = db.session.get(model, key)
    if obj is None:
        raise EntityError(f"There is no {LABEL[model]} {key!r}.")
    unknown = set(values) - set(FIELDS[model])
    if unknown:
        raise EntityError(f"Cannot edit {', '.join(sorted(unknown))} of a {LABEL[model]}.")
    before = values_of(obj)
    changed = {name: value for name, value in values.items() if before[name] != value}
    for name, value in changed.items():
        setattr(obj, name, value)
    if changed:
        obj.file_hash = None
        audit.record(actor, ENTITY[model], key, "edit", f"Edited {', '.join(sorted(changed))}",
                     {"before": {k: before[k] for k in changed}, "after": changed})
    db.session.flush()
    return obj


def update_section(section_id: str, values: dict[str, Any], actor: User | None) -> Section:
    """Change a section's title (values: subset of FIELDS[Section]). Flushes only."""
    return _update(Section, section_id, values, actor)


def update_topic(topic_id: str, values: dict[str, Any], actor: User | None) -> Topic:
    """Change a topic's title / description. Clears the file marker and audits. Flushes only."""
    return _update(Topic, topic_id, values, actor)


def update_key_point(key_point_id: str, values: dict[str, Any], actor: User | None) -> KeyPoint:
    """Change a key point's section_id / text / must_know. Clears the file marker, audits."""
    return _update(KeyPoint, key_point_id, values, actor)


def update_set(set_id: str, values: dict[str, Any], actor: User | None) -> QuestionSet:
    """Change a set (title, description, kind, topic_id, draw_count, draw_topics, pass_mark,
    include_must_know, active). Clears the file marker and audits. Flushes only; the caller
    validates the values (the same rules as sets.yaml) and commits."""
    return _update(QuestionSet, set_id, values, actor)
