"""A model exported to ONNX and run by ONNX Runtime: queries fast, passages without PyTorch.

One short text is where PyTorch is slowest: most of its time goes to per-layer overhead. ONNX
Runtime runs the same graph with little of it, and the int8 variant (weights quantised per
channel, activations per query) halves the arithmetic again; README, "Performance", gives the
figures and the rankings each variant gives. The fp32 variant embeds passages in a process that
has no PyTorch (an app server publishing a case note). The export is made once, by `kb index`,
beside the vector index, and both variants are checked against the PyTorch model when made.

A backend can be exported when it offers `export_key`, `onnx_graph()` (the module and example
inputs by name), `onnx_feeds(directory, manifest)` (what turns texts into the graph's inputs),
`save_for_onnx(directory)` (the files those feeds read, if any) and `reference_queries(texts)`
(see kb/embedding/sentence_transformers.py, kb/embedding/e5.py); `onnx_keep_fp32` names the
matrix products its int8 variant must leave in fp32."""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kb.embedding.base import EmbedderError, cpu_flags, give_back_memory, padded, sha256_file

OPSET = 17
# How exports are made; an export of another format is made again (5: e5 without its token
# embeddings, which the graph is given; 6: e5's attention one fused operator, int8 in that variant).
FORMAT = 6
TOKENIZER_FILE, MANIFEST_FILE = "tokenizer.json", "manifest.json"
# variant: (file, the least cosine to PyTorch fp32 it must keep on every probe text)
VARIANTS = {"fp32": ("model.onnx", 0.9999), "int8": ("model-int8.onnx", 0.98)}

Feeds = Callable[[Sequence[str]], dict[str, np.ndarray]]


class TokenizerFeeds:
    """The inputs of a graph that takes token ids, from the export's own tokenizer.json."""

    def __init__(self, directory: Path, manifest: dict):
        from tokenizers import Tokenizer

        self.max_tokens = int(manifest["max_tokens"])
        self.inputs = tuple(manifest["inputs"])
        self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        self.tokenizer.no_padding()  # padded per batch below, to its longest text only
        # It counts whole texts, as chunking needs; __call__ cuts what the model cannot read.
        self.tokenizer.no_truncation()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def __call__(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        # encode_batch hands work to a thread pool: worth it for a batch, not for one query
        encodings = self.tokenizer.encode_batch(list(texts)) if len(texts) > 1 else [self.tokenizer.encode(texts[0])]
        # as the tokenizer's own truncation does for one text: its first max_tokens - 1 tokens and
        # the closing special token (</s>, [SEP])
        ids, mask = padded([e.ids if len(e.ids) <= self.max_tokens else e.ids[:self.max_tokens - 1] + e.ids[-1:]
                            for e in encodings], pad=0)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return {name: feeds[name] for name in self.inputs}


class OnnxEncoder:
    """One exported variant and the feeds that read texts for it; `encode` gives normalised vectors."""

    def __init__(self, directory: Path, manifest: dict, variant: str, feeds: Feeds, lean: bool = False):
        import onnxruntime as ort

        self.variant = variant
        self.dim = int(manifest["dim"])
        self.max_tokens = int(manifest["max_tokens"])
        self.query_prefix = manifest.get("query_prefix", "")
        self.passage_prefix = manifest.get("passage_prefix", "")
        self.feeds = feeds
        options = ort.SessionOptions()
        # As many threads as OMP_NUM_THREADS says (kb serve sets it to each worker's share of
        # the cores), and idle threads must not spin on cores that other workers need.
        options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if lean:  # for a session that lives for one call: no second, pre-packed copy of the weights
            options.add_session_config_entry("session.disable_prepacking", "1")  # (made in 0.14 s, not 0.23)
        model = directory / VARIANTS[variant][0]
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])

    @property
    def runtime(self) -> str:
        return f"onnxruntime {self.variant}"

    @classmethod
    def load(cls, directory: Path, backend, variant: str, lean: bool = False) -> OnnxEncoder | None:
        """The `variant` exported in `directory` from `backend`, if it is there and intact."""
        manifest = current(directory, backend.export_key, variant)
        return cls(directory, manifest, variant, backend.onnx_feeds(directory, manifest), lean) if manifest else None

    def encode(self, texts: Sequence[str], prefix: str | None = None) -> np.ndarray:
        """Vectors of `texts`, read after `prefix` (default: the query prefix)."""
        prefix = self.query_prefix if prefix is None else prefix
        (vectors,) = self.session.run(None, self.feeds([prefix + t for t in texts]))
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def reduced_range() -> bool:
    """Whether int8 weights must keep to 7 bits on this CPU. Without VNNI (AVX2, AVX-512 without
    it), ONNX Runtime multiplies u8 activations by s8 weights with an instruction that saturates
    pairs of products at 16 bits: here (AVX2) e5's lowest cosine to fp32 on the eval queries was
    0.968 with 8-bit weights, 0.997 with 7-bit ones. With VNNI the full range is exact."""
    flags = cpu_flags()  # on ARM, or where no flags can be read, nothing saturates so
    return "sse4_2" in flags and flags.isdisjoint({"avx512_vnni", "avx_vnni", "amx_int8"})


def current(directory: Path, key: str, variant: str) -> dict | None:
    """The manifest of the export in `directory` if it holds `variant` of the model `key`, intact,
    and made for a CPU like this one (see `reduced_range`)."""
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    expected = manifest.get("variants", {}).get(variant, {}).get("sha256")
    if (manifest.get("key") != key or manifest.get("format") != FORMAT or expected is None
            or manifest.get("reduce_range", False) != reduced_range()
            or expected != sha256_file(directory / VARIANTS[variant][0])):
        return None
    return manifest


def _matching_nodes(model: Path, patterns: Sequence[str]) -> list[str]:
    """Names of the graph's nodes that match any of `patterns` (regular expressions)."""
    if not patterns:
        return []
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    return [node.name for node in graph.node if any(re.search(p, node.name) for p in patterns)]


def export_apart(backend, directory: Path, probe: Sequence[str]) -> None:
    """`export`, in a process of its own unless `backend` has its model loaded here already.
    Exporting holds the model, its graph and the optimiser's and quantiser's copies of it (e5:
    1.4 GB at the peak); all of it is given back when that process ends, before this one loads
    what it needs (`kb index` then peaks at the export's own peak, not at the sum of both)."""
    if backend.loaded:
        export(backend, directory, probe)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as apart:
            apart.submit(export, backend, directory, probe, release=True).result()
    except BrokenProcessPool as exc:
        raise EmbedderError(f"the export's process ended before it finished (out of memory?): {exc}") from exc


def export(backend, directory: Path, probe: Sequence[str], release: bool = False) -> None:
    """Export `backend` to `directory`: its fp32 graph, an int8 quantisation of it, and what its
    feeds read (a tokenizer), nothing else: files of an earlier format are deleted. The export is
    kept only if every variant reproduces the model on `probe`, and its manifest is written last,
    so a half-made or disagreeing export is never loaded. The graph is written to disk as it is
    made, then optimised and quantised from there; with `release`, the backend's model is let go
    of once its graph is written (the probe's reference vectors are made before)."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST_FILE).unlink(missing_ok=True)
    for stale in directory.iterdir():
        if stale.is_file():
            stale.unlink()
    fp32, int8 = (directory / VARIANTS[v][0] for v in ("fp32", "int8"))
    reference = backend.reference_queries(probe)
    try:
        graph, example = backend.onnx_graph()
        # read from the model before it is let go of (MiniLM's would load it again)
        manifest = {"key": backend.export_key, "dim": backend.dim, "max_tokens": backend.max_tokens,
                    "query_prefix": backend.query_prefix, "passage_prefix": backend.passage_prefix,
                    "inputs": list(example), "opset": OPSET, "format": FORMAT, "reduce_range": reduced_range(),
                    "variants": {}}
        axes = {name: {0: "batch", 1: "tokens"} for name in example}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes; the probe below is the real check
            torch.onnx.export(
                graph, tuple(example.values()), str(fp32), input_names=manifest["inputs"],
                output_names=["embedding"], dynamic_axes={**axes, "embedding": {0: "batch"}},
                opset_version=OPSET, dynamo=False,
            )
            backend.save_for_onnx(directory)  # (MiniLM's tokenizer is read from the model too)
            del graph, example
            if release:
                backend.release()
            # Both tools below log advice that would not change what they make (the optimiser's
            # patterns it did not find, the quantiser's advice to pre-process).
            logging.disable(logging.WARNING)
            try:
                # The transformer's common patterns become ONNX Runtime's fused operators (a
                # residual add with its layer norm, a bias with its GELU): fewer passes over the
                # activations, the same arithmetic. With fewer fp32 layers in e5's int8 variant
                # (e5.py), an e5 query went from 8.5 to 4.7 ms (`make bench`).
                # Told the heads, it also makes each layer's attention one operator: an e5 query
                # (int8, the attention quantised whole; SciFact's claims, one thread) went from
                # 9.1 to 8.3 ms, passages (fp32, 8 a batch, two threads) from 11.8 to 14.5 a second.
                optimize_model(str(fp32), model_type="bert", opt_level=1, num_heads=backend.onnx_heads,
                               hidden_size=backend.dim if backend.onnx_heads else 0).save_model_to_file(str(fp32))
                give_back_memory()
                # The matrix products are quantised per output channel, and a token table in the
                # graph too (MiniLM's; e5's stays 4-bit outside it, e5.py). Norms stay fp32:
                # quantising them costs far more agreement than it saves time.
                quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8,
                                 reduce_range=reduced_range(),
                                 op_types_to_quantize=["MatMul", "Gather", "Attention"],
                                 nodes_to_exclude=_matching_nodes(fp32, backend.onnx_keep_fp32),
                                 # the fused operators' outputs have no inferred type: they are fp32
                                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
                give_back_memory()
            finally:
                logging.disable(logging.NOTSET)
    except EmbedderError:
        raise
    except Exception as exc:  # the exporter raises many kinds; all mean "this model cannot be exported"
        raise EmbedderError(f"cannot export the model to ONNX ({exc.__class__.__name__}: {exc})") from exc
    feeds = backend.onnx_feeds(directory, manifest)
    for variant, (file, least) in VARIANTS.items():
        vectors = OnnxEncoder(directory, manifest, variant, feeds).encode(probe)
        agreement = float(np.min(np.sum(vectors * reference, axis=1)))
        if agreement < least:
            raise EmbedderError(
                f"the {variant} ONNX export disagrees with the model (cosine {agreement:.4f} < {least})")
        manifest["variants"][variant] = {"sha256": sha256_file(directory / file),
                                         "min_cosine_vs_torch": round(agreement, 5)}
    tmp = directory / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, directory / MANIFEST_FILE)
