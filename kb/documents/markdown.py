"""Markdown to safe HTML, for practice pages, plan previews and plan exports alike."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown to HTML with raw HTML disabled, then sanitised again as defence in depth."""
    return nh3.clean(_markdown.render(text), link_rel="noopener noreferrer nofollow")


def tokens(text: str) -> list:
    """The parsed Markdown, for writers of other formats (kb/workspace/export.py)."""
    return _markdown.parse(text)


_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def sections_html(text: str, languages: dict[str, str]) -> list[tuple[str | None, str]]:
    """The body as HTML cut at its headings, each part with its language when `languages` (by
    heading, as passages name their section) says it differs from the document's, so that a page
    marks it with `lang`: a Greek note's English report reads as English to a screen reader."""
    starts = [0, *(m.start() for m in _HEADING.finditer(text) if m.start() > 0), len(text)]
    parts = []
    for start, end in zip(starts, starts[1:]):
        part = text[start:end]
        heading = _HEADING.match(part)
        parts.append((languages.get(heading.group(1).strip()) if heading else None, markdown_html(part)))
    return parts
