"""The `kb` command: index a corpus, search it, and inspect the knowledge base.

The one composition root: commands import `indexer` and `search_app` where they need them."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from kb.embedder import EmbedderError
from kb.settings import Settings


def data_option(command):
    """`--data DIR` (env KB_DATA) on every command, opening the knowledge base lazily."""

    @click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), envvar="KB_DATA",
                  default="data", show_default=True, help="Folder of the store and vector index.")
    @functools.wraps(command)
    def wrapper(*args, data: Path, **kwargs):
        try:
            return command(*args, settings=Settings.from_env(data=str(data)), **kwargs)
        except EmbedderError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(command)


def _open(settings: Settings):
    from kb.knowledge_base import KnowledgeBase

    return KnowledgeBase.open(settings)


def _print_json(payload: dict) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


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
    kb = _open(settings)
    try:
        report = sync(kb, loaded, progress=not as_json and sys.stderr.isatty(), rebuild=rebuild)
    finally:
        kb.close()
    if as_json:
        _print_json(report.summary())
    else:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(
            f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
            f"unchanged {report.unchanged}; {report.passages_embedded} passages embedded in "
            f"{report.seconds:.1f} s; index {report.index.status}, {report.index.count} passages"
        )
    if report.errors:
        if not as_json:
            click.echo(f"{len(report.errors)} problem(s) in the corpus; the valid documents were indexed", err=True)
        sys.exit(1)


def _parse_filters(values: tuple[str, ...]) -> dict[str, str]:
    filters = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. country=Sweden)", param_hint="--filter")
        filters[key.strip()] = value.strip()
    return filters


@main.command()
@click.argument("query")
@click.option("--k", default=10, show_default=True, type=int, help="How many documents.")
@click.option("--mode", default="hybrid", show_default=True, type=click.Choice(["hybrid", "dense", "keyword"]),
              help="hybrid fuses dense (meaning) and keyword (BM25) rankings.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="Exact filter: domain, lever, kind, country, city, language. Repeatable.")
@json_option
@data_option
def search(query: str, k: int, mode: str, filters: tuple[str, ...], as_json: bool, settings: Settings) -> None:
    """Documents that answer QUERY, each with its best passage.

    \b
    kb search "district heating phase-out"
    kb search "one-stop shop for home renovation" --filter country=Ireland --k 5
    """
    from kb.search import SearchError, search as run_search

    kb = _open(settings)
    try:
        results = run_search(kb, query, k=k, mode=mode, filters=_parse_filters(filters))
    except SearchError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        kb.close()
    if as_json:
        _print_json({"query": query, "mode": mode, "results": [r.to_json() for r in results]})
    else:
        _print_results(results, "No document matches. Try other words, or fewer filters.")


def _print_results(results, empty: str) -> None:
    if not results:
        click.echo(empty)
    for rank, r in enumerate(results, start=1):
        where = ", ".join(x for x in (r.city, r.country) if x)
        click.echo(f"{rank:>2}. {r.title}  [{r.kind}{'; ' + where if where else ''}]  {r.score:.3f}")
        click.echo(f"    {r.doc_id}")
        click.echo(f"    {r.snippet}\n")


@main.command()
@click.argument("doc_id")
@click.option("--k", default=10, show_default=True, type=int, help="How many documents.")
@json_option
@data_option
def similar(doc_id: str, k: int, as_json: bool, settings: Settings) -> None:
    """Practices most like the document DOC_ID.

    \b
    kb similar mx-helsinki-energy-challenge-coal-exit --k 5
    """
    from kb.search import SearchError
    from kb.similarity import UnknownDocument, similar as run_similar

    kb = _open(settings)
    try:
        results = run_similar(kb, doc_id, k=k)
    except UnknownDocument as exc:
        raise click.UsageError(f"no document has the id {doc_id!r}; kb search finds ids") from exc
    except SearchError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        kb.close()
    if as_json:
        _print_json({"doc_id": doc_id, "results": [r.to_json() for r in results]})
    else:
        _print_results(results, "This document has no passages to compare.")


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
        kb = _open(settings)
        try:
            payload = kb.info()
        finally:
            kb.close()
    if as_json:
        _print_json(payload)
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


@main.command("eval")
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="JSONL: _id, text, optional filters.")
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="BEIR TSV with header query-id, corpus-id, score (graded).")
@click.option("--mode", default="hybrid", show_default=True, type=click.Choice(["hybrid", "dense", "keyword"]))
@click.option("--run", "run_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a TREC run file.")
@json_option
@data_option
def evaluate(queries: Path, qrels: Path, mode: str, run_path: Path | None, as_json: bool, settings: Settings) -> None:
    """nDCG@10, Recall@100 and MRR@10 of the index in --data on judged queries.

    \b
    kb eval --queries corpus/eval/queries.jsonl --qrels corpus/eval/qrels.tsv --mode hybrid
    """
    from kb.evaluation import EvaluationError, evaluate as run_eval, load_qrels, load_queries, write_run
    from kb.search import SearchError, search as run_search

    try:
        loaded_queries, loaded_qrels = load_queries(queries), load_qrels(qrels)
    except EvaluationError as exc:
        raise click.UsageError(str(exc)) from exc
    kb = _open(settings)

    def searcher(query):
        try:
            results = run_search(kb, query.text, k=100, mode=mode, filters=query.filters)
        except SearchError as exc:
            click.echo(f"query {query.id}: {exc}", err=True)
            return []
        return [(r.doc_id, r.score) for r in results]

    try:
        metrics, run = run_eval(loaded_queries, loaded_qrels, searcher)
    finally:
        kb.close()
    if run_path:
        write_run(run, run_path, f"kb-{mode}")
    if as_json:
        _print_json({"mode": mode, **metrics})
    else:
        click.echo(f"{mode}: " + ", ".join(f"{m} {v}" for m, v in metrics.items()))


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

    import uvicorn

    if not (settings.data / "kb.sqlite3").exists():
        raise click.UsageError(f"no knowledge base in {settings.data}: run kb index --corpus corpus --data {settings.data}")
    os.environ["KB_DATA"] = str(settings.data)  # the worker processes read their settings from here
    uvicorn.run("search_app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@main.command()
@click.argument("challenge")
@click.option("--country", help="The twin's country, for profile fit.")
@click.option("--population", type=click.IntRange(min=1), help="The twin's population, for profile fit.")
@click.option("--domain", "domains", multiple=True, help="A domain the twin works on. Repeatable.")
@click.option("--city", help="The twin's own name: never suggested to itself.")
@click.option("--k", default=5, show_default=True, type=int, help="How many pilot cities.")
@json_option
@data_option
def partners(challenge: str, country: str | None, population: int | None, domains: tuple[str, ...],
             city: str | None, k: int, as_json: bool, settings: Settings) -> None:
    """Pilot cities to pair with a twin facing CHALLENGE, with reasons and evidence.

    \b
    kb partners "our district heating still burns lignite" --country Greece --population 40000
    """
    from kb.partners import Profile, suggest
    from kb.search import SearchError

    kb = _open(settings)
    try:
        suggestions = suggest(kb, challenge, Profile(city, country, population, domains), k=k)
    except SearchError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        kb.close()
    if as_json:
        _print_json({"challenge": challenge, "suggestions": [s.to_json() for s in suggestions]})
        return
    if not suggestions:
        click.echo("No pilot city has a practice matching this challenge yet.")
    for rank, s in enumerate(suggestions, start=1):
        click.echo(f"{rank}. {s.city} ({s.country})  {s.score:.3f}")
        for reason in s.reasons:
            click.echo(f"   - {reason}")


@main.command("eval-partners")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@data_option
def eval_partners(cases: Path, as_json: bool, settings: Settings) -> None:
    """hit@1, hit@5 and MRR of partner suggestions on judged twin challenges (JSONL).

    \b
    kb eval-partners corpus/eval/partners.jsonl
    """
    from kb.evaluation import EvaluationError, evaluate_partners, load_partner_cases
    from kb.partners import Profile, suggest

    try:
        loaded = load_partner_cases(cases)
    except EvaluationError as exc:
        raise click.UsageError(str(exc)) from exc
    kb = _open(settings)
    try:
        metrics, run = evaluate_partners(loaded, lambda c: [s.city for s in suggest(
            kb, c.challenge, Profile(c.twin, c.country, c.population), k=10)])
    finally:
        kb.close()
    if as_json:
        _print_json({**metrics, "suggested": run})
    else:
        click.echo(", ".join(f"{m} {v}" for m, v in metrics.items()))


@main.group()
def users() -> None:
    """Accounts of pilots, the matching team and admins."""


@users.command("add")
@click.argument("name")
@click.option("--city", help="The pilot city whose notes this account writes (pilots only).")
@click.option("--role", type=click.Choice(["pilot", "matching", "admin"]), required=True)
@json_option
@data_option
def users_add(name: str, city: str | None, role: str, as_json: bool, settings: Settings) -> None:
    """Create an account; prints its password and API token once.

    \b
    kb users add umea-officer --city Umeå --role pilot
    """
    _print_credentials(lambda accounts: accounts.add(name, role, city), as_json, settings)


@users.command("reset")
@click.argument("name")
@json_option
@data_option
def users_reset(name: str, as_json: bool, settings: Settings) -> None:
    """Give an account a new password and token (and enable it again)."""
    _print_credentials(lambda accounts: accounts.reset(name), as_json, settings)


@users.command("disable")
@click.argument("name")
@data_option
def users_disable(name: str, settings: Settings) -> None:
    """Stop an account from logging in or writing."""
    _with_accounts(settings, lambda accounts: accounts.disable(name))
    click.echo(f"{name} is disabled; kb users reset {name} enables it again")


@users.command("list")
@json_option
@data_option
def users_list(as_json: bool, settings: Settings) -> None:
    """Every account (no secrets)."""
    listed = _with_accounts(settings, lambda accounts: accounts.list())
    if as_json:
        _print_json({"users": [u.__dict__ for u in listed]})
        return
    for u in listed:
        click.echo(f"{u.username:<24} {u.role:<9} {u.city or '-':<24} {'disabled' if u.disabled else 'active'}")


def _with_accounts(settings: Settings, action):
    from kb.accounts import AccountError, Accounts
    from kb.store import Store

    store = Store(settings.data / "kb.sqlite3")
    try:
        return action(Accounts(store))
    except AccountError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        store.close()


def _print_credentials(action, as_json: bool, settings: Settings) -> None:
    credentials = _with_accounts(settings, action)
    if as_json:
        _print_json({"username": credentials.username, "password": credentials.password, "token": credentials.token})
    else:
        click.echo(f"user:     {credentials.username}\npassword: {credentials.password}\ntoken:    {credentials.token}")
        click.echo("These are shown once; only their hashes are stored.", err=True)


@main.group()
def notes() -> None:
    """Published case notes."""


@notes.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@data_option
def notes_export(directory: Path, settings: Settings) -> None:
    """Write every published note as corpus Markdown, to review and version them."""
    from kb.notes import Notes

    kb = _open(settings)
    try:
        count = Notes(kb).export(directory)
    finally:
        kb.close()
    click.echo(f"{count} notes written to {directory}")
