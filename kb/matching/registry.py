"""Cities added between corpus syncs: a new cohort's twins (or a new pilot) taken in by an admin
or the matching team, from the page or with `kb cities add`, without editing cities.csv. Their
population and position come from GeoNames; a name that several places share is asked about.
An added city is a city like the shipped ones, kept in the store, and a sync of the corpus
keeps it (its `source` says it was added)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kb.accounts import MATCHING_ROLES, User
from kb.documents import CITY_ROLES, fold
from kb.errors import Forbidden, Invalid, Unauthenticated
from kb.matching.gazetteer import Gazetteer
from kb.store import City, Store

ADDED = "added in the knowledge base"  # the end of an added city's `source`
MAX_NAME = 100


@dataclass(frozen=True)
class Place:
    """A GeoNames place a name may stand for."""

    geonameid: int
    name: str
    population: int
    lat: float
    lon: float


class Ambiguous(Invalid):
    """Several places have the name: the caller picks one by its GeoNames id."""

    def __init__(self, name: str, country: str, places: list[Place]):
        choices = "; ".join(f"{p.name} ({p.population:,} people, {p.lat:.2f}° N {p.lon:.2f}° E): geonameid "
                            f"{p.geonameid}" for p in places)
        super().__init__(f"{name!r} in {country} is {len(places)} places; choose one by its geonameid: {choices}",
                         data={"choices": [p.__dict__ for p in places]})
        self.places = places


@cache
def gazetteer() -> Gazetteer:
    return Gazetteer()


def is_added(city: City) -> bool:
    return (city.source or "").endswith(ADDED)


class Registry:
    def __init__(self, store: Store, places: type[Gazetteer] | None = None):
        self.store = store
        self._gazetteer = places or gazetteer

    def add(self, user: User | None, name: str, country: str, role: str, cohort: int | None = None,
            geonameid: int | None = None, *, operator: bool = False) -> City:
        """Take a city in; `operator` is whoever runs the `kb` command."""
        if not operator and user is None:
            raise Unauthenticated("log in as the matching team or an admin to add cities")
        if not operator and user.role not in MATCHING_ROLES:
            raise Forbidden("the matching team and admins add cities")
        name, country = (v.strip() if isinstance(v, str) else "" for v in (name, country))
        errors = []
        if not name or len(name) > MAX_NAME:
            errors.append(f"name: the city's name, at most {MAX_NAME} characters")
        if role not in CITY_ROLES:
            errors.append(f"role: one of {', '.join(CITY_ROLES)}")
        if cohort is not None and not (isinstance(cohort, int) and 1 <= cohort <= 20):
            errors.append("cohort: a whole number from 1 to 20")
        places = self._gazetteer()
        if places.country_code(country) is None:
            errors.append(f"country: {country!r} is not a country GeoNames knows; write it in English, such as Sweden")
        if errors:
            raise Invalid("; ".join(errors), errors)
        if self.store.city(name) is not None:
            raise Invalid(f"name: there is a city called {name} already")
        place = self._place(places, name, country, geonameid)
        city = City(name, country, role, cohort, place.population, round(place.lat, 4), round(place.lon, 4),
                    None, (), f"{places.source}, geonameid {place.geonameid}; {ADDED}")
        with self.store.write() as tx:  # a new store version: views cached per version see the city
            if not tx.add_city(city):
                raise Invalid(f"name: there is a city called {name} already")
        return self.store.city(name)

    @staticmethod
    def _place(places: Gazetteer, name: str, country: str, geonameid: int | None) -> Place:
        found = [Place(c["geonameid"], c["name"], c["population"], c["latitude"], c["longitude"]) for c in places.candidates(name, country)]
        if not found:
            raise Invalid(f"name: GeoNames has no city called {name!r} in {country} (of 1,000 people or more); "
                          "check the spelling, or use the name GeoNames gives it")
        if geonameid is not None:
            chosen = [p for p in found if p.geonameid == geonameid]
            if not chosen:
                raise Ambiguous(name, country, found)
            return chosen[0]
        exact = [p for p in found if fold(p.name) == fold(name)]
        if len(found) > 1 and len(exact) != 1:
            raise Ambiguous(name, country, found)
        return exact[0] if exact else found[0]
