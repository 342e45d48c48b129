"""Words as the keyword ranking counts them, in the language they are written in: each word
lower-cased, reduced to its stem by the Snowball stemmer of its language (PyStemmer), then
folded (accents dropped, so a query typed without them still matches). "fjärrvärmen" and
"fjärrvärme" are both "fjarrvarm"; "Ciepłownictwa" and "ciepłownictwo" one stem. A language
Snowball has no stemmer for keeps its words whole. A document's title is analysed in its
language, each passage in the passage's own (stored with it: an attached file's page or a plan's
section may be written in another; the English summary a document ends with is English), and
queries in theirs, by this one function, so that both sides of a match were read alike."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import Stemmer

from kb.documents.model import ENGLISH_SECTION
from kb.documents.words import fold

# ISO 639-1 -> Snowball's algorithm (every language of the corpus and the interface that has one)
SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian", "nb": "norwegian",
    "nl": "dutch", "nn": "norwegian", "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "tr": "turkish",
}
ANALYSIS = "snowball-1"  # named in derived indexes: a change of analysis rebuilds them
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits, as FTS5's unicode61 splits
_local = threading.local()  # a PyStemmer stemmer is not safe to share between threads


def analyse(text: str, language: str | None) -> str:
    """`text` as the space-separated stems of its words, in `language` (None: English)."""
    return " ".join(stems(_TOKEN.findall(text), language))


def stems(tokens: list[str], language: str | None) -> list[str]:
    """Each word's stem in `language` (None: English), folded."""
    stemmer = _stemmer(SNOWBALL.get(language or "en"))
    lowered = [t.lower() for t in tokens]
    return [_fold(s) for s in (stemmer.stemWords(lowered) if stemmer else lowered)]


def _stemmer(algorithm: str | None) -> Stemmer.Stemmer | None:
    if algorithm is None:
        return None
    stemmers = _local.__dict__.setdefault("stemmers", {})
    if algorithm not in stemmers:
        stemmers[algorithm] = Stemmer.Stemmer(algorithm)
    return stemmers[algorithm]


@lru_cache(maxsize=1 << 16)
def _fold(word: str) -> str:
    return fold(word)


def passage_language(document_language: str | None, section: str | None) -> str | None:
    """The language a passage is known to be written in without reading it: its document's, but
    English in the summary in English a document in another language ends with
    (kb/documents/model.py ENGLISH_SECTION). Chunking then reads each section
    (kb/documents/chunking.py); this rule alone fills the passages of stores and backups made
    before passages had a language of their own."""
    if section and ENGLISH_SECTION.match(f"## {section}"):
        return "en"
    return document_language


def analysed_passage(title: str, section: str | None, text: str, document_language: str | None,
                     language: str | None = None) -> tuple[str, str, str]:
    """A passage's title, section and text as its keyword index holds them: the title in the
    document's language, the rest in the passage's (`language`, as stored; None: the rule of
    `passage_language`)."""
    language = language or passage_language(document_language, section)
    return analyse(title, document_language), analyse(section or "", language), analyse(text, language)
