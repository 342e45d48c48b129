"""Options and helpers shared by the `kb` commands."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from kb.embedding import EmbedderError
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings


def data_option(command):
    """`--data DIR` (env KB_DATA) on every command; the settings of that folder are passed on."""

    @click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), envvar="KB_DATA",
                  default="data", show_default=True, help="Folder of the store and vector index.")
    @functools.wraps(command)
    def wrapper(*args, data: Path, **kwargs):
        try:
            settings = Settings.from_env(data=str(data))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        try:
            return command(*args, settings=settings, **kwargs)
        except EmbedderError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(command)


@contextmanager
def open_kb(settings: Settings) -> Iterator[KnowledgeBase]:
    """The knowledge base for one command, closed after it; a refusal of the core (the caller's
    query, filters, k, challenge, or an unknown name) becomes a one-line usage error."""
    kb = KnowledgeBase.open(settings)
    try:
        yield kb
    except KBError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        kb.close()


def print_json(payload: dict) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
