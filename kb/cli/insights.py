"""`kb insights`: what the programme learns from itself, as the matching team's pages show it
(knowledge gaps, replication, reach), and `kb insights forget` for the search log."""

from __future__ import annotations

import csv
import sys

import click

from kb.cli.options import data_option, open_kb, print_json
from kb.errors import Invalid
from kb.insights import GROUPINGS, Period, csv_table, days_ago
from kb.settings import Settings


def _format(command):
    command = click.option("--csv", "as_csv", is_flag=True, help="CSV on standard output.")(command)
    command = click.option("--json", "as_json", is_flag=True, help="JSON on standard output.")(command)
    return command


def _period(since: str | None, until: str | None) -> Period:
    try:
        return Period.of(since, until)
    except Invalid as exc:
        raise click.BadParameter(str(exc)) from exc


def _show(figures, as_json: bool, as_csv: bool, lines) -> None:
    if as_json:
        print_json(figures.to_json())
    elif as_csv:
        csv.writer(sys.stdout).writerows(csv_table(figures))
    else:
        for line in lines(figures):
            click.echo(line)


@click.group()
def insights() -> None:
    """Knowledge gaps, replication and reach, from the search log, the shortlists and the plans."""


@insights.command("gaps")
@click.option("--since", help="The first day, YYYY-MM-DD (default: 90 days before --until).")
@click.option("--until", help="The last day, YYYY-MM-DD (default: today).")
@_format
@data_option
def insights_gaps(since: str | None, until: str | None, as_json: bool, as_csv: bool, settings: Settings) -> None:
    """Searches nothing answered well, grouped by meaning, most asked first."""
    period = _period(since, until)
    with open_kb(settings) as kb:
        gaps = kb.insights.gaps(None, period, operator=True)
    _show(gaps, as_json, as_csv, lambda g: [f"{gap.searches:6d}  {gap.label}  ({', '.join(k for k, _ in gap.languages)}"
                                            f"{'; ask ' + ', '.join(gap.pilots[:3]) if gap.pilots else ''})"
                                            for gap in g.gaps] or ["No gap in this period."])


@insights.command("replication")
@click.option("--by", type=click.Choice(GROUPINGS), default="practice", show_default=True)
@click.option("--since", help="Count what was kept or made final from this day (YYYY-MM-DD).")
@_format
@data_option
def insights_replication(by: str, since: str | None, as_json: bool, as_csv: bool, settings: Settings) -> None:
    """Kept, adopting, dropped and in a final plan, per practice, pilot, domain or module."""
    with open_kb(settings) as kb:
        try:
            figures = kb.insights.replication(None, by, since, operator=True)
        except Invalid as exc:
            raise click.BadParameter(str(exc)) from exc
    _show(figures, as_json, as_csv, lambda f: [
        f"{r.kept:4d} kept {r.adopting:4d} adopting {r.final:4d} final  {r.label}" for r in f.rows]
        or ["No twin keeps a practice yet."])


@insights.command("reach")
@click.option("--since", help="The first day, YYYY-MM-DD (default: 90 days before --until).")
@click.option("--until", help="The last day, YYYY-MM-DD (default: today).")
@_format
@data_option
def insights_reach(since: str | None, until: str | None, as_json: bool, as_csv: bool, settings: Settings) -> None:
    """Searches per week by language and role; twin cities that logged in but keep nothing."""
    period = _period(since, until)
    with open_kb(settings) as kb:
        reach = kb.insights.reach(None, period, operator=True)
    _show(reach, as_json, as_csv, lambda r: [f"{w.week}  {w.searches:6d} searches, {w.weak} weak, {w.kept} followed "
                                             f"by a kept practice" for w in r.weeks]
          + [f"logged in, keeps nothing: {t.city}" for t in r.idle_twins])


@insights.command("forget")
@click.option("--before", help="Delete the searches made before this day (YYYY-MM-DD).")
@click.option("--all", "everything", is_flag=True, help="Delete every logged search.")
@data_option
def insights_forget(before: str | None, everything: bool, settings: Settings) -> None:
    """Delete logged searches: those before a day, all of them, or (neither given) those older
    than KB_SEARCH_LOG_DAYS, as the log does by itself."""
    if before and everything:
        raise click.UsageError("give --before or --all, not both")
    if before:
        cutoff = _period(before, before).since.isoformat()
    with open_kb(settings) as kb:
        if everything:
            gone = kb.search_log.forget(None)
        else:
            gone = kb.search_log.forget(cutoff if before else days_ago(settings.search_log_days))
    click.echo(f"{gone} search(es) deleted from the log")
