"""Snippets: the part of a passage that best matches the query, escaped, then marked."""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_left
from functools import lru_cache

from kb.documents import markdown_to_plain
from kb.search.stopwords import STOPWORDS

SNIPPET_CHARS = 300


@lru_cache(maxsize=4096)  # the same passages come back query after query; a dozen regex passes each
def plain(text: str) -> str:
    """The passage as one line of plain text (Markdown's marks, tables, links removed)."""
    return markdown_to_plain(text)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=256)  # one query's terms mark all its results
def _pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    """Words starting with a crude stem of a query term, so 'heating' also marks 'heat' and
    'heated' (FTS5 matched them by Porter stemming); case is ignored."""
    stems = []
    for term in terms:
        for form in {term.lower(), _fold(term)}:  # 'énergie' marks 'énergie'; 'energie' marks both
            if len(form) >= 3 and form not in STOPWORDS:
                stems.append(form[: max(4, len(form) - 3)] if len(form) > 5 else form)
    if not stems:
        return None
    alternatives = "|".join(sorted({re.escape(s) for s in stems}, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.IGNORECASE)


def snippet(text: str, terms: tuple[str, ...] = (), limit: int = SNIPPET_CHARS) -> tuple[str, str]:
    """(plain snippet, HTML snippet with <mark>) — the window of `limit` characters holding
    the most query words, cut at word boundaries; the HTML is escaped before it is marked."""
    text = plain(text)
    pattern = _pattern(terms)
    matches = list(pattern.finditer(text)) if pattern else []
    start, end = 0, min(len(text), limit)
    if len(text) > limit and matches:
        hits = [m.start() for m in matches]
        # the first window start holding the most matches (hits are in order)
        best = hits[max(range(len(hits)), key=lambda i: bisect_left(hits, hits[i] + limit) - i)]
        start = max(0, min(best - 40, len(text) - limit))
        end = min(len(text), start + limit)
    if start > 0:
        start = text.find(" ", start) + 1 or start
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start + limit // 2 else end
    prefix, suffix = ("… " if start > 0 else ""), (" …" if end < len(text) else "")
    pieces, last = [], start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        pieces.append(html.escape(text[last:m.start()]))
        pieces.append(f"<mark>{html.escape(text[m.start():m.end()])}</mark>")
        last = m.end()
    pieces.append(html.escape(text[last:end]))
    return prefix + text[start:end] + suffix, prefix + "".join(pieces) + suffix

