"""Counts of a set of documents by kind, domain, lever and language."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kb.documents import Practice


def corpus_counts(practices: Sequence[Practice], cities: Iterable | None = None) -> dict:
    def count(values: Iterable[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    return {
        "documents": len(practices),
        "cities": len(list(cities or [])),
        "by_kind": count(p.kind for p in practices),
        "by_domain": count(d for p in practices for d in p.domains),
        "by_lever": count(lv for p in practices for lv in p.levers),
        "by_language": count(p.language or "not given (detected on indexing)" for p in practices),
        "sample": sum(p.sample for p in practices),
    }
