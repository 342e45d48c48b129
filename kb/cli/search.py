"""`kb search`, `kb similar`, `kb eval`, `kb partners`, `kb eval-partners`: reading the knowledge base."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli.options import data_option, json_option, open_kb, print_json
from kb.evaluation import (EvaluationError, evaluate as run_eval, evaluate_partners, load_partner_cases, load_qrels,
                           load_queries, select, weak_match_rates, write_run)
from kb.matching import Profile
from kb.search import SearchError
from kb.settings import Settings


def _parse_filters(values: tuple[str, ...]) -> dict[str, str]:
    filters = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. country=Sweden)", param_hint="--filter")
        filters[key.strip()] = value.strip()
    return filters


def _selected(items: list, slice_: str | None, split: str | None) -> list:
    chosen = select(items, slice_, split)
    if not chosen:
        slices = ", ".join(sorted({item.slice for item in items if item.slice}))
        raise click.UsageError(f"no lines of slice {slice_!r} and split {split!r}; the slices are: {slices}")
    return chosen


@click.command()
@click.argument("query")
@click.option("--k", default=10, show_default=True, type=int, help="How many documents.")
@click.option("--mode", default="hybrid", show_default=True, type=click.Choice(["hybrid", "dense", "keyword"]),
              help="hybrid fuses dense (meaning) and keyword (BM25) rankings.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="Exact filter: domain, lever, kind, country, city, language. Repeatable.")
@click.option("--exact", is_flag=True, help="Search the words as typed: no spelling correction.")
@json_option
@data_option
def search(query: str, k: int, mode: str, filters: tuple[str, ...], exact: bool, as_json: bool,
           settings: Settings) -> None:
    """Documents that answer QUERY, each with its best passage.

    \b
    kb search "district heating phase-out"
    kb search "one-stop shop for home renovation" --filter country=Ireland --k 5
    """
    with open_kb(settings) as kb:
        response = kb.search(query, k=k, mode=mode, filters=_parse_filters(filters), correct=not exact)
    if as_json:
        print_json(response.to_json())
        return
    if response.corrected:
        click.echo(f"Showing results for: {response.corrected} (--exact searches for {query!r})\n")
    if response.weak_match and response.results:
        click.echo("Nothing in the knowledge base matches this well; the nearest practices:\n")
    _print_results(response.results, "No document matches. Try other words, or fewer filters.")


def _print_results(results, empty: str) -> None:
    if not results:
        click.echo(empty)
    for rank, r in enumerate(results, start=1):
        where = ", ".join(x for x in (r.city, r.country) if x)
        click.echo(f"{rank:>2}. {r.title}  [{r.kind}{'; ' + where if where else ''}]  {r.score:.3f}")
        click.echo(f"    {r.doc_id}")
        click.echo(f"    {r.snippet}\n")


@click.command()
@click.argument("doc_id")
@click.option("--k", default=10, show_default=True, type=int, help="How many documents.")
@json_option
@data_option
def similar(doc_id: str, k: int, as_json: bool, settings: Settings) -> None:
    """Practices most like the document DOC_ID.

    \b
    kb similar mx-helsinki-energy-challenge-coal-exit --k 5
    """
    with open_kb(settings) as kb:
        results = kb.similar(doc_id, k=k)
    if as_json:
        print_json({"doc_id": doc_id, "results": [r.to_json() for r in results]})
    else:
        _print_results(results, "This document has no passages to compare.")


@click.command("eval")
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="JSONL: _id, text, optional filters.")
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="BEIR TSV with header query-id, corpus-id, score (graded).")
@click.option("--mode", default="hybrid", show_default=True, type=click.Choice(["hybrid", "dense", "keyword"]))
@click.option("--slice", "slice_", help="Only the queries of this slice (documents, own_words, languages, typos, ...).")
@click.option("--split", type=click.Choice(["dev", "test"]), help="Only the dev (tuned on) or the test (held-out) half.")
@click.option("--run", "run_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a TREC run file.")
@json_option
@data_option
def evaluate(queries: Path, qrels: Path, mode: str, slice_: str | None, split: str | None, run_path: Path | None,
             as_json: bool, settings: Settings) -> None:
    """nDCG@10, Recall@100 and MRR@10 of the index in --data on judged queries, and how often
    queries judged to have no answer (and answerable ones) were flagged as weak matches.

    \b
    kb eval --queries corpus/eval/queries.jsonl --qrels corpus/eval/qrels.tsv --mode hybrid
    kb eval --queries corpus/eval/queries.jsonl --qrels corpus/eval/qrels.tsv --slice languages --split test
    """
    try:
        loaded_queries, loaded_qrels = _selected(load_queries(queries), slice_, split), load_qrels(qrels)
    except EvaluationError as exc:
        raise click.UsageError(str(exc)) from exc
    responses = {}

    def searcher(query):
        try:
            responses[query.id] = kb.search(query.text, k=100, mode=mode, filters=query.filters)
        except SearchError as exc:
            click.echo(f"query {query.id}: {exc}", err=True)
            return []
        return [(r.doc_id, r.score) for r in responses[query.id].results]

    with open_kb(settings) as kb:
        metrics, run = run_eval(loaded_queries, loaded_qrels, searcher)
        for query in loaded_queries:  # those without judgements too: the weak-match figures need them
            if query.id not in responses:
                searcher(query)
    metrics["corrected"] = sum(r.corrected is not None for r in responses.values())
    metrics["weak_match"] = weak_match_rates(loaded_queries, loaded_qrels, {i: r.weak_match for i, r in responses.items()})
    if run_path:
        write_run(run, run_path, f"kb-{mode}")
    if as_json:
        print_json({"mode": mode, **metrics})
    else:
        click.echo(f"{mode}: " + ", ".join(f"{m} {v}" for m, v in metrics.items()))


@click.command()
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
    with open_kb(settings) as kb:
        response = kb.suggest_partners(challenge, Profile(city, country, population, domains), k=k)
    if as_json:
        print_json(response.to_json())
        return
    if response.weak_match:
        click.echo("No pilot city has documented a practice that matches this challenge well.")
    for rank, s in enumerate(response.suggestions, start=1):
        click.echo(f"{rank}. {s.city} ({s.country})  {s.score:.3f}")
        for reason in s.reasons:
            click.echo(f"   - {reason}")


@click.command("eval-partners")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slice", "slice_", help="Only the challenges of this slice (documents, own_words).")
@click.option("--split", type=click.Choice(["dev", "test"]), help="Only the dev (tuned on) or the test (held-out) half.")
@json_option
@data_option
def eval_partners(cases: Path, slice_: str | None, split: str | None, as_json: bool, settings: Settings) -> None:
    """hit@1, hit@5 and MRR of partner suggestions on judged twin challenges (JSONL).

    \b
    kb eval-partners corpus/eval/partners.jsonl --slice own_words --split test
    """
    try:
        loaded = _selected(load_partner_cases(cases), slice_, split)
    except EvaluationError as exc:
        raise click.UsageError(str(exc)) from exc
    with open_kb(settings) as kb:
        metrics, run = evaluate_partners(loaded, lambda c: [s.city for s in kb.suggest_partners(
            c.challenge, Profile(c.twin, c.country, c.population), k=10).suggestions])
    if as_json:
        print_json({**metrics, "suggested": run})
    else:
        click.echo(", ".join(f"{m} {v}" for m, v in metrics.items()))
