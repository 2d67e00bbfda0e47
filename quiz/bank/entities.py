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
import re
import unicodedata
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


class StaleEntity(EntityError):
    """The row changed since the form was opened (its values no longer hash to the form's
    version): nothing was written. `current` holds the row's values now."""

    def __init__(self, obj) -> None:
        super().__init__(f"This {LABEL[type(obj)]} was changed by someone else since you opened it.")
        self.current = values_of(obj)


def _update(model, key: str, values: dict[str, Any], actor: User | None,
            base_hash: str | None = None):
    if base_hash is not None:
        # Take the write lock before reading the row (a no-op UPDATE: the row's lock on
        # PostgreSQL, the database's write lock on SQLite), so no other save can commit between
        # the version check and this write; then read the row as it is now.
        db.session.execute(db.update(model).where(model.id == key)
                           .values(position=model.position)
                           .execution_options(synchronize_session=False))
    obj = db.session.get(model, key, populate_existing=base_hash is not None)
    if obj is None:
        raise EntityError(f"There is no {LABEL[model]} {key!r}.")
    unknown = set(values) - set(FIELDS[model])
    if unknown:
        raise EntityError(f"Cannot edit {', '.join(sorted(unknown))} of a {LABEL[model]}.")
    before = values_of(obj)
    if base_hash is not None and row_hash(before) != base_hash:
        raise StaleEntity(obj)
    changed = {name: value for name, value in values.items() if before[name] != value}
    for name, value in changed.items():
        setattr(obj, name, value)
    if changed:
        obj.file_hash = None
        audit.record(actor, ENTITY[model], key, "edit", f"Edited {', '.join(sorted(changed))}",
                     {"before": {k: before[k] for k in changed}, "after": changed})
    db.session.flush()
    return obj


def update_section(section_id: str, values: dict[str, Any], actor: User | None,
                   base_hash: str | None = None) -> Section:
    """Change a section's title (values: subset of FIELDS[Section]). Flushes only.

    Every update_* takes `base_hash`: the row_hash of the values the caller's form was built
    from; if the row hashes differently now, StaleEntity is raised and nothing is written."""
    return _update(Section, section_id, values, actor, base_hash)


def update_topic(topic_id: str, values: dict[str, Any], actor: User | None,
                 base_hash: str | None = None) -> Topic:
    """Change a topic's title / description. Clears the file marker and audits. Flushes only."""
    return _update(Topic, topic_id, values, actor, base_hash)


def update_key_point(key_point_id: str, values: dict[str, Any], actor: User | None,
                     base_hash: str | None = None) -> KeyPoint:
    """Change a key point's section_id / text / must_know. Clears the file marker, audits."""
    return _update(KeyPoint, key_point_id, values, actor, base_hash)


def update_set(set_id: str, values: dict[str, Any], actor: User | None,
               base_hash: str | None = None) -> QuestionSet:
    """Change a set (title, description, kind, topic_id, draw_count, draw_topics, pass_mark,
    include_must_know, active). Clears the file marker and audits. Flushes only; the caller
    validates the values (the same rules as sets.yaml) and commits."""
    return _update(QuestionSet, set_id, values, actor, base_hash)


# --- new rows from the studio ----------------------------------------------------------------

ID_MAX = 64  # the id columns' size; the bank files' id pattern allows the same
_SLUG_MAX = 48  # the slug part of a new id: room for a prefix and a "-N" suffix
SLUG_MAX = {Topic: _SLUG_MAX, KeyPoint: 32, QuestionSet: _SLUG_MAX}  # key points: long texts
ID_PREFIX = {Topic: "", KeyPoint: "kp-", QuestionSet: ""}
FALLBACK_SLUG = {Topic: "topic", KeyPoint: "point", QuestionSet: "set"}


def slug(text: str, max_length: int = _SLUG_MAX) -> str:
    """Lower-case ASCII letters and digits joined by single dashes, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > max_length:
            if not out:
                out = word[:max_length]
            break
        out = candidate
    return out


def new_id(model, text: str) -> str:
    """An unused id for a new row of `model`, from a slug of `text` (a title, or a key point's
    text): "prefix-slug", then "prefix-slug-2", ... It matches the bank files' id pattern."""
    base = ID_PREFIX[model] + (slug(text, SLUG_MAX[model]) or FALLBACK_SLUG[model])
    taken = set(db.session.scalars(
        db.select(model.id).where(db.or_(model.id == base, model.id.like(f"{base}-%")))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _create(model, values: dict[str, Any], actor: User | None, id_text: str):
    unknown = set(values) ^ set(FIELDS[model])
    if unknown:
        raise EntityError(f"A new {LABEL[model]} needs exactly: {', '.join(FIELDS[model])}.")
    key = new_id(model, id_text)
    last = db.session.scalar(db.select(db.func.max(model.position)))
    # No file marker: a row made in the browser is browser work (import reports it as missing
    # from the files, never removes it).
    obj = model(id=key, position=(last or 0) + 1, file_hash=None, **values)
    db.session.add(obj)
    audit.record(actor, ENTITY[model], key, "create", f"Created {LABEL[model]} {key}",
                 {"after": values})
    db.session.flush()
    return obj


def create_topic(values: dict[str, Any], actor: User | None) -> Topic:
    """A new topic (values: every FIELDS[Topic]), its id from its title. Audits, flushes only;
    a concurrent create of the same id fails at the flush or commit (IntegrityError)."""
    return _create(Topic, values, actor, values["title"])


def create_key_point(values: dict[str, Any], actor: User | None) -> KeyPoint:
    """A new key point, its id "kp-" and a slug of its text. Audits, flushes only."""
    return _create(KeyPoint, values, actor, values["text"])


def create_set(values: dict[str, Any], actor: User | None) -> QuestionSet:
    """A new set, its id from its title. The caller validates the values. Audits, flushes."""
    return _create(QuestionSet, values, actor, values["title"])
