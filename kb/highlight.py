"""Snippets: the part of a passage that best matches the query, escaped, then marked."""

from __future__ import annotations

import html
import re
import unicodedata

_MARKUP = re.compile(r"(\*\*|__|`|^#+\s|^\s*[-*+]\s|^\s*\d+\.\s)", re.M)
_WORD = re.compile(r"\w+", re.UNICODE)
SNIPPET_CHARS = 300
STOPWORDS = frozenset(
    "a an and are as at be by for from how in into is it of on or our the to we what with "
    "de la le les des et en el los las y del di il per und der die das von zu för och att".split()
)


def plain(text: str) -> str:
    """The passage as one line of plain text (Markdown emphasis and list marks removed)."""
    return " ".join(_MARKUP.sub(" ", text).split())


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stems(terms: tuple[str, ...]) -> tuple[str, ...]:
    """Crude stems, so 'heating' also marks 'heat' and 'heated' (FTS5 matched them by Porter)."""
    stems = []
    for term in terms:
        term = _fold(term)
        if len(term) < 3 or term in STOPWORDS:
            continue
        stems.append(term[: max(4, len(term) - 3)] if len(term) > 5 else term)
    return tuple(dict.fromkeys(stems))


def _matches(word: str, stems: tuple[str, ...]) -> bool:
    folded = _fold(word)
    return any(folded.startswith(s) for s in stems)


def snippet(text: str, terms: tuple[str, ...] = (), limit: int = SNIPPET_CHARS) -> tuple[str, str]:
    """(plain snippet, HTML snippet with <mark>) — the window of `limit` characters holding
    the most query words, cut at word boundaries; the HTML is escaped before it is marked."""
    text = plain(text)
    stems = _stems(terms)
    start, end = 0, min(len(text), limit)
    if len(text) > limit and stems:
        hits = [m.start() for m in _WORD.finditer(text) if _matches(m.group(), stems)]
        if hits:
            best = max(hits, key=lambda h: sum(1 for x in hits if h <= x < h + limit))
            start = max(0, min(best - 40, len(text) - limit))
            end = min(len(text), start + limit)
    if start > 0:
        start = text.find(" ", start) + 1 or start
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start + limit // 2 else end
    window = text[start:end]
    prefix, suffix = ("… " if start > 0 else ""), (" …" if end < len(text) else "")
    pieces, last = [], 0
    for m in _WORD.finditer(window):
        if stems and _matches(m.group(), stems):
            pieces.append(html.escape(window[last:m.start()]))
            pieces.append(f"<mark>{html.escape(m.group())}</mark>")
            last = m.end()
    pieces.append(html.escape(window[last:]))
    return prefix + window + suffix, prefix + "".join(pieces) + suffix
