"""Stages 3-4: merging candidates by ungapped alignment, the default mode's consolidation, and the windows
centred on each instance."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as SeqType
from dataclasses import dataclass, field

import numpy as np

from .params import MotifParams
from .pwm import consensus, count_matrix, informative_core, probability_matrix
from .seqcode import rc as _rc


def ungapped_alignment(m: str, key: str, end_gap: float = -1.0) -> tuple[float, int]:
    """Biopython PairwiseAligner (global, match 1, mismatch 0, internal gaps forbidden, end gaps ``end_gap``)
    score and chosen offset ``d`` (start of ``key`` relative to ``m``), by the exact closed form of spec §2.7."""
    keys = _KeyCodes()
    keys.add(key)
    scores, ds = _alignment_scores(np.frombuffer(m.encode(), np.uint8), keys, end_gap)
    return float(scores[0]), int(ds[0])


class _KeyCodes:
    """The merge keys as a byte matrix ``[n_keys, longest]`` (255 past a key's end) and their lengths, grown in
    place as keys are added (the matrix is not rebuilt for every candidate)."""

    def __init__(self) -> None:
        self.codes = np.full((16, 16), 255, dtype=np.uint8)
        self.lengths = np.zeros(16, dtype=np.int64)
        self.n = 0

    def add(self, key: str) -> None:
        rows, cols = self.codes.shape
        if self.n == rows or len(key) > cols:
            grown = np.full((max(rows, 2 * self.n), max(cols, len(key))), 255, dtype=np.uint8)
            grown[:rows, :cols] = self.codes
            self.codes = grown
            self.lengths = np.concatenate([self.lengths, np.zeros(len(grown) - rows, np.int64)])
        self.codes[self.n, : len(key)] = np.frombuffer(key.encode(), np.uint8)
        self.lengths[self.n] = len(key)
        self.n += 1


def _alignment_scores(m_codes: np.ndarray, keys: _KeyCodes, end_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Best score and chosen offset of ``m`` against every key (vectorised over keys and offsets)."""
    L1 = len(m_codes)
    L2 = keys.lengths[: keys.n]
    Lk = int(L2.max())
    K = keys.codes[: keys.n, :Lk]
    ds = np.arange(-(Lk - 1), L1)  # offsets of the key start relative to m
    m_ext = np.concatenate([np.full(Lk - 1, 254, np.uint8), m_codes, np.full(Lk - 1, 254, np.uint8)])
    matches = np.zeros((keys.n, len(ds)), dtype=np.int16)  # [nk, n_off]: matches of each key at each offset
    for j in range(Lk):  # one key column at a time: far faster than reducing a short last axis
        matches += K[:, j, None] == m_ext[None, j : j + len(ds)]
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
    source: str = ""  # the enrichment key whose p/q the group reports


def merge_candidates(
    items,
    min_len: int,
    end_gap: float = -1.0,
    both_strands: bool = False,
    threshold: Callable[[int, int], float] | None = None,
    sort_by_length: bool = True,
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
    key_codes = _KeyCodes()
    for m, info in items:
        inst = list(zip(info["seq_idx"], info["regions"], info.get("strands", ["+"] * len(info["seq_idx"]))))
        source = info.get("source", m)
        L1 = len(m)
        ok = np.zeros(0, bool)
        if groups:
            thresholds = np.array([thr(L1, len(k)) for k in keys])
            sc, dd = _alignment_scores(np.frombuffer(m.encode(), np.uint8), key_codes, end_gap)
            orient = "+"
            ok = sc >= thresholds
            if both_strands:
                sc_r, dd_r = _alignment_scores(np.frombuffer(_rc(m).encode(), np.uint8), key_codes, end_gap)
                ok_r = sc_r >= thresholds
                best_f = sc[ok].max() if ok.any() else -np.inf
                best_r = sc_r[ok_r].max() if ok_r.any() else -np.inf
                if best_r > best_f:
                    sc, dd, ok, orient = sc_r, dd_r, ok_r, "-"
        if not ok.any():
            groups.append(
                _Group(m, [i for i, _, _ in inst], [r for _, r, _ in inst], [s for _, _, s in inst], source=source)
            )
            keys.append(m)
            key_codes.add(m)
            continue
        t = int(np.argmax(np.where(ok, sc, -np.inf)))  # first key with the maximal score
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
            items.append((g.key, {"seq_idx": g.seq_idx, "regions": g.spans, "strands": g.strands, "source": g.source}))
            continue
        spans = [(ws + a, ws + b) if st == "+" else (we - b, we - a) for _, ws, we, st, _, _ in wins]
        items.append(
            (
                consensus(ppm[a:b]).upper(),
                {
                    "seq_idx": [w[0] for w in wins],
                    "regions": spans,
                    "strands": [w[3] for w in wins],
                    "source": g.source,
                },
            )
        )
    items.sort(key=lambda kv: -len(kv[1]["seq_idx"]))
    merged = merge_candidates(
        items,
        params.min_len,
        end_gap=0.0,
        both_strands=params.both_strands,
        threshold=lambda L1, L2: max(params.min_len, 0.75 * min(L1, L2)),
        sort_by_length=False,
    )
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


def window_instances(
    group: _Group, pos_seqs: SeqType[str], window_size: int, parity: bool
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
        else:  # the key reads on the reverse strand: its left is our right
            ws, we = s - right, e + left
        if parity:
            if not (ws >= 0 and we < len(seq)):
                continue
            win = seq[ws:we]
        else:
            win = "N" * max(0, -ws) + seq[max(0, ws) : min(len(seq), we)] + "N" * max(0, we - len(seq))
            if st == "-":
                win = _rc(win)
        out.append((i, ws, we, st, win, (s, e)))
    return out
