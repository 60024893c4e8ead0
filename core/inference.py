"""Batched model runs that reduce every batch at once to what is asked for.

For each sequence (and strand) the sequence is split into windows that fit the model (see
:func:`core.tokenization.plan_windows`); each window is tokenized, batched with others of similar length, run
through the model, and reduced immediately to:

* class probabilities ``[n_classes]`` (when the model has a classification head),
* the [CLS]-query attention row of every layer and head, ``[n_layers, n_heads, T]`` (float32, real tokens only),
* optionally the attention-rollout [CLS] row ``[T]``.

Full ``T x T`` matrices exist only inside one batch; :func:`token_matrices` returns them for one sequence (head view).
Records come out in input order from a bounded buffer, so memory does not grow with the number of sequences.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from .errors import InputError
from .models import LoadedModel
from .sequences import Sequence, reverse_complement
from .tokenization import Encoded, plan_windows

STRANDS = ("forward", "reverse", "both")


@dataclass
class WindowOutput:
    """One model window of one strand.

    start, end: nucleotide interval of the window in the strand's own orientation.
    spans: int64 ``[T, 2]`` token spans relative to ``start`` (``-1`` for special tokens).
    ids:   int64 ``[T]`` token ids.
    cls:   float32 ``[n_layers, n_heads, T]`` attention of the [CLS] query to every real token, or None.
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


@dataclass
class StrandOutput:
    windows: list[WindowOutput]
    length: int

    @property
    def probs(self) -> np.ndarray | None:
        """Class probabilities averaged over the windows (one window for sequences that fit the model)."""
        ps = [w.probs for w in self.windows if w.probs is not None]
        return np.mean(ps, axis=0) if ps else None


@dataclass
class RecordOutput:
    """Model output for one input sequence: forward and/or reverse-complement strand."""

    id: str
    index: int
    length: int
    forward: StrandOutput | None = None
    reverse: StrandOutput | None = None
    meta: dict = field(default_factory=dict)

    @property
    def probs(self) -> np.ndarray | None:
        """Class probabilities; with both strands, the mean of the two."""
        ps = [s.probs for s in (self.forward, self.reverse) if s is not None and s.probs is not None]
        return np.mean(ps, axis=0) if ps else None


@dataclass
class _Job:
    rec: int
    strand: str
    win: int
    start: int
    end: int
    enc: Encoded


def _forward(lm: LoadedModel, batch: list[Encoded], want_attention: bool, rollout: bool):
    """Run one padded batch; returns (probs [B,C] or None, cls [B,nl,nh,Tmax] or None, rollout [B,Tmax] or None)."""
    import torch

    B = len(batch)
    T = max(len(e) for e in batch)
    ids = np.full((B, T), lm.tokenizer.pad_id, dtype=np.int64)
    mask = np.zeros((B, T), dtype=np.int64)
    for i, e in enumerate(batch):
        ids[i, :len(e)] = e.ids
        mask[i, :len(e)] = 1
    dev = lm.device
    pin = dev.startswith("cuda")
    t_ids = torch.from_numpy(ids)
    t_mask = torch.from_numpy(mask)
    if pin:
        t_ids, t_mask = t_ids.pin_memory(), t_mask.pin_memory()
    t_ids = t_ids.to(dev, non_blocking=pin)
    t_mask = t_mask.to(dev, non_blocking=pin)
    need_att = want_attention or rollout
    with torch.inference_mode():
        out = lm.model(input_ids=t_ids, attention_mask=t_mask, output_attentions=need_att)
        probs = None
        if lm.has_classifier:
            probs = torch.softmax(out.logits.float(), dim=-1).cpu().numpy()
        cls = roll = None
        if need_att:
            atts = out.attentions
            if not atts:
                raise InputError(f"model '{lm.name}' returned no attention weights; it must run with eager "
                                 "attention (its remote code may not support output_attentions)")
            if want_attention:
                cls = torch.stack([a[:, :, 0, :] for a in atts], dim=1).float().cpu().numpy()
            if rollout:
                roll = _rollout_cls(atts, t_mask).cpu().numpy()
            del atts
        del out
    return probs, cls, roll


def _rollout_cls(atts, mask):
    """Attention rollout (Abnar & Zuidema 2020): mean over heads, + identity, row-normalised, multiplied over
    layers from the first to the last; returns the [CLS] row ``[B, T]``."""
    import torch

    B, _, T, _ = atts[0].shape
    eye = torch.eye(T, device=atts[0].device, dtype=torch.float32).expand(B, T, T)
    R = None
    for a in atts:
        A = 0.5 * a.float().mean(dim=1) + 0.5 * eye
        A = A / A.sum(dim=-1, keepdim=True)
        R = A if R is None else torch.bmm(A, R)
    row = R[:, 0, :] * mask.float()
    return row


def _jobs_for(lm: LoadedModel, rec_idx: int, seq: Sequence, strands: list[str], overlap: int | None
              ) -> tuple[dict, list[_Job]]:
    L = len(seq.seq)
    if L < lm.tokenizer.min_length():
        raise InputError(f"sequence of length {L} is shorter than the model's k-mer size "
                         f"{lm.tokenizer.min_length()}", source=seq.source or None, record=seq.id)
    windows = plan_windows(L, lm.tokenizer.window_nt(), overlap)
    jobs = []
    for strand in strands:
        s = seq.seq if strand == "forward" else reverse_complement(seq.seq)
        for wi, (a, b) in enumerate(windows):
            jobs.append(_Job(rec_idx, strand, wi, a, b, lm.tokenizer.encode(s[a:b])))
    return {"windows": windows}, jobs


def run(lm: LoadedModel, seqs: Iterable[Sequence], *, batch_size: int = 32, strand: str = "forward",
        attention: bool = True, rollout: bool = False, overlap: int | None = None,
        chunk_windows: int | None = None, progress: Callable[[int], None] | None = None
        ) -> Iterator[RecordOutput]:
    """Run the model over ``seqs``; yields one :class:`RecordOutput` per sequence, in input order.

    strand: 'forward', 'reverse' (reverse complement) or 'both'.
    attention: keep the [CLS] rows of every layer/head; rollout: also the rollout [CLS] row.
    Windows are processed in chunks of ``chunk_windows`` (default ``8 * batch_size``) sorted by length, so at most
    one chunk of reduced outputs is held at a time. ``progress(n)`` is called with the number of records finished.
    """
    if strand not in STRANDS:
        raise InputError(f"unknown strand '{strand}' (use forward, reverse or both)")
    if batch_size < 1:
        raise InputError("batch size must be at least 1")
    strands = ["forward", "reverse"] if strand == "both" else [strand]
    chunk_windows = chunk_windows or max(8 * batch_size, 64)
    pending: list[tuple[Sequence, dict]] = []
    jobs: list[_Job] = []
    done = 0

    def flush():
        nonlocal done
        results: dict[tuple[int, str, int], WindowOutput] = {}
        order = sorted(range(len(jobs)), key=lambda j: len(jobs[j].enc))
        for b0 in range(0, len(order), batch_size):
            batch = [jobs[j] for j in order[b0:b0 + batch_size]]
            probs, cls, roll = _forward(lm, [j.enc for j in batch], attention, rollout)
            for i, job in enumerate(batch):
                n = len(job.enc)
                results[(job.rec, job.strand, job.win)] = WindowOutput(
                    start=job.start, end=job.end, spans=job.enc.spans, ids=job.enc.ids,
                    cls=None if cls is None else np.ascontiguousarray(cls[i, :, :, :n]),
                    rollout=None if roll is None else np.ascontiguousarray(roll[i, :n]),
                    probs=None if probs is None else probs[i])
        for seq, info in pending:
            rec = info["index"]
            out = RecordOutput(id=seq.id, index=rec, length=len(seq.seq))
            for st in strands:
                wins = [results[(rec, st, w)] for w in range(len(info["windows"]))]
                setattr(out, st, StrandOutput(wins, len(seq.seq)))
            done += 1
            yield out
        if progress:
            progress(done)
        pending.clear()
        jobs.clear()

    for idx, seq in enumerate(seqs):
        info, new_jobs = _jobs_for(lm, idx, seq, strands, overlap)
        info["index"] = idx
        pending.append((seq, info))
        jobs.extend(new_jobs)
        if len(jobs) >= chunk_windows:
            yield from flush()
    if pending:
        yield from flush()


def predict(lm: LoadedModel, seqs: Iterable[Sequence], *, batch_size: int = 32, strand: str = "forward",
            progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """Class probabilities per sequence: yields ``(id, probs [n_classes])``."""
    if not lm.has_classifier:
        raise InputError(f"model '{lm.name}' has no classification head (it is a pre-trained-only checkpoint): "
                         "predictions are absent; attention still works")
    for rec in run(lm, seqs, batch_size=batch_size, strand=strand, attention=False, progress=progress):
        yield rec.id, rec.probs


def token_matrices(lm: LoadedModel, seq: str, start: int = 0, end: int | None = None):
    """Full attention of one sequence window: ``(att [n_layers, n_heads, T, T] float32, tokens [T], spans [T,2])``.

    ``start``/``end`` pick the nucleotide window (it must fit the model); spans are relative to ``start``.
    """
    import torch

    end = len(seq) if end is None else end
    sub = seq[start:end]
    if len(sub) > lm.tokenizer.window_nt():
        raise InputError(f"window of {len(sub)} bases is longer than the model holds "
                         f"({lm.tokenizer.window_nt()}); choose a smaller window")
    enc = lm.tokenizer.encode(sub)
    ids = torch.from_numpy(enc.ids[None, :]).to(lm.device)
    with torch.inference_mode():
        out = lm.model(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True)
        att = torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()
    return att, lm.tokenizer.tokens(enc.ids), enc.spans
