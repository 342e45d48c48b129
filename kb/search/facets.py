"""Facet counts beside a result list: how the best matches spread over each filter's values (a
document in several languages counts under each, as the language filter finds it by each)."""

from __future__ import annotations

from collections import Counter

from kb.search.pipeline import SearchResult

FACETS = ("domain", "lever", "kind", "module", "twin", "country", "language")


def _values(result: SearchResult, facet: str) -> list[str]:
    value = {"domain": result.domains, "lever": list(result.levers), "kind": [result.kind], "module": [result.module], "twin": list(result.twins),
             "country": [result.country], "language": list(result.languages or (result.language,)),
             "city": [result.city]}[facet]
    return [v for v in value if v]


def _matches(result: SearchResult, facet: str, wanted: str) -> bool:
    return wanted.casefold() in (v.casefold() for v in _values(result, facet))


def facet_counts(results: list[SearchResult], filters: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
    """For each facet, value -> count among `results` that match every *other* active filter,
    so that choosing one value still shows what the alternatives would give."""
    counts = {}
    for facet in FACETS:
        others = {k: v for k, v in filters.items() if k != facet}
        counter = Counter(
            value for r in results if all(_matches(r, k, v) for k, v in others.items()) for value in _values(r, facet)
        )
        counts[facet] = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return counts
