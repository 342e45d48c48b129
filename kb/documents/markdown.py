"""Markdown to safe HTML, for practice pages, plan previews and plan exports alike."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown to HTML with raw HTML disabled, then sanitised again as defence in depth."""
    return nh3.clean(_markdown.render(text), link_rel="noopener noreferrer nofollow")


def tokens(text: str) -> list:
    """The parsed Markdown, for writers of other formats (kb/workspace/export.py)."""
    return _markdown.parse(text)
