"""`flask --app wsgi stats items | rebuild`: item analysis on the command line (see quiz/cli.py)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import QuestionSet
from . import analysis, summary
from .downloads import ITEM_COLUMNS, item_rows, to_csv, to_json
from .model import AttemptChoice, Selection

stats_cli = AppGroup("stats", help="Item analysis: facility, discrimination, alpha (docs/statistics.md).")

_DAY = click.DateTime(formats=["%Y-%m-%d"])


@stats_cli.command("items")
@click.option("--set", "set_id", default=None, metavar="ID",
              help="One set (default: every active set in turn, in catalogue order).")
@click.option("--attempts", type=click.Choice([c.value for c in AttemptChoice]),
              default=AttemptChoice.FIRST.value, show_default=True,
              help="Each learner's first attempt at a set, every attempt, or the last one.")
@click.option("--since", type=_DAY, default=None, help="Attempts submitted on or after this day (UTC).")
@click.option("--until", type=_DAY, default=None, help="Attempts submitted on or before this day (UTC).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True,
              help="csv: one row per set and question revision; json: each set's full statistics.")
def stats_items(set_id: str | None, attempts: str, since, until, fmt: str) -> None:
    """Print each question revision's figures in a set's selected attempts.

    Without --set, every active set in turn: a CSV row per (set, revision) with the set's id
    in the first column, or a JSON list of the sets' statistics (with their items)."""
    selection = Selection(AttemptChoice(attempts), since.date() if since else None,
                          until.date() if until else None)
    if selection.since and selection.until and selection.since > selection.until:
        raise click.BadParameter("must not be after --until.", param_hint="--since")
    if set_id is None:
        set_ids = list(db.session.scalars(
            db.select(QuestionSet.id).where(QuestionSet.active)
            .order_by(QuestionSet.position, QuestionSet.id)))
    else:
        set_ids = [set_id]
    try:
        results = [analysis.set_statistics(s, selection) for s in set_ids]
    except LookupError as error:
        raise click.BadParameter(str(error), param_hint="--set") from None
    if fmt == "json":
        click.echo(to_json(results[0] if set_id is not None else results))
        return
    rows = [row for s in results for row in item_rows(s.items, set_id=s.set_id)]
    click.echo(to_csv(rows, ("set_id", *ITEM_COLUMNS)), nl=False)


@stats_cli.command("rebuild")
def stats_rebuild() -> None:
    """Recompute the kept item sums (revision_item_sums) from the attempts, e.g. after
    changing attempts by hand; the question list's flags read them."""
    rows = summary.rebuild_item_sums()
    db.session.commit()
    click.echo(f"Rebuilt the item sums: {rows} revision row(s).")
