"""The programme's terms across languages (kb/search/glossary.json: about a hundred concepts —
district heating, energy community, one-stop shop, low-emission zone… — each with the words
for it in fifteen languages). A query naming a concept in one language has its keyword ranking
look for the concept in every language: "fjärrvärme utan fossila bränslen" also looks for
"district heating", "Fernwärme", "chauffage urbain"; "energy community" also for "comunidad
energética". A form matches a query's words with their endings (kb/search/glossary.py
`_word_matches`): "fjärrvärmen" and "fjärrvärmenät" find "fjärrvärme"."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files

from kb.documents import analyse, fold

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_PREFIX = 4  # a form's word shorter than this must match a query's word whole


@dataclass(frozen=True)
class Concept:
    name: str
    forms: dict[str, tuple[str, ...]]  # language -> the forms in it, as written

    @cached_property
    def every_form(self) -> tuple[str, ...]:
        """Its forms in every language, each analysed in its own (as the documents are)."""
        return tuple(dict.fromkeys(analyse(f, language) for language, forms in self.forms.items() for f in forms))


@dataclass(frozen=True)
class Expansion:
    terms: tuple[str, ...]  # the forms of the concepts named, analysed, to look for as phrases
    covered: float  # the share of the query's words that name a concept


class Glossary:
    def __init__(self, concepts: list[Concept]):
        self.concepts = concepts
        # language -> the first letters of a form's first word -> (the form's words, its concept)
        self._forms: dict[str, dict[str, list[tuple[tuple[str, ...], int]]]] = {}
        for i, concept in enumerate(concepts):
            for language, forms in concept.forms.items():
                for form in forms:
                    words = tuple(_WORD.findall(fold(form)))
                    if words:
                        self._forms.setdefault(language, {}).setdefault(words[0][:MIN_PREFIX], []).append((words, i))

    def expand(self, text: str, language: str | None = None, ignore: frozenset[str] = frozenset()) -> Expansion:
        """The concepts `text` names in its `language` or in English (the programme's common
        language; English only when the language is unsure: a form of one language is often a
        word of another, "primărie" of "primary"), as the forms to look for in every language,
        and the share of its words (those in `ignore`, its stop words, aside) they cover."""
        words = [w for w in _WORD.findall(fold(text)) if w not in ignore]
        languages = dict.fromkeys(("en", language or "en"))
        named, covered = [], set()
        for start, word in enumerate(words):
            candidates = [c for lang in languages for c in self._forms.get(lang, {}).get(word[:MIN_PREFIX], ())]
            for form, concept in candidates:
                if _matches(form, words[start:start + len(form)]):
                    named.append(concept)
                    covered.update(range(start, start + len(form)))
        terms = [form for i in dict.fromkeys(named) for form in self.concepts[i].every_form]
        return Expansion(tuple(dict.fromkeys(terms)), len(covered) / len(words) if words else 0.0)


def _matches(form: tuple[str, ...], words: list[str]) -> bool:
    return len(words) >= len(form) and all(_word_matches(f, w) for f, w in zip(form, words))


def _word_matches(form: str, word: str) -> bool:
    """A query's word is a form's word with an ending: a few letters more ("fjärrvärmen"), or
    for a long word its last two letters changed ("communities" for "community")."""
    if word == form:
        return True
    if len(form) < MIN_PREFIX or len(word) - len(form) > 4:
        return False
    return word.startswith(form) or (len(form) >= 8 and word.startswith(form[:-2]))


@cache
def glossary() -> Glossary:
    entries = json.loads(files("kb.search").joinpath("glossary.json").read_text(encoding="utf-8"))
    return Glossary([Concept(e["concept"], {lang: tuple(forms) for lang, forms in e["terms"].items()})
                     for e in entries])
