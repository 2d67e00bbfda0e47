"""Flags: the documented thresholds an item, an option or a set is judged by (docs/statistics.md).

No flag is raised below MIN_RESPONSES responses: with fewer, a facility or a correlation is
too noisy to call a question too easy or badly discriminating. One function per level of
object: item_flags (a question revision), option_flags (a choice or cell), set_flags.
"""

from __future__ import annotations

from .model import Flag, FlagLevel

MIN_RESPONSES = 30        # no flag at all below this many responses (n)
TOO_HARD = 0.2            # facility below this: "too-hard" (warning)
TOO_EASY = 0.95           # facility above this: "too-easy" (warning)
WEAK_DISCRIMINATION = 0.15  # discrimination below this: "weak-discrimination" (warning)
NEGATIVE_DISCRIMINATION = 0.0  # below this: "negative-discrimination" (problem), instead of weak
LOW_ALPHA = 0.7           # a set's Cronbach's alpha below this: "low-alpha" (warning)


def item_flags(n: int, facility: float | None, discrimination: float | None) -> tuple[Flag, ...]:
    """The flags of one question revision from its responses, facility and discrimination."""
    if n < MIN_RESPONSES:
        return ()
    flags: list[Flag] = []
    if facility is not None and facility < TOO_HARD:
        flags.append(Flag("too-hard", FlagLevel.WARNING,
                          f"Facility {facility:.2f} is below {TOO_HARD}: most learners get it wrong."))
    if facility is not None and facility > TOO_EASY:
        flags.append(Flag("too-easy", FlagLevel.WARNING,
                          f"Facility {facility:.2f} is above {TOO_EASY}: almost everyone gets it right."))
    if discrimination is not None and discrimination < NEGATIVE_DISCRIMINATION:
        flags.append(Flag("negative-discrimination", FlagLevel.PROBLEM,
                          f"Discrimination {discrimination:.2f} is below 0: learners who do well on "
                          "the rest of the attempt do worse on this question. Check the key."))
    elif discrimination is not None and discrimination < WEAK_DISCRIMINATION:
        flags.append(Flag("weak-discrimination", FlagLevel.WARNING,
                          f"Discrimination {discrimination:.2f} is below {WEAK_DISCRIMINATION}: it "
                          "barely separates stronger from weaker learners."))
    return tuple(flags)


def option_flags(n: int, *, correct: bool, flag_unused: bool, count: int, top_count: int,
                 top_key_count: int | None) -> tuple[Flag, ...]:
    """The flags of one option (choice or cell) of an item with n responses.

    `top_count`: responses of the top third of learners (by rest-of-attempt score) that
    chose it; `top_key_count`: of the same learners, those choosing the key of its group
    (the least chosen key where a group has several, as select-all-that-apply has)."""
    if n < MIN_RESPONSES or correct:
        return ()
    flags: list[Flag] = []
    if flag_unused and count == 0:
        flags.append(Flag("unused-distractor", FlagLevel.WARNING,
                          f"Nobody of {n} chose this distractor: it does not distract."))
    if top_key_count is not None and top_count > top_key_count:
        flags.append(Flag("distractor-beats-key", FlagLevel.PROBLEM,
                          f"The top third of learners chose this distractor ({top_count}) more "
                          f"often than the key ({top_key_count}). Check the key and the wording."))
    return tuple(flags)


def set_flags(attempts: int, alpha: float | None) -> tuple[Flag, ...]:
    """The flags of a set: internal consistency, once there are MIN_RESPONSES attempts."""
    if attempts < MIN_RESPONSES or alpha is None or alpha >= LOW_ALPHA:
        return ()
    return (Flag("low-alpha", FlagLevel.WARNING,
                 f"Cronbach's alpha {alpha:.2f} is below {LOW_ALPHA}: the scores are not "
                 "consistent enough to rank learners reliably."),)
