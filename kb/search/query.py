"""A query, read once: cleaned, its language, its misspelt words corrected, its words and "quoted
phrases", how many of its words the documents hold, its words carried into English when it is
in another language, how much BM25 may count, and its vector.
Ranking and presenting take this one value; nothing after it goes back for another fact."""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from kb.documents import analyse, detect_query, stems, words
from kb.errors import Invalid
from kb.messages import Message
from kb.search.glossary import glossary
from kb.search.ranking import keyword_weight
from kb.search.spelling import Spelling
from kb.search.stopwords import STOPWORDS, stopwords
from kb.search.translation import WordTranslator

if TYPE_CHECKING:
    from kb.core import Core

MAX_QUERY = 1000
QUERY_CACHE_SIZE = 1024  # query vectors kept, oldest dropped first
# Spelling is corrected only in queries whose language holds at least this share of the
# documents (relative to the most common language): another language's words are not typos.
SPELLING_SHARE = 0.2
# The model's vocabulary holds the words of its hundred languages in pieces of several letters
# (2.7 to 5.3 letters a piece in corpus/eval's queries that share no word with the documents, in
# Hungarian, Slovak, Greek, Swedish); gibberish falls apart into pieces of one or two (1.1 to 1.75:
# "asdkjh qwpoeiru", "ψψψ ασδφ ζχβ"), whichever language the detector takes it for.
MIN_LETTERS_PER_PIECE = 2.2
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TERM = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]+)"')


class SearchError(Invalid):
    """The caller's query, k, mode or filters are unusable; the message says what to change."""


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # what the dense model reads
    terms: tuple[str, ...]  # every word, for BM25 and highlighting
    phrases: tuple[str, ...]  # "quoted phrases" every result must contain

    def keyword_terms(self, language: str | None = None) -> tuple[str, ...]:
        """The words a BM25 ranking looks for. Stop words (of every query, and of the query's
        `language`) are left out: alone they match passages that are about nothing the query
        asks (a query of stop words only keeps them)."""
        dropped = stopwords(language)
        return tuple(t for t in self.terms if t not in dropped) or self.terms


def parse_query(query: str) -> ParsedQuery:
    phrases = tuple(" ".join(_TERM.findall(p)) for p in _PHRASE.findall(query))
    return ParsedQuery(
        text=query.replace('"', " ").strip(),
        terms=tuple(dict.fromkeys(t.lower() for t in _TERM.findall(query))),
        phrases=tuple(p for p in phrases if p),
    )


def clean_query(query: str) -> str:
    """The query as searched: control characters dropped, whitespace collapsed, length checked."""
    if not isinstance(query, str):
        raise SearchError(Message("the query must be text"))
    query = unicodedata.normalize("NFC", _CONTROL.sub(" ", query))
    query = " ".join(query.split())
    if not query:
        raise SearchError(Message("the query is empty: type a few words describing your challenge"))
    if len(query) > MAX_QUERY:
        raise SearchError(Message("the query is %(n)s characters long; shorten it to at most %(max)s",
                                  n=len(query), max=MAX_QUERY))
    return query


@lru_cache(maxsize=QUERY_CACHE_SIZE)
def query_language(text: str) -> str | None:
    """The language a query is written in, when detection is sure of it."""
    return detect_query(text)


@dataclass(frozen=True)
class Query:
    """Everything the ranking and the presentation need to know of a query."""

    text: str  # as searched (cleaned)
    language: str | None  # when detection is sure
    corrected: str | None  # the text searched instead, when a misspelt word was corrected
    parsed: ParsedQuery  # of the corrected text, if any
    coverage: float  # the share of its words (stop words aside) the documents hold
    keyword_weight: float  # how much BM25 counts when fused with the dense ranking
    vector: np.ndarray | None  # None: read for keyword ranking only, or nothing for the model to read
    expansion: tuple[str, ...] = ()  # the programme's terms it names, in every language (kb/search/glossary.py)
    noise: bool = False  # no word the documents hold, and no language's words at all ("asdkjh qwpoeiru")
    english: tuple[str, ...] = ()  # of a query in another language, its words carried into English (translation.py)

    @property
    def keyword_terms(self) -> tuple[str, ...]:
        """What its keyword ranking looks for, analysed as the documents are (kb/documents/
        analysis.py): its own words in its language and in English (the programme's common
        language, whose names and terms the others often share; a short query is easily taken
        for another language), its words carried into English, and the terms it names in every
        language, each in its own."""
        own = list(self.parsed.keyword_terms(self.language))
        return tuple(dict.fromkeys([s for language in self._languages for s in stems(own, language)]
                                   + stems(list(self.english), "en") + list(self.expansion)))

    @property
    def keyword_phrases(self) -> tuple[tuple[str, ...], ...]:
        """Its "quoted phrases", each as the ways a passage may hold it (analysed in its language
        or in English)."""
        return tuple(tuple(dict.fromkeys(analyse(p, language) for language in self._languages))
                     for p in self.parsed.phrases)

    @property
    def _languages(self) -> tuple[str | None, ...]:
        return tuple(dict.fromkeys((self.language, "en")))


class QueryReader:
    """Reads queries against one knowledge base, keeping what does not change from one query to
    the next: the documents' share per language (per store version), the speller, query vectors."""

    def __init__(self, kb: Core):
        self.kb = kb
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._shares: tuple[int, dict[str, float]] = (-1, {})

    def read(self, query: str, *, correct: bool = True, dense: bool = True) -> Query:
        """The query analysed; `dense=False` leaves the vector out (a keyword-only search)."""
        text = clean_query(query)
        language = query_language(text)
        corrected = self.correct_spelling(text, language) if correct and '"' not in text else None
        parsed = parse_query(corrected or text)
        coverage = self.word_coverage(corrected or text)
        vector = self.vector(parsed.text) if dense and parsed.text else None
        named = glossary().expand(parsed.text, language, stopwords(language))
        noise = coverage == 0 and not named.terms and (language is None or self.unreadable(parsed.text))
        english = () if noise or language in (None, "en") else self.translator.english(
            tuple(w for w in words(parsed.text) if w not in stopwords(language)))
        weight = keyword_weight(self.language_share(language), coverage, named.covered, bool(english))
        return Query(text, language, corrected, parsed, coverage, weight, vector, named.terms, noise, english)

    def language_share(self, language: str | None) -> float:
        """The documents in `language` relative to the most common language (1 when unknown)."""
        if language is None:
            return 1.0
        version = self.kb.store.version()
        if self._shares[0] != version:
            counts = self.kb.store.document_languages()
            top = max(counts.values(), default=1)
            self._shares = (version, {code: n / top for code, n in counts.items()})
        return self._shares[1].get(language, 0.0)

    def word_coverage(self, text: str) -> float:
        """The share of the words of `text` (stop words aside) that occur in the documents."""
        found = [w for w in dict.fromkeys(words(text)) if w not in STOPWORDS] or words(text)
        return len(self.kb.store.known_words(found)) / len(found) if found else 1.0

    def unreadable(self, text: str) -> bool:
        """Letters no language writes: the model reads its words in pieces shorter than
        MIN_LETTERS_PER_PIECE letters, on average."""
        found = words(text)
        pieces = sum(self.kb.embedder.count_tokens(w) for w in found)
        return bool(found) and sum(map(len, found)) < MIN_LETTERS_PER_PIECE * pieces

    @cached_property
    def translator(self) -> WordTranslator:
        return WordTranslator(self.kb)

    def prepare(self) -> None:
        """What the first queries would otherwise wait for: the spelling dictionary and the
        documents' English words (embedded once, kept in the data folder)."""
        self.spelling.speller()
        self.translator.prepare()

    @cached_property
    def spelling(self) -> Spelling:
        return Spelling(self.kb.store)

    def correct_spelling(self, query: str, language: str | None) -> str | None:
        """The query with misspelt words corrected, or None (nothing to correct, or a language
        the knowledge base holds too little of to judge its spelling)."""
        if self.language_share(language) < SPELLING_SHARE:
            return None
        return self.spelling.correct(query)

    def vector(self, text: str) -> np.ndarray:
        """The text's vector as a query, aligned across languages; repeated queries (typing,
        paging, several modes) hit a cache."""
        cached = self._vectors.get(text)
        if cached is None:
            embedder = self.kb.embedder
            cached = embedder.align_query(embedder.embed_query(text), query_language(text))
            with self._lock:  # the web app searches on several threads
                if len(self._vectors) >= QUERY_CACHE_SIZE:
                    self._vectors.pop(next(iter(self._vectors)))
                self._vectors[text] = cached
        return cached
