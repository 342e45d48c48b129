"""Reach: how much the knowledge base is searched, week by week, in which languages and by which
roles; how often nothing answered well; how often a search led to a practice kept (counted per
browser session, without storing who); and which twin cities' accounts have logged in but keep
nothing yet (from the accounts and shortlists, not the log), for the matching team to contact."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kb.core import Core


@dataclass(frozen=True)
class Week:
    week: str  # ISO week, 2026-W49
    searches: int
    weak: int
    visits: int  # searches made in a logged-in browser session
    kept: int  # of them, followed by a practice kept
    languages: dict[str, int] = field(default_factory=dict)
    roles: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IdleTwin:
    city: str
    accounts: int
    last_login: str


@dataclass(frozen=True)
class Reach:
    since: str
    until: str
    weeks: list[Week]
    languages: list[tuple[str, int]]
    roles: list[tuple[str, int]]
    idle_twins: list[IdleTwin]

    @property
    def searches(self) -> int:
        return sum(w.searches for w in self.weeks)

    @property
    def weak_share(self) -> float | None:
        return sum(w.weak for w in self.weeks) / self.searches if self.searches else None

    @property
    def kept_share(self) -> float | None:
        visits = sum(w.visits for w in self.weeks)
        return sum(w.kept for w in self.weeks) / visits if visits else None

    def to_json(self) -> dict:
        return {"since": self.since, "until": self.until, "searches": self.searches, "weak_share": self.weak_share,
                "kept_share": self.kept_share, "languages": dict(self.languages), "roles": dict(self.roles),
                "weeks": [vars(w) for w in self.weeks], "idle_twins": [vars(t) for t in self.idle_twins]}


def reach(kb: Core, since: str, until: str) -> Reach:
    weeks: dict[str, Counter] = defaultdict(Counter)
    languages: dict[str, Counter] = defaultdict(Counter)
    roles: dict[str, Counter] = defaultdict(Counter)
    for day in kb.store.search_days(since, until):
        year, number, _ = date.fromisoformat(day.day).isocalendar()
        week = f"{year}-W{number:02d}"
        weeks[week].update(searches=day.count, weak=day.weak, visits=day.visits, kept=day.kept)
        languages[week][day.language or "?"] += day.count
        roles[week][day.role] += day.count
    rows = [Week(week, c["searches"], c["weak"], c["visits"], c["kept"], dict(languages[week].most_common()),
                 dict(roles[week].most_common())) for week, c in sorted(weeks.items())]
    all_languages = sum(languages.values(), Counter()).most_common()
    all_roles = sum(roles.values(), Counter()).most_common()
    return Reach(since, until, rows, all_languages, all_roles, idle_twins(kb))


def idle_twins(kb: Core) -> list[IdleTwin]:
    """Twin cities whose accounts have logged in but that keep no practice, longest idle first."""
    logins = kb.store.logins()
    keeping = {item.twin.casefold() for item in kb.store.shortlists()}
    cities: dict[str, list[str]] = defaultdict(list)
    for user in kb.store.users():
        if user.role == "twin" and user.city and user.id in logins and user.city.casefold() not in keeping:
            cities[user.city].append(logins[user.id])
    return sorted((IdleTwin(city, len(at), max(at)) for city, at in cities.items()), key=lambda t: (t.last_login, t.city))
