"""Batched model runs that reduce every batch at once to what is asked for.

For each sequence (and reading orientation) the sequence is split into windows that fit the model (see
:func:`core.tokenization.plan_windows`); each window is tokenized, batched with others of similar length, run
through the model, and reduced immediately to:

* class probabilities ``[n_classes]`` (when the model has a classification head),
* the [CLS]-query attention row of every layer and head, ``[n_layers, n_heads, T]`` (float32, real tokens only),
* optionally the attention-rollout [CLS] row ``[T]``.

Full ``T x T`` matrices exist only inside one batch; :func:`token_matrices` returns them for one sequence (head view).
Records come out in input order from a bounded buffer, so memory does not grow with the number of sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..io.sequences import Sequence, reverse_complement
from .loading import LoadedModel
from .tokenization import Encoded, plan_windows

ORIENTATIONS = ("forward", "reverse", "both")


@dataclass
class WindowOutput:
    """One model window of one reading orientation.

    start, end: nucleotide interval of the window in that orientation's own coordinates.
    spans: int64 ``[T, 2]`` token spans relative to ``start`` (``-1`` for special tokens).
    ids:   int64 ``[T]`` token ids.
    cls:   float32 ``[n_layers, n_heads, T]`` attention of the [CLS] query to every real token, or None
           (``[len(layers), n_heads, T]`` when only some layers were asked for).
    rollout: float32 ``[T]`` attention-rollout [CLS] row, or None.
    probs: float32 ``[n_classes]`` or None.
    """

    start: int
    end: int
    spans: np.ndarray
    ids: np.ndarray
    cls: np.ndarray | None = None
    rollout: np.ndarray | None = None
    probs: np.ndarray | None = None
    layers: tuple[int, ...] | None = None  # model layers held in ``cls`` (None: all, in order)


@dataclass
class OrientationOutput:
    windows: list[WindowOutput]
    length: int

    @property
    def probs(self) -> np.ndarray | None:
        """Class probabilities averaged over the windows (one window for sequences that fit the model)."""
        ps = [w.probs for w in self.windows if w.probs is not None]
        return np.mean(ps, axis=0) if ps else None


@dataclass
class StreamedOrientation:
    """One reading of a long sequence whose windows are computed while they are iterated, one batch at a time and
    in window order, instead of held in a list (memory: one batch, whatever the length).

    ``windows`` is a fresh iterator on each access: every pass runs the model again. ``plan`` holds the windows'
    ``(start, end)``; ``probs`` is the mean over the windows of the last complete pass (a pass is run if none was).
    """

    length: int
    plan: list[tuple[int, int]]
    source: Callable[[], Iterator[WindowOutput]]
    _probs: np.ndarray | None = None

    @property
    def windows(self) -> Iterator[WindowOutput]:
        return self._iterate()

    def _iterate(self) -> Iterator[WindowOutput]:
        total, n = None, 0
        for w in self.source():
            if w.probs is not None:
                total = w.probs.astype(np.float64) if total is None else total + w.probs
                n += 1
            yield w
        if n:
            self._probs = (total / n).astype(np.float32)

    @property
    def probs(self) -> np.ndarray | None:
        if self._probs is None:
            for _ in self._iterate():
                pass
        return self._probs


@dataclass
class RecordOutput:
    """Model output for one input sequence: read forward and/or as its reverse complement."""

    id: str
    index: int
    length: int
    forward: OrientationOutput | StreamedOrientation | None = None
    reverse: OrientationOutput | StreamedOrientation | None = None
    meta: dict = field(default_factory=dict)
    sequence: Sequence | None = None  # the input record (lets callers stream without keeping a list)

    @property
    def probs(self) -> np.ndarray | None:
        """Class probabilities; read both ways, the mean of the two."""
        ps = [s.probs for s in (self.forward, self.reverse) if s is not None and s.probs is not None]
        return np.mean(ps, axis=0) if ps else None


@dataclass
class _Job:
    rec: int
    orientation: str
    win: int
    start: int
    end: int
    enc: Encoded


def _pad_batch(lm: LoadedModel, batch: list[Encoded]):
    """``(ids [B, T], mask [B, T])`` torch tensors on the model's device, padded with the tokenizer's pad id."""
    import torch

    B, T = len(batch), max(len(e) for e in batch)
    ids = np.full((B, T), lm.tokenizer.pad_id, dtype=np.int64)
    mask = np.zeros((B, T), dtype=np.int64)
    for i, e in enumerate(batch):
        ids[i, : len(e)] = e.ids
        mask[i, : len(e)] = 1
    pin = lm.device.startswith("cuda")
    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)
    if pin:
        t_ids, t_mask = t_ids.pin_memory(), t_mask.pin_memory()
    return t_ids.to(lm.device, non_blocking=pin), t_mask.to(lm.device, non_blocking=pin)


def autocast(lm: LoadedModel):
    """fp16/bf16 autocast on a GPU; a no-op context elsewhere."""
    import contextlib

    import torch

    if lm.device.startswith("cuda") and lm.dtype in ("float16", "bfloat16"):
        return torch.autocast(device_type="cuda", dtype=getattr(torch, lm.dtype))
    return contextlib.nullcontext()


def class_probabilities(lm: LoadedModel, out) -> np.ndarray | None:
    """Softmax of the classification logits ``[B, C]`` (None for models without a classification head)."""
    import torch

    if not lm.has_classifier:
        return None
    return torch.softmax(out.logits.float(), dim=-1).cpu().numpy()


def _attention_call(lm: LoadedModel, ids, mask, layers, rows_only: bool):
    """One forward pass that also yields attention: ``(model output, {layer: [B, heads, 1 or T, T]})``."""
    from .attention_paths import attention_from_capture, capturing

    if lm.attention_path == "eager":
        out = lm.model(input_ids=ids, attention_mask=mask, output_attentions=True)
        if not out.attentions:
            raise InputError(
                f"model '{lm.name}' returned no attention weights: its own code does not expose "
                "them, and its layers are neither BERT's (query/key projections) nor DNABERT-2's "
                "(fused Wqkv with an ALiBi bias), from which dnalens could recompute them; "
                "predictions and mutation maps still work"
            )
        return out, {li: out.attentions[li][:, :, :1] if rows_only else out.attentions[li] for li in layers}
    with capturing(layers, rows_only) as box:
        out = lm.model(input_ids=ids, attention_mask=mask)
    return out, attention_from_capture(lm.model, lm.attention_path, box, mask, rows_only)


def _forward(
    lm: LoadedModel, batch: list[Encoded], want_attention: bool, rollout: bool, layers: tuple[int, ...] | None = None
):
    """Run one padded batch; returns ``(probs [B, C] or None, cls [B, n_layers_kept, heads, T] or None,
    rollout [B, T] or None)``. Only the [CLS] rows are formed unless rollout needs the full matrices."""
    import torch

    from .attention_paths import rollout_cls

    ids, mask = _pad_batch(lm, batch)
    chosen = list(layers if layers is not None else range(lm.n_layers))
    with torch.inference_mode(), autocast(lm):
        if not (want_attention or rollout):
            out = lm.model(input_ids=ids, attention_mask=mask)
            return class_probabilities(lm, out), None, None
        keep = range(lm.n_layers) if rollout else chosen
        out, mats = _attention_call(lm, ids, mask, keep, rows_only=not rollout)
        probs = class_probabilities(lm, out)
        cls = (
            torch.stack([mats[li][:, :, 0, :] for li in chosen], dim=1).float().cpu().numpy()
            if want_attention
            else None
        )
        roll = rollout_cls([mats[li] for li in range(lm.n_layers)], mask).cpu().numpy() if rollout else None
    return probs, cls, roll


def _plan(lm: LoadedModel, seq: Sequence, overlap: int | None) -> list[tuple[int, int]]:
    """The windows of one sequence (the sequence must hold at least one token)."""
    L = len(seq.seq)
    if L < lm.tokenizer.min_length():
        raise InputError(
            f"sequence of length {L} is shorter than the model's k-mer size {lm.tokenizer.min_length()}",
            source=seq.source or None,
            record=seq.id,
        )
    return plan_windows(L, lm.tokenizer.window_nt(), overlap)


def _window_bases(seq: str, a: int, b: int, orientation: str) -> str:
    """Bases ``[a, b)`` of the sequence as read in ``orientation`` (reverse: coordinates on the reverse
    complement), cut without building the whole reverse complement."""
    if orientation == "forward":
        return seq[a:b]
    L = len(seq)
    return reverse_complement(seq[L - b : L - a])


def _jobs_for(rec_idx: int, lm: LoadedModel, seq: Sequence, orientations: list[str], windows) -> list[_Job]:
    s = seq.seq
    return [
        _Job(rec_idx, orient, wi, a, b, lm.tokenizer.encode(_window_bases(s, a, b, orient)))
        for orient in orientations
        for wi, (a, b) in enumerate(windows)
    ]


def _window_output(job_start, job_end, enc: Encoded, i: int, probs, cls, roll, cls_layers) -> WindowOutput:
    n = len(enc)
    return WindowOutput(
        start=job_start,
        end=job_end,
        spans=enc.spans,
        ids=enc.ids,
        cls=None if cls is None else np.ascontiguousarray(cls[i, :, :, :n]),
        rollout=None if roll is None else np.ascontiguousarray(roll[i, :n]),
        probs=None if probs is None else probs[i],
        layers=cls_layers,
    )


def _window_stream(lm: LoadedModel, seq: str, orientation: str, plan, batch_size: int, opts: dict):
    """The windows of one reading, computed batch by batch in window order (see :class:`StreamedOrientation`)."""
    for b0 in range(0, len(plan), batch_size):
        part = plan[b0 : b0 + batch_size]
        encs = [lm.tokenizer.encode(_window_bases(seq, a, b, orientation)) for a, b in part]
        probs, cls, roll = _forward(lm, encs, opts["attention"], opts["rollout"], opts["cls_layers"])
        for i, ((a, b), enc) in enumerate(zip(part, encs)):
            yield _window_output(a, b, enc, i, probs, cls, roll, opts["cls_layers"])


def _streamed_record(lm, idx: int, seq: Sequence, orients, plan, batch_size: int, opts: dict) -> RecordOutput:
    out = RecordOutput(id=seq.id, index=idx, length=len(seq.seq), sequence=seq)
    for orient in orients:

        def source(orient=orient):
            return _window_stream(lm, seq.seq, orient, plan, batch_size, opts)

        setattr(out, orient, StreamedOrientation(len(seq.seq), plan, source))
    return out


def check_overlap(lm: LoadedModel, overlap: int | None) -> None:
    """``overlap`` must leave each window at least one new base: ``0 <= overlap < window``."""
    if overlap is None:
        return
    window = lm.tokenizer.window_nt()
    if not 0 <= overlap < window:
        raise InputError(
            f"overlap {overlap} must be at least 0 and smaller than the model's window of {window} bases "
            f"(neighbouring windows share the overlap; default: a quarter of the window, {window // 4})"
        )


def _gathered(lm: LoadedModel, pending: list, jobs: list[_Job], orients, batch_size: int, opts: dict):
    """Run the windows of several records in length-sorted batches; yield the records in input order."""
    results: dict[tuple[int, str, int], WindowOutput] = {}
    order = sorted(range(len(jobs)), key=lambda j: len(jobs[j].enc))
    for b0 in range(0, len(order), batch_size):
        batch = [jobs[j] for j in order[b0 : b0 + batch_size]]
        probs, cls, roll = _forward(lm, [j.enc for j in batch], opts["attention"], opts["rollout"], opts["cls_layers"])
        for i, job in enumerate(batch):
            results[(job.rec, job.orientation, job.win)] = _window_output(
                job.start, job.end, job.enc, i, probs, cls, roll, opts["cls_layers"]
            )
    for idx, seq, plan in pending:
        out = RecordOutput(id=seq.id, index=idx, length=len(seq.seq), sequence=seq)
        for st in orients:
            setattr(out, st, OrientationOutput([results[(idx, st, w)] for w in range(len(plan))], len(seq.seq)))
        yield out


def run(
    lm: LoadedModel,
    seqs: Iterable[Sequence],
    *,
    batch_size: int = 32,
    orientation: str = "forward",
    attention: bool = True,
    rollout: bool = False,
    overlap: int | None = None,
    chunk_windows: int | None = None,
    progress: Callable[[int], None] | None = None,
    cls_layers: tuple[int, ...] | None = None,
) -> Iterator[RecordOutput]:
    """Run the model over ``seqs``; yields one :class:`RecordOutput` per sequence, in input order.

    orientation: how the model reads each sequence: 'forward', 'reverse' (its reverse complement) or 'both'.
    attention: keep the [CLS] rows of every layer/head; rollout: also the rollout [CLS] row.
    Windows are processed in chunks of ``chunk_windows`` (default ``8 * batch_size``) sorted by length, so at most
    one chunk of reduced outputs is held at a time. A record with more windows than one chunk is not gathered:
    its readings are :class:`StreamedOrientation` objects, computed batch by batch while the consumer iterates
    them, so memory does not grow with the record's length. ``progress(n)`` is called with the number of records
    finished. How attention is read was fixed when the model was loaded (:mod:`core.model.attention_paths`).
    cls_layers: keep the [CLS] rows of these layers only (negative indices count from the end; None: all).
    """
    if orientation not in ORIENTATIONS:
        raise InputError(f"unknown orientation '{orientation}' (use forward, reverse or both)")
    if batch_size < 1:
        raise InputError("batch size must be at least 1")
    check_overlap(lm, overlap)
    orients = ["forward", "reverse"] if orientation == "both" else [orientation]
    if cls_layers is not None:
        cls_layers = tuple(sorted({l % lm.n_layers for l in cls_layers}))
    opts = {"attention": attention, "rollout": rollout, "cls_layers": cls_layers}
    chunk_windows = chunk_windows or max(8 * batch_size, 64)
    pending: list[tuple[int, Sequence, list]] = []
    jobs: list[_Job] = []
    done = 0
    for idx, seq in enumerate(seqs):
        plan = _plan(lm, seq, overlap)
        streamed = len(plan) * len(orients) > chunk_windows
        if pending and (streamed or len(jobs) >= chunk_windows):
            yield from _gathered(lm, pending, jobs, orients, batch_size, opts)
            done += len(pending)
            pending, jobs = [], []
            if progress:
                progress(done)
        if streamed:
            yield _streamed_record(lm, idx, seq, orients, plan, batch_size, opts)
            done += 1
            if progress:
                progress(done)
            continue
        pending.append((idx, seq, plan))
        jobs.extend(_jobs_for(idx, lm, seq, orients, plan))
    if pending:
        yield from _gathered(lm, pending, jobs, orients, batch_size, opts)
        if progress:
            progress(done + len(pending))


def predict(
    lm: LoadedModel,
    seqs: Iterable[Sequence],
    *,
    batch_size: int = 32,
    orientation: str = "forward",
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[str, np.ndarray]]:
    """Class probabilities per sequence: yields ``(id, probs [n_classes])``."""
    if not lm.has_classifier:
        raise InputError(
            f"model '{lm.name}' has no classification head (it is a pre-trained-only checkpoint): "
            "predictions are absent; attention still works"
        )
    for rec in run(lm, seqs, batch_size=batch_size, orientation=orientation, attention=False, progress=progress):
        yield rec.id, rec.probs


def token_matrices(lm: LoadedModel, seq: str, start: int = 0, end: int | None = None):
    """Full attention of one sequence window: ``(att [n_layers, n_heads, T, T] float32, tokens [T], spans [T,2])``.

    ``start``/``end`` pick the nucleotide window (it must fit the model); spans are relative to ``start``.
    """
    import torch

    end = len(seq) if end is None else end
    sub = seq[start:end]
    if len(sub) > lm.tokenizer.window_nt():
        raise InputError(
            f"window of {len(sub)} bases is longer than the model holds "
            f"({lm.tokenizer.window_nt()}); choose a smaller window"
        )
    enc = lm.tokenizer.encode(sub)
    ids, mask = _pad_batch(lm, [enc])
    with torch.inference_mode():
        _, mats = _attention_call(lm, ids, mask, range(lm.n_layers), rows_only=False)
        att = torch.stack([mats[li][0] for li in range(lm.n_layers)]).float().cpu().numpy()
    return att, lm.tokenizer.tokens(enc.ids), enc.spans
