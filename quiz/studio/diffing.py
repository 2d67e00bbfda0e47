"""Side-by-side differences between two versions of a question (two revisions, or what an
editor typed and the latest saved revision). Plain functions: entries in, rows out.

Each row is one field (prompt, explanation, difficulty, scenario, source, key points, topic)
or one field of one choice, option, pair or step, matched by its id. Text is compared word by
word with difflib; changed words are wrapped in <del>/<ins> with a visually hidden "removed"/
"added" label, and a changed row is marked with the word "changed", so nothing is told by
colour alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from markupsafe import Markup, escape

from ..qtypes import TYPES

ABSENT = "(none)"
_WORDS = re.compile(r"(\s+)")
ROW_LABELS = {"choices": "Choice", "options": "Option", "pairs": "Pair", "steps": "Step"}
ROW_FIELDS = {"text": "text", "correct": "correct", "match": "matches", "feedback": "feedback"}


@dataclass
class DiffRow:
    label: str
    old: Markup
    new: Markup
    changed: bool


def word_diff(old: str, new: str) -> tuple[Markup, Markup]:
    """Both texts as HTML, the words only one side has marked <del> (old) and <ins> (new)."""
    a, b = _WORDS.split(old), _WORDS.split(new)
    left: list[Markup] = []
    right: list[Markup] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        old_part, new_part = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old_part)
            right.append(new_part)
            continue
        if old_part:
            left.append(Markup('<del><span class="visually-hidden">[removed: </span>{}'
                               '<span class="visually-hidden">]</span></del>').format(old_part))
        if new_part:
            right.append(Markup('<ins><span class="visually-hidden">[added: </span>{}'
                                '<span class="visually-hidden">]</span></ins>').format(new_part))
    return Markup("").join(left), Markup("").join(right)


def _row(label: str, old: Any, new: Any) -> DiffRow:
    old_text, new_text = _shown(old), _shown(new)
    if old_text == new_text:
        return DiffRow(label, escape(old_text), escape(new_text), False)
    if old is None or new is None:  # present on one side only: the whole of it is the change
        return DiffRow(label,
                       escape(ABSENT) if old is None else word_diff(old_text, "")[0],
                       escape(ABSENT) if new is None else word_diff("", new_text)[1], True)
    left, right = word_diff(old_text, new_text)
    return DiffRow(label, left, right, True)


def _shown(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(map(str, value)) or "(none)"
    return str(value)


def diff_entries(old: dict[str, Any], new: dict[str, Any], *,
                 section_title: Callable[[str], str] = str,
                 key_point_text: Callable[[str], str] = str,
                 topic_title: Callable[[str], str] = str) -> list[DiffRow]:
    """The rows comparing two entries (quiz.studio.editor's entry dicts) of the same type."""
    rows = [
        _row("Topic", topic_title(old.get("topic") or ""), topic_title(new.get("topic") or "")),
        _row("Difficulty", old.get("difficulty"), new.get("difficulty")),
        _row("Scenario question", bool(old.get("scenario")), bool(new.get("scenario"))),
        _row("Prompt", old.get("prompt", ""), new.get("prompt", "")),
    ]
    qtype = TYPES.get(new.get("type")) or TYPES.get(old.get("type"))
    for name in qtype.data_fields if qtype else ():
        rows += _list_rows(name, old.get(name) or [], new.get(name) or [], old, new)
    rows += [
        _row("Explanation", old.get("explanation", ""), new.get("explanation", "")),
        _row("Source section", section_title(old.get("source") or ""),
             section_title(new.get("source") or "")),
        _row("Key points", [key_point_text(k) for k in old.get("key_points") or []],
             [key_point_text(k) for k in new.get("key_points") or []]),
    ]
    return rows


def _list_rows(name: str, old_rows: list[dict], new_rows: list[dict], old: dict,
               new: dict) -> list[DiffRow]:
    """Rows for one data list, entries matched by id (in the new version's order, then the
    ones only the old version has)."""
    by_id_old = {r.get("id"): (i, r) for i, r in enumerate(old_rows) if isinstance(r, dict)}
    by_id_new = {r.get("id"): (i, r) for i, r in enumerate(new_rows) if isinstance(r, dict)}
    ids = list(by_id_new) + [i for i in by_id_old if i not in by_id_new]
    options_old = {o.get("id"): o.get("text") for o in old.get("options") or []}
    options_new = {o.get("id"): o.get("text") for o in new.get("options") or []}
    noun = ROW_LABELS.get(name, name.rstrip("s").title())
    out: list[DiffRow] = []
    for rid in ids:
        i_old, r_old = by_id_old.get(rid, (None, None))
        i_new, r_new = by_id_new.get(rid, (None, None))
        number = (i_new if i_new is not None else i_old) + 1
        label = f"{noun} {number}"
        if name == "steps":
            out.append(_row(f"{label}: position",
                            None if i_old is None else i_old + 1,
                            None if i_new is None else i_new + 1))
        keys = [k for k in ROW_FIELDS if k in (r_old or {}) or k in (r_new or {})]
        for key in keys:
            a = None if r_old is None else r_old.get(key)
            b = None if r_new is None else r_new.get(key)
            if key == "match":
                a = None if a is None else options_old.get(a, a)
                b = None if b is None else options_new.get(b, b)
            if key == "correct":
                a = None if a is None else ("correct" if a else "not correct")
                b = None if b is None else ("correct" if b else "not correct")
            out.append(_row(f"{label}: {ROW_FIELDS[key]}", a, b))
    return out


def diff_with_choices(old: dict[str, Any], new: dict[str, Any], choices: Any) -> list[DiffRow]:
    """diff_entries naming topics, sections and key points by their titles and texts
    (`choices`: quiz.studio.editor.BankChoices)."""
    titles = {t.id: t.title for t in choices.topics}
    kps = {k.id: k.text for k in choices.key_points}
    return diff_entries(old, new, section_title=choices.section_title,
                        key_point_text=lambda k: kps.get(k, k),
                        topic_title=lambda t: titles.get(t, t))
