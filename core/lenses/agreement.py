"""How far lenses agree: rank correlation and top-k overlap between two tracks (e.g. attention against ISM), and the
same over a set of sequences for many lenses against one reference lens, with whether each lens's peak falls in a
known motif site.

Rules (stated once, used everywhere):

* **importance**: the magnitude a lens gives a base: ``|score|`` for signed lenses (attributions: a base that pushes
  the prediction down matters as much as one that pushes it up), the score itself otherwise (attention, ISM's
  max |Δp|). Agreement compares importances.
* **peak**: the base of highest importance (the first one on ties).
* **peak in site**: the peak lies in ``[start, end)`` of one of the sequence's known sites; only sequences with at
  least one site count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def importance(scores: np.ndarray, signed: bool) -> np.ndarray:
    """``|scores|`` for a signed lens, else the scores (see the module docstring)."""
    s = np.asarray(scores, dtype=np.float64)
    return np.abs(s) if signed else s


def is_signed(lens) -> bool:
    return bool(getattr(lens, "signed", False))


def peak_position(scores: np.ndarray, signed: bool) -> int:
    """0-based position of the highest importance (-1 when there is none)."""
    v = importance(scores, signed)
    if not np.isfinite(v).any():
        return -1
    return int(np.nanargmax(v))


def peak_in_site(peak: int, sites: list[tuple[int, int]] | None) -> float:
    """1.0 / 0.0 whether ``peak`` lies in one of ``sites``; NaN without sites."""
    if not sites:
        return float("nan")
    return float(any(s <= peak < e for s, e in sites))


def _pooled_spearman(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    from scipy.stats import spearmanr

    x, y = np.concatenate(a) if a else np.zeros(0), np.concatenate(b) if b else np.zeros(0)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan")
    return float(spearmanr(x[ok], y[ok])[0])


def per_sequence_agreement(
    lens_tracks: dict, reference, sites: dict | None = None, top_k: int = 10, reference_name: str = "ism"
) -> pd.DataFrame:
    """One row per (sequence, lens): Spearman and top-k overlap of the lens's importance with the reference's
    (``reference``: the :class:`~core.lenses.base.Tracks` of e.g. ISM), the lens's peak and whether it falls in a site.
    The reference itself gets rows too (lens ``reference_name``: its peak), with the comparison columns empty.
    ``lens_tracks``: ``{name: Tracks}``; every Tracks holds the same sequences as ``reference``."""
    ref_signed = is_signed(reference.lens)
    rows = []
    if reference_name in lens_tracks:
        raise InputError(f"'{reference_name}' is the reference; it cannot also be a compared lens")
    named = list(lens_tracks.items()) + [(reference_name, reference)]
    for name, trs in named:
        signed = is_signed(trs.lens)
        for t in trs:
            ref = reference[t.id]
            if len(ref.scores) != len(t.scores):
                raise InputError(f"lens {name} and the reference differ in length on '{t.id}'")
            peak = peak_position(t.scores, signed)
            row = {"id": t.id, "lens": name, "label": t.sequence.label, "length": len(t.scores), "peak": peak}
            if name != reference_name:
                a = agreement(importance(t.scores, signed), importance(ref.scores, ref_signed), top_k)
                row.update({k: a[k] for k in ("spearman_rho", "top_k", "top_k_overlap", "expected_overlap_random")})
            row["peak_in_site"] = peak_in_site(peak, (sites or {}).get(t.id))
            delta = t.detail.get("convergence_delta") if isinstance(t.detail, dict) else None
            row["convergence_delta"] = np.nan if delta is None else float(delta)
            rows.append(row)
    return pd.DataFrame(rows)


def summarize_agreement(
    per_sequence: pd.DataFrame, lens_tracks: dict, reference, descriptions: dict, reference_name: str = "ism"
) -> pd.DataFrame:
    """``summary.csv``: one row per lens (lens, what it is, mean/median Spearman with the reference, Spearman pooled
    over every base of the set, mean top-k overlap and what chance gives, peak-in-site fraction and how many
    sequences have sites, largest |convergence delta|), best first (mean Spearman); the reference last."""
    ref_imp = {t.id: importance(t.scores, is_signed(reference.lens)) for t in reference}
    rows = []
    for name, g in per_sequence.groupby("lens", sort=False):
        with_sites = g["peak_in_site"].notna()
        row = {"lens": name, "description": descriptions.get(name, ""), "n_sequences": len(g)}
        if name != reference_name:
            trs = lens_tracks[name]
            row.update(
                mean_spearman=float(g["spearman_rho"].mean()),
                median_spearman=float(g["spearman_rho"].median()),
                pooled_spearman=_pooled_spearman(
                    [importance(t.scores, is_signed(trs.lens)) for t in trs], [ref_imp[t.id] for t in trs]
                ),
                mean_top_k_overlap=float(g["top_k_overlap"].mean()),
                top_k=int(g["top_k"].max()),
                random_top_k_overlap=float(g["expected_overlap_random"].mean()),
            )
        row["peak_in_site"] = float(g.loc[with_sites, "peak_in_site"].mean()) if with_sites.any() else np.nan
        row["n_with_sites"] = int(with_sites.sum())
        d = g["convergence_delta"].abs()
        row["max_abs_convergence_delta"] = float(d.max()) if d.notna().any() else np.nan
        rows.append(row)
    df = pd.DataFrame(rows)
    lenses = df[df["lens"] != reference_name].sort_values("mean_spearman", ascending=False, na_position="last")
    return pd.concat([lenses, df[df["lens"] == reference_name]], ignore_index=True)


def verdict(summary: pd.DataFrame, reference_name: str = "ism", shown: str = "ISM") -> str:
    """One line naming the lens that agrees best with the reference (and the best at finding sites, when known)."""
    lenses = summary[(summary["lens"] != reference_name) & summary["mean_spearman"].notna()]
    if lenses.empty:
        return f"no lens could be compared with {shown} on these sequences"
    best = lenses.iloc[0]
    line = (
        f"{best['lens']} agrees best with {shown} here: mean Spearman {best['mean_spearman']:.2f}, "
        f"top-{int(best['top_k'])} overlap {best['mean_top_k_overlap']:.1f} (chance {best['random_top_k_overlap']:.1f})"
    )
    if best["mean_spearman"] < 0.2:
        line += f"; no lens agrees well with {shown} for this model and data"
    sited = summary[summary["n_with_sites"] > 0]
    if len(sited):
        parts = [
            f"{shown if r.lens == reference_name else r.lens} {r.peak_in_site:.0%}"
            for r in sited.sort_values("peak_in_site", ascending=False, kind="stable").itertuples()
        ]
        line += f"; peak in a known site ({int(sited['n_with_sites'].max())} sequences): " + ", ".join(parts)
    return line
