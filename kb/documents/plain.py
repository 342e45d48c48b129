"""Markdown as one line of plain text, for snippets: what a reader sees of a passage in a list
of results, without the marks that only mean something to a Markdown renderer (headings, list
and quote marks, tables, emphasis, code, links and images). Raw HTML stays text, as the
document's page shows it (kb/documents/markdown.py renders none), to be escaped where shown.

Line by line and by regular expressions rather than by a Markdown parser: a passage is a piece
of a document cut anywhere (the middle of a table, of a list, of a bold phrase), which a parser
would not read as the whole document does."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(```|~~~)")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")  # --- *** ___ (also a table's |---|---| without pipes)
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s+|$)")
_HEADING_CLOSE = re.compile(r"\s+#+\s*$")
_QUOTE = re.compile(r"^\s{0,3}(>\s?)+")
_LIST = re.compile(r"^\s*([-*+]|\d{1,9}[.)])\s+(\[[ xX]\]\s+)?")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\](\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_INLINE = re.compile(r"\*\*|__|~~|`|(?<!\w)[_*](?=\S)|(?<=\S)[_*](?!\w)")  # emphasis, strike-through, code


def _line(line: str) -> str:
    if _FENCE.match(line) or _RULE.match(line) or _TABLE_SEPARATOR.match(line):
        return ""
    row = _TABLE_ROW.match(line)
    if row:  # | Time | Item | Who |  ->  Time · Item · Who;
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row.group(1))]
        return " · ".join(cell for cell in cells if cell) + ";"
    if _HEADING.match(line):
        line = _HEADING_CLOSE.sub("", _HEADING.sub("", line))
    line = _LIST.sub("", _QUOTE.sub("", line))
    return line


def markdown_to_plain(text: str) -> str:
    """'## Results\\n| Time | Who |\\n|---|---|\\n- **Bold** [link](https://x)' ->
    'Results Time · Who; Bold link': one line, the words only."""
    lines = [_line(line) for line in text.splitlines()]
    joined = " ".join(line for line in lines if line.strip())
    joined = _AUTOLINK.sub(r"\1", joined)
    joined = _IMAGE.sub(r"\1", joined)
    joined = _LINK.sub(r"\1", joined)
    placeholders: list[str] = []

    def keep(match: re.Match) -> str:  # an escaped mark is a character, not a mark
        placeholders.append(match.group(1))
        return f"\x00{len(placeholders) - 1}\x00"

    joined = _INLINE.sub("", _ESCAPE.sub(keep, joined))
    joined = re.sub("\x00(\\d+)\x00", lambda m: placeholders[int(m.group(1))], joined)
    return " ".join(joined.split()).replace(" ;", ";")
