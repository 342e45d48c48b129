"""`kb backup` and `kb restore`: a knowledge base as one portable file and its manifest.

A backup is a folder `kb-backup-<UTC time>` holding `tables.sqlite3` (every table of
kb/store/rows.py TABLES, the original files among them, as plain SQLite tables whatever the
store was) and `manifest.json` (per table its columns, rows and checksum, as `kb store copy`
computes them; the schema version; the time; the file's SHA-256). It is read from one snapshot
of the store (SQLite's and PostgreSQL's own: writers go on meanwhile), written under a name
ending in `.partial` and renamed once whole, so an interrupted or failed backup never looks
like one. What is derived (the vector index, the keyword entries, the query encoder) is left
out and made again on restore. A backup made before a column was added restores too: the column
is filled as its migration filled the stores of that time (kb/store/upgrades.py)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kb.errors import Invalid
from kb.store.base import Store
from kb.store.rows import TABLES, checksum, checksum_of, row_digest
from kb.store.upgrades import missing_columns, upgraded

FORMAT = 1
KIND = "twin-cities-kb backup"
PREFIX, PARTIAL = "kb-backup-", ".partial"
DATA_FILE, MANIFEST_FILE = "tables.sqlite3", "manifest.json"
BATCH = 1000  # rows written at a time

Progress = Callable[[str, int], None]  # (table, rows so far)


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict

    @property
    def rows(self) -> int:
        return sum(t["rows"] for t in self.manifest["tables"].values())


class BadBackup(Invalid):
    """A backup that cannot be restored: missing, truncated, edited, or not one of ours."""


def backup(store: Store, files: Iterable[tuple[str, bytes]], destination: Path,
           progress: Progress | None = None) -> Backup:
    """Write a backup of `store` (and `files`, the (reference, content) of originals kept outside
    its tables) into a new folder in `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc)
    final = destination / f"{PREFIX}{stamp.strftime('%Y%m%dT%H%M%S.%fZ')}"
    partial = final.with_name(final.name + PARTIAL)
    partial.mkdir()
    try:
        tables = {}
        with closing(sqlite3.connect(partial / DATA_FILE, isolation_level=None)) as out, store.snapshot() as rows:
            out.execute("PRAGMA journal_mode = OFF")
            out.execute("BEGIN")
            for table, columns in TABLES.items():
                source = rows(table)
                if table == "files":
                    source = _with_files(source, files)
                tables[table] = {"columns": list(columns), **_write_table(out, table, columns, source, progress)}
            out.execute("COMMIT")
        manifest = {"kind": KIND, "format": FORMAT, "time": stamp.isoformat(),
                    "file": {"name": DATA_FILE, "sha256": _sha256(partial / DATA_FILE)}, "tables": tables}
        _write_synced(partial / MANIFEST_FILE, json.dumps(manifest, indent=2).encode() + b"\n")
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(final, manifest)


def _with_files(rows: Iterable[tuple], files: Iterable[tuple[str, bytes]]) -> Iterator[tuple]:
    """The store's kept files, then those of the data folder that the store does not hold."""
    seen = set()
    for ref, data in rows:
        seen.add(ref)
        yield ref, data
    for ref, data in files:
        if ref not in seen:
            yield ref, data


def _write_table(out: sqlite3.Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
                 progress: Progress | None) -> dict:
    out.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    insert = f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})"
    written, batch, digests = 0, [], []
    for row in rows:
        row = tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
        batch.append(row)
        digests.append(row_digest(row))
        if len(batch) >= BATCH:
            out.executemany(insert, batch)
            written += len(batch)
            batch.clear()
            if progress:
                progress(table, written)
    out.executemany(insert, batch)
    written += len(batch)
    if progress:
        progress(table, written)
    return {"rows": written, "checksum": checksum_of(digests)}


def backups(destination: Path) -> list[Path]:
    """The whole backups in `destination`, oldest first (a `.partial` folder is none)."""
    if not destination.is_dir():
        return []
    return sorted(p for p in destination.iterdir()
                  if p.is_dir() and p.name.startswith(PREFIX) and not p.name.endswith(PARTIAL)
                  and (p / MANIFEST_FILE).is_file())


def keep_newest(destination: Path, keep: int) -> list[Path]:
    """Remove the whole backups beyond the newest `keep`; the removed ones."""
    old = backups(destination)[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
    return old


def read_backup(path: Path) -> tuple[dict, Callable[[str], list[tuple]]]:
    """The backup's manifest and a reader of its tables (in TABLES' columns, those added since
    the backup filled), after checking all of it: its kind and format, the file's SHA-256, and
    every table's columns, rows and checksum. Raises BadBackup saying what does not match;
    nothing is written."""
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise BadBackup(f"{path}: no {MANIFEST_FILE}; this is not a whole backup (a `{PARTIAL}` folder never is)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        tables, expected_file = manifest["tables"], manifest["file"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadBackup(f"{manifest_path}: not a backup manifest ({exc.__class__.__name__})") from None
    if manifest.get("kind") != KIND:
        raise BadBackup(f"{path}: not a backup of this knowledge base (its manifest says {manifest.get('kind')!r})")
    if manifest.get("format") != FORMAT:
        raise BadBackup(f"{path}: backup format {manifest.get('format')!r}; this version reads format {FORMAT}")
    data = path / DATA_FILE
    if not data.is_file() or _sha256(data) != expected_file.get("sha256"):
        raise BadBackup(f"{data}: missing, truncated or changed since the backup was made (its SHA-256 differs "
                        f"from the manifest's)")
    missing = [t for t in TABLES if t not in tables]
    if missing:
        raise BadBackup(f"{path}: the manifest lists no table {missing[0]!r}")

    def stored(table: str) -> list[tuple]:
        with closing(sqlite3.connect(f"file:{data}?mode=ro", uri=True)) as db:
            return [tuple(r) for r in db.execute(f"SELECT {', '.join(tables[table]['columns'])} FROM {table}")]

    def by_name(table: str) -> list[dict]:
        return [dict(zip(tables[table]["columns"], row)) for row in stored(table)]

    def read(table: str) -> list[tuple]:
        return upgraded(table, tables[table]["columns"], stored(table), by_name)

    for table, expected in tables.items():
        if table not in TABLES:
            raise BadBackup(f"{path}: table {table!r} is not one this version knows")
        if missing_columns(table, expected["columns"]) is None:
            raise BadBackup(f"{path}: table {table!r} has the columns of another schema "
                            f"({', '.join(expected['columns'])})")
        try:
            rows = stored(table)
        except sqlite3.DatabaseError as exc:
            raise BadBackup(f"{data}: table {table!r} cannot be read ({exc})") from None
        if len(rows) != expected["rows"] or checksum(rows) != expected["checksum"]:
            raise BadBackup(f"{data}: table {table!r} does not match the manifest ({len(rows)} rows, "
                            f"{expected['rows']} expected, or another checksum)")
    return manifest, read


def restore(path: Path, destination: Store, keep_file: Callable[[str, bytes], None],
            files_kept: Callable[[], Iterable[tuple[str, bytes]]], progress: Progress | None = None) -> dict:
    """Restore the checked backup at `path` into the empty store `destination`, in one
    transaction; the manifest. The original files go into the store when it is shared, else to
    `keep_file` (the data folder, read back by `files_kept`). The caller rebuilds what is derived
    (the vector index); the keyword entries follow the rows."""
    manifest, read = read_backup(path)
    if destination.version() or destination.document_count() or destination.users():
        raise Invalid("the destination is not empty: restore into a new data folder or an empty database")
    in_folder = not destination.shared
    written = {}  # each table's checksum as restored: the manifest's, or that of its rows upgraded
    with destination.write(documents=False) as tx:
        for table in TABLES:
            rows = read(table)
            written[table] = checksum(rows)
            if table == "files" and in_folder:
                for ref, data in rows:
                    keep_file(ref, data)
            else:
                tx.insert_rows(table, rows)
            if progress:
                progress(table, len(rows))
    for table in TABLES:
        rows = files_kept() if table == "files" and in_folder else destination.table_rows(table)
        if checksum(rows) != written[table]:
            raise Invalid(f"the restored table {table!r} differs from the backup")
    return manifest


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
