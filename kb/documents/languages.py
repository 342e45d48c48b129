"""Languages: the names people read, and detection where a document or a query does not say.

Detection is lingua's, restricted to the languages of the programme's countries, in its
low-accuracy mode (trigrams only): 58 MB and well under a millisecond for a query, against
717 MB for the full models; on a whole document the two agree."""

from __future__ import annotations

import functools
import threading

# ISO 639-1 code -> the language's own name, as a speaker of it looks for it in a list.
NAMES = {
    "bg": "Български", "bs": "Bosanski", "ca": "Català", "cs": "Čeština", "da": "Dansk", "de": "Deutsch",
    "el": "Ελληνικά", "en": "English", "es": "Español", "et": "Eesti", "fi": "Suomi", "fr": "Français",
    "ga": "Gaeilge", "he": "עברית", "hr": "Hrvatski", "hu": "Magyar", "is": "Íslenska", "it": "Italiano",
    "lt": "Lietuvių", "lv": "Latviešu", "mk": "Македонски", "mt": "Malti", "nb": "Norsk", "nl": "Nederlands",
    "no": "Norsk", "pl": "Polski", "pt": "Português", "ro": "Română", "sk": "Slovenčina", "sl": "Slovenščina",
    "sq": "Shqip", "sr": "Srpski", "sv": "Svenska", "tr": "Türkçe", "uk": "Українська",
}
# Below this confidence a document's detected language is not trusted.
MIN_CONFIDENCE = 0.5
# A section of a document (an attached file's page, a plan's section) is read in a language of its
# own only when lingua is this sure and it has this many words: a short or mixed section, or one
# between neighbours (Danish or Norwegian), keeps its document's language.
SECTION_CONFIDENCE, SECTION_WORDS = 0.9, 12
# ... and on its opening only: enough for lingua to tell, at a quarter of the time (about 1.5 ms a
# section rather than 5.5 ms: an index run reads every section of every document).
SECTION_SAMPLE = 600
# A query's must be surer: scientific and short English queries often look half Latin or Dutch
# (lingua gave 31 of SciFact's 1,109 claims another language at >= 0.95, 108 at >= 0.5) ...
QUERY_CONFIDENCE = 0.95
# ... unless it is sure the query is not English, and unsure only between neighbours (Croatian
# or Bosnian, Danish or Norwegian): 13 of the 80 other-language eval queries.
NOT_ENGLISH = 0.01
_detector = None
_lock = threading.Lock()


def language_name(code: str | None) -> str:
    return NAMES.get(code or "", code or "")


def code_of(name: str) -> str | None:
    """The ISO 639-1 code of a language given by its code, its own name or its English name
    ("sv", "Svenska", "Swedish"), or None for a language not listed."""
    return name.lower() if name.lower() in NAMES else _codes_by_name().get(name.casefold())


@functools.cache
def _codes_by_name() -> dict[str, str]:
    english = {language.name.casefold(): code for code, language in _lingua_languages().items()}
    return english | {"slovenian": "sl", "norwegian": "nb"} | {name.casefold(): code for code, name in NAMES.items()}


def _lingua_languages() -> dict:
    """ISO 639-1 code -> lingua's Language, for the codes of NAMES that lingua knows."""
    from lingua import IsoCode639_1, Language

    return {code: Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
            for code in NAMES if hasattr(IsoCode639_1, code.upper())}


def _build():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(*_lingua_languages().values()).with_low_accuracy_mode() \
        .with_preloaded_language_models().build()


def _confidences(text: str) -> list[tuple[str, float]]:
    """(ISO 639-1 code, confidence) for every language, most likely first."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = _build()
    sample = text[:2000]
    if not sample.strip():
        return []
    return [(v.language.iso_code_639_1.name.lower(), v.value)
            for v in _detector.compute_language_confidence_values(sample)]


def detect(text: str, least: float = MIN_CONFIDENCE) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when less sure than `least`."""
    found = _confidences(text)
    return found[0][0] if found and found[0][1] >= least else None


def detect_section(text: str) -> str | None:
    """The language a section of a document is written in, or None when it is too short to tell
    or lingua is unsure (see SECTION_CONFIDENCE): the caller then takes the document's."""
    if len(text.split(maxsplit=SECTION_WORDS)) < SECTION_WORDS:
        return None
    return detect(text[:SECTION_SAMPLE], least=SECTION_CONFIDENCE)


def detect_query(text: str) -> str | None:
    """The language of a search query, or None when unsure (see QUERY_CONFIDENCE, NOT_ENGLISH)."""
    found = _confidences(text)
    if not found:
        return None
    (best, confidence), english = found[0], dict(found).get("en", 0.0)
    return best if confidence >= QUERY_CONFIDENCE or (best != "en" and english <= NOT_ENGLISH) else None
