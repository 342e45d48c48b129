"""Fixtures: a deterministic fake embedder and small corpora in temporary folders."""

from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import pytest

from kb.embedding.fake import FakeEmbedder
from kb.knowledge_base import KnowledgeBase
from kb.search import search

pytest_plugins = ["tests.browsing"]  # the browser tests' server, Chromium and screenshots

DOCS = {
    "measures/heat.md": """\
        ---
        id: heat
        title: Phasing coal out of district heating
        kind: measure
        city: Helsinki
        country: Finland
        domains: [energy]
        levers: [technology]
        date: 2024-05
        ---
        ## Challenge
        The district heating network burns coal and must stop.
        ## What was done
        Large heat pumps and excess heat from data centres replace coal boilers.
        """,
    "measures/bus.md": """\
        ---
        id: bus
        title: Free buses to cut car trips
        kind: measure
        city: Communauté Urbaine de Dunkerque
        country: France
        domains: [mobility]
        levers: [governance-policy]
        ---
        ## Challenge
        Too many car trips in the city centre.
        ## What was done
        The bus network became free of charge for everyone.
        """,
    "workshops/visit.md": """\
        ---
        id: visit
        title: Site visit to a heat pump plant
        kind: workshop_output
        module: co-creation
        city: Helsinki
        country: Finland
        domains: [energy]
        sample: true
        ---
        Twin cities visited the heat pump plant that replaces coal in district heating.
        """,
    "portal/contract.md": """\
        ---
        id: contract
        title: Climate City Contract
        kind: portal_resource
        domains: [energy, mobility]
        levers: [governance-policy]
        language: en
        ---
        A city-led plan with commitments, an action plan and an investment plan.
        """,
}

CITIES = """\
city,country,role,cohort,population,lat,lon,pilot_project,domains
Helsinki,Finland,pilot,3,656000,60.17,24.94,,energy
Communauté Urbaine de Dunkerque,France,pilot,3,,,,,mobility
Oulu,Finland,twin,1,,,,,
"""


def find(kb, query: str, **kwargs) -> list:
    """The results of a search, without the rest of the response."""
    return search(kb, query, **kwargs).results


def write_corpus(root: Path, docs: dict[str, str] | None = None, cities: str | None = CITIES) -> Path:
    for rel, text in (DOCS if docs is None else docs).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    if cities is not None:
        (root / "cities.csv").write_text(cities, encoding="utf-8")
    return root


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def kb(tmp_path: Path, embedder: FakeEmbedder):
    base = KnowledgeBase(tmp_path / "data", embedder=embedder)
    yield base
    base.close()


@pytest.fixture
def another(embedder: FakeEmbedder):
    """Opens a knowledge base on a data folder as another process would; each is closed after the
    test. One left to the garbage collector may be collected on a thread of its own PostgreSQL
    pool, which cannot stop itself (an error pytest then pins on whichever test runs)."""
    opened: list[KnowledgeBase] = []

    def open_(data: Path, **kwargs) -> KnowledgeBase:
        opened.append(KnowledgeBase(data, **{"embedder": embedder, **kwargs}))
        return opened[-1]

    yield open_
    for base in opened:
        base.close()


@pytest.fixture
def indexed(kb: KnowledgeBase, corpus: Path) -> KnowledgeBase:
    from indexer import read_corpus, sync

    report = sync(kb, read_corpus(corpus))
    assert not report.errors
    return kb


@pytest.fixture
def fake_model(monkeypatch, embedder: FakeEmbedder) -> FakeEmbedder:
    """Every KnowledgeBase opened by the CLI gets the fake embedder."""
    monkeypatch.setattr("kb.core.load_embedder", lambda *a, **k: embedder)
    monkeypatch.setattr("kb.core.passage_embedder", lambda *a, **k: embedder)
    return embedder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "test-output"


@pytest.fixture(scope="session")
def shipped_data(tmp_path_factory) -> Path:
    """The shipped corpus indexed with the real model, once per test session, with the query
    encoder exported as `kb index` exports it."""
    from indexer import read_corpus, sync

    data = tmp_path_factory.mktemp("shipped") / "data"
    base = KnowledgeBase(data)
    report = sync(base, read_corpus(REPO / "corpus"))
    base.prepare_queries()  # as kb index does
    base.close()
    assert not report.errors, report.errors
    return data


@pytest.fixture(scope="session")
def pg_cluster():
    """A real PostgreSQL server for the whole session (tests/pg_cluster.py); each test that
    needs one asks it for a fresh database."""
    from tests.pg_cluster import Cluster

    cluster = Cluster(free_port())
    yield cluster
    cluster.destroy()


@pytest.fixture(autouse=True)
def store_backend(request, monkeypatch):
    """`KB_TEST_STORE=postgresql make test-fast` runs the tests with every knowledge base in a
    fresh PostgreSQL database (KB_STORE) instead of SQLite."""
    if os.environ.get("KB_TEST_STORE") == "postgresql":
        if request.node.get_closest_marker("sqlite_only"):
            pytest.skip("about the SQLite store")
        monkeypatch.setenv("KB_STORE", request.getfixturevalue("pg_cluster").new_database())
