"""Position matrices, in ONE orientation everywhere in dnalens: ``[W, 4]``, rows are positions, columns A, C, G, T.
(memelite wants ``[4, W]``; :mod:`core.motifs.jaspar` transposes at that boundary only.)"""

from __future__ import annotations

from collections.abc import Sequence as SeqType

import numpy as np

from .seqcode import codes as _codes


def count_matrix(windows: SeqType[str]) -> np.ndarray:
    """Base counts ``[W, 4]`` (A, C, G, T) of equal-length windows; N is not counted."""
    if not windows:
        return np.zeros((0, 4))
    X = _codes(list(windows))
    return np.stack([(X == b).sum(axis=0) for b in range(4)], axis=1).astype(np.float64)


def probability_matrix(counts: np.ndarray, pseudocount: float = 1.0) -> np.ndarray:
    """``(counts + pseudocount/4) / (n + pseudocount)`` per column: a total pseudocount of 1 spread evenly."""
    n = counts.sum(axis=1, keepdims=True)
    return (counts + pseudocount / 4) / (n + pseudocount)


def information_matrix(ppm: np.ndarray) -> np.ndarray:
    """Information content per letter ``p * (2 - H)`` in bits against a uniform background."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(np.where(ppm > 0, ppm * np.log2(ppm), 0.0), axis=1, keepdims=True)
    return ppm * (2 - h)


def informative_core(ppm: np.ndarray, min_ic: float = 0.5) -> tuple[int, int]:
    """Half-open column range between the first and last column with information content >= ``min_ic`` bits."""
    ic = information_matrix(ppm).sum(axis=1)
    idx = np.flatnonzero(ic >= min_ic)
    if idx.size == 0:
        return 0, 0
    return int(idx[0]), int(idx[-1]) + 1


def consensus(ppm: np.ndarray, lower_below: float = 0.5) -> str:
    """Most likely base per column; lower case where its probability is below ``lower_below``."""
    out = []
    for row in ppm:
        b = "ACGT"[int(np.argmax(row))]
        out.append(b if row.max() >= lower_below else b.lower())
    return "".join(out)
