"""`kb store copy`: a knowledge base moved into another store as it is (vectors included,
nothing embedded again), then checked table by table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kb.errors import Invalid
from kb.store.base import Store
from kb.store.rows import TABLES, checksum


@dataclass(frozen=True)
class CopiedTable:
    table: str
    rows: int  # in the source
    copied: int  # in the destination afterwards
    same: bool  # equal checksums

    @property
    def ok(self) -> bool:
        return self.same and self.rows == self.copied


def copy_store(source: Store, destination: Store, files: Iterable[tuple[str, bytes]] = ()) -> list[CopiedTable]:
    """Copy every table of `source` into the empty `destination` in one transaction, then
    compare row counts and checksums of every table. `files` are (reference, content) of the
    originals the source keeps outside its tables (a SQLite store's data folder)."""
    if destination.version() or destination.document_count() or destination.users():
        raise Invalid("the destination store is not empty: copy into a new, empty database")
    files = list(files)

    def rows(table: str) -> list[tuple]:
        kept = list(source.table_rows(table))
        return list({**dict(kept), **dict(files)}.items()) if table == "files" else kept

    with destination.write(documents=False) as tx:
        for table in TABLES:
            tx.insert_rows(table, rows(table))
    report = []
    for table in TABLES:
        mine, theirs = rows(table), list(destination.table_rows(table))
        report.append(CopiedTable(table, len(mine), len(theirs), checksum(mine) == checksum(theirs)))
    return report
