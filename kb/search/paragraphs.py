"""Challenges as paragraphs. A twin describes its challenge in several sentences with several
aspects (who is involved, what it lacks, what it wants to learn); searched as one text, the
ranking follows whichever aspect the model weighs most, often a side one. So a long input is
also searched sentence by sentence, and the rankings fused: each sentence weighted by how
central it is to the whole (its vector's cosine to the paragraph's, to a power), the whole
paragraph counting as one more part. Each result says which sentence it answers: the one whose
ranking it stands highest in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kb.documents import words

MIN_WORDS = 25  # a query this long, of at least two sentences, is read as a paragraph
MIN_PART_WORDS = 4  # shorter sentences ("Thank you.") are no need of their own
MAX_PARTS = 8
CENTRALITY_POWER = 8  # how sharply weights favour the sentences closest to the whole (dev: 1, 4, 8)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")

Ranked = list[tuple[str, int, float]]  # (document id, its best passage id or -1, score), best first


def parts_of(text: str) -> list[str]:
    """The sentences of a paragraph-long query that hold a need of their own; [] for a short query."""
    if len(words(text)) < MIN_WORDS:
        return []
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if len(words(s)) >= MIN_PART_WORDS]
    return sentences[:MAX_PARTS] if len(sentences) >= 2 else []


@dataclass(frozen=True)
class Part:
    text: str
    vector: np.ndarray | None
    ranked: Ranked


def fuse_parts(whole: Ranked, whole_vector: np.ndarray | None, parts: list[Part]) -> tuple[Ranked, dict[str, str]]:
    """The paragraph's ranking and its sentences' fused, and for each document the sentence it
    answers best."""
    weights = [1.0] + [_centrality(part.vector, whole_vector) for part in parts]
    rankings = [whole] + [part.ranked for part in parts]
    scores: dict[str, float] = {}
    best: dict[str, tuple[float, float, str]] = {}  # the sentence a document matches most closely
    for i, (weight, ranked) in enumerate(zip(weights, rankings)):
        for doc, share in _shares(ranked).items():
            scores[doc] = scores.get(doc, 0.0) + weight * share
            if i > 0 and (doc not in best or (share, weight) > best[doc][:2]):
                best[doc] = (share, weight, parts[i - 1].text)
    total = sum(weights)
    fused = sorted(((doc, -1, score / total) for doc, score in scores.items()), key=lambda x: (-x[2], x[0]))
    return fused, {doc: text for doc, (_, _, text) in best.items()}


def _centrality(vector: np.ndarray | None, whole: np.ndarray | None) -> float:
    if vector is None or whole is None:
        return 1.0
    return max(0.0, float(vector @ whole)) ** CENTRALITY_POWER


def _shares(ranked: Ranked) -> dict[str, float]:
    """Scores as shares of the ranking's best, so rankings of different scales add up."""
    top = ranked[0][2] if ranked else 0.0
    return {doc: max(0.0, score) / top for doc, _, score in ranked} if top > 0 else {}


def read_parts(texts: list[str], search_one: Callable[[str], tuple[np.ndarray | None, Ranked]]) -> list[Part]:
    return [Part(text, *search_one(text)) for text in texts]
