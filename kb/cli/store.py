"""`kb migrate` and `kb store copy`: the store's schema, and moving a knowledge base to PostgreSQL."""

from __future__ import annotations

import click

from kb.cli.options import data_option
from kb.errors import KBError
from kb.files import FileStore
from kb.settings import Settings
from kb.store import describe, open_store, store_exists
from kb.store.copy import copy_store


@click.command()
@data_option
def migrate(settings: Settings) -> None:
    """Bring the store's schema up to date (KB_STORE, or the SQLite store in the data folder).

    \b
    KB_STORE=postgresql://kb@db.example:5432/kb kb migrate
    """
    store = _open(settings.data, settings.store)
    try:
        where = describe(settings.store) if settings.store else str(settings.data)
        click.echo(f"{where}: schema up to date, {store.document_count()} documents")
    finally:
        store.close()


@click.group()
def store() -> None:
    """The store itself."""


@store.command("copy")
@click.option("--to", "to", required=True, metavar="URL", help="postgresql://user@host:port/database, empty.")
@data_option
def store_copy(to: str, settings: Settings) -> None:
    """Copy the knowledge base (KB_STORE, or the SQLite store in the data folder) into the empty
    PostgreSQL database at URL, vectors included, and check every table's rows and checksum.

    \b
    kb store copy --data data --to postgresql://kb@db.example:5432/kb
    """
    if not to.startswith(("postgresql://", "postgres://")):
        raise click.UsageError(f"--to {to!r}: give postgresql://user@host:port/database")
    source = _open(settings.data, settings.store)
    try:
        destination = _open(settings.data, to)
        try:
            report = copy_store(source, destination, FileStore(settings.data / "files").in_folder())
        except KBError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            destination.close()
    finally:
        source.close()
    for table in report:
        click.echo(f"{table.table:15} {table.rows:>8} rows  {'same' if table.ok else 'DIFFERENT'}")
    if not all(table.ok for table in report):
        raise click.ClickException("the copy differs from its source (see the tables above)")
    click.echo(f"copied into {describe(to)}: every table has the same rows and checksum")


def _open(data, url: str):
    if not store_exists(data, url):
        raise click.UsageError(f"no knowledge base in {data}: give --data the folder kb index made, or set KB_STORE")
    try:
        return open_store(data, url)
    except KBError as exc:
        raise click.ClickException(str(exc)) from exc
