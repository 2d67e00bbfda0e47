"""Kept sums for the item analysis: per revision, what the default selection's figures need."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class RevisionItemSums(db.Model):
    """Per question revision: the sums quiz.stats.analysis._item_rows computes, over the
    default selection (each learner's first submitted attempt at each set, no date range).

    x is the item score (an unscored item 0); rest is the attempt total without the item
    over the rest's maximum (the attempt's item count - 1), undefined for a one-item
    attempt. n, sx, sxx: count, Σx, Σx² of every response; nr, rx, rxx, rxmax: count, Σx,
    Σx², max x of the responses with a rest; sr, srr, sxr: Σrest, Σrest², Σx·rest (0 when
    nr = 0; rxmax then NULL). Submitting a learner's first attempt at a set adds its items
    (quiz.stats.summary.add_attempt_items, in the submit's transaction);
    quiz.stats.summary.rebuild_item_sums() recomputes the whole table from attempt_question.
    The question list's flags read it instead of aggregating every response.
    """

    __tablename__ = "revision_item_sums"

    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revision.id"), primary_key=True,
                                             autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)
    sx: Mapped[float] = mapped_column(Float)
    sxx: Mapped[float] = mapped_column(Float)
    nr: Mapped[int] = mapped_column(Integer)
    rx: Mapped[float] = mapped_column(Float)
    rxx: Mapped[float] = mapped_column(Float)
    rxmax: Mapped[float | None] = mapped_column(Float)
    sr: Mapped[float] = mapped_column(Float)
    srr: Mapped[float] = mapped_column(Float)
    sxr: Mapped[float] = mapped_column(Float)
