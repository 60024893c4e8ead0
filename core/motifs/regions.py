"""Stage 1: high-attention regions of each positive sequence become candidate strings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence as SeqType

import numpy as np

from .params import MotifParams


def contiguous_regions(cond: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """Maximal runs of True as half-open ``(start, end)``, kept when ``end - start >= min_len``."""
    cond = np.asarray(cond, dtype=bool)
    if cond.size == 0:
        return []
    d = np.diff(np.concatenate([[0], cond.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    keep = (ends - starts) >= min_len
    return [(int(s), int(e)) for s, e in zip(starts[keep], ends[keep])]


def high_attention_regions(score: np.ndarray, params: MotifParams = MotifParams()) -> list[tuple[int, int]]:
    """High-attention regions of one sequence's scores ``[L]`` under ``params.region_rule``."""
    score = np.asarray(score, dtype=np.float64)
    if score.size == 0:
        return []
    with np.errstate(invalid="ignore"):
        if params.region_rule == "dnabert-viz":
            cond = (score > np.mean(score)) & (score > params.min_factor * np.min(score))
        elif params.region_rule == "zscore":
            sd = np.std(score)
            cond = (score > np.mean(score) + params.z * sd) if sd > 0 else np.zeros(score.shape, bool)
        else:
            cond = (score >= np.quantile(score, params.quantile)) & (score > np.min(score))
    return contiguous_regions(cond, params.min_len)


def _batch_conditions(S: np.ndarray, params: MotifParams) -> np.ndarray:
    """The region rule on a ``[n, L]`` block of equal-length score rows (the same rule as
    :func:`high_attention_regions`, row by row)."""
    with np.errstate(invalid="ignore"):
        mean = S.mean(axis=1, keepdims=True)
        if params.region_rule == "dnabert-viz":
            return (S > mean) & (S > params.min_factor * S.min(axis=1, keepdims=True))
        if params.region_rule == "zscore":
            sd = S.std(axis=1, keepdims=True)
            return (S > mean + params.z * sd) & (sd > 0)
        return (S >= np.quantile(S, params.quantile, axis=1, keepdims=True)) & (S > S.min(axis=1, keepdims=True))


def collect_candidates(
    pos_seqs: SeqType[str], scores: SeqType[np.ndarray], params: MotifParams
) -> tuple[dict[str, dict], int]:
    """Candidate strings from the regions of every positive, in first-occurrence order.

    Returns ``({string: {'seq_idx': [...], 'regions': [(s, e), ...]}}, n_regions)``. Sequences of equal length are
    processed as one block. A score row shorter than its sequence (DNABERT-viz's ``atten.npy`` of width T < L, parity
    mode) covers the first ``len(row)`` bases only, as ``find_motifs.py``'s ``score[0:len(seq)]`` does.
    """
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, seq in enumerate(pos_seqs):
        by_len[min(len(seq), len(scores[i]))].append(i)
    found: list[tuple[int, int, int]] = []
    for L, idx in by_len.items():
        if L == 0:
            continue
        S = np.stack([np.asarray(scores[i], dtype=np.float64)[:L] for i in idx])
        cond = _batch_conditions(S, params)
        d = np.diff(np.pad(cond.astype(np.int8), ((0, 0), (1, 1))), axis=1)
        r1, c1 = np.nonzero(d == 1)
        r2, c2 = np.nonzero(d == -1)  # same row-major order: starts and ends pair up
        keep = (c2 - c1) >= params.min_len
        rows = np.asarray(idx)[r1[keep]]
        found.extend(zip(rows.tolist(), c1[keep].tolist(), c2[keep].tolist()))
    found.sort()
    cands: dict[str, dict] = {}
    for i, s, e in found:
        d = cands.setdefault(pos_seqs[i][s:e], {"seq_idx": [], "regions": []})
        d["seq_idx"].append(i)
        d["regions"].append((s, e))
    return cands, len(found)
