"""Backups made before a column was added (kb/store/backup.py): the columns added since, and how
a restore fills each for the rows of such a backup — as the migration that added the column
filled the stores of that time (its default, or recomputed from the backup's other rows). A
backup that lacks any other column, or holds one this version does not know, is another schema."""

from __future__ import annotations

from collections.abc import Callable

from kb.documents import passage_language
from kb.store.rows import TABLES

Rows = Callable[[str], list[dict]]  # a backup table's rows, by column name
Fill = Callable[[dict], object]  # a row of the backup, by column name -> the added column's value


def _passage_language(rows: Rows) -> Fill:
    """Migration 15: a passage's language is its document's, English in its English summary."""
    languages = {d["id"]: d["language"] for d in rows("documents")}
    return lambda row: passage_language(languages.get(row["doc_id"]), row["section"]) or "en"


# (table, column) -> the filler of the column, made once per restore from the backup's rows
ADDED: dict[tuple[str, str], Callable[[Rows], Fill]] = {
    ("chunks", "language"): _passage_language,
    ("users", "language"): lambda rows: lambda row: None,  # no interface language chosen
}


def missing_columns(table: str, columns: list[str]) -> list[str] | None:
    """The columns of `table` that a backup holding `columns` lacks, all added later; None when
    `columns` are not those of an earlier schema of `table`."""
    current = TABLES[table]
    missing = [c for c in current if c not in columns]
    if [c for c in current if c in columns] != list(columns) or any((table, c) not in ADDED for c in missing):
        return None
    return missing


def upgraded(table: str, columns: list[str], rows: list[tuple], backup: Rows) -> list[tuple]:
    """`rows` of the backup's `table` (holding `columns`), as TABLES[table] holds them."""
    missing = missing_columns(table, columns) or []
    if not missing:
        return rows
    fills = {column: ADDED[table, column](backup) for column in missing}
    named = (dict(zip(columns, row)) for row in rows)
    return [tuple(row[c] if c in row else fills[c](row) for c in TABLES[table]) for row in named]
