"""Downloads of the statistics: rows with stable column names, CSV and JSON.

The studio's download links and `flask --app wsgi stats items` both use these, so a file
and the command print the same numbers. Figures are written at full precision; undefined
ones (None) are empty CSV cells and JSON null.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from .model import ItemStats

# The columns of item_rows, in order. Adding one at the end is compatible; renaming is not.
ITEM_COLUMNS = ("question_id", "revision_id", "revision_number", "qtype", "n", "facility", "sd",
                "discrimination", "efficiency", "flags", "prompt")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula


def item_rows(items: list[ItemStats] | tuple[ItemStats, ...], **leading: Any) -> list[dict[str, Any]]:
    """One dict per item, keys ITEM_COLUMNS (after any `leading` columns, e.g. set_id=...);
    flags as their codes separated by spaces."""
    return [
        {**leading,
         "question_id": i.question_id, "revision_id": i.revision_id,
         "revision_number": i.revision_number, "qtype": i.qtype, "n": i.n,
         "facility": i.facility, "sd": i.sd, "discrimination": i.discrimination,
         "efficiency": i.efficiency, "flags": " ".join(f.code for f in i.flags),
         "prompt": i.prompt}
        for i in items
    ]


def _cell(value: Any) -> Any:
    """A CSV cell: None empty; text that a spreadsheet would read as a formula gets a
    leading apostrophe (numbers are written by us and stay numbers, negative ones too)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None) -> str:
    """CSV text with a header row: `columns`, else the first row's keys (ITEM_COLUMNS for
    no rows)."""
    columns = columns or (tuple(rows[0]) if rows else ITEM_COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_cell(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    """JSON text of dataclasses (nested), lists and dicts: enums as their strings, dates ISO,
    None as null."""
    return json.dumps(_plain(obj), indent=2, ensure_ascii=False, allow_nan=False)
