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
from kb.messages import Message
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
        super().__init__(Message("%(name)s in %(country)s is %(n)s places; choose one by its geonameid: %(choices)s",
                                 name=repr(name), country=country, n=len(places), choices=choices),
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
            raise Unauthenticated(Message("log in as the matching team or an admin to add cities"))
        if not operator and user.role not in MATCHING_ROLES:
            raise Forbidden(Message("the matching team and admins add cities"))
        name, country = (v.strip() if isinstance(v, str) else "" for v in (name, country))
        errors = []
        if not name or len(name) > MAX_NAME:
            errors.append(Message("the city's name, at most %(max)s characters", field="name", max=MAX_NAME))
        if role not in CITY_ROLES:
            errors.append(Message("one of %(roles)s", field="role", roles=", ".join(CITY_ROLES)))
        if cohort is not None and not (isinstance(cohort, int) and 1 <= cohort <= 20):
            errors.append(Message("a whole number from 1 to 20", field="cohort"))
        places = self._gazetteer()
        if places.country_code(country) is None:
            errors.append(Message("%(country)s is not a country GeoNames knows; write it in English, such as Sweden",
                                  field="country", country=repr(country)))
        if errors:
            raise Invalid("; ".join(errors), errors)
        if self.store.city(name) is not None:
            raise Invalid(Message("there is a city called %(name)s already", field="name", name=name))
        place = self._place(places, name, country, geonameid)
        city = City(name, country, role, cohort, place.population, round(place.lat, 4), round(place.lon, 4),
                    None, (), f"{places.source}, geonameid {place.geonameid}; {ADDED}")
        with self.store.write() as tx:  # a new store version: views cached per version see the city
            if not tx.add_city(city):
                raise Invalid(Message("there is a city called %(name)s already", field="name", name=name))
        return self.store.city(name)

    @staticmethod
    def _place(places: Gazetteer, name: str, country: str, geonameid: int | None) -> Place:
        found = [Place(c["geonameid"], c["name"], c["population"], c["latitude"], c["longitude"]) for c in places.candidates(name, country)]
        if not found:
            raise Invalid(Message("GeoNames has no city called %(name)s in %(country)s (of 1,000 people or more); "
                                  "check the spelling, or use the name GeoNames gives it", field="name",
                                  name=repr(name), country=country))
        if geonameid is not None:
            chosen = [p for p in found if p.geonameid == geonameid]
            if not chosen:
                raise Ambiguous(name, country, found)
            return chosen[0]
        exact = [p for p in found if fold(p.name) == fold(name)]
        if len(found) > 1 and len(exact) != 1:
            raise Ambiguous(name, country, found)
        return exact[0] if exact else found[0]
