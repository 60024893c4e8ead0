"""The attention lens: per-nucleotide scores from the [CLS] attention rows kept by :mod:`core.model.inference`.

Recipes (``Attention.recipe``; named presets in :data:`PRESETS`):

``dnabert-viz`` (default)
    DNABERT-viz's recipe (``run_finetune.py --do_visualize``; ``../shared/reference/dnabert-viz-spec.md`` §1.4):
    last layer, [CLS] row, **summed** over heads, each k-mer's score spread over its k bases and averaged over the
    k-mers covering a base, then L2-normalised over the sequence. Unlike DNABERT-viz, only the sequence's own
    k-mers take part: DNABERT-viz's row has ``max_seq_length`` columns and the last bases are averaged with the
    zeroed ``[SEP]`` and padding (the last base is divided by k instead of 1). We do not dilute the ends.
``dnabert-viz-parity``
    The exact ``atten.npy`` row DNABERT-viz writes for one k (zero-fix, dilution by ``[SEP]``/padding, T columns),
    given ``max_seq_length`` T: the track's ``detail['parity_row']`` has exactly T values (DNABERT-viz feeds the
    model at most T - 2 k-mers; longer sequences are cut as it cuts them). Use it to compare with DNABERT-viz.
``custom``
    Chosen layers (default last), heads (default all), head aggregation (sum/mean/max), layer aggregation
    (mean/sum/max), the same spreading, and a normalisation (l2/max/sum/none).
``rollout``
    Attention rollout (Abnar & Zuidema 2020) [CLS] row, spread the same way.

Orientations: ``forward``; ``reverse`` (the model reads the reverse complement; the track is flipped back to the
sequence's own positions); ``both`` (each reading's track normalised, averaged, normalised again).
Long sequences: each window gets its own token->nucleotide track, the windows are stitched by a linear cross-fade in
their overlaps (:func:`core.tokenization.stitch_windows`), and normalisation is applied once to the whole sequence.
A record too long to gather (more windows than one chunk of :func:`core.model.inference.run`) streams: its windows
are stitched as they arrive (:func:`core.model.tokenization.stitch_stream`, the same numbers) into a disk-backed
array (:mod:`core.io.ondisk`), and the normalisation is a second pass over that array; the track is then a
``numpy.memmap``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from ..errors import InputError
from ..io.sequences import Sequence
from ..model.inference import OrientationOutput, RecordOutput, StreamedOrientation
from ..model.tokenization import spread_to_nucleotides, stitch_stream, stitch_windows
from .base import Lens, Track

RECIPES = ("dnabert-viz", "dnabert-viz-parity", "custom", "rollout")
AGGS = ("sum", "mean", "max")
NORMS = ("l2", "max", "sum", "none")


PRESETS = {"dnabert-viz": {}, "dnabert-viz-parity": {"recipe": "dnabert-viz-parity"}, "rollout": {"recipe": "rollout"}}


@dataclass(frozen=True)
class Attention(Lens):
    """How token attention becomes a nucleotide track. Layer/head indices may be negative (-1 = last).

    ``orientation='both'``: each reading's track normalised, averaged, normalised again.
    ``max_seq_length``: DNABERT-viz's T, for the ``dnabert-viz-parity`` recipe.
    """

    name: ClassVar[str] = "attention"
    recipe: str = "dnabert-viz"
    layers: tuple[int, ...] | None = None
    heads: tuple[int, ...] | None = None
    head_agg: str = "sum"
    layer_agg: str = "mean"
    normalize: str = "l2"
    max_seq_length: int | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.recipe not in RECIPES:
            raise InputError(f"unknown recipe '{self.recipe}' (use one of {', '.join(RECIPES)})")
        if self.head_agg not in AGGS or self.layer_agg not in AGGS:
            raise InputError(f"aggregation must be one of {', '.join(AGGS)}")
        if self.normalize not in NORMS:
            raise InputError(f"unknown normalisation '{self.normalize}' (use one of {', '.join(NORMS)})")
        if self.recipe == "dnabert-viz-parity" and (self.max_seq_length is None or self.max_seq_length < 3):
            raise InputError(
                "the dnabert-viz-parity recipe needs DNABERT-viz's max_seq_length T (--max-seq-length, at least 3)"
            )

    @property
    def score_name(self) -> str:
        norm = "l2" if self.recipe in ("dnabert-viz", "dnabert-viz-parity") else self.normalize
        return f"attention ({self.recipe}, {norm}-normalised)"

    def describe(self) -> str:
        if self.recipe == "custom":
            layers = "last layer" if self.layers is None else f"layers {','.join(map(str, self.layers))}"
            heads = "all heads" if self.heads is None else f"heads {','.join(map(str, self.heads))}"
            return f"attention (custom: {layers}, {heads} {self.head_agg}, layers {self.layer_agg}), {self.orientation}"
        if self.recipe == "dnabert-viz-parity":
            return f"attention (dnabert-viz-parity, T={self.max_seq_length}), {self.orientation}"
        return (
            f"attention ({self.recipe}{', last layer, heads summed' if self.recipe == 'dnabert-viz' else ''}), "
            f"{self.orientation}"
        )

    @property
    def needs_rollout(self) -> bool:
        return self.recipe == "rollout"

    def layers_needed(self, n_layers: int) -> tuple[int, ...] | None:
        """Model layers whose [CLS] rows this lens reads (None: the rollout recipe reads none)."""
        if self.recipe == "rollout":
            return None
        if self.recipe in ("dnabert-viz", "dnabert-viz-parity") or self.layers is None:
            return (n_layers - 1,)
        return tuple(sorted({l % n_layers for l in _select(n_layers, self.layers, "layer")}))

    def run_options(self, model) -> dict:
        """The arguments of :func:`core.model.inference.run` this lens needs."""
        return {
            "orientation": self.orientation,
            "rollout": self.needs_rollout,
            "attention": not self.needs_rollout,
            "cls_layers": self.layers_needed(model.n_layers),
        }

    def compute(self, model, sequences, *, batch_size, overlap, progress):
        from ..model.inference import run

        if self.recipe == "dnabert-viz-parity":
            sequences = (_parity_input(s, model, self.max_seq_length) for s in sequences)
        for rec in run(
            model, sequences, batch_size=batch_size, overlap=overlap, progress=progress, **self.run_options(model)
        ):
            yield self.track_of(rec, model)

    def track_of(self, rec: RecordOutput, model) -> Track:
        """The :class:`Track` of one model record (the record must come from :meth:`run_options`'s run)."""
        seq = rec.sequence
        scores = nucleotide_scores(rec, self, k=model.k, n_layers=model.n_layers)
        detail = {}
        if self.recipe == "dnabert-viz-parity":
            detail = {"parity_row": scores}
            full = seq.meta.get("parity_full")
            if full is not None:  # the sequence was cut to what DNABERT-viz reads
                seq = full
            row = np.full(len(seq.seq), np.nan)
            n = min(len(seq.seq), len(scores))
            row[:n] = scores[:n]
            scores = row
        return Track(seq, scores, rec.probs, detail)

    def compute_ensemble(self, models, sequences, *, batch_size, progress):
        """DNABERT-viz's multi-k ensemble: the sum of each model's L2-normalised track (``atten.npy = sum_k``) and
        the mean of their class probabilities; the models run side by side, so memory stays bounded."""
        from ..model.inference import run

        if self.recipe == "dnabert-viz-parity" or (self.recipe != "dnabert-viz" and self.normalize != "l2"):
            raise InputError("the ensemble sums L2-normalised tracks: use the dnabert-viz recipe (or normalize l2)")
        seqs = list(sequences)
        runs = [
            run(lm, seqs, batch_size=batch_size, progress=progress if i == 0 else None, **self.run_options(lm))
            for i, lm in enumerate(models)
        ]
        for recs in zip(*runs):
            track = sum(nucleotide_scores(r, self, k=lm.k, n_layers=lm.n_layers) for r, lm in zip(recs, models))
            probs = [r.probs for r in recs if r.probs is not None]
            yield Track(recs[0].sequence, track, np.mean(probs, axis=0) if len(probs) == len(recs) else None)


def _parity_input(seq: Sequence, model, T: int) -> Sequence:
    """What DNABERT-viz feeds the model: at most ``T - 2`` k-mers (``encode_plus(max_length=T)`` truncates the
    k-mer list from the right and keeps [SEP]), i.e. the first ``T - 2 + k - 1`` bases."""
    if model.k is None or model.family != "kmer":
        raise InputError("the dnabert-viz-parity recipe applies to DNABERT k-mer models only")
    if T < model.k:
        raise InputError(
            f"--max-seq-length {T} is shorter than the k-mer size {model.k}: DNABERT-viz's row reads tokens "
            f"1..T-k+1, so T must be at least k (e.g. 100 for 101-bp sequences)"
        )
    keep = T - 2 + model.k - 1
    if len(seq.seq) <= keep:
        return seq
    return replace(seq, seq=seq.seq[:keep], meta={**seq.meta, "parity_full": seq})


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


def token_scores(
    cls: np.ndarray,
    spec: Attention,
    rollout: np.ndarray | None = None,
    kept: tuple[int, ...] | None = None,
    n_model_layers: int | None = None,
) -> np.ndarray:
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
    sub = cls[np.ix_(layers, heads)].astype(np.float64)  # [nl, nh, T]
    return _agg(_agg(sub, spec.head_agg, axis=1), spec.layer_agg, axis=0)


def normalise(track: np.ndarray, how: str) -> np.ndarray:
    """Scale a track: ``l2`` (unit Euclidean norm, DNABERT-viz), ``max`` (peak 1), ``sum`` (sums to 1), ``none``."""
    if how == "none":
        return track
    denom = {"l2": lambda t: np.linalg.norm(t), "max": lambda t: np.max(np.abs(t)), "sum": lambda t: np.sum(t)}[how](
        track
    )
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
    t = full[1 : M + 1].copy()  # t_j = A[0, j+1], j = 0..M-1
    for j in range(M - 1):  # zero-fix: token before the first exact zero
        if t[j + 1] == 0:
            t[j] = 0.0
            break
    r = np.zeros(T)
    cnt = np.zeros(T)
    for j in range(M):
        r[j : j + k] += t[j]
        cnt[j : j + k] += 1
    r = r / cnt
    norm = np.linalg.norm(r)
    return r / norm if norm > 0 else r


def _parity_row(so: OrientationOutput, spec: Attention, k: int | None, n_model_layers: int | None) -> np.ndarray:
    if isinstance(so, StreamedOrientation) or len(so.windows) > 1 or len(so.windows[0].ids) > spec.max_seq_length:
        raise InputError(f"sequence of {so.length} bp needs more than max_seq_length={spec.max_seq_length} tokens")
    w = so.windows[0]
    return dnabert_viz_parity_row(
        token_scores(w.cls, spec, kept=w.layers, n_model_layers=n_model_layers), k, spec.max_seq_length
    )


def _orientation_track(so: OrientationOutput, spec: Attention, n_model_layers: int | None = None) -> np.ndarray:
    tracks = []
    for w in so.windows:
        if spec.recipe != "rollout" and w.cls is None:
            raise InputError("attention rows were not computed for this run")
        ts = token_scores(w.cls, spec, w.rollout, kept=w.layers, n_model_layers=n_model_layers)
        tracks.append(spread_to_nucleotides(ts, w.spans, w.end - w.start))
    return stitch_windows(tracks, [(w.start, w.end) for w in so.windows], so.length)


def nucleotide_scores(
    rec: RecordOutput, spec: Attention = Attention(), k: int | None = None, n_layers: int | None = None
) -> np.ndarray:
    """Per-nucleotide scores ``[L]`` of one record at the sequence's own positions (``n_layers``: the model's layer
    count, needed only when the run kept some layers). The parity recipe returns DNABERT-viz's ``[T]`` row."""
    if spec.recipe == "dnabert-viz-parity":
        if spec.orientation != "forward" or rec.forward is None:
            raise InputError("the dnabert-viz-parity recipe reads the forward orientation only, as DNABERT-viz does")
        if k is None:
            raise InputError("the dnabert-viz-parity recipe applies to k-mer models only")
        return _parity_row(rec.forward, spec, k, n_layers)
    norm = "l2" if spec.recipe == "dnabert-viz" else spec.normalize
    want = ["forward", "reverse"] if spec.orientation == "both" else [spec.orientation]
    if any(isinstance(getattr(rec, o), StreamedOrientation) for o in want):
        return _streamed_scores(rec, spec, want, norm, n_layers)
    tracks = []
    for orient in want:
        so = getattr(rec, orient)
        if so is None:
            raise InputError(f"the {orient} reading was not computed for '{rec.id}'")
        tr = normalise(_orientation_track(so, spec, n_layers), norm)
        tracks.append(tr[::-1].copy() if orient == "reverse" else tr)
    if len(tracks) == 1:
        return tracks[0]
    return normalise(np.mean(tracks, axis=0), norm)


def _streamed_reading(so: StreamedOrientation, spec: Attention, n_model_layers: int | None, reverse: bool):
    """One reading of a long sequence, stitched while its windows stream past and written to a scratch array on
    disk at the sequence's own positions (unnormalised). Memory: a batch of windows."""
    from ..io.ondisk import Behind, scratch_array

    L = so.length
    out = scratch_array(L)
    behind = Behind(out)

    def window_tracks():
        for w in so.windows:
            if spec.recipe != "rollout" and w.cls is None:
                raise InputError("attention rows were not computed for this run")
            ts = token_scores(w.cls, spec, w.rollout, kept=w.layers, n_model_layers=n_model_layers)
            yield spread_to_nucleotides(ts, w.spans, w.end - w.start)

    for a, vals in stitch_stream(window_tracks(), so.plan, L):
        b = a + len(vals)
        if reverse:  # the reading's position p is the sequence's position L - 1 - p
            a, b, vals = L - b, L - a, vals[::-1]
        out[a:b] = vals
        behind.passed(a, b)
    behind.flush()
    return out


def _streamed_scores(rec: RecordOutput, spec: Attention, want: list[str], norm: str, n_layers: int | None):
    """:func:`nucleotide_scores` for a record whose readings stream (:class:`StreamedOrientation`): the same
    numbers, kept in a disk-backed array (a ``numpy.memmap``) and normalised over the whole sequence in a second
    pass over that array."""
    from ..io import ondisk

    tracks = []
    for orient in want:
        so = getattr(rec, orient)
        if not isinstance(so, StreamedOrientation):
            raise InputError(f"the {orient} reading was not computed for '{rec.id}'")
        tr = _streamed_reading(so, spec, n_layers, orient == "reverse")
        _normalise_on_disk(tr, norm)
        tracks.append(tr)
    if len(tracks) == 1:
        return tracks[0]
    fwd, rev = tracks
    for a, b in ondisk.pieces(len(fwd)):
        fwd[a:b] = (fwd[a:b] + rev[a:b]) / 2
        ondisk.release(fwd, 0, b)
        ondisk.release(rev, 0, b)
    _normalise_on_disk(fwd, norm)
    return fwd


def _normalise_on_disk(track: np.ndarray, how: str) -> None:
    """:func:`normalise` in place, piece by piece."""
    from ..io import ondisk

    if how == "none":
        return
    denom = ondisk.norm(track, how)
    if denom > 0:
        ondisk.divide(track, denom)


def cls_grid(rec: RecordOutput, orientation: str = "forward") -> np.ndarray:
    """Per-layer, per-head nucleotide tracks ``[n_layers, n_heads, L]`` (the layer x head small multiples)."""
    so = getattr(rec, orientation)
    tracks = [spread_to_nucleotides(w.cls.astype(np.float64), w.spans, w.end - w.start) for w in so.windows]
    wins = [(w.start, w.end) for w in so.windows]
    nl, nh = tracks[0].shape[:2]
    out = np.empty((nl, nh, so.length))
    for l in range(nl):
        for h in range(nh):
            out[l, h] = stitch_windows([t[l, h] for t in tracks], wins, so.length)
    if orientation == "reverse":
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
        M[i, o : o + len(t)] = t
        offsets[i] = o
    return M, offsets


def landscape_order(
    by: str, tracks: list[np.ndarray], probs: list | None = None, labels: list | None = None
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
