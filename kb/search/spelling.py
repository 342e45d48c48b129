"""Spelling suggestions from the knowledge base's own vocabulary ("districct heeting" ->
"district heating"), by symmetric-delete lookup (symspellpy).

Only words that are neither in the knowledge base nor in an English dictionary (the 82,765
words symspellpy ships) are corrected, only to words the knowledge base holds at least twice,
never acronyms ("dLNs"), and only in queries written in a language it has documents in: a word
of another language is not a typo of an English one. Without the dictionary, one judged query
in four in officers' own words had a real word "corrected" ("kids" -> "bids", "meat" -> "heat")."""

from __future__ import annotations

import re
import threading
import time
from functools import lru_cache
from importlib.resources import files

from kb.documents import words
from kb.search.stopwords import STOPWORDS

MIN_LENGTH = 4  # shorter words have too many neighbours to correct
MIN_COUNT = 2  # a suggestion must occur at least this often in the documents
REBUILD_AFTER_S = 60  # the dictionary follows new documents at most this late
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    path = files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    return frozenset(line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())


class Speller:
    def __init__(self, vocabulary: dict[str, int]):
        from symspellpy import SymSpell

        self.vocabulary = vocabulary
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in vocabulary.items():
            if count >= MIN_COUNT and len(word) >= MIN_LENGTH - 1:
                self._symspell.create_dictionary_entry(word, count)

    def correct(self, query: str) -> str | None:
        """The query with its unknown words corrected, or None if nothing needs correcting."""
        from symspellpy import Verbosity

        changed = False

        def fix(match: re.Match) -> str:
            nonlocal changed
            word = match.group(0)
            lower = word.lower()
            if (len(lower) < MIN_LENGTH or lower in STOPWORDS or lower in self.vocabulary or lower in english_words()
                    or any(c.isupper() for c in word[1:])):
                return word
            distance = 1 if len(lower) <= 5 else 2
            found = self._symspell.lookup(lower, Verbosity.TOP, max_edit_distance=distance)
            if not found:
                return word
            changed = True
            suggestion = found[0].term
            return suggestion.capitalize() if word[0].isupper() and word[1:].islower() else suggestion

        corrected = _WORD.sub(fix, query)
        return corrected if changed and corrected != query else None


class Spelling:
    """A speller over the store's vocabulary, rebuilt when the store has changed and the last
    build is older than REBUILD_AFTER_S."""

    def __init__(self, store):
        self.store = store
        self._speller: Speller | None = None
        self._built_at, self._version = 0.0, -1
        self._lock = threading.Lock()

    def speller(self) -> Speller:
        version = self.store.version()
        stale = self._speller is None or (version != self._version and time.monotonic() - self._built_at
                                          > REBUILD_AFTER_S)
        if stale:
            with self._lock:
                if self._speller is None or self._version != version:
                    self._speller = Speller(self.store.vocabulary())
                    self._built_at, self._version = time.monotonic(), version
        return self._speller

    def correct(self, query: str) -> str | None:
        return self.speller().correct(query)


def known_words(text: str, vocabulary: dict[str, int]) -> float:
    """The share of a text's words the vocabulary holds."""
    found = words(text)
    return sum(w in vocabulary for w in found) / len(found) if found else 1.0
