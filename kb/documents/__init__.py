"""Documents: what the knowledge base holds and how it is read. The `Practice` model and its
validation, passages (chunking), the controlled vocabularies, languages (names and detection),
the words a text is counted by and as the keyword ranking reads them in its language, and
Markdown made safe for pages and exports. Depends on nothing of the knowledge base but the
embedder's tokenizer (for passage lengths)."""

from kb.documents.analysis import ANALYSIS, analyse, analysed_passage, passage_language, stems
from kb.documents.chunking import Chunk, chunk_practice, fingerprint
from kb.documents.languages import NAMES, code_of, detect, detect_query, language_name
from kb.documents.markdown import markdown_html, sections_html, tokens
from kb.documents.plain import markdown_to_plain
from kb.documents.model import MAX_BODY, Practice, ValidationErrors, english_title, validate, with_language
from kb.documents.vocab import CITY_KINDS, CITY_ROLES, DOCUMENT_KINDS, DOMAIN_NAMES, DOMAINS, FILTER_KEYS, LEVERS, MODULES
from kb.documents.words import fold, unstorable, words

__all__ = [
    "ANALYSIS", "CITY_KINDS", "CITY_ROLES", "Chunk", "DOCUMENT_KINDS", "DOMAIN_NAMES", "DOMAINS", "FILTER_KEYS", "LEVERS", "MAX_BODY",
    "MODULES", "NAMES", "Practice", "ValidationErrors", "analyse", "analysed_passage", "chunk_practice", "code_of",
    "detect", "detect_query", "english_title", "fingerprint", "fold",
    "language_name", "markdown_html", "markdown_to_plain", "passage_language", "sections_html", "stems", "tokens", "unstorable", "validate", "with_language", "words",
]
