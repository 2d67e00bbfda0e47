"""What the studio's statistics pages need around the engine (quiz/stats): the selection read
from query arguments, the item table's sort, the histogram's geometry and the downloads'
file names. Plain functions of plain values; no database here.

Bad arguments are refused (`BadArgument`, a 400 with its message), not dropped: a figure
computed from another selection than the one asked for would be read as the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..stats.model import AttemptChoice, Bin, ItemStats, Selection

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FORMATS = ("html", "csv", "json")


class BadArgument(ValueError):
    """A query argument that names no selection, sort or format: its message says which."""


def _date(args: Any, name: str, label: str) -> date | None:
    raw = args.get(name, "")
    if not isinstance(raw, str) or not raw.strip():
        return None
    raw = raw.strip()
    if _DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise BadArgument(f"“{raw[:32]}” is not a date: give the “{label}” date as YYYY-MM-DD.")


def read_selection(args: Any) -> Selection:
    """attempts=first|all|last (default first), since and until (YYYY-MM-DD, inclusive)."""
    raw = args.get("attempts", "") or AttemptChoice.FIRST.value
    try:
        attempts = AttemptChoice(raw)
    except ValueError:
        raise BadArgument(f"“{str(raw)[:32]}” is no choice of attempts: use first, all or last.") from None
    since, until = _date(args, "since", "from"), _date(args, "until", "to")
    if since and until and until < since:
        raise BadArgument(f"The “to” date ({until.isoformat()}) is before the “from” date "
                          f"({since.isoformat()}).")
    return Selection(attempts=attempts, since=since, until=until)


def selection_args(selection: Selection) -> dict[str, str]:
    """The selection as query arguments, defaults left out (for links that keep it)."""
    out = {}
    if selection.attempts != AttemptChoice.FIRST:
        out["attempts"] = selection.attempts.value
    if selection.since:
        out["since"] = selection.since.isoformat()
    if selection.until:
        out["until"] = selection.until.isoformat()
    return out


def describe(selection: Selection) -> str:
    """"first attempts, submitted 1 Jan 2026 – 31 Jan 2026" for the page's heading."""
    which = {AttemptChoice.FIRST: "Each learner's first attempt",
             AttemptChoice.ALL: "Every attempt",
             AttemptChoice.LAST: "Each learner's last attempt"}[selection.attempts]
    fmt = "%d %b %Y"
    if selection.since and selection.until:
        return f"{which}, submitted {selection.since.strftime(fmt)} – {selection.until.strftime(fmt)}"
    if selection.since:
        return f"{which}, submitted from {selection.since.strftime(fmt)}"
    if selection.until:
        return f"{which}, submitted until {selection.until.strftime(fmt)}"
    return which


def read_format(args: Any) -> str:
    raw = args.get("format", "") or "html"
    if raw not in FORMATS:
        raise BadArgument(f"“{str(raw)[:16]}” is no download format: use csv or json.")
    return raw


def file_name(*parts: str, selection: Selection) -> str:
    """A download's name without its extension, e.g. stats-set-alpha-first-2026-01-01-to-now
    (anything but ASCII letters, digits, _ and - becomes _)."""
    bits = ["stats", *parts, selection.attempts.value]
    if selection.since or selection.until:
        bits.append(f"{selection.since or 'start'}-to-{selection.until or 'now'}")
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "_", b) for b in bits)


# --- the item table's sort -------------------------------------------------------------------

ITEM_SORTS: dict[str, tuple[str, str]] = {
    # key: (label, the direction it opens in)
    "question": ("Question", "asc"),
    "revision": ("Rev.", "asc"),
    "type": ("Type", "asc"),
    "n": ("n", "desc"),
    "facility": ("Facility", "asc"),
    "sd": ("SD", "desc"),
    "discrimination": ("Discrimination", "asc"),
    "efficiency": ("Efficiency", "asc"),
    "flags": ("Flags", "desc"),
}


def _flag_weight(item: ItemStats) -> tuple[int, int]:
    return (sum(f.level == "problem" for f in item.flags), len(item.flags))


_SORT_KEYS = {
    "question": lambda i: i.question_id,
    "revision": lambda i: i.revision_number,
    "type": lambda i: i.qtype,
    "n": lambda i: i.n,
    "facility": lambda i: i.facility,
    "sd": lambda i: i.sd,
    "discrimination": lambda i: i.discrimination,
    "efficiency": lambda i: i.efficiency,
    "flags": _flag_weight,
}


def read_sort(args: Any, default: str = "question") -> tuple[str, str]:
    sort = args.get("sort", "") or default
    if sort not in ITEM_SORTS:
        raise BadArgument(f"The table cannot be sorted by “{str(sort)[:32]}”: use one of "
                          f"{', '.join(ITEM_SORTS)}.")
    direction = args.get("dir", "") or ITEM_SORTS[sort][1]
    if direction not in ("asc", "desc"):
        raise BadArgument("Sort direction is asc or desc.")
    return sort, direction


def sort_items(items: tuple[ItemStats, ...] | list[ItemStats], sort: str,
               direction: str) -> list[ItemStats]:
    """Items by the column, ties by question id and revision; undefined figures (None) last
    whichever the direction."""
    key = _SORT_KEYS[sort]
    ordered = sorted(items, key=lambda i: (i.question_id, i.revision_number))
    defined = [i for i in ordered if key(i) is not None]
    undefined = [i for i in ordered if key(i) is None]
    defined.sort(key=key, reverse=direction == "desc")
    return defined + undefined


# --- the histogram -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    bars: tuple[Bar, ...]
    top: int          # the largest count (the y axis' top)
    total: int

    @property
    def ticks(self) -> list[tuple[float, str]]:
        """x positions of 0, 25, 50, 75, 100 %."""
        return [(self.width * p / 100, f"{p}%") for p in (0, 25, 50, 75, 100)]


PLOT_W, PLOT_H = 400, 150


def histogram(bins: tuple[Bin, ...] | list[Bin]) -> Histogram:
    """Bars on a 0-100 % axis, PLOT_W x PLOT_H user units; a bin of count 0 has no height."""
    top = max((b.count for b in bins), default=0)
    bars = []
    for b in bins:
        h = PLOT_H * b.count / top if top else 0.0
        x = PLOT_W * b.low / 100
        w = PLOT_W * (b.high - b.low) / 100
        bars.append(Bar(round(x, 2), round(PLOT_H - h, 2), round(max(w - 1, 0.5), 2),
                        round(h, 2), b.low, b.high, b.count))
    return Histogram(PLOT_W, PLOT_H, tuple(bars), top, sum(b.count for b in bins))


def threshold_lines(flags_module: Any, options: bool = False) -> list[str]:
    """The flags and their thresholds in words, from the engine's constants (quiz/stats/flags.py)."""
    m = flags_module
    lines = [
        f"too-hard: facility under {m.TOO_HARD:g} (most learners get it wrong).",
        f"too-easy: facility over {m.TOO_EASY:g} (almost everyone gets it right).",
        f"weak-discrimination: discrimination under {m.WEAK_DISCRIMINATION:g} (it barely "
        "separates stronger from weaker learners).",
        f"negative-discrimination (a problem): discrimination under {m.NEGATIVE_DISCRIMINATION:g}: "
        "learners who do well on the rest of the attempt do worse on this question; check the key.",
    ]
    if options:
        lines += [
            "unused-distractor: a wrong option nobody chose.",
            "distractor-beats-key (a problem): the top third of learners, by score on the rest "
            "of the attempt, chose this wrong option more often than the key.",
        ]
    else:
        lines.append(f"low-alpha (a set): Cronbach's alpha under {m.LOW_ALPHA:g}, once the set "
                     f"has {m.MIN_RESPONSES} attempts.")
    return lines
