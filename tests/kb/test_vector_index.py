"""Contract of the vector index (every implementation) and of its files on disk."""

import numpy as np
import pytest

from kb.vector_index import FaissIndex, IndexFiles, NumpyIndex, build_index

IMPLEMENTATIONS = {"numpy": NumpyIndex, "faiss-flat": FaissIndex}


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(50, 8)).astype(np.float32)
    return np.arange(100, 150, dtype=np.int64), m / np.linalg.norm(m, axis=1, keepdims=True)


def exact_top(ids, matrix, query, k, allowed=None):
    scores = matrix @ query
    order = [i for i in np.argsort(-scores) if allowed is None or ids[i] in set(allowed)]
    return ids[order[:k]].tolist()


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_search_is_exact_with_and_without_an_allowed_set(vectors, implementation):
    ids, matrix = vectors
    index = IMPLEMENTATIONS[implementation](8)
    index.add(ids, matrix)
    query = matrix[3]
    assert index.search(query, 5)[1].tolist() == exact_top(ids, matrix, query, 5)
    allowed = ids[::7]
    assert index.search(query, 5, allowed)[1].tolist() == exact_top(ids, matrix, query, 5, allowed)
    assert len(index.search(query, 100, allowed)[1]) == len(allowed)
    scores = index.search(query, 5)[0]
    assert np.all(np.diff(scores) <= 0) and np.isclose(scores[0], 1.0, atol=1e-5)  # best first; itself
    assert len(index.search(query, 0)[1]) == 0


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_remove_and_round_trip_through_files(tmp_path, vectors, implementation):
    ids, matrix = vectors
    index = IMPLEMENTATIONS[implementation](8)
    index.add(ids, matrix)
    index.remove(ids[:10])
    assert index.count() == 40 and ids[0] not in index.search(matrix[0], 50)[1]
    files = IndexFiles(tmp_path)
    copy = files.load(files.save(index, "m", 1))
    assert copy.kind == index.kind and copy.count() == 40
    assert copy.search(matrix[20], 3)[1].tolist() == index.search(matrix[20], 3)[1].tolist()


def test_the_implementations_agree_on_a_larger_set():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(2000, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    ids = np.arange(5, 2005, dtype=np.int64)
    exact, faiss = build_index(ids, matrix, "numpy"), build_index(ids, matrix, "flat")
    for query in matrix[:20] + 0.1:
        assert exact.search(query, 10)[1].tolist() == faiss.search(query, 10)[1].tolist()


def test_a_crash_during_save_leaves_the_previous_index_loadable(tmp_path, vectors, monkeypatch):
    ids, matrix = vectors
    files = IndexFiles(tmp_path)
    first = FaissIndex(8)
    first.add(ids[:10], matrix[:10])
    saved = files.save(first, "m", 1)

    bigger = FaissIndex(8)
    bigger.add(ids, matrix)
    calls = []

    from kb.vector_index import files as index_files

    def crash_on_manifest(path, data, real=index_files._write_atomically):
        calls.append(path.name)
        if path.name == "manifest.json":
            raise KeyboardInterrupt  # killed between writing the index file and swapping the manifest
        real(path, data)

    monkeypatch.setattr(index_files, "_write_atomically", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        files.save(bigger, "m", 2)
    assert calls[-1] == "manifest.json"
    assert files.manifest() == saved
    assert files.load(saved).count() == 10


def test_a_corrupt_index_file_is_not_loaded(tmp_path, vectors):
    ids, matrix = vectors
    files = IndexFiles(tmp_path)
    index = FaissIndex(8)
    index.add(ids, matrix)
    manifest = files.save(index, "m", 1)
    (tmp_path / manifest.index_file).write_bytes(b"garbage")
    assert files.load(manifest) is None


def test_the_ivf_index_is_close_to_exact_and_exact_when_filtered():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(200, 16)).astype(np.float32)
    matrix = centres[rng.integers(0, 200, 20_000)] + 0.1 * rng.normal(size=(20_000, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    ids = np.arange(20_000, dtype=np.int64)
    exact, approximate = FaissIndex.build(ids, matrix, "flat"), FaissIndex.build(ids, matrix, "ivf")
    assert approximate.kind == "ivf" and approximate.count() == 20_000
    queries = matrix[:50] + 0.05 * rng.normal(size=(50, 16)).astype(np.float32)
    recall = np.mean([len(set(exact.search(q, 10)[1]) & set(approximate.search(q, 10)[1])) / 10 for q in queries])
    assert recall >= 0.95
    allowed = ids[::97]
    for q in queries[:5]:
        assert approximate.search(q, 5, allowed)[1].tolist() == exact.search(q, 5, allowed)[1].tolist()
    assert FaissIndex.from_bytes(approximate.to_bytes()).kind == "ivf"


def test_the_kind_is_chosen_by_size_unless_set():
    from kb.vector_index import IVF_FROM, choose_kind

    assert choose_kind(10) == "flat" and choose_kind(IVF_FROM) == "ivf"
    assert choose_kind(IVF_FROM * 2, "flat") == "flat" and choose_kind(10, "ivf") == "ivf"
