"""Base codes shared by the motif stages: A0 C1 G2 T3, N and padding 4; reverse complements."""

from __future__ import annotations

from collections.abc import Sequence as SeqType

import numpy as np

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate("ACGT"):
    _CODE[ord(_b)] = _i
_COMP = str.maketrans("ACGTN", "TGCAN")


def rc(s: str) -> str:
    """Reverse complement of an upper-case ACGTN string."""
    return s.translate(_COMP)[::-1]


def codes(seqs: SeqType[str]) -> np.ndarray:
    """``[n, Lmax]`` base codes (A0 C1 G2 T3; N and padding 4)."""
    n = len(seqs)
    lengths = {len(s) for s in seqs}
    if len(lengths) == 1 and n:
        L = lengths.pop()
        return _CODE[np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)].reshape(n, L)
    Lmax = max(lengths, default=0)
    X = np.full((n, Lmax), 4, dtype=np.int64)
    for i, s in enumerate(seqs):
        X[i, : len(s)] = _CODE[np.frombuffer(s.encode("ascii"), dtype=np.uint8)]
    return X


def kmer_code(s: str) -> int:
    c = 0
    for ch in s:
        c = c * 4 + "ACGT".index(ch)
    return c
