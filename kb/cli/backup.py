"""`kb backup` and `kb restore`: a consistent copy of the knowledge base taken while it serves,
and a knowledge base made again from one (kb/store/backup.py)."""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time
from pathlib import Path

import click

from kb.cli.options import data_option, json_option, print_json
from kb.core import Core
from kb.errors import KBError
from kb.files import FileStore
from kb.settings import Settings
from kb.store import describe, open_store, store_exists
from kb.store.backup import backup as take_backup
from kb.store.backup import keep_newest, restore as restore_backup


def _progress(enabled: bool):
    """A line on a terminal that says which table is being read and how far."""
    if not enabled:
        return None

    def show(table: str, rows: int) -> None:
        click.echo(f"\r{table:15} {rows:>9,} rows", nl=False, err=True)

    return show


@click.command()
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(min=1),
              help="Then remove the older backups in DESTINATION beyond this many.")
@json_option
@data_option
def backup(destination: Path, keep: int | None, as_json: bool, settings: Settings) -> None:
    """Back up the knowledge base (KB_STORE, or the SQLite store in --data) into a new folder in
    DESTINATION while it serves: every table, the original files, and a manifest with each
    table's rows and checksum. The vector index and other derived files are made again on restore.

    \b
    kb backup /mnt/backups --data data --keep 14
    """
    if not store_exists(settings.data, settings.store):
        raise click.UsageError(f"no knowledge base in {settings.data}: give --data the folder kb index made, "
                               "or set KB_STORE")
    started = time.perf_counter()
    store = open_store(settings.data, settings.store)
    try:
        made = take_backup(store, FileStore(settings.data / "files").in_folder(), destination,
                           _progress(sys.stderr.isatty() and not as_json))
    except (OSError, sqlite3.Error) as exc:  # a full or unwritable destination
        reason = getattr(exc, "strerror", None) or exc
        raise click.ClickException(f"cannot write the backup in {destination}: {reason}; nothing was left "
                                   "there") from exc
    except KBError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    removed = keep_newest(destination, keep) if keep else []
    seconds = round(time.perf_counter() - started, 2)
    size = sum(p.stat().st_size for p in made.path.iterdir())
    if as_json:
        print_json({"backup": str(made.path), "rows": made.rows, "bytes": size, "seconds": seconds,
                    "removed": [str(p) for p in removed], "tables": made.manifest["tables"]})
        return
    click.echo(f"\rbacked up {made.rows:,} rows ({size / 1e6:.1f} MB) into {made.path} in {seconds} s" + " " * 10)
    for path in removed:
        click.echo(f"removed the older backup {path}")


@click.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--to", "to", metavar="URL", help="Restore into this empty PostgreSQL database instead of --data's "
                                                "SQLite store (--data is then that server's own folder).")
@json_option
@data_option
def restore(source: Path, to: str | None, as_json: bool, settings: Settings) -> None:
    """Make a knowledge base again from the backup folder SOURCE, in the new data folder --data
    (or the empty database --to): every checksum is checked before anything is written, and the
    vector index is rebuilt from the restored vectors.

    \b
    kb restore /mnt/backups/kb-backup-20261206T231500.000000Z --data data-restored
    """
    if to is not None and not to.startswith(("postgresql://", "postgres://")):
        raise click.UsageError(f"--to {to!r}: give postgresql://user@host:port/database")
    data = settings.data
    if to is None and data.exists() and any(data.iterdir()):
        raise click.UsageError(f"--data {data} is not empty: restore into a new folder")
    started = time.perf_counter()
    made_folder = not data.exists()
    store = open_store(data, to or "")
    files = FileStore(data / "files")
    try:
        manifest = restore_backup(source, store, files.keep, files.in_folder, _progress(sys.stderr.isatty()
                                                                                        and not as_json))
    except KBError as exc:
        store.close()
        if made_folder:  # nothing half-restored is left to be taken for a knowledge base
            shutil.rmtree(data, ignore_errors=True)
        raise click.ClickException(str(exc)) from exc
    store.close()
    settings = Settings.from_env(data=str(data), store=to or "")
    core = Core(data, settings=settings)
    try:
        state = core.refresh_index()
        core.save_index()
    finally:
        core.close()
    seconds = round(time.perf_counter() - started, 2)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    where = describe(to) if to else str(data)
    if as_json:
        print_json({"restored": where, "rows": rows, "seconds": seconds, "backup_time": manifest["time"],
                    "index": state.status})
        return
    click.echo(f"\rrestored {rows:,} rows of the backup of {manifest['time']} into {where} in {seconds} s; "
               f"vector index {state.status}" + " " * 10)
