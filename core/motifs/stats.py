"""Stage 2: counting candidates in every sequence and their hypergeometric enrichment among the positives."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence as SeqType
from typing import TYPE_CHECKING

import numpy as np

from .seqcode import codes as _codes
from .seqcode import kmer_code as _kmer_code
from .seqcode import rc as _rc

if TYPE_CHECKING:
    import pandas as pd  # imported where used: pandas costs ~0.3 s at start-up


def containment_counts(
    seqs: SeqType[str], candidates: SeqType[str], both_strands: bool = False, split: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For every candidate, the number of sequences that contain it (exact, overlapping matches count; with
    ``both_strands`` its reverse complement counts too). Returns ``(n_all, n_first)`` where ``n_first`` counts
    only ``seqs[:split]`` (the positives).

    One pass over the sequences per candidate length: rolling base-4 codes of every window, looked up in a direct
    table (lengths up to 10) or in the sorted candidate codes; presence is recorded in a candidates x sequences
    boolean matrix. Candidates longer than 31 bases or containing N fall back to substring search.
    """
    n_seqs = len(seqs)
    split = n_seqs if split is None else split
    n_all = np.zeros(len(candidates), dtype=np.int64)
    n_first = np.zeros(len(candidates), dtype=np.int64)
    by_len: dict[int, list[int]] = defaultdict(list)
    slow = []
    for ci, c in enumerate(candidates):
        if 0 < len(c) <= 31 and not (set(c) - set("ACGT")):
            by_len[len(c)].append(ci)
        else:
            slow.append(ci)
    if by_len and n_seqs:
        X = _codes(seqs)
        bad0 = X >= 4
        X0 = np.where(bad0, 0, X)
        c, bad = X0, bad0
        for ell in range(1, max(by_len) + 1):
            if ell > 1:
                if c.shape[1] <= 1:
                    break
                c = c[:, :-1] * 4 + X0[:, ell - 1 :]
                bad = bad[:, :-1] | bad0[:, ell - 1 :]
            if ell == 10:
                c10 = c
            if ell not in by_len or c.shape[1] == 0:
                continue
            owners = np.array(by_len[ell], dtype=np.int64)
            strings = [candidates[ci] for ci in owners]
            variants = [strings] + ([[_rc(x) for x in strings]] if both_strands else [])
            present = np.zeros((len(owners), n_seqs), dtype=bool)
            if ell <= 10:
                vals = np.where(bad, 4**ell, c)  # last slot: windows with N/padding
                for var in variants:
                    table = np.full(4**ell + 1, -1, dtype=np.int64)
                    table[[_kmer_code(x) for x in var]] = np.arange(len(owners))
                    local = table[vals]
                    r, col = np.nonzero(local >= 0)
                    present[local[r, col], r] = True
            else:
                # prefix filter on the 10-mer codes (1 MB table), exact check on the few windows that pass
                ncol = c.shape[1]
                ptable = np.zeros(4**10, dtype=bool)
                for var in variants:
                    ptable[[_kmer_code(x[:10]) for x in var]] = True
                r, col = np.nonzero(ptable[c10[:, :ncol]] & ~bad)
                vals = c[r, col]
                for var in variants:
                    local = _hashed_lookup(np.array([_kmer_code(x) for x in var], dtype=np.int64), vals)
                    hit = local >= 0
                    present[local[hit], r[hit]] = True
            n_all[owners] = present.sum(axis=1)
            n_first[owners] = present[:, :split].sum(axis=1)
    for ci in slow:
        c = candidates[ci]
        rc = _rc(c) if both_strands else None
        has = np.array([(c in s) or (rc is not None and rc in s) for s in seqs], dtype=bool)
        n_all[ci] = has.sum()
        n_first[ci] = has[:split].sum()
    return n_all, n_first


def _hashed_lookup(cand_codes: np.ndarray, vals: np.ndarray, bits: int = 20) -> np.ndarray:
    """Index into ``cand_codes`` of every value in ``vals`` (-1 where absent): a direct table on the low ``bits``
    bits, confirmed by comparing the full code; binary search when two candidates share a slot."""
    mask = (1 << bits) - 1
    slots = cand_codes & mask
    if len(np.unique(slots)) == len(slots):
        table = np.full(mask + 1, -1, dtype=np.int64)
        table[slots] = np.arange(len(cand_codes))
        local = table[vals & mask]
        ok = local >= 0
        ok[ok] = cand_codes[local[ok]] == vals[ok]
        return np.where(ok, local, -1)
    order = np.argsort(cand_codes)
    sc = cand_codes[order]
    pos = np.minimum(np.searchsorted(sc, vals), len(sc) - 1)
    return np.where(sc[pos] == vals, order[pos], -1)


def hypergeom_sf(k, M, n, N) -> np.ndarray:
    """``P(X > k)`` for ``X ~ Hypergeom(M, n, N)`` (population M, n successes, N draws): ``scipy.stats.hypergeom.sf``
    to the last bit (its support and clipping around the same Boost kernel, scipy.special's ``_hypergeom_sf``;
    tests check equality) without importing scipy.stats, which costs ~0.3 s at start-up."""
    try:
        from scipy.special._ufuncs import _hypergeom_sf
    except ImportError:  # another scipy layout: the public (slower to import) route
        from scipy.stats import hypergeom

        return np.asarray(hypergeom.sf(k, M, n, N), dtype=np.float64)
    k, M, n, N = np.broadcast_arrays(*(np.asarray(v) for v in (k, M, n, N)))
    lo, hi = np.maximum(N - (M - n), 0), np.minimum(n, N)
    valid = (M > 0) & (n >= 0) & (N >= 0) & (n <= M) & (N <= M)
    valid &= (np.floor(M) == M) & (np.floor(n) == n) & (np.floor(N) == N)
    out = np.zeros(k.shape, dtype=np.float64)
    out[~valid | np.isnan(k)] = np.nan
    out[((k < lo) | np.isneginf(k)) & valid] = 1.0
    inside = valid & (k >= lo) & (k < hi) & np.isfinite(k)
    if inside.any():
        out[inside] = np.clip(_hypergeom_sf(k[inside], n[inside], N[inside], M[inside]), 0, 1)
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values, in the input order: statsmodels' ``multipletests(p, method="fdr_bh")[1]`` to the last
    bit (the same operations in the same order; tests check equality), without importing statsmodels (~0.5 s)."""
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0:
        return p
    order = np.argsort(p)
    ranked = np.take(p, order) / (np.arange(1, p.size + 1) / float(p.size))
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def enrichment_columns(
    pos_seqs: SeqType[str], neg_seqs: SeqType[str], candidates: SeqType[str], both_strands: bool = False
) -> dict:
    """Hypergeometric enrichment of each candidate among the positives, as plain columns in input order:
    ``candidate``, ``x`` (positives containing it), ``n`` (all sequences containing it), ``N``, ``K``, ``p``,
    ``q`` (BH). No pandas: the motifs command writes these without importing it."""
    allseqs = list(pos_seqs) + list(neg_seqs)
    N, K = len(allseqs), len(pos_seqs)
    n, x = containment_counts(allseqs, list(candidates), both_strands, split=K)
    p = hypergeom_sf(x - 1, N, K, n) if len(candidates) else np.zeros(0)
    return {
        "candidate": list(candidates),
        "x": x,
        "n": n,
        "N": np.full(len(candidates), N, dtype=np.int64),
        "K": np.full(len(candidates), K, dtype=np.int64),
        "p": p,
        "q": benjamini_hochberg(p),
    }


def enrichment(
    pos_seqs: SeqType[str], neg_seqs: SeqType[str], candidates: SeqType[str], both_strands: bool = False
) -> pd.DataFrame:
    """:func:`enrichment_columns` as a DataFrame, one row per candidate."""
    import pandas as pd

    return pd.DataFrame(enrichment_columns(pos_seqs, neg_seqs, candidates, both_strands))
