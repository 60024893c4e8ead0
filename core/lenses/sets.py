"""Set-level views over many tracks (any lens) and over the model's representations: plain functions returning
DataFrames and arrays, for the CLI, reports and the dashboard to lay out.

* :func:`top_kmers`: the k-mers a lens scores highest across a set. A k-mer **occurrence** scores the mean of the
  track over its k bases (k-mers with N are skipped); a k-mer's score is the mean over its occurrences. Signed lenses
  keep their sign: the top k-mers push the prediction toward the target class.
* :func:`kmer_contrast`: positives against negatives, per k-mer: counts and the log2 ratio of occurrence rates
  (per kilobase, pseudocount 1), and the **Mann–Whitney U test** of the occurrence scores in positives against those
  in negatives; the named contrast statistic is ``auc = U / (n_pos n_neg)``, the probability that an occurrence in a
  positive outscores one in a negative (0.5: no difference), with its two-sided p-value and Benjamini–Hochberg q.
* :func:`average_profile` / :func:`profile_contrast`: the mean track (± standard error) of a set, aligned at the
  sequence start, centre, or each track's peak; positives against negatives side by side.
* :func:`sequence_embeddings`: one vector per sequence from the final hidden states: the [CLS] row, or the mean over
  the nucleotide tokens (special tokens and padding left out); windows and orientations averaged.
* :func:`kmer_embedding_table`: the model's input embedding of every nucleotide token (e.g. every 6-mer).
* :func:`pca`: principal components (numpy SVD) for a projector.
* :func:`project`: a projector's two axes: :func:`pca` (default) or :func:`umap_coordinates` (optional extra
  umap-learn; its first fit per process compiles for 15-20 s, :func:`warm_umap`); :func:`kmeans_clusters` colours
  points by cluster.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import InputError

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate("ACGT"):
    _CODE[ord(_b)] = _i


def _kmer_occurrences(seq: str, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(k-mer index [n] in base 4 over ACGT, occurrence score [n])`` of one sequence; k-mers with N skipped."""
    L = min(len(seq), len(scores))
    if L < k:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    codes = _CODE[np.frombuffer(seq[:L].encode("ascii"), dtype=np.uint8)]
    win = np.lib.stride_tricks.sliding_window_view(codes, k)
    ok = (win < 4).all(axis=1)
    idx = (win[ok] * (4 ** np.arange(k - 1, -1, -1))).sum(axis=1)
    c = np.concatenate([[0.0], np.cumsum(np.nan_to_num(np.asarray(scores[:L], dtype=np.float64)))])
    means = (c[k:] - c[:-k]) / k
    return idx, means[ok]


def _kmer_name(index: int, k: int) -> str:
    return "".join("ACGT"[(index // 4**p) % 4] for p in range(k - 1, -1, -1))


def _gather(tracks: Iterable, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(k-mer index, occurrence score, sequence number)`` over every track."""
    if not 1 <= k <= 10:
        raise InputError(f"k-mer size must be between 1 and 10, not {k}")
    parts = [(*_kmer_occurrences(t.sequence.seq, t.scores, k), i) for i, t in enumerate(tracks)]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64)
    idx = np.concatenate([p[0] for p in parts])
    val = np.concatenate([p[1] for p in parts])
    seq = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    return idx, val, seq


def top_kmers(tracks: Iterable, k: int = 6, top: int = 20, min_count: int = 3) -> pd.DataFrame:
    """The ``top`` k-mers by mean occurrence score over a set of tracks (k-mers seen at least ``min_count`` times):
    kmer, count, n_sequences, mean_score, max_score, total_score."""
    idx, val, seq = _gather(tracks, k)
    if not len(idx):
        return pd.DataFrame(columns=["kmer", "count", "n_sequences", "mean_score", "max_score", "total_score"])
    u, inv, count = np.unique(idx, return_inverse=True, return_counts=True)
    total = np.bincount(inv, weights=val)
    mx = np.full(len(u), -np.inf)
    np.maximum.at(mx, inv, val)
    nseq = np.array([len(set(seq[inv == j].tolist())) for j in range(len(u))])
    df = pd.DataFrame(
        {
            "kmer": [_kmer_name(int(i), k) for i in u],
            "count": count,
            "n_sequences": nseq,
            "mean_score": total / count,
            "max_score": mx,
            "total_score": total,
        }
    )
    df = df[df["count"] >= min_count].sort_values(["mean_score", "count"], ascending=[False, False], kind="stable")
    return df.head(top).reset_index(drop=True)


def _groups(idx: np.ndarray, val: np.ndarray) -> dict[int, np.ndarray]:
    """Occurrence scores grouped by k-mer index."""
    order = np.argsort(idx, kind="stable")
    u, starts = np.unique(idx[order], return_index=True)
    return dict(zip(u.tolist(), np.split(val[order], starts[1:])))


def kmer_contrast(positives: Iterable, negatives: Iterable, k: int = 6, min_count: int = 5) -> pd.DataFrame:
    """Per k-mer (seen ``min_count`` times in the two sets together), positives against negatives: counts, rates per
    kb, ``log2_rate_ratio``, mean scores, and the Mann–Whitney ``auc`` with ``p`` and BH ``q`` (NaN when one side
    has no occurrence). Ranked by p, then by auc (highest first)."""
    from scipy.stats import false_discovery_control, mannwhitneyu

    pos, neg = list(positives), list(negatives)
    if not pos or not neg:
        raise InputError("the contrast needs positives and negatives")
    groups = [_groups(*_gather(pos, k)[:2]), _groups(*_gather(neg, k)[:2])]
    kb = [sum(len(t.scores) for t in pos) / 1000, sum(len(t.scores) for t in neg) / 1000]
    empty = np.zeros(0)
    rows = []
    for km in sorted(set(groups[0]) | set(groups[1])):
        a, b = groups[0].get(km, empty), groups[1].get(km, empty)
        if len(a) + len(b) < min_count:
            continue
        u, p = mannwhitneyu(a, b, alternative="two-sided") if len(a) and len(b) else (np.nan, np.nan)
        rows.append(
            {
                "kmer": _kmer_name(int(km), k),
                "count_pos": len(a),
                "count_neg": len(b),
                "rate_pos_per_kb": len(a) / kb[0],
                "rate_neg_per_kb": len(b) / kb[1],
                "log2_rate_ratio": np.log2((len(a) + 1) / kb[0]) - np.log2((len(b) + 1) / kb[1]),
                "mean_score_pos": a.mean() if len(a) else np.nan,
                "mean_score_neg": b.mean() if len(b) else np.nan,
                "auc": u / (len(a) * len(b)) if len(a) and len(b) else np.nan,
                "p": p,
            }
        )
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    ok = df["p"].notna()
    df["q"] = np.nan
    if ok.any():
        df.loc[ok, "q"] = false_discovery_control(df.loc[ok, "p"].to_numpy(), method="bh")
    return df.sort_values(["p", "auc"], ascending=[True, False], na_position="last", kind="stable").reset_index(
        drop=True
    )


# --------------------------------------------------------------------------------------------------------------
# profiles


def _aligned(tracks: list, align: str, width: int | None, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets [W], matrix [n, W] with NaN where a sequence has no base)``."""
    scores = [np.asarray(t.scores, dtype=np.float64) for t in tracks]
    if align in ("left", "center"):
        from .attention import landscape

        M, _ = landscape(scores, align)
        W = M.shape[1]
        offsets = np.arange(W) - (W // 2 if align == "center" else 0)
        return offsets, M
    if align != "peak":
        raise InputError(f"unknown alignment '{align}' (use left, center or peak)")
    from .agreement import peak_position

    half = (width or 2 * max((len(s) for s in scores), default=1)) // 2
    M = np.full((len(scores), 2 * half + 1), np.nan)
    for i, s in enumerate(scores):
        p = peak_position(s, signed)
        lo, hi = max(0, p - half), min(len(s), p + half + 1)
        M[i, lo - p + half : hi - p + half] = s[lo:hi]
    return np.arange(-half, half + 1), M


def average_profile(
    tracks, align: str = "center", width: int | None = None, signed: bool | None = None
) -> pd.DataFrame:
    """The mean track of a set: offset (0-based from the start; from the middle column for ``center``; from each
    track's peak for ``peak``, ``width`` bases around it), mean, sem, n (sequences with a base there)."""
    if signed is None:  # a Tracks knows its lens
        signed = bool(getattr(getattr(tracks, "lens", None), "signed", False))
    tracks = list(tracks)
    offsets, M = _aligned(tracks, align, width, signed)
    n = np.isfinite(M).sum(axis=0)
    filled = np.where(np.isfinite(M), M, 0.0)
    mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
    sq = np.where(np.isfinite(M), (M - mean) ** 2, 0.0).sum(axis=0)
    sd = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)), np.nan)
    return pd.DataFrame({"offset": offsets, "mean": mean, "sem": sd / np.sqrt(np.maximum(n, 1)), "n": n})


def profile_contrast(positives, negatives, align: str = "center", width: int | None = None, signed: bool = False):
    """Average profiles of positives and negatives side by side: offset, mean_pos, sem_pos, n_pos, mean_neg, sem_neg,
    n_neg, difference (mean_pos - mean_neg)."""
    a = average_profile(positives, align, width, signed).rename(columns=lambda c: c if c == "offset" else f"{c}_pos")
    b = average_profile(negatives, align, width, signed).rename(columns=lambda c: c if c == "offset" else f"{c}_neg")
    df = a.merge(b, on="offset", how="outer").sort_values("offset").reset_index(drop=True)
    df["difference"] = df["mean_pos"] - df["mean_neg"]
    return df


# --------------------------------------------------------------------------------------------------------------
# embeddings


def sequence_embeddings(model, sequences, pool: str = "mean", *, orientation: str = "forward", batch_size: int = 32):
    """``(ids, X [N, hidden])``: final hidden states pooled per sequence (``cls`` or ``mean`` over nucleotide
    tokens), averaged over windows and orientations."""
    import torch

    from ..io.sequences import reverse_complement
    from ..model.inference import _pad_batch
    from ..model.tokenization import plan_windows

    if pool not in ("cls", "mean"):
        raise InputError(f"unknown pooling '{pool}' (use cls or mean)")
    base = getattr(model.model, "base_model", model.model)
    seqs = list(sequences)
    jobs = []  # (sequence number, encoded window)
    for i, s in enumerate(seqs):
        for orient in ["forward", "reverse"] if orientation == "both" else [orientation]:
            text = s.seq if orient == "forward" else reverse_complement(s.seq)
            for a, b in plan_windows(len(text), model.tokenizer.window_nt()):
                jobs.append((i, model.tokenizer.encode(text[a:b])))
    sums, counts = None, np.zeros(len(seqs))
    for b0 in range(0, len(jobs), batch_size):
        batch = jobs[b0 : b0 + batch_size]
        ids, mask = _pad_batch(model, [e for _, e in batch])
        with torch.inference_mode():
            h = base(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        nuc = torch.zeros(ids.shape, dtype=torch.bool)
        for r, (_, e) in enumerate(batch):
            nuc[r, : len(e)] = torch.from_numpy(e.spans[:, 0] >= 0)
        nuc = nuc.to(h.device)
        pooled = h[:, 0] if pool == "cls" else (h * nuc[..., None]).sum(1) / nuc.sum(1, keepdim=True).clamp(min=1)
        pooled = pooled.cpu().numpy().astype(np.float64)
        sums = np.zeros((len(seqs), pooled.shape[1])) if sums is None else sums
        for r, (i, _) in enumerate(batch):
            sums[i] += pooled[r]
            counts[i] += 1
    X = sums / counts[:, None] if sums is not None else np.zeros((0, 0))
    return [s.id for s in seqs], X


def kmer_embedding_table(model) -> tuple[list[str], np.ndarray]:
    """``(tokens, E [V, hidden])``: the input embedding of every nucleotide token in the vocabulary (ACGT only)."""
    import re

    from .attribution import word_embeddings

    vocab = model.hf_tokenizer.get_vocab()
    toks = sorted((t for t in vocab if re.fullmatch(r"[ACGT]+", t)), key=lambda t: vocab[t])
    W = word_embeddings(model.model).weight.detach().float().cpu().numpy()
    return toks, W[[vocab[t] for t in toks]].astype(np.float64)


def pca(X: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``(coordinates [N, n_components], explained variance ratio [n_components])`` by SVD of the centred data; each
    component's sign is fixed so that its largest loading is positive."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise InputError("PCA needs at least two vectors")
    n = int(min(n_components, *X.shape))
    Xc = X - X.mean(axis=0)
    U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    signs = np.sign(Vt[np.arange(len(Vt)), np.abs(Vt).argmax(axis=1)])
    signs[signs == 0] = 1
    U, Vt = U * signs, Vt * signs[:, None]
    var = S**2
    return U[:, :n] * S[:n], var[:n] / var.sum() if var.sum() > 0 else np.zeros(n)


# --------------------------------------------------------------------------------------------------------------
# projector: PCA by default, UMAP optionally (optional extra ``.[umap]``), k-means clusters

PROJECTIONS = ("pca", "umap")


def umap_available() -> bool:
    """Whether umap-learn is installed (the optional extra ``pip install -e ".[umap]"``)."""
    import importlib.util

    return importlib.util.find_spec("umap") is not None


def warm_umap() -> None:
    """Fit UMAP once on a small random set: its first fit per process compiles (numba) for 15-20 s; later fits of a
    few hundred points take seconds. The dashboard runs this once per server (``st.cache_resource``)."""
    umap_coordinates(np.random.default_rng(0).normal(size=(40, 8)), n_neighbors=5)


def umap_coordinates(
    X: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1, metric: str = "cosine", seed: int = 42
) -> np.ndarray:
    """UMAP coordinates ``[N, 2]`` (umap-learn; ``seed`` makes it reproducible and single-threaded).
    ``n_neighbors`` is capped at N - 1."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 4:
        raise InputError("UMAP needs at least four vectors")
    if not umap_available():
        raise InputError('UMAP needs the optional extra umap-learn: pip install -e ".[umap]" (PCA needs nothing)')
    import warnings

    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state", spectral-init notes
        model = umap.UMAP(
            n_components=2,
            n_neighbors=int(min(n_neighbors, len(X) - 1)),
            min_dist=min_dist,
            metric=metric,
            random_state=seed,
        )
        return np.asarray(model.fit_transform(X), dtype=np.float64)


def project(X: np.ndarray, method: str = "pca", **options) -> tuple[np.ndarray, dict]:
    """``(coordinates [N, 2], what they are)``: :func:`pca` (the info holds the explained variance ratio of each
    axis) or :func:`umap_coordinates` (``options`` go to it)."""
    if method == "pca":
        coords, ratio = pca(X, 2)
        return coords, {"method": "pca", "axes": [f"PC{i + 1} ({r:.0%} of variance)" for i, r in enumerate(ratio)]}
    if method == "umap":
        return umap_coordinates(X, **options), {"method": "umap", "axes": ["UMAP 1", "UMAP 2"]}
    raise InputError(f"unknown projection '{method}' (use {' or '.join(PROJECTIONS)})")


def kmeans_clusters(X: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Cluster numbers ``[N]`` (0 … k-1, by decreasing size) from k-means (scipy's ``kmeans2``, k-means++ start,
    fixed seed) on the standardised vectors."""
    from scipy.cluster.vq import kmeans2

    X = np.asarray(X, dtype=np.float64)
    if not 1 <= k <= len(X):
        raise InputError(f"k-means needs 1 <= k <= the number of vectors ({len(X)}), not {k}")
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    _, labels = kmeans2(Z, k, minit="++", seed=seed)
    sizes = np.bincount(labels, minlength=k)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k)
    return rank[labels]


def gc_fraction(seqs: Iterable[str]) -> np.ndarray:
    """G+C fraction of each string (e.g. the k-mers of :func:`kmer_embedding_table`, to colour them)."""
    return np.array([(s.count("G") + s.count("C")) / max(1, len(s)) for s in seqs], dtype=np.float64)
