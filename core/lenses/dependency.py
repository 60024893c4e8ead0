"""Nucleotide dependency map of one sequence: how substituting base j changes the masked LM's prediction at base i.

Definition (after Tomaz da Silva et al., "Nucleotide dependency analysis of genomic language models", 2025, with
the target base masked k-mer-aware as in :mod:`core.lenses.mlm`)::

    D[i, j] = max_{b != s_j}  max_{a in ACGT}  | logit2 P(x_i = a | s with s_j := b) - logit2 P(x_i = a | s) |

where ``P(x_i = · | ·)`` is the masked-LM lens's distribution at base i (every token covering i masked, the
covering k-mers' candidates combined by the lens's rule), ``logit2 p = log2(p / (1 - p))`` with p clipped to
``[1e-6, 1 - 1e-6]``. Rows are the target ``i``, columns the substituted (query) base ``j``; both 0-based along
the sequence as given; units are bits. The diagonal is 0: base i is hidden when it is predicted, so substituting
it cannot change the prediction.

Cost: one masked forward pass per (target, substitution) pair plus one per target, ``L * (3 (L - 1) + 1)``
passes (about 120 000 for 200 bp), batched; the BERT path runs the last layer only for the masked rows. The
sequence must fit one model window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..io.sequences import Sequence, reverse_complement
from ..model.loading import torch_threads
from .mlm import (
    BASES,
    COMBINE,
    candidate_logits,
    check_family,
    combine,
    mask_plan,
    mask_token_id,
    masked_copies,
)

CLIP = 1e-6


@dataclass
class DependencyMap:
    """One sequence's dependency map.

    matrix: float64 ``[L, L]``, ``matrix[i, j]`` = D[i, j] (bits; rows: target i, columns: substituted j).
    ref_probs: ``[L, 4]`` the reference sequence's per-base distributions (A, C, G, T).
    alt_probs: ``[L, L, 4, 4]`` the distribution at i (last axis) after substituting j by A/C/G/T (third axis;
    NaN where that base is the reference base at j or i == j).
    """

    seq_id: str
    seq: str
    matrix: np.ndarray
    ref_probs: np.ndarray
    alt_probs: np.ndarray
    orientation: str = "forward"
    combine: str = "mean"
    passes: int = 0


def _logit2(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, CLIP, 1 - CLIP)
    return np.log2(p) - np.log2(1 - p)


def _mutants(seq: str) -> list[tuple[int, int]]:
    """Every single-base substitution ``(j, base index)`` (four at N)."""
    return [(j, b) for j in range(len(seq)) for b in range(4) if BASES[b] != seq[j]]


def _mutant_tables(lm, seq: str, muts: list[tuple[int, int]], reach: int):
    """Token ids ``[M, T]`` of every mutant and its candidates ``[M, 2 * reach + 1, W, 4]`` for the targets
    ``j - reach … j + reach`` (farther targets share the reference's candidates)."""
    ref = mask_plan(lm.tokenizer, seq)
    L, W = ref.cover.shape
    ids = np.empty((len(muts), len(ref.ids)), dtype=np.int64)
    patch = np.full((len(muts), 2 * reach + 1, W, 4), -1, dtype=np.int64)
    for m, (j, b) in enumerate(muts):
        plan = mask_plan(lm.tokenizer, seq[:j] + BASES[b] + seq[j + 1 :])
        if plan.cover.shape != ref.cover.shape or len(plan.ids) != len(ref.ids):
            raise InputError("the tokenizer splits a substituted sequence differently; no dependency map")
        ids[m] = plan.ids
        lo, hi = max(0, j - reach), min(L, j + reach + 1)
        patch[m, lo - (j - reach) : hi - (j - reach)] = plan.cand[lo:hi]
    return ref, ids, patch


def _target_block(ref, ids, patch, muts_j: np.ndarray, i: int, reach: int, mask_id: int):
    """Inputs for target i, every token covering i masked: the reference, then every mutant with j != i.
    Returns ``(mutant rows, ids [n, T], cover [n, W] (-1 where a token's candidates are missing), cand [n, W, 4])``."""
    rows = np.flatnonzero(muts_j != i)
    cover = np.repeat(ref.cover[i][None], len(rows) + 1, axis=0)
    block = masked_copies(np.concatenate([ref.ids[None], ids[rows]]), cover, mask_id)
    cand = np.repeat(ref.cand[i][None], len(rows) + 1, axis=0)
    near = np.flatnonzero(np.abs(muts_j[rows] - i) <= reach)
    cand[1 + near] = patch[rows[near], i - muts_j[rows[near]] + reach]
    return rows, block, np.where((cand >= 0).all(-1), cover, -1), cand


def _forward_map(lm, seq: str, batch_size: int, rule: str, progress) -> tuple[np.ndarray, np.ndarray, int]:
    """``(ref_probs [L, 4], alt_probs [L, L, 4, 4], passes)`` read forward."""
    L = len(seq)
    muts = _mutants(seq)
    muts_j = np.array([j for j, _ in muts])
    spans = lm.tokenizer.encode(seq).spans
    reach = int((spans[:, 1] - spans[:, 0]).max())  # a substitution changes the candidates of targets this near
    ref, ids, patch = _mutant_tables(lm, seq, muts, reach)
    mid = mask_token_id(lm)
    ref_probs = np.full((L, 4), np.nan)
    alt_probs = np.full((L, L, 4, 4), np.nan)
    passes = 0
    for i in range(L):
        rows, block, cover, cand = _target_block(ref, ids, patch, muts_j, i, reach, mid)
        probs = np.empty((len(block), 4))
        for b in range(0, len(block), batch_size):
            sl = slice(b, b + batch_size)
            probs[sl] = combine(candidate_logits(lm, block[sl], cover[sl], cand[sl]), cover[sl] >= 0, rule)
        passes += len(block)
        ref_probs[i] = probs[0]
        for r, p in zip(rows, probs[1:]):
            j, bb = muts[r]
            alt_probs[i, j, bb] = p
        if progress:
            progress(i + 1, L)
    return ref_probs, alt_probs, passes


def dependency_matrix(ref_probs: np.ndarray, alt_probs: np.ndarray) -> np.ndarray:
    """D ``[L, L]`` from the reference ``[L, 4]`` and substituted ``[L, L, 4, 4]`` distributions (module
    docstring); 0 on the diagonal and where nothing was computed."""
    delta = np.abs(_logit2(alt_probs) - _logit2(ref_probs)[:, None, None, :])
    with np.errstate(invalid="ignore"):
        d = np.nanmax(np.where(np.isnan(delta), -np.inf, delta), axis=(2, 3))
    return np.where(np.isfinite(d), d, 0.0)


def dependency_map(
    lm,
    seq: Sequence,
    *,
    batch_size: int = 128,
    orientation: str = "forward",
    combine: str = "mean",
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> DependencyMap:
    """The :class:`DependencyMap` of one sequence (it must fit one model window). ``orientation``: ``forward``,
    ``reverse`` (computed on the reverse complement, mapped back to the sequence's own positions) or ``both``
    (the mean of the two maps; probabilities from the forward reading). ``threads``: torch CPU threads for the
    run (None: as set; on our 2-core machine one thread ran these many small passes 3x faster than two)."""
    with torch_threads(threads):
        return _dependency_map(lm, seq, batch_size, orientation, combine, progress)


def _dependency_map(lm, seq: Sequence, batch_size: int, orientation: str, combine: str, progress) -> DependencyMap:
    check_family(lm)
    if combine not in COMBINE:
        raise InputError(f"unknown combination rule '{combine}' (use {', '.join(COMBINE)})")
    s = seq.seq
    if len(s) > lm.tokenizer.window_nt():
        raise InputError(
            f"sequence of {len(s)} bp is longer than one model window ({lm.tokenizer.window_nt()} bp); a "
            "dependency map covers one window: cut the sequence",
            record=seq.id,
        )
    if len(s) < lm.tokenizer.min_length():
        raise InputError(f"sequence of {len(s)} bp is shorter than k", record=seq.id)
    if orientation not in ("forward", "reverse", "both"):
        raise InputError(f"unknown orientation '{orientation}' (use forward, reverse or both)")
    maps, passes = [], 0
    if orientation in ("forward", "both"):
        ref_p, alt_p, n = _forward_map(lm, s, batch_size, combine, progress)
        maps.append(dependency_matrix(ref_p, alt_p))
        passes += n
    if orientation in ("reverse", "both"):
        rr, ra, n = _forward_map(lm, reverse_complement(s), batch_size, combine, progress)
        maps.append(dependency_matrix(rr, ra)[::-1, ::-1])
        passes += n
        if orientation == "reverse":  # positions mirrored, A/C/G/T complemented
            ref_p, alt_p = rr[::-1, ::-1], ra[::-1, ::-1, ::-1, ::-1]
    return DependencyMap(seq.id, s, np.mean(maps, axis=0), ref_p, alt_p, orientation, combine, passes)
