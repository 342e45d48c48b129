"""Issue 18: app servers sharing one PostgreSQL store, each with its own data folder (vector
index, keyword mirror, query encoder). Real server processes, a real PostgreSQL cluster, the
shipped corpus moved into it with `kb store copy`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.conftest import free_port
from tests.pg_cluster import Cluster
from tests.test_notes_processes import (Server, backup_while_four_clients_write, check_restored, twin_token,
                                        kill_9_while_publishing, note, publish, top_hit)

pytestmark = pytest.mark.model

QUERIES = ["fjärrvärme utan fossila bränslen", "heat pumps in apartment blocks", "energy community for tenants",
           "low emission zone enforcement", "reuse of building materials", "districct heeting"]


@pytest.fixture(scope="module")
def cluster():
    """A cluster of this module's own: one test stops it."""
    cluster = Cluster(free_port())
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def store_url(cluster, shipped_data):
    url = cluster.new_database()
    out = subprocess.run([sys.executable, "-m", "kb", "store", "copy", "--data", str(shipped_data), "--to", url],
                         capture_output=True, text=True, env={**os.environ, "KB_STORE": ""})
    assert out.returncode == 0, out.stderr
    assert "every table has the same rows and checksum" in out.stdout and "chunks" in out.stdout
    return url


def replica(root, shipped_data):
    """A new app server's data folder: empty but for the query encoder's export, which depends
    on the model alone (without it the server makes it at start, in about half a minute)."""
    folder = root / f"replica-{free_port()}"
    folder.mkdir()
    shutil.copytree(shipped_data / "onnx", folder / "onnx")
    return folder


@pytest.fixture(scope="module")
def servers(store_url, shipped_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("replicas")
    a, b = (Server(replica(root, shipped_data), store=store_url) for _ in range(2))
    yield a, b
    for server in (a, b):
        if server.proc.poll() is None:
            server.stop()


@pytest.fixture(scope="module")
def token(servers, store_url):
    out = subprocess.run([sys.executable, "-m", "kb", "users", "add", "umea", "--city", "Umeå", "--role", "pilot",
                          "--json", "--data", str(servers[0].data)], capture_output=True, text=True, check=True,
                         env={**os.environ, "KB_STORE": store_url})
    return json.loads(out.stdout)["token"]


def test_kb_store_copy_of_the_shipped_corpus_searches_exactly_alike(store_url, shipped_data, tmp_path):
    sqlite = KnowledgeBase.open(Settings.from_env(data=str(shipped_data), store=""))
    postgres = KnowledgeBase(tmp_path, embedder=sqlite.embedder, settings=Settings.from_env(data=str(tmp_path),
                                                                                          store=store_url))
    try:
        assert postgres.store.counts() == sqlite.store.counts()
        for query in QUERIES:
            for mode in ("hybrid", "dense", "keyword"):
                mine, theirs = (kb.search(query, k=10, mode=mode) for kb in (postgres, sqlite))
                assert [(r.doc_id, r.score, r.snippet) for r in mine.results] == \
                    [(r.doc_id, r.score, r.snippet) for r in theirs.results], (query, mode)
                assert (mine.weak_match, mine.corrected) == (theirs.weak_match, theirs.corrected)
    finally:
        sqlite.close()
        postgres.close()


def test_a_new_app_server_builds_its_index_from_the_stored_vectors(servers):
    for server in servers:
        log = server.output()
        assert "index rebuilt: 1" in log, log[-2000:]  # from the store's vectors: nothing was embedded
        assert httpx.get(server.url + "/healthz").json()["query_runtime"] == "onnxruntime int8"


def test_a_note_published_on_one_server_is_found_on_the_other_within_a_second(servers, token):
    a, b = servers
    assert top_hit(b.url, "qzxreplicaone") != "x"
    note_id = publish(a.url, token, note(1, "qzxreplicaone"))
    published = time.monotonic()
    while top_hit(b.url, "qzxreplicaone") != note_id:
        assert time.monotonic() - published < 1.0, "the other server did not find the note within 1 s"
        time.sleep(0.05)


def test_twenty_concurrent_publishes_through_both_servers_are_all_kept(servers, token):
    def client(c: int) -> list[tuple[str, str]]:
        url = servers[c % 2].url
        return [(publish(url, token, note(i, f"qzxrep{c}n{i}")), f"qzxrep{c}n{i}") for i in range(5)]

    with ThreadPoolExecutor(4) as pool:
        published = [item for batch in pool.map(client, range(4)) for item in batch]
    assert len({note_id for note_id, _ in published}) == 20
    for note_id, marker in published:
        for server in servers:
            assert httpx.get(f"{server.url}/api/docs/{note_id}").status_code == 200
            assert top_hit(server.url, marker) == note_id


def test_a_backup_of_postgresql_taken_while_four_clients_write_through_both_servers(servers, store_url, token,
                                                                                   tmp_path):
    """Issue 32: the same as over SQLite (tests/test_notes_processes.py), PostgreSQL's snapshot."""
    twins = {city: twin_token(servers[0].data, f"pg-{city.lower()}", city, store_url)
             for city in ("Chalkida", "Oulu")}
    written = backup_while_four_clients_write(list(servers), token, twins, tmp_path / "backups", store_url)
    check_restored(tmp_path / "backups", tmp_path / "restored", *written)


def test_while_postgresql_is_stopped_searches_get_503_then_200_within_2_s_of_its_return(servers, cluster):
    answers: list[tuple[float, int, str | None]] = []
    done = threading.Event()

    def load(c: int) -> None:
        i = 0
        with httpx.Client(timeout=30) as client:
            while not done.is_set():
                url = servers[c % 2].url
                response = client.get(url + "/api/search", params={"q": f"heat pumps {c} {i}"})
                answers.append((time.monotonic(), response.status_code, response.headers.get("retry-after")))
                i += 1

    threads = [threading.Thread(target=load, args=(c,)) for c in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    cluster.stop()
    stopped = time.monotonic()
    time.sleep(5)
    cluster.start()
    back = time.monotonic()
    time.sleep(3)
    done.set()
    for t in threads:
        t.join()
    assert {status for _, status, _ in answers} == {200, 503}
    assert all(retry == "2" for _, status, retry in answers if status == 503)
    assert all(status == 503 for at, status, _ in answers if stopped + 0.5 < at < back)
    assert all(status == 200 for at, status, _ in answers if at > back + 2), \
        [(round(at - back, 2), status) for at, status, _ in answers if at > back]


def test_kill_9_of_a_server_during_a_publish_loop_loses_no_acknowledged_note(servers, token, store_url):
    a, b = servers
    acknowledged = kill_9_while_publishing(a, token, "qzxrepkill")
    for note_id, marker in acknowledged:
        assert httpx.get(f"{b.url}/api/docs/{note_id}").status_code == 200
        assert top_hit(b.url, marker) == note_id


def test_a_server_whose_local_index_is_deleted_rebuilds_it_at_start(servers, store_url, token):
    a, b = servers
    if a.proc.poll() is None:
        a.stop()
    note_id = publish(b.url, token, note(99, "qzxrebuilt"))
    for derived in ("index", "keywords.sqlite3", "keywords.sqlite3-wal", "keywords.sqlite3-shm"):
        path = a.data / derived
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    again = Server(a.data, store=store_url)
    try:
        assert "index rebuilt" in again.output()
        assert top_hit(again.url, "qzxrebuilt") == note_id
    finally:
        again.stop()

