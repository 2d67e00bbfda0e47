"""The format-neutral shape every reader produces and every writer consumes.

Texts are Markdown as the bank stores them: readers convert the file's text format (html,
markdown, plain, moodle_auto_format) to Markdown and sanitise it by the bank's rules; writers
render them into the target format. No Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The largest exchange file read (CLI and upload alike): a question file far larger than any
# real bank is refused before it is parsed.
MAX_FILE_BYTES = 5 * 1024 * 1024


class ExchangeError(ValueError):
    """The file cannot be read at all (not XML, too large, broken syntax): a clear message."""


@dataclass
class XChoice:
    """single / multiple / true_false: one answer with Moodle's fraction (1.0 = fully right,
    0 = wrong, negative = penalty) and its own feedback."""

    text: str
    fraction: float
    feedback: str = ""


@dataclass
class XPair:
    """matching: an item (left) and the option (right) it matches."""

    left: str
    right: str
    feedback: str = ""


@dataclass
class ExchangeQuestion:
    name: str                 # Moodle's <name> / GIFT's ::name::; the bank id is derived from it
    qtype: str                # a quiz.vocab.QuestionTypeName, or the file's own type when unsupported
    supported: bool
    prompt: str = ""
    explanation: str = ""     # general feedback
    category: list[str] = field(default_factory=list)  # path below $course$ / $system$
    choices: list[XChoice] = field(default_factory=list)    # single, multiple, true_false
    pairs: list[XPair] = field(default_factory=list)        # matching
    extra_options: list[str] = field(default_factory=list)  # matching: right sides with no item
    steps: list[str] = field(default_factory=list)          # ordering, in the right order
    step_feedback: list[str] = field(default_factory=list)  # ordering, per step (may be empty)
    # Things this app keeps in its own fields; writers carry them where the format can hold
    # them (Moodle tags/idnumber, GIFT comments), readers fill them back when present.
    bank_id: str | None = None
    difficulty: str | None = None
    source_id: str | None = None
    key_point_ids: list[str] = field(default_factory=list)
    # What could not be carried exactly (e.g. "answer weight 33.3% scored as 1/3"), per question.
    warnings: list[str] = field(default_factory=list)
