"""What the statistics functions return: plain frozen dataclasses, no database objects.

The pages (quiz/studio), the downloads (CSV, JSON) and `flask --app wsgi stats items` read
only these, so each can be built and tested apart from the SQL that fills them. A figure is
None where it is undefined (no responses, zero variance, fewer than two attempts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class AttemptChoice(StrEnum):
    """Which of a learner's submitted attempts at a set count (Moodle: "attempts to include")."""

    FIRST = "first"  # each learner's first submitted attempt at the set (the default)
    ALL = "all"
    LAST = "last"


@dataclass(frozen=True)
class Selection:
    """The attempts a figure is computed from: which attempts, submitted in [since, until]."""

    attempts: AttemptChoice = AttemptChoice.FIRST
    since: date | None = None
    until: date | None = None  # inclusive: attempts submitted on this day count


class FlagLevel(StrEnum):
    WARNING = "warning"  # e.g. weak discrimination, too easy, too hard
    PROBLEM = "problem"  # e.g. negative discrimination


@dataclass(frozen=True)
class Flag:
    code: str    # stable identifier, e.g. "too-easy", "weak-discrimination"
    level: FlagLevel
    message: str  # one sentence an instructor understands, with the threshold


@dataclass(frozen=True)
class OptionStats:
    """One answer option of a revision: a choice; for matching a (pair, option) cell; for
    ordering a (step, position) cell. `share` of the item's responses chose it; `mean_rest`
    is their mean score on the rest of the attempt (0..1 of the rest's maximum)."""

    key: str        # choice id, "pair_id>option_id" or "step_id@position" (1-based)
    label: str      # the text shown to an instructor
    correct: bool   # is this the key (right choice, right pairing, right position)?
    count: int
    share: float | None
    mean_rest: float | None
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class ItemStats:
    """One question revision in the selected attempts (scores are 0..1 of the item's max)."""

    question_id: str
    revision_id: int
    revision_number: int
    qtype: str
    prompt: str           # the revision's prompt (Markdown source) for lists
    n: int                # responses (attempts in which it was served)
    facility: float | None        # mean score / max
    sd: float | None              # sample standard deviation of the item score
    discrimination: float | None  # corr(item score, attempt total without this item)
    efficiency: float | None      # discriminative efficiency (docs/statistics.md)
    flags: tuple[Flag, ...] = ()
    options: tuple[OptionStats, ...] = ()  # filled by the per-question functions only


@dataclass(frozen=True)
class Bin:
    low: float   # percent, inclusive
    high: float  # percent, exclusive except the last bin (100 included)
    count: int


@dataclass(frozen=True)
class SetStats:
    set_id: str
    title: str
    selection: Selection
    attempts: int
    mean: float | None       # percent
    median: float | None     # percent
    sd: float | None         # percent
    skewness: float | None
    kurtosis: float | None   # excess kurtosis, as Moodle
    alpha: float | None      # Cronbach's alpha (coefficient of internal consistency)
    sem: float | None        # standard error of measurement, percent
    histogram: tuple[Bin, ...] = ()
    items: tuple[ItemStats, ...] = ()
    flags: tuple[Flag, ...] = ()  # e.g. "low-alpha" (quiz/stats/flags.py)


@dataclass(frozen=True)
class RollupStats:
    """A key point or an article section: figures rolled up from its questions' revisions."""

    kind: str                # "key_point" or "section"
    id: str
    title: str
    questions: int
    responses: int
    facility: float | None       # mean of the item scores over all responses
    discrimination: float | None  # mean of its items' discrimination, weighted by n
    learners: int                # learners with at least one response in the selection
    mastered: int                # of those, learners whose mean score here is >= MASTERY
    must_know: bool = False
    items: tuple[ItemStats, ...] = field(default_factory=tuple)
