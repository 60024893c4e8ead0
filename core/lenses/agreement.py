"""How far two lenses agree on one sequence: rank correlation and top-k overlap (e.g. attention against ISM)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def agreement(scores: np.ndarray, reference: np.ndarray, top_k: int = 10) -> dict:
    """Spearman correlation between two per-position score tracks ``[L]`` and how many of the top-k positions of
    ``scores`` are among the top-k of ``reference`` (with what overlap random rankings would give)."""
    from scipy.stats import spearmanr

    a, m = np.asarray(scores, float), np.asarray(reference, float)
    if a.shape != m.shape:
        raise InputError(f"the tracks differ in length ({a.shape[0]} and {m.shape[0]})")
    ok = np.isfinite(a) & np.isfinite(m)
    a, m = a[ok], m[ok]
    k = int(min(top_k, len(a)))
    if len(a) > 1 and np.ptp(a) > 0 and np.ptp(m) > 0:
        rho, p = spearmanr(a, m)
    else:
        rho, p = float("nan"), float("nan")
    top_a = set(np.argsort(-a, kind="stable")[:k].tolist())
    top_m = set(np.argsort(-m, kind="stable")[:k].tolist())
    return {
        "spearman_rho": float(rho),
        "spearman_p": float(p),
        "top_k": k,
        "top_k_overlap": len(top_a & top_m),
        "expected_overlap_random": k * k / max(1, len(a)),
        "length": int(len(a)),
    }
