"""The edit part's shared mechanics: a type's editable lists (choices, options, pairs, steps)
as form rows, and reading them back from a posted form.

A list `kind` is posted as `<kind>-count` and, for each row i from 0, `<kind>-<i>-id` (hidden:
the entry's bank id, or a fresh one for a new row), `<kind>-<i>-new` ("1" for a row not yet
saved), `<kind>-<i>-position` (the number that orders the rows), `<kind>-<i>-remove` and one
field per edited key (`text`, `feedback`, `correct`, `match`). Rows are ordered by position,
then by their place in the form; removed rows and new rows left empty are dropped. Anything a
browser could not have sent (no count, an id that is not the question's, a position that is
not a number) is a Problem, never an exception.
"""

from __future__ import annotations

from typing import Any

from .base import ENTRY_ID_RE, MAX_ROWS, POSITION_RE, Problem

TEXT_KEYS = ("text", "feedback")


def clean_text(value: Any) -> str:
    """Posted text as the bank keeps it: browser line endings made plain, ends trimmed."""
    if not isinstance(value, str):
        return ""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def row_from_entry(entry: dict[str, Any], keys: tuple[str, ...], index: int) -> dict[str, Any]:
    row: dict[str, Any] = {"id": entry["id"], "new": False, "position": str(index + 1)}
    for key in keys:
        value = entry.get(key)
        row[key] = bool(value) if key == "correct" else ("" if value is None else str(value))
    return row


def blank_row(entry_id: str, keys: tuple[str, ...], index: int) -> dict[str, Any]:
    row: dict[str, Any] = {"id": entry_id, "new": True, "position": str(index + 1)}
    for key in keys:
        row[key] = False if key == "correct" else ""
    return row


def read_rows(formdata: Any, kind: str, keys: tuple[str, ...], known: set[str] | None,
              problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    """The kept rows of list `kind` in their new order, as (row number in the form, entry)
    pairs; what cannot be read is appended to `problems` as (kind, message)."""
    raw_count = formdata.get(f"{kind}-count")
    if not isinstance(raw_count, str) or not (raw_count == "0" or POSITION_RE.fullmatch(raw_count)) \
            or int(raw_count) > MAX_ROWS:
        problems.append((kind, "the form's rows could not be read: reload the editor"))
        return []
    kept: list[tuple[int, int, dict[str, Any]]] = []
    seen: set[str] = set()
    for i in range(int(raw_count)):
        prefix = f"{kind}-{i}-"
        entry_id = formdata.get(prefix + "id")
        if not isinstance(entry_id, str) or not ENTRY_ID_RE.fullmatch(entry_id):
            problems.append((kind, f"row {i + 1} has no valid id: reload the editor"))
            continue
        if known is not None and entry_id not in known:
            problems.append((kind, f"row {i + 1} names an entry this question does not have"))
            continue
        if entry_id in seen:
            problems.append((kind, f"row {i + 1} repeats an entry of another row"))
            continue
        seen.add(entry_id)
        if formdata.get(prefix + "remove"):
            continue
        raw_position = formdata.get(prefix + "position", "")
        raw_position = raw_position.strip() if isinstance(raw_position, str) else ""
        position = i + 1
        if raw_position and POSITION_RE.fullmatch(raw_position):
            position = int(raw_position)
        elif raw_position:
            problems.append((kind, f"the position of row {i + 1} must be a whole number from 1"))
        entry: dict[str, Any] = {"id": entry_id}
        for key in keys:
            if key == "correct":
                entry[key] = bool(formdata.get(prefix + key))
            else:
                entry[key] = clean_text(formdata.get(prefix + key, ""))
        is_new = formdata.get(prefix + "new") == "1"
        if is_new and not any(entry.get(key) for key in TEXT_KEYS if key in keys):
            continue  # a new row left empty
        kept.append((position, i, entry))
    kept.sort(key=lambda row: (row[0], row[1]))
    return [(i, entry) for _, i, entry in kept]
