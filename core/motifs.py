"""Motif discovery from attention: high-attention regions -> enrichment -> merged instances -> windows -> PWMs.

The pipeline follows DNABERT-viz's ``motif_analysis`` (``../shared/reference/dnabert-viz-spec.md`` §2):

1. **Regions**: per positive sequence, contiguous runs of high attention of at least ``min_len`` bases. Rules:
   ``dnabert-viz`` (score > mean and score > ``min_factor`` x min of that sequence, both strict), ``zscore``
   (score > mean + ``z`` SD; robust to zero-floored scores), ``quantile`` (score >= the ``quantile`` of that
   sequence and > its min). Each region's string is a candidate.
2. **Enrichment**: for each candidate, the number of positives ``x`` and of all sequences ``n`` that contain it;
   ``p = hypergeom.sf(x-1, N, K, n)`` with ``N`` all sequences and ``K`` positives; Benjamini-Hochberg; keep
   ``q < pval_cutoff``. All candidates are counted against all sequences in one vectorised pass per candidate
   length (rolling base-4 codes + binary search; exact, overlapping matches, optionally either strand).
3. **Merging**: candidates, shortest first, are aligned without internal gaps to the motifs kept so far; a candidate
   whose best alignment scores at least ``max(min_len-1, len(shorter)/2)`` joins that motif (its instances are
   projected onto the motif's span), otherwise it starts a new motif. Scores use Biopython 1.88's
   PairwiseAligner (match 1, mismatch 0, end gaps -1) through its exact closed form (spec §2.7).
4. **Windows** of ``window_size`` bases centred on each instance; motifs with at least ``min_n_motif`` instances
   are kept.

``parity=True`` reproduces ``motif_analysis`` exactly for ``find_motifs.py``'s defaults, quirks included: a window
that ends exactly at the sequence end is dropped, windows that do not fit are dropped (so sequences shorter than the
window never yield instances), forward strand only, motif named by its key (the shortest candidate of the group).

Default mode (``parity=False``) differs: windows that reach past a sequence end are kept and padded with ``N``
(never counted in the PWM), so no instance is lost at the ends and short sequences work; candidates are counted and
merged on both strands (an instance aligned through its reverse complement gets strand ``-`` and its window is
reverse-complemented); motifs are named by the consensus of their PWM's informative core.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence as SeqType

import numpy as np
import pandas as pd

from .errors import InputError

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate("ACGT"):
    _CODE[ord(_b)] = _i
_COMP = str.maketrans("ACGTN", "TGCAN")
REGION_RULES = ("dnabert-viz", "zscore", "quantile")


def _rc(s: str) -> str:
    return s.translate(_COMP)[::-1]


@dataclass(frozen=True)
class MotifParams:
    """Parameters; defaults are those of DNABERT-viz's ``find_motifs.py``."""

    window_size: int = 24
    min_len: int = 5
    pval_cutoff: float = 0.005
    min_n_motif: int = 3
    align_all_ties: bool = False
    region_rule: str = "zscore"
    min_factor: float = 10.0
    z: float = 2.0
    quantile: float = 0.9
    both_strands: bool = True
    parity: bool = False
    end_gap_score: float = -1.0        # Biopython >= 1.86 default; 0 gives the 2021 (Biopython <= 1.85) behaviour

    def __post_init__(self):
        if self.region_rule not in REGION_RULES:
            raise InputError(f"unknown region rule '{self.region_rule}' (use {', '.join(REGION_RULES)})")
        if self.window_size < 1 or self.min_len < 1 or self.min_n_motif < 1:
            raise InputError("window size, min_len and min_n_motif must be positive")
        if not 0 < self.pval_cutoff <= 1:
            raise InputError("the p-value cutoff must be in (0, 1]")

    @classmethod
    def dnabert_viz(cls, **overrides) -> "MotifParams":
        """Parity with DNABERT-viz's ``find_motifs.py`` (forward strand, its region rule, its window quirks)."""
        base = dict(parity=True, both_strands=False, region_rule="dnabert-viz")
        base.update(overrides)
        return cls(**base)


# --------------------------------------------------------------------------------------------------------------
# 1. regions

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


def collect_candidates(pos_seqs: SeqType[str], scores: SeqType[np.ndarray], params: MotifParams
                       ) -> tuple[dict[str, dict], int]:
    """Candidate strings from the regions of every positive, in first-occurrence order.

    Returns ``({string: {'seq_idx': [...], 'regions': [(s, e), ...]}}, n_regions)``. Sequences of equal length are
    processed as one block.
    """
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, seq in enumerate(pos_seqs):
        by_len[len(seq)].append(i)
    found: list[tuple[int, int, int]] = []
    for L, idx in by_len.items():
        if L == 0:
            continue
        S = np.stack([np.asarray(scores[i], dtype=np.float64)[:L] for i in idx])
        cond = _batch_conditions(S, params)
        d = np.diff(np.pad(cond.astype(np.int8), ((0, 0), (1, 1))), axis=1)
        r1, c1 = np.nonzero(d == 1)
        r2, c2 = np.nonzero(d == -1)                 # same row-major order: starts and ends pair up
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


# --------------------------------------------------------------------------------------------------------------
# 2. counting and enrichment

def _codes(seqs: SeqType[str]) -> np.ndarray:
    """``[n, Lmax]`` base codes (A0 C1 G2 T3; N and padding 4)."""
    n = len(seqs)
    lengths = {len(s) for s in seqs}
    if len(lengths) == 1 and n:
        L = lengths.pop()
        return _CODE[np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)].reshape(n, L)
    Lmax = max(lengths, default=0)
    X = np.full((n, Lmax), 4, dtype=np.int64)
    for i, s in enumerate(seqs):
        X[i, :len(s)] = _CODE[np.frombuffer(s.encode("ascii"), dtype=np.uint8)]
    return X


def _kmer_code(s: str) -> int:
    c = 0
    for ch in s:
        c = c * 4 + "ACGT".index(ch)
    return c


def containment_counts(seqs: SeqType[str], candidates: SeqType[str], both_strands: bool = False,
                       split: int | None = None) -> tuple[np.ndarray, np.ndarray]:
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
                c = c[:, :-1] * 4 + X0[:, ell - 1:]
                bad = bad[:, :-1] | bad0[:, ell - 1:]
            if ell == 10:
                c10 = c
            if ell not in by_len or c.shape[1] == 0:
                continue
            owners = np.array(by_len[ell], dtype=np.int64)
            strings = [candidates[ci] for ci in owners]
            variants = [strings] + ([[_rc(x) for x in strings]] if both_strands else [])
            present = np.zeros((len(owners), n_seqs), dtype=bool)
            if ell <= 10:
                vals = np.where(bad, 4 ** ell, c)                          # last slot: windows with N/padding
                for var in variants:
                    table = np.full(4 ** ell + 1, -1, dtype=np.int64)
                    table[[_kmer_code(x) for x in var]] = np.arange(len(owners))
                    local = table[vals]
                    r, col = np.nonzero(local >= 0)
                    present[local[r, col], r] = True
            else:
                # prefix filter on the 10-mer codes (1 MB table), exact check on the few windows that pass
                ncol = c.shape[1]
                ptable = np.zeros(4 ** 10, dtype=bool)
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


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (statsmodels ``fdr_bh``), in the input order."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=np.float64)
    if p.size == 0:
        return p
    return multipletests(p, alpha=0.05, method="fdr_bh")[1]


def enrichment(pos_seqs: SeqType[str], neg_seqs: SeqType[str], candidates: SeqType[str],
               both_strands: bool = False) -> pd.DataFrame:
    """Hypergeometric enrichment of each candidate among the positives: one row per candidate, in input order,
    with ``x`` (positives containing it), ``n`` (all sequences containing it), ``N``, ``K``, ``p``, ``q`` (BH)."""
    from scipy.stats import hypergeom

    allseqs = list(pos_seqs) + list(neg_seqs)
    N, K = len(allseqs), len(pos_seqs)
    n, x = containment_counts(allseqs, list(candidates), both_strands, split=K)
    p = hypergeom.sf(x - 1, N, K, n) if len(candidates) else np.zeros(0)
    q = benjamini_hochberg(p)
    return pd.DataFrame({"candidate": list(candidates), "x": x, "n": n, "N": N, "K": K, "p": p, "q": q})


# --------------------------------------------------------------------------------------------------------------
# 3. merging by ungapped alignment

def ungapped_alignment(m: str, key: str, end_gap: float = -1.0) -> tuple[float, int]:
    """Biopython PairwiseAligner (global, match 1, mismatch 0, internal gaps forbidden, end gaps ``end_gap``)
    score and chosen offset ``d`` (start of ``key`` relative to ``m``), by the exact closed form of spec §2.7."""
    scores, ds = _alignment_scores(np.frombuffer(m.encode(), np.uint8), [key], end_gap)
    return float(scores[0]), int(ds[0])


def _alignment_scores(m_codes: np.ndarray, keys: list[str], end_gap: float,
                      _cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best score and chosen offset of ``m`` against every key (vectorised over keys and offsets)."""
    L1 = len(m_codes)
    nk = len(keys)
    L2 = np.array([len(k) for k in keys])
    Lk = int(L2.max())
    K = np.full((nk, Lk), 255, dtype=np.uint8)
    for i, k in enumerate(keys):
        K[i, :len(k)] = np.frombuffer(k.encode(), np.uint8)
    ds = np.arange(-(Lk - 1), L1)                                   # offsets of the key start relative to m
    m_ext = np.concatenate([np.full(Lk - 1, 254, np.uint8), m_codes, np.full(Lk - 1, 254, np.uint8)])
    W = np.lib.stride_tricks.sliding_window_view(m_ext, Lk)         # [n_off, Lk]: m under the key at offset d
    matches = (K[:, None, :] == W[None, :, :]).sum(axis=2)          # [nk, n_off]
    ov = np.minimum(L1, ds[None, :] + L2[:, None]) - np.maximum(0, ds)[None, :]
    scores = matches + end_gap * (L1 + L2[:, None] - 2 * ov)
    valid = (ds[None, :] >= -(L2[:, None] - 1)) & (ds[None, :] <= L1 - 1)
    scores = np.where(valid, scores, -np.inf)
    best = scores.max(axis=1)
    is_best = (scores == best[:, None]) & valid
    overhang = ds[None, :] > (L1 - L2)[:, None]
    any_over = (is_best & overhang).any(axis=1)
    largest = np.where(is_best, ds[None, :], ds.min() - 1).max(axis=1)
    smallest = np.where(is_best, ds[None, :], ds.max() + 1).min(axis=1)
    return best, np.where(any_over, largest, smallest)


@dataclass
class _Group:
    key: str
    seq_idx: list[int] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    strands: list[str] = field(default_factory=list)
    source: str = ""                 # the enrichment key whose p/q the group reports


def merge_candidates(items, min_len: int, end_gap: float = -1.0, both_strands: bool = False,
                     threshold: Callable[[int, int], float] | None = None, sort_by_length: bool = True
                     ) -> list[_Group]:
    """Merge candidates into groups by ungapped alignment (spec §2.7).

    items: ``{string: info}`` or a list of ``(string, info)``; info holds ``seq_idx``, ``regions`` and optionally
    ``strands`` and ``source`` (the enrichment key the group reports). Processed shortest first (stable) unless
    ``sort_by_length`` is off. A candidate ``m`` joins the first key with the best score if the score reaches
    ``threshold(len(m), len(key))`` (default ``max(min_len - 1, 0.5 * min(len(m), len(key)))``); its instances
    ``(s, s+len(m))`` become ``(s+d, s+d+len(key))``. With ``both_strands`` the reverse complement of ``m`` is tried
    too and wins only with a strictly better score; such instances flip strand.
    """
    items = list(items.items()) if isinstance(items, dict) else list(items)
    if sort_by_length:
        items = sorted(items, key=lambda kv: len(kv[0]))
    thr = threshold or (lambda L1, L2: max(min_len - 1, 0.5 * min(L1, L2)))
    groups: list[_Group] = []
    keys: list[str] = []
    for m, info in items:
        inst = list(zip(info["seq_idx"], info["regions"], info.get("strands", ["+"] * len(info["seq_idx"]))))
        source = info.get("source", m)
        L1 = len(m)
        ok = np.zeros(0, bool)
        if groups:
            thresholds = np.array([thr(L1, len(k)) for k in keys])
            sc, dd = _alignment_scores(np.frombuffer(m.encode(), np.uint8), keys, end_gap)
            orient = "+"
            ok = sc >= thresholds
            if both_strands:
                sc_r, dd_r = _alignment_scores(np.frombuffer(_rc(m).encode(), np.uint8), keys, end_gap)
                ok_r = sc_r >= thresholds
                best_f = sc[ok].max() if ok.any() else -np.inf
                best_r = sc_r[ok_r].max() if ok_r.any() else -np.inf
                if best_r > best_f:
                    sc, dd, ok, orient = sc_r, dd_r, ok_r, "-"
        if not ok.any():
            groups.append(_Group(m, [i for i, _, _ in inst], [r for _, r, _ in inst], [s for _, _, s in inst],
                                 source=source))
            keys.append(m)
            continue
        t = int(np.argmax(np.where(ok, sc, -np.inf)))      # first key with the maximal score
        d, L2 = int(dd[t]), len(keys[t])
        g = groups[t]
        for i, (s, e), strand in inst:
            st = strand if orient == "+" else ("-" if strand == "+" else "+")
            g.seq_idx.append(i)
            g.spans.append((s + d, s + d + L2) if st == "+" else (e - d - L2, e - d))
            g.strands.append(st)
    return groups


def consolidate(groups: list[_Group], pos_seqs: SeqType[str], params: MotifParams) -> list[_Group]:
    """Default mode's second merge: groups whose informative cores align (free end gaps, at least 75 % of the
    shorter core matching, either strand) are joined, largest group first, and their instances re-projected onto
    the larger group's core. Exact duplicate instances are dropped."""
    items = []
    for g in groups:
        wins = window_instances(g, pos_seqs, params.window_size, parity=False)
        ppm = probability_matrix(count_matrix([w[4] for w in wins]))
        a, b = informative_core(ppm)
        if b - a < params.min_len:
            items.append((g.key, {"seq_idx": g.seq_idx, "regions": g.spans, "strands": g.strands,
                                  "source": g.source}))
            continue
        spans = [(ws + a, ws + b) if st == "+" else (we - b, we - a) for _, ws, we, st, _, _ in wins]
        items.append((consensus(ppm[a:b]).upper(), {"seq_idx": [w[0] for w in wins], "regions": spans,
                                                    "strands": [w[3] for w in wins], "source": g.source}))
    items.sort(key=lambda kv: -len(kv[1]["seq_idx"]))
    merged = merge_candidates(items, params.min_len, end_gap=0.0, both_strands=params.both_strands,
                              threshold=lambda L1, L2: max(params.min_len, 0.75 * min(L1, L2)),
                              sort_by_length=False)
    for g in merged:
        seen, keep = set(), []
        for j, (i, sp, st) in enumerate(zip(g.seq_idx, g.spans, g.strands)):
            if (i, sp, st) not in seen:
                seen.add((i, sp, st))
                keep.append(j)
        g.seq_idx = [g.seq_idx[j] for j in keep]
        g.spans = [g.spans[j] for j in keep]
        g.strands = [g.strands[j] for j in keep]
    return merged


# --------------------------------------------------------------------------------------------------------------
# 4. windows, PWMs, names

def window_instances(group: _Group, pos_seqs: SeqType[str], window_size: int, parity: bool
                     ) -> list[tuple[int, int, int, str, str, tuple[int, int]]]:
    """Windows of ``window_size`` centred on each instance: ``(seq_idx, wstart, wend, strand, window, core)``.

    Parity: DNABERT-viz's rule (``left = (W-ln)//2``, extra base to the right; kept only if ``start >= 0`` and
    ``end < len(seq)``). Default: never dropped; bases outside the sequence are ``N``.
    """
    out = []
    W = window_size
    for i, (s, e), st in zip(group.seq_idx, group.spans, group.strands):
        ln = e - s
        left = (W - ln) // 2
        right = W - ln - left
        seq = pos_seqs[i]
        if st == "+":
            ws, we = s - left, e + right
        else:                                   # the key reads on the reverse strand: its left is our right
            ws, we = s - right, e + left
        if parity:
            if not (ws >= 0 and we < len(seq)):
                continue
            win = seq[ws:we]
        else:
            win = "N" * max(0, -ws) + seq[max(0, ws):min(len(seq), we)] + "N" * max(0, we - len(seq))
            if st == "-":
                win = _rc(win)
        out.append((i, ws, we, st, win, (s, e)))
    return out


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


# --------------------------------------------------------------------------------------------------------------
# the pipeline

@dataclass
class Motif:
    name: str
    key: str                        # DNABERT-viz's motif key: the shortest candidate of the group
    consensus: str
    instances: pd.DataFrame         # seq_index, sequence_id, start, end, strand, core_start, core_end, window
    counts: np.ndarray              # [W, 4] (A, C, G, T)
    p: float                        # enrichment of the key
    q: float

    @property
    def n_instances(self) -> int:
        return len(self.instances)

    @property
    def n_sequences(self) -> int:
        return int(self.instances["seq_index"].nunique())

    @property
    def ppm(self) -> np.ndarray:
        return probability_matrix(self.counts)

    @property
    def core(self) -> tuple[int, int]:
        return informative_core(self.ppm)


@dataclass
class MotifResult:
    motifs: list[Motif]
    stages: dict
    params: MotifParams
    candidates: pd.DataFrame        # every tested candidate with x, n, p, q and whether it passed
    background: str = ""
    explanation: str = ""

    def table(self) -> pd.DataFrame:
        rows = []
        for m in self.motifs:
            rows.append({"name": m.name, "consensus": m.consensus, "key": m.key, "instances": m.n_instances,
                         "sequences": m.n_sequences, "width": m.counts.shape[0], "p": m.p, "q": m.q})
        return pd.DataFrame(rows, columns=["name", "consensus", "key", "instances", "sequences", "width", "p", "q"])

    def instances(self) -> pd.DataFrame:
        if not self.motifs:
            return pd.DataFrame(columns=["motif", "sequence_id", "seq_index", "start", "end", "strand",
                                         "core_start", "core_end", "window"])
        return pd.concat([m.instances.assign(motif=m.name) for m in self.motifs], ignore_index=True)[
            ["motif", "sequence_id", "seq_index", "start", "end", "strand", "core_start", "core_end", "window"]]


def _explain(stages: dict, params: MotifParams) -> str:
    if stages["regions"] == 0:
        return ("no high-attention region was found in any positive sequence: with the "
                f"'{params.region_rule}' rule no run of at least {params.min_len} bases passed the threshold "
                "(flat or zero-floored scores?); try region_rule='zscore' or 'quantile', or a smaller min_len")
    if stages["passing_fdr"] == 0:
        return (f"{stages['tested']} candidate strings were tested but none is enriched in the positives at "
                f"q < {params.pval_cutoff}; more sequences, a looser cutoff or a different background may help")
    if stages["kept"] == 0:
        return (f"{stages['merged']} motifs were formed but none has at least {params.min_n_motif} instances "
                "inside full windows" + (" (parity mode drops windows that touch a sequence end)"
                                         if params.parity else ""))
    return ""


def discover_motifs(pos_seqs: SeqType[str], pos_scores: SeqType[np.ndarray], neg_seqs: SeqType[str],
                    params: MotifParams = MotifParams(), pos_ids: SeqType[str] | None = None,
                    progress: Callable[[str, float], None] | None = None) -> MotifResult:
    """Motifs the model attends to in ``pos_seqs`` (strings) given per-nucleotide ``pos_scores`` and background
    ``neg_seqs``. ``progress(stage, fraction)`` is called as stages finish."""
    pos_seqs = [s.upper() for s in pos_seqs]
    neg_seqs = [s.upper() for s in neg_seqs]
    pos_ids = list(pos_ids) if pos_ids is not None else [f"pos_{i}" for i in range(len(pos_seqs))]
    _validate(pos_seqs, pos_scores, neg_seqs)
    step = progress or (lambda stage, frac: None)
    cands, n_regions = collect_candidates(pos_seqs, pos_scores, params)
    step("regions", 0.25)
    names = list(cands)
    enr = enrichment(pos_seqs, neg_seqs, names, both_strands=params.both_strands)
    enr["passed"] = enr["q"] < params.pval_cutoff
    step("enrichment", 0.5)
    passed = {c: cands[c] for c, ok in zip(names, enr["passed"]) if ok}
    groups = merge_candidates(passed, params.min_len, params.end_gap_score,
                              both_strands=params.both_strands and not params.parity)
    n_merged = len(groups)
    if not params.parity and groups:
        groups = consolidate(groups, pos_seqs, params)
    step("merge", 0.75)
    stats = enr.set_index("candidate")
    motifs: list[Motif] = []
    used_names: dict[str, int] = {}
    for g in groups:
        wins = window_instances(g, pos_seqs, params.window_size, params.parity)
        if len(wins) < params.min_n_motif:
            continue
        counts = count_matrix([w[4] for w in wins])
        ppm = probability_matrix(counts)
        a, b = informative_core(ppm)
        if params.parity:
            name = g.key
        else:
            core = consensus(ppm[a:b]).upper() if b > a else g.key
            name = core or g.key
            if name in used_names:
                used_names[name] += 1
                name = f"{name}_{used_names[name]}"
            else:
                used_names[name] = 1
        inst = pd.DataFrame({
            "seq_index": [w[0] for w in wins], "sequence_id": [pos_ids[w[0]] for w in wins],
            "start": [w[1] for w in wins], "end": [w[2] for w in wins], "strand": [w[3] for w in wins],
            "core_start": [w[5][0] for w in wins], "core_end": [w[5][1] for w in wins],
            "window": [w[4] for w in wins]})
        motifs.append(Motif(name=name, key=g.source or g.key, consensus=consensus(ppm), instances=inst, counts=counts,
                            p=float(stats.loc[g.source or g.key, "p"]),
                            q=float(stats.loc[g.source or g.key, "q"])))
    step("windows", 1.0)
    stages = {"positives": len(pos_seqs), "negatives": len(neg_seqs), "regions": n_regions,
              "candidates": len(cands), "tested": len(names), "passing_fdr": len(passed),
              "merged": n_merged, "consolidated": len(groups), "kept": len(motifs)}
    return MotifResult(motifs, stages, params, enr, explanation=_explain(stages, params))


def _validate(pos_seqs, pos_scores, neg_seqs):
    if len(pos_seqs) == 0:
        raise InputError("no positive sequences")
    if pos_scores is None or len(pos_scores) != len(pos_seqs):
        raise InputError(f"{len(pos_seqs)} positive sequences but "
                         f"{0 if pos_scores is None else len(pos_scores)} score rows; every positive needs its "
                         "per-nucleotide scores, in the same order")
    if len(neg_seqs) == 0:
        raise InputError("no background sequences: give negatives, or use shuffled positives as background")
    for i, (s, sc) in enumerate(zip(pos_seqs, pos_scores)):
        sc = np.asarray(sc)
        if sc.ndim != 1 or len(sc) < len(s):
            raise InputError(f"positive {i + 1} has {len(s)} bases but {sc.shape[-1] if sc.ndim else 0} scores; "
                             "the scores must cover the sequence (longer rows are cut, as DNABERT-viz does)")
        if not np.isfinite(sc[:len(s)]).all():
            raise InputError(f"positive {i + 1} has missing (NaN) scores within its {len(s)} bases")
    if all(set(s) <= {"N"} for s in pos_seqs):
        raise InputError("every positive sequence is all N: there is nothing to find")


# --------------------------------------------------------------------------------------------------------------
# background

def dinucleotide_shuffle(seq: str, rng: random.Random) -> str:
    """A random sequence with exactly the dinucleotide counts (and first and last base) of ``seq``
    (Altschul & Erikson 1985: a random Eulerian path whose last exits form a spanning arborescence)."""
    if len(seq) <= 2:
        return seq
    edges: dict[str, list[str]] = defaultdict(list)
    for a, b in zip(seq, seq[1:]):
        edges[a].append(b)
    last = seq[-1]
    verts = list(edges)
    while True:
        last_edge = {v: rng.choice(edges[v]) for v in verts if v != last}
        ok = True
        for v in verts:                           # every vertex must reach `last` through last edges
            seen, u = set(), v
            while u != last:
                if u in seen or u not in last_edge:
                    ok = False
                    break
                seen.add(u)
                u = last_edge[u]
            if not ok:
                break
        if ok:
            break
    order = {}
    for v in verts:
        lst = list(edges[v])
        if v != last:
            lst.remove(last_edge[v])
            rng.shuffle(lst)
            lst.append(last_edge[v])
        else:
            rng.shuffle(lst)
        order[v] = lst
    out = [seq[0]]
    ptr = {v: 0 for v in verts}
    u = seq[0]
    for _ in range(len(seq) - 1):
        nxt = order[u][ptr[u]]
        ptr[u] += 1
        out.append(nxt)
        u = nxt
    return "".join(out)


def shuffled_background(seqs: SeqType[str], copies: int = 1, seed: int = 0) -> list[str]:
    """Dinucleotide-shuffled copies of ``seqs`` (the default background)."""
    rng = random.Random(seed)
    return [dinucleotide_shuffle(s, rng) for _ in range(copies) for s in seqs]


def params_dict(params: MotifParams) -> dict:
    return asdict(params)



# --------------------------------------------------------------------------------------------------------------
# JASPAR matches and the output folder

def query_matrices(result: MotifResult, trim: bool = True) -> dict[str, np.ndarray]:
    """PPMs ``[w, 4]`` to compare with known motifs: each motif's informative core (columns with >= 0.5 bits
    between the first and last such column), or the whole window when no column is informative."""
    out = {}
    for m in result.motifs:
        ppm = m.ppm
        a, b = m.core if trim else (0, len(ppm))
        out[m.name] = ppm[a:b] if b - a >= 4 else ppm
    return out


def match_jaspar(result: MotifResult, release: str | None = None, n_best: int = 5,
                 tax_group: str | None = "vertebrates") -> pd.DataFrame:
    """TOMTOM (memelite) of every discovered motif against JASPAR CORE; MEME ``tomtom.tsv`` columns."""
    from .motif_db import DEFAULT_RELEASE, load_jaspar, tomtom_table

    targets = load_jaspar(release or DEFAULT_RELEASE, "CORE", tax_group)
    return tomtom_table(query_matrices(result), targets, n_best=n_best)


def motif_summary(result: MotifResult, tomtom: pd.DataFrame | None) -> pd.DataFrame:
    """``motifs.csv``: one row per motif with its best JASPAR match."""
    df = result.table()
    best = {}
    if tomtom is not None and len(tomtom):
        for q, g in tomtom.groupby("Query_ID", sort=False):
            r = g.sort_values("p-value").iloc[0]
            best[q] = (r["Target_ID"], r["Target_name"], r["p-value"], r["q-value"])
    df["best_jaspar_id"] = [best.get(n, (None,) * 4)[0] for n in df["name"]]
    df["best_jaspar_name"] = [best.get(n, (None,) * 4)[1] for n in df["name"]]
    df["best_jaspar_p"] = [best.get(n, (None,) * 4)[2] for n in df["name"]]
    df["best_jaspar_q"] = [best.get(n, (None,) * 4)[3] for n in df["name"]]
    return df


def write_report(result: MotifResult, out_dir, tomtom: pd.DataFrame | None = None, logos: bool = True,
                 formats: tuple[str, ...] = ("png", "svg", "pdf"), extra: dict | None = None) -> dict:
    """Write ``motifs.csv``, ``instances.csv``, ``motifs.meme``, ``tomtom.tsv``, ``stages.json``, ``candidates.csv``
    and logos (``logos/<motif>_{information,probability}.{png,svg,pdf}``) into ``out_dir``."""
    import json
    from pathlib import Path

    from .motif_db import write_meme
    from .plots import close, logo_figure, save_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = motif_summary(result, tomtom)
    summary.to_csv(out / "motifs.csv", index=False)
    result.instances().to_csv(out / "instances.csv", index=False)
    result.candidates.to_csv(out / "candidates.csv", index=False)
    write_meme([(m.name, m.ppm, m.n_instances) for m in result.motifs], out / "motifs.meme")
    if tomtom is not None:
        tomtom.to_csv(out / "tomtom.tsv", sep="\t", index=False)
    files = []
    if logos:
        for m in result.motifs:
            for mode in ("information", "probability"):
                fig = logo_figure(m.ppm, mode, title=f"{m.name} ({m.n_instances} instances)")
                for fmt in formats:
                    files.append(str(save_figure(fig, out / "logos" / f"{_safe(m.name)}_{mode}.{fmt}")))
                close(fig)
    info = {"stages": result.stages, "explanation": result.explanation, "params": params_dict(result.params),
            "background": result.background, "pseudocount": "total 1 per column, spread evenly (0.25 per base)"}
    if extra:
        info.update(extra)
    (out / "stages.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    return {"motifs": len(result.motifs), "logos": len(files)}


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
