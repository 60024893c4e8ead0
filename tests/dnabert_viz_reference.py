"""A literal transcription of DNABERT-viz's motif_analysis as ../shared/reference/dnabert-viz-spec.md §2 describes it,
built on the libraries it names (pyahocorasick, scipy, statsmodels, Biopython's PairwiseAligner). Slow and plain on
purpose: the tests compare core.motifs' vectorised parity mode with it."""

import ahocorasick
import numpy as np
from Bio import Align
from scipy.stats import hypergeom
from statsmodels.stats.multitest import multipletests


def find_high_attention(score, min_len):
    cond = (score > np.mean(score)) & (score > 10 * np.min(score))
    regions, start = [], None
    for i, c in enumerate(list(cond) + [False]):
        if c and start is None:
            start = i
        elif not c and start is not None:
            if i - start >= min_len:
                regions.append((start, i))
            start = None
    return regions


def count_containing(seqs, motifs):
    A = ahocorasick.Automaton()
    for idx, key in enumerate(motifs):
        A.add_word(key, (idx, key))
    A.make_automaton()
    counts = np.zeros(len(motifs), dtype=int)
    for seq in seqs:
        found = set()
        for _end, (idx, key) in A.iter(seq):
            assert key in motifs  # DNABERT-viz checks each match against the Python list (§2.4)
            found.add(idx)
        for idx in found:
            counts[idx] += 1
    return counts


def filter_motifs(pos, neg, motifs, cutoff):
    N, K = len(pos) + len(neg), len(pos)
    n = count_containing(pos + neg, motifs)
    x = count_containing(pos, motifs)
    p = [hypergeom.sf(x[i] - 1, N, K, n[i]) for i in range(len(motifs))]
    p_adj = multipletests(p, alpha=0.05, method="fdr_bh")[1]
    return [m for m, q in zip(motifs, p_adj) if q < cutoff]


def merge_motifs(motif_seqs, min_len):
    aligner = Align.PairwiseAligner()
    aligner.internal_gap_score = -10000.0
    merged = {}
    for m in sorted(motif_seqs, key=len):
        if not merged:
            merged[m] = {
                "seq_idx": list(motif_seqs[m]["seq_idx"]),
                "atten_region_pos": list(motif_seqs[m]["atten_region_pos"]),
            }
            continue
        acc = []
        for key in merged:
            aln = aligner.align(m, key)[0]
            cond = max(min_len - 1, 0.5 * min(len(m), len(key)))
            if aln.score >= cond:
                acc.append((aln, key))
        if not acc:
            merged[m] = {
                "seq_idx": list(motif_seqs[m]["seq_idx"]),
                "atten_region_pos": list(motif_seqs[m]["atten_region_pos"]),
            }
            continue
        best_score = max(a.score for a, _ in acc)
        aln, key = next((a, k) for a, k in acc if a.score == best_score)
        left = aln.aligned[0][0][0] - aln.aligned[1][0][0]
        right = len(m) - left - len(key)
        merged[key]["seq_idx"] += motif_seqs[m]["seq_idx"]
        merged[key]["atten_region_pos"] += [(s + left, e - right) for s, e in motif_seqs[m]["atten_region_pos"]]
    return merged


def make_window(motif_seqs, pos_seqs, window_size):
    out = {}
    for m, d in motif_seqs.items():
        res = {"seq_idx": [], "atten_region_pos": [], "seqs": []}
        for i, (s, e) in zip(d["seq_idx"], d["atten_region_pos"]):
            ln = e - s
            left = (window_size - ln) // 2
            right = window_size - ln - left
            ws, we = s - left, e + right
            if ws >= 0 and we < len(pos_seqs[i]):
                res["seq_idx"].append(i)
                res["atten_region_pos"].append((ws, we))
                res["seqs"].append(pos_seqs[i][ws:we])
        out[m] = res
    return out


def motif_analysis(pos_seqs, neg_seqs, scores, window_size=24, min_len=5, pval_cutoff=0.005, min_n_motif=3):
    pos_seqs, neg_seqs = list(pos_seqs), list(neg_seqs)
    motif_seqs = {}
    for i, seq in enumerate(pos_seqs):
        for s, e in find_high_attention(np.asarray(scores[i])[: len(seq)], min_len):
            d = motif_seqs.setdefault(seq[s:e], {"seq_idx": [], "atten_region_pos": []})
            d["seq_idx"].append(i)
            d["atten_region_pos"].append((s, e))
    kept = filter_motifs(pos_seqs, neg_seqs, list(motif_seqs), pval_cutoff)
    motif_seqs = {k: motif_seqs[k] for k in kept}
    merged = merge_motifs(motif_seqs, min_len)
    windows = make_window(merged, pos_seqs, window_size)
    return {k: v for k, v in windows.items() if len(v["seq_idx"]) >= min_n_motif}
