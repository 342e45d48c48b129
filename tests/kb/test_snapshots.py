"""Issue 18: app servers of one shared store publish their vector index in a common folder
(KB_INDEX_SNAPSHOTS); a new one starts from the snapshot that matches the store, and rebuilds
from the stored vectors when none does. Over a real PostgreSQL store."""

import shutil

from indexer import read_corpus, sync
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings


def server(folder, url, snapshots, embedder) -> KnowledgeBase:
    settings = Settings.from_env(data=str(folder), store=url, index_snapshots=str(snapshots))
    return KnowledgeBase(folder, embedder=embedder, settings=settings)


def test_a_new_server_starts_from_the_published_snapshot_of_this_state_of_this_store(pg_cluster, tmp_path, corpus,
                                                                                     embedder):
    url, snapshots = pg_cluster.new_database(), tmp_path / "snapshots"
    first = server(tmp_path / "a", url, snapshots, embedder)
    assert not sync(first, read_corpus(corpus)).errors  # kb index saves its index and publishes it
    assert (snapshots / "manifest.json").exists()

    second = server(tmp_path / "b", url, snapshots, embedder)
    assert second.refresh_index().status == "snapshot"
    assert [r.doc_id for r in second.search("coal heat pumps").results] == \
        [r.doc_id for r in first.search("coal heat pumps").results]
    assert second.refresh_index().status == "current"

    other_url = pg_cluster.new_database()  # another store with the same corpus, at the same version
    other = server(tmp_path / "e", other_url, tmp_path / "its-snapshots", embedder)
    sync(other, read_corpus(corpus))
    assert (other.store.version(), other.index.count()) == (first.store.version(), first.index.count())
    stranger = server(tmp_path / "f", other_url, snapshots, embedder)
    assert stranger.refresh_index().status == "rebuilt"

    first.remove(["bus"])  # the store moves on: the published snapshot is of an older state
    third = server(tmp_path / "c", url, snapshots, embedder)
    assert third.refresh_index().status == "rebuilt"  # and publishes the new state
    fourth = server(tmp_path / "d", url, snapshots, embedder)
    assert fourth.refresh_index().status == "snapshot"

    shutil.rmtree(tmp_path / "b" / "index")  # a server whose own index is gone takes the snapshot
    again = server(tmp_path / "b", url, snapshots, embedder)
    assert again.refresh_index().status == "snapshot" and again.index.count() == third.index.count()
    for kb in (first, second, third, fourth, again, other, stranger):
        kb.close()
