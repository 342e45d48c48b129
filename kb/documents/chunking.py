"""Split a practice into passages that the embedding model reads whole.

Markdown headers first, so a passage never straddles two sections; then by the model's own
tokenizer, so that title, section and passage together fit its maximum sequence length. Each
passage carries the language of its section, read on the whole section (a page of an attached
file, a section of a plan may be in another language than the document); a section too short
to tell takes the document's."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kb.documents.analysis import passage_language
from kb.documents.languages import detect_section
from kb.documents.model import Practice
from kb.embedding.base import Embedder

HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
OVERLAP_TOKENS = 24
# Bumped whenever chunking changes, so every document is re-chunked on the next index run.
CHUNKER_VERSION = "1"


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    section: str | None
    text: str
    embedding_text: str
    language: str | None = None  # the section's (None: the document's, by `passage_language`)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.embedding_text.encode()).hexdigest()


def fingerprint(practice: Practice) -> str:
    """Changes whenever a document must be chunked and embedded again."""
    return f"{practice.content_hash()}:{CHUNKER_VERSION}"


def context_line(title: str, section: str | None) -> str:
    """The title (and section) every passage is embedded with, so a passage keeps its context."""
    title = title[:160]
    return f"{title} — {section[:80]}" if section else title


def _sections(body: str) -> list[tuple[str | None, str]]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter  # heavy import, needed only here

    splitter = MarkdownHeaderTextSplitter(headers_to_split_on=HEADERS, strip_headers=True)
    sections = []
    for part in splitter.split_text(body):
        heading = next((part.metadata[k] for _, k in reversed(HEADERS) if k in part.metadata), None)
        if part.page_content.strip():
            sections.append((heading, part.page_content.strip()))
    return sections or [(None, body.strip())]


def section_language(practice: Practice, section: str | None, text: str) -> str | None:
    """The language of one section of `practice`: English for its English summary, else the one
    its text is written in when that is clear, else the document's."""
    known = passage_language(practice.language, section)
    if known != practice.language:
        return known
    return detect_section(text) or practice.language


def chunk_practice(practice: Practice, embedder: Embedder) -> list[Chunk]:
    """The passages of one document, each short enough for `embedder`'s maximum length."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    chunks: list[Chunk] = []
    for section, text in _sections(practice.body):
        language = section_language(practice, section, text)
        context = context_line(practice.title, section)
        while embedder.count_tokens(context) > embedder.max_tokens // 2:  # leave room for the passage
            context = context[: len(context) * 3 // 4]
        budget = embedder.max_tokens - SPECIAL_TOKENS - embedder.count_tokens(context + "\n") - 1
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=budget,
            chunk_overlap=min(OVERLAP_TOKENS, budget // 4),
            length_function=embedder.count_tokens,
            separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
            keep_separator="end",
        )
        for piece in splitter.split_text(text):
            piece = piece.strip()
            if piece:
                chunks.append(Chunk(len(chunks), section, piece, f"{context}\n{piece}", language))
    return chunks
