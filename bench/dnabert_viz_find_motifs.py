"""A transcription of DNABERT-viz's ``motif/find_motifs.py`` + ``motif/motif_utils.py`` (``motif_analysis``), written
from /work/shared/reference/dnabert-viz-spec.md §2 (and tests/dnabert_viz_reference.py), run as a standalone script
the way ``find_motifs.py`` runs:

    python bench/dnabert_viz_find_motifs.py --data_dir DATA --predict_dir PRED --save_file_dir OUT [--align_all_ties]

It reads ``DATA/dev.tsv`` (header line; k-mer text, label) and ``PRED/atten.npy`` (+ ``pred_results.npy``, loaded
and unused), imports what the original imports where it imports it (numpy and pandas at module level; pyahocorasick,
scipy, statsmodels and Biopython inside the functions), counts with pyahocorasick and its list check on every match,
merges with Biopython's PairwiseAligner, and writes ``motif_{M}_{n}.txt`` (one window per line) and
``motif_{M}_{n}_weblogo.png`` per motif.

One difference, forced: the original logo is ``Bio.motifs.create(...).weblogo(...)``, which POSTs the motif to
weblogo.threeplusone.com and fails offline. Here the same ``Bio.motifs`` counts are drawn locally as a WebLogo-style
information logo (logomaker, WebLogo's classic colours, PNG at 200 dpi like dnalens's logos).
"""

import argparse
import os

import numpy as np
import pandas as pd


def kmer2seq(kmers):
    """DNABERT's k-mer text back to the sequence: first base of every k-mer, then the whole last k-mer."""
    kmers_list = kmers.split(" ")
    bases = [kmer[0] for kmer in kmers_list[0:-1]]
    bases.append(kmers_list[-1])
    seq = "".join(bases)
    assert len(seq) == len(kmers_list) + len(kmers_list[0]) - 1
    return seq


def contiguous_regions(condition, len_thres=5):
    """Half-open ``(start, end)`` of the maximal True runs of ``condition`` with ``end - start >= len_thres``."""
    d = np.diff(condition.astype(int))
    (idx,) = d.nonzero()
    idx += 1
    if condition[0]:
        idx = np.r_[0, idx]
    if condition[-1]:
        idx = np.r_[idx, condition.size]
    idx.shape = (-1, 2)
    return [(s, e) for s, e in idx if e - s >= len_thres]


def find_high_attention(score, min_len=5, **kwargs):
    cond = (score > np.mean(score)) & (score > 10 * np.min(score))
    if "cond" in kwargs:  # a global condition list, AND-combined (spec §2.3)
        cond = kwargs["cond"]
        if any(isinstance(x, list) for x in cond):
            cond = list(map(all, zip(*cond)))
        cond = np.asarray(cond)
    return contiguous_regions(cond, min_len)


def count_motif_instances(seqs, motifs, allow_multi_match=False):
    import ahocorasick

    motif_count = {}
    A = ahocorasick.Automaton()
    for idx, key in enumerate(motifs):
        A.add_word(key, (idx, key))
        motif_count[key] = 0
    A.make_automaton()
    for seq in seqs:
        matches = sorted(map(lambda x: x[1], A.iter(seq)))
        matched_seqs = []
        for match in matches:
            match_seq = match[1]
            assert match_seq in motifs  # the original checks every match against the Python list
            if allow_multi_match:
                motif_count[match_seq] += 1
            elif match_seq not in matched_seqs:
                motif_count[match_seq] += 1
                matched_seqs.append(match_seq)
    return motif_count


def motifs_hypergeom_test(
    pos_seqs, neg_seqs, motifs, p_adjust="fdr_bh", alpha=0.05, verbose=False, allow_multi_match=False
):
    from scipy.stats import hypergeom
    from statsmodels.stats.multitest import multipletests

    pvals = []
    N = len(pos_seqs) + len(neg_seqs)
    K = len(pos_seqs)
    motif_count_all = count_motif_instances(pos_seqs + neg_seqs, motifs, allow_multi_match=allow_multi_match)
    motif_count_pos = count_motif_instances(pos_seqs, motifs, allow_multi_match=allow_multi_match)
    for motif in motifs:
        n = motif_count_all[motif]
        x = motif_count_pos[motif]
        pval = hypergeom.sf(x - 1, N, K, n)
        if verbose and pval < 1e-5:
            print(f"motif {motif}: N={N}; K={K}; n={n}; x={x}; p={pval}")
        pvals.append(pval)
    if p_adjust is not None:
        pvals = list(multipletests(pvals, alpha=alpha, method=p_adjust)[1])
    return pvals


def filter_motifs(pos_seqs, neg_seqs, motifs, cutoff=0.05, return_idx=False, **kwargs):
    pvals = motifs_hypergeom_test(pos_seqs, neg_seqs, motifs, **kwargs)
    if return_idx:
        return [i for i, pval in enumerate(pvals) if pval < cutoff]
    return [motifs[i] for i, pval in enumerate(pvals) if pval < cutoff]


def merge_motifs(motif_seqs, min_len=5, align_all_ties=True, **kwargs):
    from Bio import Align

    aligner = Align.PairwiseAligner()
    aligner.internal_gap_score = -10000.0  # prohibit internal gaps
    merged_motif_seqs = {}
    for motif in sorted(motif_seqs, key=len):  # shortest first, stable
        if not merged_motif_seqs:
            merged_motif_seqs[motif] = motif_seqs[motif]
            continue
        alignments, key_motifs = [], []
        for key in merged_motif_seqs:
            alignment = aligner.align(motif, key)[0]
            cond = kwargs.get("cond", max(min_len - 1, 0.5 * min(len(motif), len(key))))
            if alignment.score >= cond:
                alignments.append(alignment)
                key_motifs.append(key)
        if not alignments:
            merged_motif_seqs[motif] = motif_seqs[motif]
            continue
        best = max(alignments, key=lambda a: a.score)
        ties = [i for i, a in enumerate(alignments) if a == best]
        for i in ties if align_all_ties else ties[:1]:
            key = key_motifs[i]
            aligned = alignments[i].aligned
            left_offset = aligned[0][0][0] - aligned[1][0][0]
            right_offset = len(motif) - left_offset - len(key)  # the original's three branches reduce to this
            merged_motif_seqs[key]["seq_idx"].extend(motif_seqs[motif]["seq_idx"])
            merged_motif_seqs[key]["atten_region_pos"].extend(
                [(pos[0] + left_offset, pos[1] - right_offset) for pos in motif_seqs[motif]["atten_region_pos"]]
            )
    return merged_motif_seqs


def make_window(motif_seqs, pos_seqs, window_size=24):
    new_motif_seqs = {}
    for motif, instances in motif_seqs.items():
        new_motif_seqs[motif] = {"seq_idx": [], "atten_region_pos": [], "seqs": []}
        for i, coord in enumerate(instances["atten_region_pos"]):
            atten_len = coord[1] - coord[0]
            if (window_size - atten_len) % 2 == 0:
                offset = (window_size - atten_len) / 2
                new_coord = (int(coord[0] - offset), int(coord[1] + offset))
            else:
                offset1 = (window_size - atten_len) // 2
                offset2 = (window_size - atten_len) // 2 + 1
                new_coord = (int(coord[0] - offset1), int(coord[1] + offset2))
            seq_idx = instances["seq_idx"][i]
            if new_coord[0] >= 0 and new_coord[1] < len(pos_seqs[seq_idx]):
                new_motif_seqs[motif]["seq_idx"].append(seq_idx)
                new_motif_seqs[motif]["atten_region_pos"].append(new_coord)
                new_motif_seqs[motif]["seqs"].append(pos_seqs[seq_idx][new_coord[0] : new_coord[1]])
    return new_motif_seqs


def weblogo_png(seqs, path):
    """The original: ``Bio.motifs.create(seqs).weblogo(path, format='png_print', ...)`` (a POST to the WebLogo
    server). Offline stand-in: the same counts as a WebLogo-style information logo drawn locally."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from Bio import motifs
    from Bio.Seq import Seq

    m = motifs.create([Seq(s) for s in seqs])
    counts = pd.DataFrame({b: m.counts[b] for b in "ACGT"})
    info = logomaker.transform_matrix(counts, from_type="counts", to_type="information")
    fig, ax = plt.subplots(figsize=(0.35 * len(info) + 1, 2.2))
    logomaker.Logo(info, ax=ax, color_scheme="classic")
    ax.set_ylim(0, 2)
    fig.savefig(path, format="png", dpi=200)
    plt.close(fig)


def motif_analysis(
    pos_seqs,
    neg_seqs,
    pos_atten_scores,
    window_size=24,
    min_len=4,
    pval_cutoff=0.005,
    min_n_motif=3,
    align_all_ties=True,
    save_file_dir=None,
    **kwargs,
):
    verbose = kwargs.get("verbose", False)
    return_idx = kwargs.pop("return_idx", False)
    pos_seqs, neg_seqs = list(pos_seqs), list(neg_seqs)
    assert len(pos_seqs) == len(pos_atten_scores)
    if verbose:
        print("*** Begin motif analysis ***")
    motif_seqs = {}
    for i, score in enumerate(pos_atten_scores):
        seq_len = len(pos_seqs[i])
        score = score[0:seq_len]
        if "atten_cond" in kwargs:
            regions = find_high_attention(score, min_len=min_len, cond=kwargs["atten_cond"])
        else:
            regions = find_high_attention(score, min_len=min_len)
        for start, end in regions:
            motif_seqs.setdefault(pos_seqs[i][start:end], {"seq_idx": [], "atten_region_pos": []})
            motif_seqs[pos_seqs[i][start:end]]["seq_idx"].append(i)
            motif_seqs[pos_seqs[i][start:end]]["atten_region_pos"].append((int(start), int(end)))
    if verbose:
        print(f"* {len(motif_seqs)} candidate regions; hypergeometric test")
    motifs_to_keep = filter_motifs(
        pos_seqs, neg_seqs, list(motif_seqs.keys()), cutoff=pval_cutoff, return_idx=return_idx, verbose=verbose
    )
    motif_seqs = {k: motif_seqs[k] for k in motifs_to_keep}
    if verbose:
        print(f"* {len(motif_seqs)} pass; merging")
    if "align_cond" in kwargs:
        merged = merge_motifs(motif_seqs, min_len=min_len, align_all_ties=align_all_ties, cond=kwargs["align_cond"])
    else:
        merged = merge_motifs(motif_seqs, min_len=min_len, align_all_ties=align_all_ties)
    merged = make_window(merged, pos_seqs, window_size=window_size)
    merged = {k: coords for k, coords in merged.items() if len(coords["seq_idx"]) >= min_n_motif}
    if save_file_dir is not None:
        os.makedirs(save_file_dir, exist_ok=True)
        for motif, instances in merged.items():
            n = len(instances["seq_idx"])
            with open(os.path.join(save_file_dir, f"motif_{motif}_{n}.txt"), "w") as f:
                for seq in instances["seqs"]:
                    f.write(seq + "\n")
            weblogo_png(instances["seqs"], os.path.join(save_file_dir, f"motif_{motif}_{n}_weblogo.png"))
    return merged


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", type=str, required=True)
    parser.add_argument("--predict_dir", type=str, required=True)
    parser.add_argument("--window_size", type=int, default=24)
    parser.add_argument("--min_len", type=int, default=5)
    parser.add_argument("--pval_cutoff", type=float, default=0.005)
    parser.add_argument("--min_n_motif", type=int, default=3)
    parser.add_argument("--align_all_ties", action="store_true")
    parser.add_argument("--save_file_dir", type=str, default=".")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--return_idx", action="store_true")
    args = parser.parse_args()

    atten_scores = np.load(os.path.join(args.predict_dir, "atten.npy"))
    _pred = np.load(os.path.join(args.predict_dir, "pred_results.npy"))  # loaded and unused, as in the original
    dev = pd.read_csv(os.path.join(args.data_dir, "dev.tsv"), sep="\t", header=0)
    dev.columns = ["sequence", "label"]
    dev["seq"] = dev["sequence"].apply(kmer2seq)
    dev_pos = dev[dev["label"] == 1]
    dev_neg = dev[dev["label"] == 0]
    pos_atten_scores = atten_scores[dev_pos.index.values]
    assert len(dev_pos) == len(pos_atten_scores)
    motif_analysis(
        dev_pos["seq"],
        dev_neg["seq"],
        pos_atten_scores,
        window_size=args.window_size,
        min_len=args.min_len,
        pval_cutoff=args.pval_cutoff,
        min_n_motif=args.min_n_motif,
        align_all_ties=args.align_all_ties,
        save_file_dir=args.save_file_dir,
        verbose=args.verbose,
        return_idx=args.return_idx,
    )


if __name__ == "__main__":
    main()
