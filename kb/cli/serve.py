"""`kb serve`: the web app and the JSON API."""

from __future__ import annotations

import os

import click

from kb.cli.options import data_option
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
    if not store_exists(settings.data):
        raise click.UsageError(f"no knowledge base in {settings.data}: run kb index --corpus corpus --data {settings.data}")
    os.environ["KB_DATA"] = str(settings.data)  # the worker processes read their settings from here
    # The web stack takes 0.4 s to import; of all commands only this one needs it.
    from search_app.server import serve as run_server

    run_server(host, port, workers)
