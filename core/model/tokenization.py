"""Tokenization and the token -> nucleotide span map.

Every tokenizer family turns a DNA string into an :class:`Encoded`: token ids plus, for each token, the half-open
nucleotide span ``[start, end)`` it covers (``(-1, -1)`` for special tokens). Everything downstream (attention
tracks, window stitching, head views) only looks at these spans, so the families plug into one map:

* ``kmer``: DNABERT overlapping k-mers (k = 3..6, stride 1): token ``j`` covers ``[j, j+k)``. With stride ``s``
  (GenomeNet-style) token ``j`` covers ``[j*s, j*s+k)``.
* ``nonoverlap``: Nucleotide-Transformer 6-mers from the left; a chunk with N, or the trailing remainder, becomes
  single-base tokens.
* ``bpe``: any Hugging Face fast tokenizer (DNABERT-2 style); spans come from its offset mapping.

DNABERT vocabulary: ``[PAD] [UNK] [CLS] [SEP] [MASK]`` then every k-mer in ``itertools.product('ATCG')`` order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import InputError

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
DNABERT_VOCAB_K = {69: 3, 261: 4, 1029: 5, 4101: 6}
DNABERT_BASES = "ATCG"
# base -> digit in the itertools.product('ATCG') order; N and anything else -> 4
_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate(DNABERT_BASES):
    _CODE[ord(_b)] = _i


def dnabert_vocab(k: int) -> list[str]:
    """DNABERT's vocab.txt lines for k-mer size ``k`` (without the trailing empty line of the 6-mer file)."""
    if k not in (3, 4, 5, 6):
        raise ValueError(f"DNABERT has k-mer sizes 3, 4, 5 and 6, not {k}")
    return SPECIAL_TOKENS + ["".join(p) for p in itertools.product(DNABERT_BASES, repeat=k)]


def seq_to_kmers(seq: str, k: int, stride: int = 1) -> list[str]:
    """Overlapping k-mers of ``seq`` (DNABERT's ``seq2kmer`` for stride 1): ``(L-k)//stride + 1`` strings."""
    return [seq[i : i + k] for i in range(0, len(seq) - k + 1, stride)]


def kmer_text(seq: str, k: int) -> str:
    """The space-separated k-mer sentence DNABERT's tokenizer expects."""
    return " ".join(seq_to_kmers(seq.upper(), k))


@dataclass(frozen=True)
class Encoded:
    """One tokenized window.

    ids:   int64 ``[T]`` token ids, special tokens included.
    spans: int64 ``[T, 2]`` nucleotide span ``[start, end)`` of each token relative to the window start;
           ``(-1, -1)`` for special tokens.
    """

    ids: np.ndarray
    spans: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.shape[0])


class TokenizerFamily(Protocol):
    family: str
    max_tokens: int  # model window, special tokens included
    pad_id: int

    def encode(self, seq: str) -> Encoded: ...
    def window_nt(self) -> int: ...  # most nucleotides one window can hold
    def min_length(self) -> int: ...  # shortest sequence that yields a token
    def tokens(self, ids: np.ndarray) -> list[str]: ...


class KmerTokenizer:
    """Overlapping k-mers with stride ``stride`` (DNABERT: stride 1) against a k-mer vocabulary."""

    family = "kmer"

    def __init__(self, vocab: dict[str, int], k: int, stride: int = 1, max_tokens: int = 512):
        if stride < 1 or stride > k:
            raise ValueError("stride must be between 1 and k")
        self.vocab = dict(vocab)
        self.k, self.stride, self.max_tokens = k, stride, max_tokens
        try:
            self.pad_id = vocab["[PAD]"]
            self.unk_id = vocab["[UNK]"]
            self.cls_id = vocab["[CLS]"]
            self.sep_id = vocab["[SEP]"]
        except KeyError as exc:
            raise ValueError(f"k-mer vocabulary lacks the special token {exc}") from None
        # table: base-4 index of a k-mer (ATCG digits) -> token id
        self._table = np.full(4**k, self.unk_id, dtype=np.int64)
        for i, p in enumerate(itertools.product(DNABERT_BASES, repeat=k)):
            self._table[i] = vocab.get("".join(p), self.unk_id)
        self._powers = 4 ** np.arange(k - 1, -1, -1, dtype=np.int64)
        self._inv = {v: t for t, v in vocab.items()}

    @classmethod
    def dnabert(cls, k: int, max_tokens: int = 512) -> KmerTokenizer:
        return cls({t: i for i, t in enumerate(dnabert_vocab(k))}, k, 1, max_tokens)

    def min_length(self) -> int:
        return self.k

    def window_nt(self) -> int:
        return (self.max_tokens - 3) * self.stride + self.k

    def encode(self, seq: str) -> Encoded:
        L, k, s = len(seq), self.k, self.stride
        if L < k:
            raise InputError(f"sequence of length {L} is shorter than the k-mer size {k}")
        codes = _CODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
        n = (L - k) // s + 1
        starts = np.arange(n, dtype=np.int64) * s
        win = codes[starts[:, None] + np.arange(k)]  # [n, k]
        idx = np.minimum(win, 3) @ self._powers
        kmer_ids = np.where((win == 4).any(axis=1), self.unk_id, self._table[idx])
        ids = np.concatenate([[self.cls_id], kmer_ids, [self.sep_id]]).astype(np.int64)
        spans = np.full((n + 2, 2), -1, dtype=np.int64)
        spans[1:-1, 0] = starts
        spans[1:-1, 1] = starts + k
        return Encoded(ids, spans)

    def tokens(self, ids: np.ndarray) -> list[str]:
        return [self._inv.get(int(i), "[UNK]") for i in ids]


class NonOverlappingTokenizer:
    """Nucleotide-Transformer style: non-overlapping ``k``-mers from the left; a chunk containing N and the trailing
    remainder are split into single-base tokens. Only a ``cls`` token is prepended (no end token)."""

    family = "nonoverlap"

    def __init__(
        self,
        vocab: dict[str, int],
        k: int = 6,
        max_tokens: int = 1000,
        cls_token: str = "<cls>",
        pad_token: str = "<pad>",
        unk_token: str = "<unk>",
        eos_token: str | None = None,
    ):
        self.vocab, self.k, self.max_tokens = dict(vocab), k, max_tokens
        self.cls_id = vocab[cls_token]
        self.pad_id = vocab[pad_token]
        self.unk_id = vocab[unk_token]
        self.eos_id = vocab[eos_token] if eos_token else None
        self._inv = {v: t for t, v in vocab.items()}

    def min_length(self) -> int:
        return 1

    def window_nt(self) -> int:
        return (self.max_tokens - 1 - (self.eos_id is not None)) * self.k

    def encode(self, seq: str) -> Encoded:
        ids, spans = [self.cls_id], [(-1, -1)]
        k, L = self.k, len(seq)
        for s in range(0, L, k):
            chunk = seq[s : s + k]
            if len(chunk) == k and "N" not in chunk and chunk in self.vocab:
                ids.append(self.vocab[chunk])
                spans.append((s, s + k))
            else:
                for j, b in enumerate(chunk):
                    ids.append(self.vocab.get(b, self.unk_id))
                    spans.append((s + j, s + j + 1))
        if self.eos_id is not None:
            ids.append(self.eos_id)
            spans.append((-1, -1))
        return Encoded(np.asarray(ids, dtype=np.int64), np.asarray(spans, dtype=np.int64))

    def tokens(self, ids: np.ndarray) -> list[str]:
        return [self._inv.get(int(i), "<unk>") for i in ids]


class OffsetsTokenizer:
    """Any Hugging Face fast tokenizer (BPE, e.g. DNABERT-2): spans from ``offset_mapping``."""

    family = "bpe"

    def __init__(self, hf_tokenizer, max_tokens: int = 512):
        self.hf = hf_tokenizer
        self.max_tokens = max_tokens
        self.pad_id = hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else 0

    def min_length(self) -> int:
        return 1

    def window_nt(self) -> int:
        # a BPE token covers at least one base; this bound always fits
        return self.max_tokens - 2

    def encode(self, seq: str) -> Encoded:
        enc = self.hf(seq, return_offsets_mapping=True, return_special_tokens_mask=True, add_special_tokens=True)
        ids = np.asarray(enc["input_ids"], dtype=np.int64)
        spans = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
        special = np.asarray(enc["special_tokens_mask"], dtype=bool)
        spans[special] = -1
        return Encoded(ids, spans)

    def tokens(self, ids: np.ndarray) -> list[str]:
        return self.hf.convert_ids_to_tokens([int(i) for i in ids])


# --------------------------------------------------------------------------------------------------------------
# token scores -> nucleotide scores


def spread_to_nucleotides(token_scores: np.ndarray, spans: np.ndarray, length: int) -> np.ndarray:
    """Per-nucleotide score = mean of the scores of the tokens covering that base (DNABERT-viz's rule).

    token_scores: ``[..., T]``; spans: ``[T, 2]`` (special tokens ``-1``); returns ``[..., length]``. Bases covered by
    no token get 0. For non-overlapping tokens this copies each token's score to its bases.
    """
    token_scores = np.asarray(token_scores, dtype=np.float64)
    real = spans[:, 0] >= 0
    s, e = spans[real, 0], spans[real, 1]
    vals = token_scores[..., real]
    lead = vals.shape[:-1]
    acc = np.zeros(lead + (length + 1,), dtype=np.float64)
    cov = np.zeros(length + 1, dtype=np.float64)
    np.add.at(acc, (..., s), vals)
    np.add.at(acc, (..., e), -vals)
    np.add.at(cov, s, 1.0)
    np.add.at(cov, e, -1.0)
    total = np.cumsum(acc, axis=-1)[..., :length]
    count = np.cumsum(cov)[:length]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return out


# --------------------------------------------------------------------------------------------------------------
# long sequences: windows and stitching


def plan_windows(length: int, window: int, overlap: int | None = None) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into windows of at most ``window`` bases overlapping by at least ``overlap``.

    Default overlap: a quarter of the window. The last window is aligned to the sequence end.
    """
    if length <= window:
        return [(0, length)]
    if overlap is None:
        overlap = window // 4
    overlap = max(0, min(overlap, window - 1))
    step = window - overlap
    starts = list(range(0, length - window, step)) + [length - window]
    return [(s, s + window) for s in starts]


def stitch_windows(tracks: list[np.ndarray], windows: list[tuple[int, int]], length: int) -> np.ndarray:
    """Combine per-window nucleotide tracks into one ``[length]`` track.

    Overlaps are combined by a linear cross-fade: inside an overlap each window's weight falls linearly towards its
    inner edge, so the stitched track moves smoothly from one window's values to the next (no step at the join).
    Outside overlaps a single window contributes with weight 1.
    """
    if len(windows) == 1:
        s, e = windows[0]
        out = np.zeros(length)
        out[s:e] = tracks[0]
        return out
    acc = np.zeros(length)
    wsum = np.zeros(length)
    for i, ((s, e), tr) in enumerate(zip(windows, tracks)):
        pos = np.arange(s, e)
        w = np.ones(e - s)
        if i > 0:  # overlap with the previous window on the left
            ov = windows[i - 1][1] - s
            if ov > 0:
                w = np.minimum(w, (pos - s + 1) / (ov + 1))
        if i < len(windows) - 1:  # overlap with the next window on the right
            ov = e - windows[i + 1][0]
            if ov > 0:
                w = np.minimum(w, (e - pos) / (ov + 1))
        acc[s:e] += w * tr
        wsum[s:e] += w
    return acc / np.where(wsum > 0, wsum, 1.0)


def _window_weights(windows: list[tuple[int, int]], i: int) -> np.ndarray:
    """Cross-fade weights of window ``i`` (see :func:`stitch_windows`)."""
    s, e = windows[i]
    pos = np.arange(s, e)
    w = np.ones(e - s)
    if i > 0:
        ov = windows[i - 1][1] - s
        if ov > 0:
            w = np.minimum(w, (pos - s + 1) / (ov + 1))
    if i < len(windows) - 1:
        ov = e - windows[i + 1][0]
        if ov > 0:
            w = np.minimum(w, (e - pos) / (ov + 1))
    return w


def stitch_stream(
    tracks: Iterable[np.ndarray], windows: list[tuple[int, int]], length: int
) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`stitch_windows` for window tracks that arrive one at a time, in window order.

    Yields ``(start, values)`` pieces of the stitched ``[length]`` track, in order, as soon as no later window
    covers them; together they are exactly ``stitch_windows(tracks, windows, length)``. Memory: about two windows,
    whatever the length.
    """
    base, acc, wsum = 0, np.zeros(0), np.zeros(0)
    for i, tr in enumerate(tracks):
        s, e = windows[i]
        if s > base:  # nothing later reaches before s: those bases are final
            k = min(s - base, len(acc))
            if k:
                yield base, acc[:k] / np.where(wsum[:k] > 0, wsum[:k], 1.0)
            acc, wsum, base = acc[k:], wsum[k:], base + k
            if s > base:  # a gap no window covers
                yield base, np.zeros(s - base)
                base = s
        if e - base > len(acc):
            grow = e - base - len(acc)
            acc, wsum = np.concatenate([acc, np.zeros(grow)]), np.concatenate([wsum, np.zeros(grow)])
        w = _window_weights(windows, i) if len(windows) > 1 else np.ones(e - s)
        acc[s - base : e - base] += w * tr
        wsum[s - base : e - base] += w
    if len(acc):
        yield base, acc / np.where(wsum > 0, wsum, 1.0)
        base += len(acc)
    if base < length:
        yield base, np.zeros(length - base)
