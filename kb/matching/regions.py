"""Neighbouring regions of Europe, for the partner suggestions' profile fit."""

from __future__ import annotations

REGIONS = {
    "Nordic": {"Denmark", "Finland", "Iceland", "Norway", "Sweden"},
    "Baltic": {"Estonia", "Latvia", "Lithuania"},
    "British Isles": {"Ireland", "United Kingdom"},
    "Benelux": {"Belgium", "Luxembourg", "Netherlands"},
    "Central Europe": {"Austria", "Czechia", "Germany", "Hungary", "Poland", "Slovakia", "Slovenia", "Switzerland"},
    "Western Mediterranean": {"France", "Italy", "Malta", "Monaco", "Portugal", "Spain"},
    "South-East Europe": {"Albania", "Bosnia and Herzegovina", "Bulgaria", "Croatia", "Cyprus", "Greece", "Kosovo",
                          "Montenegro", "North Macedonia", "Romania", "Serbia", "Türkiye"},
    "Eastern Europe": {"Moldova", "Ukraine"},
}


def region_of(country: str | None) -> str | None:
    if not country:
        return None
    folded = country.casefold()
    return next((name for name, members in REGIONS.items() if folded in {m.casefold() for m in members}), None)
