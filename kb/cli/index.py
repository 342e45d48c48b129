"""`kb index` and `kb info`: building the knowledge base from a corpus, and what it holds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from indexer import read_corpus, sync
from kb.cli.options import data_option, json_option, open_kb, print_json
from kb.settings import Settings
from kb.stats import corpus_counts


@click.command()
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), default="corpus", show_default=True,
              help="A corpus folder, or a .jsonl file.")
@click.option("--rebuild", is_flag=True, help="Re-chunk every document and rebuild the vector index.")
@json_option
@data_option
def index(corpus: Path, rebuild: bool, as_json: bool, settings: Settings) -> None:
    """Build or update the store and index from a corpus; only changed documents are embedded.

    Invalid documents are reported as file:line: field: problem; the valid ones are still
    indexed and the command exits with status 1."""
    loaded = read_corpus(corpus, max_bytes=settings.max_file_bytes, max_pages=settings.max_pages)
    with open_kb(settings) as kb:
        # once per model (the export is reused), before the timing (it is not indexing work) and
        # before any passage: made apart, its memory is given back before the model is loaded here
        query_runtime = kb.prepare_queries()
        report = sync(kb, loaded, progress=not as_json and sys.stderr.isatty(), rebuild=rebuild)
        kb.queries.translator.prepare()  # the documents' English words embedded now, not at a server's start
    if as_json:
        print_json({**report.summary(), "query_runtime": query_runtime})
    else:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(
            f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
            f"unchanged {report.unchanged}; {report.passages_embedded} passages embedded in "
            f"{report.seconds:.1f} s; index {report.index.status}, {report.index.count} passages; "
            f"queries embedded by {query_runtime}"
        )
    if report.errors:
        if not as_json:
            click.echo(f"{len(report.errors)} problem(s) in the corpus; the valid documents were indexed", err=True)
        sys.exit(1)


@click.command()
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), default=None,
              help="Count a corpus folder's documents instead of the store's (nothing is indexed).")
@json_option
@data_option
def info(corpus: Path | None, as_json: bool, settings: Settings) -> None:
    """Counts by kind, domain, lever and language, the model, and the index state."""
    if corpus is not None:
        loaded = read_corpus(corpus, max_bytes=settings.max_file_bytes, max_pages=settings.max_pages)
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
