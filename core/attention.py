"""Per-nucleotide attention scores from the [CLS] attention rows kept by :mod:`core.inference`.

Recipes (``AttentionSpec.recipe``):

``dnabert-viz`` (default)
    DNABERT-viz's recipe (``run_finetune.py --do_visualize``; ``../shared/reference/dnabert-viz-spec.md`` §1.4):
    last layer, [CLS] row, **summed** over heads, each k-mer's score spread over its k bases and averaged over the
    k-mers covering a base, then L2-normalised over the sequence. Unlike DNABERT-viz, only the sequence's own
    k-mers take part: DNABERT-viz's row has ``max_seq_length`` columns and the last bases are averaged with the
    zeroed ``[SEP]`` and padding (the last base is divided by k instead of 1). We do not dilute the ends.
``dnabert-viz-parity``
    The exact ``atten.npy`` row DNABERT-viz writes for one k (zero-fix, dilution by ``[SEP]``/padding, T columns),
    given ``max_seq_length`` T. Use it only to compare with files DNABERT-viz produced.
``custom``
    Chosen layers (default last), heads (default all), head aggregation (sum/mean/max), layer aggregation
    (mean/sum/max), the same spreading, and a normalisation (l2/max/sum/none).
``rollout``
    Attention rollout (Abnar & Zuidema 2020) [CLS] row, spread the same way.

Strands: ``forward``; ``reverse`` (the model reads the reverse complement; the track is flipped back to forward
coordinates); ``mean`` (each strand's track normalised, averaged, normalised again).
Long sequences: each window gets its own token->nucleotide track, the windows are stitched by a linear cross-fade in
their overlaps (:func:`core.tokenization.stitch_windows`), and normalisation is applied once to the whole sequence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .inference import RecordOutput, StrandOutput
from .tokenization import spread_to_nucleotides, stitch_windows

RECIPES = ("dnabert-viz", "dnabert-viz-parity", "custom", "rollout")
AGGS = ("sum", "mean", "max")
NORMS = ("l2", "max", "sum", "none")
STRAND_CHOICES = ("forward", "reverse", "mean")


@dataclass(frozen=True)
class AttentionSpec:
    """How token attention becomes a nucleotide track. Layer/head indices may be negative (-1 = last)."""

    recipe: str = "dnabert-viz"
    layers: tuple[int, ...] | None = None
    heads: tuple[int, ...] | None = None
    head_agg: str = "sum"
    layer_agg: str = "mean"
    normalize: str = "l2"
    strand: str = "forward"
    max_seq_length: int | None = None      # T, for dnabert-viz-parity

    def __post_init__(self):
        if self.recipe not in RECIPES:
            raise InputError(f"unknown recipe '{self.recipe}' (use one of {', '.join(RECIPES)})")
        if self.head_agg not in AGGS or self.layer_agg not in AGGS:
            raise InputError(f"aggregation must be one of {', '.join(AGGS)}")
        if self.normalize not in NORMS:
            raise InputError(f"unknown normalisation '{self.normalize}' (use one of {', '.join(NORMS)})")
        if self.strand not in STRAND_CHOICES:
            raise InputError(f"unknown strand '{self.strand}' (use forward, reverse or mean)")

    @property
    def needs_rollout(self) -> bool:
        return self.recipe == "rollout"

    def layers_needed(self, n_layers: int) -> tuple[int, ...] | None:
        """Model layers whose [CLS] rows this spec reads (None: the rollout recipe reads none)."""
        if self.recipe == "rollout":
            return None
        if self.recipe in ("dnabert-viz", "dnabert-viz-parity") or self.layers is None:
            return (n_layers - 1,)
        return tuple(sorted({l % n_layers for l in _select(n_layers, self.layers, "layer")}))

    @property
    def run_strand(self) -> str:
        """The strand argument for :func:`core.inference.run`."""
        return {"forward": "forward", "reverse": "reverse", "mean": "both"}[self.strand]


def _agg(x: np.ndarray, how: str, axis: int) -> np.ndarray:
    return {"sum": np.sum, "mean": np.mean, "max": np.max}[how](x, axis=axis)


def _select(n: int, idx: tuple[int, ...] | None, what: str) -> list[int]:
    if idx is None:
        return list(range(n))
    out = []
    for i in idx:
        if not -n <= i < n:
            raise InputError(f"{what} {i} does not exist (the model has {n} {what}s: 0..{n - 1})")
        out.append(i % n)
    return out


def token_scores(cls: np.ndarray, spec: AttentionSpec, rollout: np.ndarray | None = None,
                 kept: tuple[int, ...] | None = None, n_model_layers: int | None = None) -> np.ndarray:
    """Token scores ``[T]`` from a window's [CLS] rows ``[n_layers, n_heads, T]`` under ``spec``.

    ``kept``: the model layers the rows hold when only some were computed (``n_model_layers`` in the model).
    """
    if spec.recipe == "rollout":
        if rollout is None:
            raise InputError("the rollout recipe needs the model run with rollout=True")
        return np.asarray(rollout, dtype=np.float64)
    _, n_heads, _ = cls.shape
    n_layers = n_model_layers if kept is not None else cls.shape[0]
    if spec.recipe in ("dnabert-viz", "dnabert-viz-parity"):
        if kept is not None and (n_layers - 1) not in kept:
            raise InputError("the last layer's attention was not computed for this run")
        return cls[-1].astype(np.float64).sum(axis=0)
    layers = _select(n_layers, spec.layers if spec.layers is not None else (-1,), "layer")
    if kept is not None:
        missing = [l for l in layers if l not in kept]
        if missing:
            raise InputError(f"layer(s) {missing} were not computed for this run (computed: {list(kept)})")
        layers = [kept.index(l) for l in layers]
    heads = _select(n_heads, spec.heads, "head")
    sub = cls[np.ix_(layers, heads)].astype(np.float64)          # [nl, nh, T]
    return _agg(_agg(sub, spec.head_agg, axis=1), spec.layer_agg, axis=0)


def normalise(track: np.ndarray, how: str) -> np.ndarray:
    """Scale a track: ``l2`` (unit Euclidean norm, DNABERT-viz), ``max`` (peak 1), ``sum`` (sums to 1), ``none``."""
    if how == "none":
        return track
    denom = {"l2": lambda t: np.linalg.norm(t), "max": lambda t: np.max(np.abs(t)),
             "sum": lambda t: np.sum(t)}[how](track)
    return track / denom if denom > 0 else track


def dnabert_viz_parity_row(token_scores_full: np.ndarray, k: int, T: int) -> np.ndarray:
    """DNABERT-viz's ``atten.npy`` row for one k (spec §1.4), before the multi-k sum. Returns ``[T]``.

    token_scores_full: head-summed last-layer [CLS] row over the real tokens ``[CLS] k-mer_1..k-mer_n [SEP]``
    (length ``n + 2 <= T``); padding up to T has attention exactly 0, as in DNABERT-viz's float32 run.
    """
    full = np.zeros(T, dtype=np.float64)
    n_real = min(len(token_scores_full), T)
    full[:n_real] = token_scores_full[:n_real]
    M = T - k + 1
    t = full[1:M + 1].copy()                               # t_j = A[0, j+1], j = 0..M-1
    for j in range(M - 1):                                 # zero-fix: token before the first exact zero
        if t[j + 1] == 0:
            t[j] = 0.0
            break
    r = np.zeros(T)
    cnt = np.zeros(T)
    for j in range(M):
        r[j:j + k] += t[j]
        cnt[j:j + k] += 1
    r = r / cnt
    norm = np.linalg.norm(r)
    return r / norm if norm > 0 else r


def _strand_track(so: StrandOutput, spec: AttentionSpec, k: int | None, n_model_layers: int | None = None
                  ) -> np.ndarray:
    if spec.recipe == "dnabert-viz-parity":
        if k is None:
            raise InputError("the dnabert-viz-parity recipe applies to k-mer models only")
        if spec.max_seq_length is None:
            raise InputError("the dnabert-viz-parity recipe needs max_seq_length (DNABERT-viz's T)")
        if len(so.windows) > 1 or len(so.windows[0].ids) > spec.max_seq_length:
            raise InputError(f"sequence of {so.length} bp needs more than max_seq_length="
                             f"{spec.max_seq_length} tokens; DNABERT-viz would truncate it, parity is undefined")
        w = so.windows[0]
        row = dnabert_viz_parity_row(token_scores(w.cls, spec, kept=w.layers, n_model_layers=n_model_layers), k,
                                     spec.max_seq_length)
        out = np.zeros(so.length)
        n = min(so.length, spec.max_seq_length)
        out[:n] = row[:n]
        return out
    tracks = []
    for w in so.windows:
        if spec.recipe != "rollout" and w.cls is None:
            raise InputError("attention rows were not computed for this run")
        ts = token_scores(w.cls, spec, w.rollout, kept=w.layers, n_model_layers=n_model_layers)
        tracks.append(spread_to_nucleotides(ts, w.spans, w.end - w.start))
    return stitch_windows(tracks, [(w.start, w.end) for w in so.windows], so.length)


def nucleotide_scores(rec: RecordOutput, spec: AttentionSpec = AttentionSpec(), k: int | None = None,
                      n_layers: int | None = None) -> np.ndarray:
    """Per-nucleotide scores ``[L]`` of one record, in forward-strand coordinates (``n_layers``: the model's layer
    count, needed only when the run kept some layers)."""
    norm = "l2" if spec.recipe in ("dnabert-viz", "dnabert-viz-parity") else spec.normalize
    want = {"forward": ["forward"], "reverse": ["reverse"], "mean": ["forward", "reverse"]}[spec.strand]
    tracks = []
    for st in want:
        so = getattr(rec, st)
        if so is None:
            raise InputError(f"strand '{st}' was not computed for '{rec.id}'; run with strand="
                             f"{spec.run_strand!r}")
        tr = _strand_track(so, spec, k, n_layers)
        if spec.recipe == "dnabert-viz-parity":
            tracks.append(tr[::-1].copy() if st == "reverse" else tr)
            continue
        tr = normalise(tr, norm)
        tracks.append(tr[::-1].copy() if st == "reverse" else tr)
    if len(tracks) == 1:
        return tracks[0]
    return normalise(np.mean(tracks, axis=0), norm)


def cls_grid(rec: RecordOutput, strand: str = "forward", k: int | None = None) -> np.ndarray:
    """Per-layer, per-head nucleotide tracks ``[n_layers, n_heads, L]`` (the layer x head small multiples)."""
    so = getattr(rec, strand)
    tracks = [spread_to_nucleotides(w.cls.astype(np.float64), w.spans, w.end - w.start) for w in so.windows]
    wins = [(w.start, w.end) for w in so.windows]
    nl, nh = tracks[0].shape[:2]
    out = np.empty((nl, nh, so.length))
    for l in range(nl):
        for h in range(nh):
            out[l, h] = stitch_windows([t[l, h] for t in tracks], wins, so.length)
    if strand == "reverse":
        out = out[..., ::-1]
    return out


def landscape(tracks: list[np.ndarray], align: str = "left") -> tuple[np.ndarray, np.ndarray]:
    """Stack tracks of possibly different lengths into ``[n, L_max]`` (NaN where a sequence has no base).

    align: ``left`` (position 0 in column 0) or ``center`` (sequence centres on the middle column). Returns the
    matrix and each row's column offset.
    """
    if align not in ("left", "center"):
        raise InputError("align must be 'left' or 'center'")
    Lmax = max((len(t) for t in tracks), default=0)
    M = np.full((len(tracks), Lmax), np.nan)
    offsets = np.zeros(len(tracks), dtype=int)
    for i, t in enumerate(tracks):
        o = (Lmax - len(t)) // 2 if align == "center" else 0
        M[i, o:o + len(t)] = t
        offsets[i] = o
    return M, offsets


def landscape_order(by: str, tracks: list[np.ndarray], probs: list | None = None, labels: list | None = None
                    ) -> np.ndarray:
    """Row order for a landscape: ``input``, ``prediction`` (highest first), ``label`` (then prediction) or
    ``peak`` (position of the highest score)."""
    n = len(tracks)
    if by == "input":
        return np.arange(n)
    if by == "peak":
        return np.argsort([int(np.nanargmax(t)) for t in tracks], kind="stable")
    p = np.array([np.nan if x is None else float(x) for x in (probs or [None] * n)])
    if by == "prediction":
        return np.argsort(-np.nan_to_num(p, nan=-1), kind="stable")
    if by == "label":
        lab = np.array([-1 if x is None else x for x in (labels or [None] * n)])
        return np.lexsort((-np.nan_to_num(p, nan=-1), -lab))
    raise InputError(f"unknown order '{by}' (use input, prediction, label or peak)")


def ensemble_tracks(models: list, seqs, spec: "AttentionSpec" = AttentionSpec(), batch_size: int = 32,
                    progress=None):
    """DNABERT-viz's multi-k ensemble: for every sequence, the sum of each model's L2-normalised nucleotide track
    (``atten.npy = sum_k``) and the mean of their class probabilities. Yields ``(sequence, track [L], probs or
    None)`` in input order; the models run side by side over the input, so memory stays bounded."""
    from .inference import run

    if spec.recipe not in ("dnabert-viz", "custom", "rollout") or (spec.recipe != "dnabert-viz" and
                                                                   spec.normalize != "l2"):
        raise InputError("the ensemble sums L2-normalised tracks: use the dnabert-viz recipe (or normalize='l2')")
    seqs = list(seqs)
    runs = [run(lm, seqs, batch_size=batch_size, strand=spec.run_strand, rollout=spec.needs_rollout,
                attention=not spec.needs_rollout, cls_layers=spec.layers_needed(lm.n_layers),
                progress=progress if i == 0 else None) for i, lm in enumerate(models)]
    for recs in zip(*runs):
        track = sum(nucleotide_scores(r, spec, k=lm.k, n_layers=lm.n_layers) for r, lm in zip(recs, models))
        probs = [r.probs for r in recs if r.probs is not None]
        yield recs[0].sequence, track, (np.mean(probs, axis=0) if len(probs) == len(recs) else None)
