"""`kb serve`: the web app and the JSON API."""

from __future__ import annotations

import os
import sys

import click

from kb.cli.options import data_option
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.store import store_exists


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes; each opens the same store and index.")
@data_option
def serve(host: str, port: int, workers: int, settings: Settings) -> None:
    """Serve the web app and the JSON API (OpenAPI at /docs).

    \b
    kb serve --data data --port 8000
    """
    if not store_exists(settings.data, settings.store):
        raise click.UsageError(f"no knowledge base in {settings.data}: run kb index --corpus corpus --data {settings.data}")
    _preflight(settings)
    os.environ["KB_DATA"] = str(settings.data)  # the worker processes read their settings from here
    sys.stdout.flush()
    sys.stderr.flush()
    # This process becomes the server (search_app/server.py), leaving behind the memory of the check.
    os.execv(sys.executable, [sys.executable, "-m", "search_app.server", host, str(port), str(workers)])


def _preflight(settings: Settings) -> None:
    """Open the store and bring the saved index up to date once, before any worker starts: a
    fault is reported once, with a non-zero exit, instead of workers failing and respawning; and
    workers starting together find the index built, and the explorer's views found once (a
    second or two, through the exported query encoder; PyTorch is not loaded). A new app server
    of a shared store (KB_STORE) takes the published index snapshot or builds its index from the
    stored vectors, and makes its query encoder here."""
    try:
        kb = KnowledgeBase.open(settings)
        try:
            state = kb.refresh_index()
            click.echo(f"index {state.status}: {state.count} passages, store version {state.store_version}", err=True)
            kb.save_index()  # publishes it (KB_INDEX_SNAPSHOTS) unless the published one is as recent
            kb.prepare_queries()
            kb.prepare_views()  # the explorer's, saved in the data folder: each worker reads it
        finally:
            kb.close()
    except Exception as exc:  # noqa: BLE001 - any fault at all stops the start, with its reason
        raise click.ClickException(f"cannot serve {settings.data}: {exc.__class__.__name__}: {exc}") from exc
