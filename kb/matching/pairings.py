"""Twin-pilot pairings: the pairs the matching team has made, kept as data beside the suggestions."""

from __future__ import annotations

from urllib.parse import quote

from kb.accounts import MATCHING_ROLES, User
from kb.errors import Forbidden, Invalid, NotFound, Unauthenticated
from kb.inbox import Audience, tell
from kb.messages import Message
from kb.store import Pairing, Store


class Pairings:
    def __init__(self, store: Store):
        self.store = store

    def all(self) -> list[Pairing]:
        return self.store.pairings()

    def of(self, city: str) -> list[Pairing]:
        """The pairings a city takes part in, as twin or as pilot."""
        folded = city.casefold()
        return [p for p in self.store.pairings() if folded in (p.twin.casefold(), p.pilot.casefold())]

    def add(self, user: User | None, twin: str, pilot: str, *, operator: bool = False) -> Pairing:
        """Record a pairing: by a matching-team account, or by whoever runs the `kb` command
        (`operator`)."""
        twin, pilot = self._check(user, twin, pilot, operator)
        with self.store.write(documents=False) as tx:
            if not tx.add_pairing(twin, pilot, user.id if user else None):
                raise Invalid(Message("%(twin)s is already paired with %(pilot)s", twin=twin, pilot=pilot))
            for city, other in ((twin, pilot), (pilot, twin)):
                tell(tx, self.store, Audience((city,)), "pairing", Message("%(city)s is paired with %(other)s", city=city, other=other),
                     f"/cities/{quote(other)}", user)
        return next(p for p in self.store.pairings() if (p.twin, p.pilot) == (twin, pilot))

    def remove(self, user: User | None, twin: str, pilot: str, *, operator: bool = False) -> None:
        twin, pilot = self._check(user, twin, pilot, operator)
        with self.store.write(documents=False) as tx:
            if not tx.remove_pairing(twin, pilot):
                raise NotFound(Message("%(twin)s is not paired with %(pilot)s", twin=twin, pilot=pilot))

    def _check(self, user: User | None, twin: str, pilot: str, operator: bool) -> tuple[str, str]:
        """The two cities' names as profiled; only the matching team (and admins) pair cities."""
        if not operator and user is None:
            raise Unauthenticated(Message("log in as the matching team to record pairings"))
        if not operator and user.role not in MATCHING_ROLES:
            raise Forbidden(Message("only the matching team records pairings"))
        names = []
        for name, role in ((twin, "twin"), (pilot, "pilot")):
            profile = self.store.city(name.strip()) if isinstance(name, str) and name.strip() else None
            if profile is None or profile.role != role:
                raise Invalid(Message("%(name)s is not a twin city in cities.csv", field=role, name=repr(name))
                              if role == "twin" else
                              Message("%(name)s is not a pilot city in cities.csv", field=role, name=repr(name)))
            names.append(profile.city)
        return names[0], names[1]


