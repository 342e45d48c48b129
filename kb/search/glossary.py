"""The programme's terms across languages (kb/search/glossary.json: about a hundred concepts —
district heating, energy community, one-stop shop, low-emission zone… — each with the words
for it in fifteen languages). A query naming a concept in one language has its keyword ranking
look for the concept in every language: "fjärrvärme utan fossila bränslen" also looks for
"district heating", "Fernwärme", "chauffage urbain"; "energy community" also for "comunidad
energética". A form matches a query's words by their beginnings (four letters at least; a long
word's last two letters aside), so "fjärrvärmen" and "fjärrvärmenät" find "fjärrvärme"."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_PREFIX = 4  # a form's word shorter than this must match a query's word whole


def fold(text: str) -> str:
    """Lower case without accents: how forms and queries are compared."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Concept:
    name: str
    forms: tuple[str, ...]  # in every language, as written


@dataclass(frozen=True)
class Expansion:
    terms: tuple[str, ...]  # the forms of the concepts named, to look for as phrases
    covered: float  # the share of the query's words that name a concept


class Glossary:
    def __init__(self, concepts: list[Concept]):
        self.concepts = concepts
        self._forms: dict[str, list[tuple[tuple[str, ...], int]]] = {}  # first word -> (words, concept)
        for i, concept in enumerate(concepts):
            for form in concept.forms:
                words = tuple(_WORD.findall(fold(form)))
                if words:
                    self._forms.setdefault(words[0][:MIN_PREFIX], []).append((words, i))
        # (a query's word is looked up by its first MIN_PREFIX letters: a form's first word,
        # as a beginning, keeps at least those)

    def expand(self, text: str, ignore: frozenset[str] = frozenset()) -> Expansion:
        """The concepts `text` names, as the forms to look for, and the share of its words
        (those in `ignore`, its stop words, aside) they cover."""
        words = [w for w in _WORD.findall(fold(text)) if w not in ignore]
        named, covered = [], set()
        for start, word in enumerate(words):
            for form, concept in self._forms.get(word[:MIN_PREFIX], ()):
                if _matches(form, words[start:start + len(form)]):
                    named.append(concept)
                    covered.update(range(start, start + len(form)))
        terms = [form for i in dict.fromkeys(named) for form in self.concepts[i].forms]
        return Expansion(tuple(dict.fromkeys(terms)), len(covered) / len(words) if words else 0.0)


def _matches(form: tuple[str, ...], words: list[str]) -> bool:
    if len(words) < len(form):
        return False
    return all(w.startswith(_stem(f)) if len(f) >= MIN_PREFIX else w == f for f, w in zip(form, words))


def _stem(word: str) -> str:
    """A form's word as a beginning: a long one loses its last two letters, so that "community"
    finds "communities" and "fjärrvärme" "fjärrvärmen"."""
    return word if len(word) < 6 else word[:-2]


@cache
def glossary() -> Glossary:
    entries = json.loads(files("kb.search").joinpath("glossary.json").read_text(encoding="utf-8"))
    return Glossary([Concept(e["concept"], tuple(dict.fromkeys(f for forms in e["terms"].values() for f in forms)))
                     for e in entries])
