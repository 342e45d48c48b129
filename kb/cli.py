"""The `kb` command: index a corpus, search it, and inspect the knowledge base.

The one composition root: commands import `indexer` and `search_app` where they need them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb.cli_accounts import notes, users
from kb.cli_options import data_option, json_option, open_kb, print_json
from kb.cli_search import eval_partners, evaluate, partners, search, similar
from kb.settings import Settings


@click.group()
@click.version_option(package_name="twin-cities-kb")
def main() -> None:
    """The Twin Cities knowledge base: semantic search over pilot cities' climate practices.

    \b
    kb index --corpus corpus
    kb search "district heating phase-out" --filter country=Sweden
    kb info
    """


@main.command()
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), default="corpus", show_default=True,
              help="A corpus folder, or a .jsonl file.")
@click.option("--rebuild", is_flag=True, help="Re-chunk every document and rebuild the vector index.")
@json_option
@data_option
def index(corpus: Path, rebuild: bool, as_json: bool, settings: Settings) -> None:
    """Build or update the store and index from a corpus; only changed documents are embedded.

    Invalid documents are reported as file:line: field: problem; the valid ones are still
    indexed and the command exits with status 1."""
    from indexer import read_corpus, sync

    loaded = read_corpus(corpus)
    with open_kb(settings) as kb:
        report = sync(kb, loaded, progress=not as_json and sys.stderr.isatty(), rebuild=rebuild)
    if as_json:
        print_json(report.summary())
    else:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(
            f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
            f"unchanged {report.unchanged}; {report.passages_embedded} passages embedded in "
            f"{report.seconds:.1f} s; index {report.index.status}, {report.index.count} passages; "
            f"queries embedded by {report.query_runtime}"
        )
    if report.errors:
        if not as_json:
            click.echo(f"{len(report.errors)} problem(s) in the corpus; the valid documents were indexed", err=True)
        sys.exit(1)


@main.command()
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), default=None,
              help="Count a corpus folder's documents instead of the store's (nothing is indexed).")
@json_option
@data_option
def info(corpus: Path | None, as_json: bool, settings: Settings) -> None:
    """Counts by kind, domain, lever and language, the model, and the index state."""
    if corpus is not None:
        from indexer import read_corpus
        from kb.stats import corpus_counts

        loaded = read_corpus(corpus)
        payload = {"corpus": str(corpus), **corpus_counts(loaded.practices, loaded.cities),
                   "errors": [str(e) for e in loaded.errors]}
    else:
        with open_kb(settings) as kb:
            payload = kb.info()
    if as_json:
        print_json(payload)
        return
    for key, value in payload.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for sub, count in sorted(value.items(), key=lambda kv: str(kv[0])):
                click.echo(f"  {sub}: {count}")
        elif isinstance(value, list):
            click.echo(f"{key}: {len(value)}" if key == "errors" else f"{key}: {', '.join(map(str, value))}")
        else:
            click.echo(f"{key}: {value}")


@main.command()
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
    import os

    if not (settings.data / "kb.sqlite3").exists():
        raise click.UsageError(f"no knowledge base in {settings.data}: run kb index --corpus corpus --data {settings.data}")
    os.environ["KB_DATA"] = str(settings.data)  # the worker processes read their settings from here
    from search_app.server import serve as run_server

    run_server(host, port, workers)


for command in (search, similar, evaluate, partners, eval_partners, users, notes):
    main.add_command(command)
