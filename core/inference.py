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
    layers: tuple[int, ...] | None = None    # model layers held in ``cls`` (None: all, in order)


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
    sequence: Sequence | None = None          # the input record (lets callers stream without keeping a list)

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


def _set_impl(lm: LoadedModel, impl: str) -> bool:
    """Switch the model's attention implementation (``eager``/``sdpa``); False when the model cannot."""
    cfg = lm.model.config
    if getattr(cfg, "_attn_implementation", None) == impl:
        return True
    try:
        lm.model.set_attn_implementation(impl)
        return True
    except Exception:
        return False


def _self_attention_modules(model) -> list | None:
    """The per-layer self-attention modules of a BERT-style encoder (with ``query``/``key`` projections)."""
    base = getattr(model, "base_model", model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None:
        return None
    mods = []
    for layer in layers:
        sa = getattr(getattr(layer, "attention", None), "self", None)
        if sa is None or not hasattr(sa, "query") or not hasattr(sa, "key"):
            return None
        mods.append(sa)
    return mods


def cls_hook_supported(lm: LoadedModel) -> bool:
    return _self_attention_modules(lm.model) is not None and getattr(lm.model.config, "model_type", "") in (
        "bert", "roberta", "xlm-roberta", "camembert", "electra")


def _alibi_qkv_modules(model):
    """DNABERT-2's layout (MosaicBERT remote code): each layer's ``attention.self`` holds one fused ``Wqkv``
    Linear, and the encoder holds the ALiBi bias it adds to every layer's scores as ``encoder.alibi``
    ``[1, heads, S, S]``. Returns ``(self-attention modules, encoder)`` or None for any other layout."""
    import torch

    base = getattr(model, "base_model", model)
    enc = getattr(base, "encoder", None)
    layers = getattr(enc, "layer", None)
    if layers is None or not isinstance(getattr(enc, "alibi", None), torch.Tensor):
        return None
    mods = []
    for layer in layers:
        sa = getattr(getattr(layer, "attention", None), "self", None)
        if sa is None or not isinstance(getattr(sa, "Wqkv", None), torch.nn.Linear) or not hasattr(
                sa, "num_attention_heads"):
            return None
        mods.append(sa)
    return mods, enc


def attention_source(lm: LoadedModel) -> str:
    """How dnalens reads this model's attention, in words (for model cards and provenance)."""
    if cls_hook_supported(lm):
        return "fused SDPA + [CLS] rows from the query/key projections (eager for rollout and head views)"
    if _alibi_qkv_modules(lm.model) is not None:
        return "recomputed from each layer's fused Wqkv projection and the encoder's ALiBi bias"
    return "eager attention (output_attentions)"


def _alibi_attention(qkv, mask, alibi, n_heads: int, head_dim: int, rows_only: bool):
    """Attention probabilities of a DNABERT-2-style layer from its own ``Wqkv`` output.

    qkv: ``[nnz, 3*H]`` (unpadded tokens, row-major over the batch, as the model runs them) or ``[B, T, 3*H]``.
    mask: ``[B, T]`` (1 for real tokens). alibi: the encoder's ``[1, heads, S, S]`` bias, S >= T.
    Returns ``[B, heads, 1, T]`` ([CLS] query only) or ``[B, heads, T, T]``: ``softmax(q.K^T/sqrt(d) + alibi)``
    over the real keys, as the model's own attention computes it (its -10000 padding bias becomes an exact 0).
    """
    import torch

    B, T = mask.shape
    if qkv.dim() == 2:
        full = qkv.new_zeros(B * T, qkv.shape[-1])
        full[mask.reshape(-1).bool()] = qkv
    else:
        full = qkv.reshape(B * T, -1)
    full = full.float().view(B, T, 3, n_heads, head_dim)
    nq = 1 if rows_only else T
    q = full[:, :nq, 0].transpose(1, 2)                                     # [B, nh, nq, d]
    k = full[:, :, 1].transpose(1, 2)                                       # [B, nh, T, d]
    sc = (q @ k.transpose(-1, -2)) * (head_dim ** -0.5) + alibi[0, :, :nq, :T].float()
    sc = sc.masked_fill((mask == 0)[:, None, None, :], float("-inf"))
    return torch.softmax(sc, dim=-1)


def _forward(lm: LoadedModel, batch: list[Encoded], want_attention: bool, rollout: bool, method: str = "auto",
             layers: tuple[int, ...] | None = None):
    """Run one padded batch; returns (probs [B,C] or None, cls [B,nl,nh,Tmax] or None, rollout [B,Tmax] or None).

    Paths: no attention -> the fast SDPA kernels; [CLS] rows only -> SDPA plus forward hooks that form
    ``softmax(q_cls . K^T / sqrt(d) + mask)`` from each layer's own query/key projections (no T x T matrix);
    rollout (or ``method='eager'``) -> eager attention with ``output_attentions``; DNABERT-2 layout -> hooks on
    the fused ``Wqkv`` projections, rows (or, for rollout, full matrices) formed with the encoder's ALiBi bias.
    """
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
    alibi = _alibi_qkv_modules(lm.model) if (want_attention or rollout) else None
    use_qkv = alibi is not None                   # DNABERT-2 layout: no eager path exists, recompute from Wqkv
    use_hooks = (want_attention and not rollout and not use_qkv and method in ("auto", "hooks")
                 and cls_hook_supported(lm))
    if method == "hooks" and want_attention and not use_hooks and not use_qkv:
        raise InputError(f"model '{lm.name}' does not expose BERT query/key projections; use method='eager'")
    need_eager = (want_attention or rollout) and not use_hooks and not use_qkv
    if need_eager:
        if not _set_impl(lm, "eager"):
            raise InputError(f"model '{lm.name}' cannot switch to eager attention, which reading attention needs")
    else:
        _set_impl(lm, "sdpa")                     # plain prediction / hooks: the fused kernels

    rows: list = []
    handles = []
    import contextlib

    autocast = (torch.autocast(device_type="cuda", dtype=getattr(torch, lm.dtype))
                if pin and lm.dtype in ("float16", "bfloat16") else contextlib.nullcontext())
    captured: dict = {}
    if use_hooks:
        # keep the outputs of each chosen layer's query and key projections (computed by the model anyway)
        mods = _self_attention_modules(lm.model)
        chosen = list(layers if layers is not None else range(len(mods)))

        def keep(li, which):
            def hook(module, args, output):
                captured[(li, which)] = output[:, :1] if which == "q" else output
            return hook

        for li in chosen:
            handles.append(mods[li].query.register_forward_hook(keep(li, "q")))
            handles.append(mods[li].key.register_forward_hook(keep(li, "k")))
    elif use_qkv:
        mods, enc = alibi
        chosen = list(layers if layers is not None else range(len(mods)))
        handles = _keep_qkv(mods, range(len(mods)) if rollout else chosen, captured)
    try:
        with torch.inference_mode():
            with autocast:
                out = lm.model(input_ids=t_ids, attention_mask=t_mask, output_attentions=need_eager)
            probs = None
            if lm.has_classifier:
                probs = torch.softmax(out.logits.float(), dim=-1).cpu().numpy()
            cls = roll = None
            if use_hooks:
                pad = (t_mask == 0)[:, None, :]                             # [B, 1, T] True at padding
                for li in chosen:
                    mod = mods[li]
                    nh, dh = mod.num_attention_heads, mod.attention_head_size
                    q = captured[(li, "q")].float().view(B, 1, nh, dh).transpose(1, 2)       # [B, nh, 1, dh]
                    k = captured[(li, "k")].float().view(B, T, nh, dh).transpose(1, 2)       # [B, nh, T, dh]
                    sc = (q @ k.transpose(-1, -2)).squeeze(2) * (dh ** -0.5)                   # [B, nh, T]
                    rows.append(torch.softmax(sc.masked_fill(pad, float("-inf")), dim=-1))
                cls = torch.stack(rows, dim=1).cpu().numpy()                # [B, nl, nh, T]
                captured.clear()
            elif use_qkv:
                mats = {li: _alibi_attention(qkv, t_mask, enc.alibi, mods[li].num_attention_heads,
                                             _head_dim(mods[li]), rows_only=not rollout)
                        for li, qkv in sorted(captured.items())}
                captured.clear()
                if want_attention:
                    cls = torch.stack([mats[li][:, :, 0, :] for li in chosen], dim=1).cpu().numpy()
                if rollout:
                    roll = _rollout_cls([mats[li] for li in range(len(mods))], t_mask).cpu().numpy()
                del mats
            elif need_eager:
                atts = out.attentions
                if not atts:
                    raise InputError(f"model '{lm.name}' returned no attention weights: its own code does not "
                                     "expose them, and its layers are neither BERT's (query/key projections) "
                                     "nor DNABERT-2's (fused Wqkv with an ALiBi bias), from which dnalens could "
                                     "recompute them; predictions and mutation maps still work")
                if want_attention:
                    keep = layers if layers is not None else range(len(atts))
                    cls = torch.stack([atts[li][:, :, 0, :] for li in keep], dim=1).float().cpu().numpy()
                if rollout:
                    roll = _rollout_cls(atts, t_mask).cpu().numpy()
                del atts
            del out
    finally:
        for h in handles:
            h.remove()
    return probs, cls, roll


def _head_dim(sa) -> int:
    return int(getattr(sa, "attention_head_size", 0) or sa.Wqkv.out_features // 3 // sa.num_attention_heads)


def _keep_qkv(mods, layer_ids, captured: dict) -> list:
    """Forward hooks that keep the ``Wqkv`` outputs of the given layers in ``captured[layer]``."""
    def keep(li):
        def hook(module, args, output):
            captured[li] = output
        return hook

    return [mods[li].Wqkv.register_forward_hook(keep(li)) for li in layer_ids]


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
        chunk_windows: int | None = None, progress: Callable[[int], None] | None = None,
        method: str = "auto", cls_layers: tuple[int, ...] | None = None) -> Iterator[RecordOutput]:
    """Run the model over ``seqs``; yields one :class:`RecordOutput` per sequence, in input order.

    strand: 'forward', 'reverse' (reverse complement) or 'both'.
    attention: keep the [CLS] rows of every layer/head; rollout: also the rollout [CLS] row.
    Windows are processed in chunks of ``chunk_windows`` (default ``8 * batch_size``) sorted by length, so at most
    one chunk of reduced outputs is held at a time. ``progress(n)`` is called with the number of records finished.
    method: 'auto' (SDPA + [CLS]-row hooks for BERT-style models, eager otherwise), 'hooks' or 'eager'.
    Models in DNABERT-2's layout have no eager path; their attention is always recomputed from each layer's
    fused ``Wqkv`` output and the encoder's ALiBi bias (see :func:`_alibi_attention`).
    cls_layers: keep the [CLS] rows of these layers only (negative indices count from the end; None: all).
    """
    if strand not in STRANDS:
        raise InputError(f"unknown strand '{strand}' (use forward, reverse or both)")
    if batch_size < 1:
        raise InputError("batch size must be at least 1")
    strands = ["forward", "reverse"] if strand == "both" else [strand]
    if cls_layers is not None:
        cls_layers = tuple(sorted({l % lm.n_layers for l in cls_layers}))
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
            probs, cls, roll = _forward(lm, [j.enc for j in batch], attention, rollout, method, cls_layers)
            for i, job in enumerate(batch):
                n = len(job.enc)
                results[(job.rec, job.strand, job.win)] = WindowOutput(
                    start=job.start, end=job.end, spans=job.enc.spans, ids=job.enc.ids,
                    cls=None if cls is None else np.ascontiguousarray(cls[i, :, :, :n]),
                    rollout=None if roll is None else np.ascontiguousarray(roll[i, :n]),
                    probs=None if probs is None else probs[i], layers=cls_layers)
        for seq, info in pending:
            rec = info["index"]
            out = RecordOutput(id=seq.id, index=rec, length=len(seq.seq), sequence=seq)
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
    mask = torch.ones_like(ids)
    alibi = _alibi_qkv_modules(lm.model)
    if alibi is not None:
        mods, encoder = alibi
        captured: dict = {}
        handles = _keep_qkv(mods, range(len(mods)), captured)
        try:
            with torch.inference_mode():
                lm.model(input_ids=ids, attention_mask=mask)
                att = torch.stack([_alibi_attention(captured[li], mask, encoder.alibi, m.num_attention_heads,
                                                    _head_dim(m), rows_only=False)[0]
                                   for li, m in enumerate(mods)]).cpu().numpy()
        finally:
            for h in handles:
                h.remove()
        return att, lm.tokenizer.tokens(enc.ids), enc.spans
    _set_impl(lm, "eager")
    with torch.inference_mode():
        out = lm.model(input_ids=ids, attention_mask=mask, output_attentions=True)
        if not out.attentions:
            raise InputError(f"model '{lm.name}' returned no attention weights, so its heads cannot be shown")
        att = torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()
    return att, lm.tokenizer.tokens(enc.ids), enc.spans
