"""Attribution lenses: how much each base's token embeddings move the model's prediction (captum), carried to bases.

All three lenses are **signed** (> 0: the base pushes the scored quantity up) and in the units of that quantity:

``grad-input``
    Gradient × input (captum ``InputXGradient``) on each token's word embedding, summed over the hidden dimension.
    One forward and one backward pass per window; a first-order view that saturates where the model is confident.
``ig``
    Integrated gradients (captum ``IntegratedGradients``, Gauss–Legendre, ``n_steps`` points) on the word embeddings,
    from a baseline to the input. The steps of many windows are batched (``internal_batch_size`` rows per pass).
    Baseline (``baseline``): the same tokens with every **nucleotide** token replaced, and [CLS]/[SEP] (every special
    token) and the padding kept, so those get exactly 0 and the baseline keeps the sequence's length and positions:

    * ``pad`` (default): all-[PAD] embeddings. BERT keeps [PAD]'s word embedding at zero (``padding_idx``: never
      trained), so this is the classical zero-embedding baseline with position embeddings intact: "no sequence
      content". Defensible for any checkpoint, including classifiers trained from scratch.
    * ``mask``: all-[MASK] embeddings, "every base unknown" as a masked-LM pre-trained model learnt it. Prefer it
      for checkpoints fine-tuned from a pre-trained DNABERT; in a classifier trained from scratch [MASK] was never
      seen and its embedding is an untrained random vector.

    Completeness: the attributions of a window sum to ``f(x) - f(baseline)`` up to the **convergence delta**
    captum returns (``Track.detail['convergence_delta']``, per sequence; the agreement tables report it).
``expected-gradients``
    Expected gradients over dinucleotide-shuffled references: integrated gradients from each of ``shuffles``
    references (:func:`core.io.shuffle.dinucleotide_shuffle` of the window's own bases, runs of N kept in place,
    seeded by ``seed`` and the bases so a sequence always gets the same references), averaged. This is the
    SHAP-style multi-reference attribution the one-hot toolkits compute with DeepLIFT (DeepLiftShap), with IG's
    path integral in place of DeepLIFT's rules; it sums to ``f(x) - mean f(reference)`` up to the mean delta.

    Why not DeepLIFT itself: captum's DeepLift applies its rescale rule only to the nonlinear *modules* it knows
    (ReLU, ELU, Sigmoid, Tanh, Softplus, MaxPool, Softmax) and back-propagates plain gradients everywhere else. In a
    BERT encoder that leaves GELU (transformers' ``GELUActivation``), LayerNorm, the attention softmax (a function,
    not a module) and the query·key and attention·value products to ordinary gradients, with only the pooler's
    Tanh rescaled: the result is neither DeepLIFT nor summation-to-delta. It would also hook the shared model's
    modules. Expected gradients needs neither and keeps completeness, so that is what this lens computes and how
    it is named (``deeplift-shap`` is refused with this explanation). BPE models are refused: a shuffled reference
    tokenizes into different tokens, so there is no path between the two in embedding space.

What is scored (``output``): ``log-odds`` (default): ``z_t - logsumexp(z_j, j != t)`` of the logits, ``log p_t /
(1 - p_t)``, ``z_1 - z_0`` for a binary model; it does not saturate as the probability does. ``prob``: ``p_t``, the
quantity ISM's Δp measures. Target class ``t`` (``target``): a name or index; default the positive class of a binary
model, else each sequence's predicted class (:func:`core.model.scoring.target_class`).

Tokens → bases (every tokenizer family, through :attr:`core.model.tokenization.Encoded.spans`): a token's
attribution is spread **evenly over the bases it covers and summed** per base (:func:`tokens_to_nucleotides`), so the
track sums to the tokens' total. Overlapping k-mers: base ``i`` gets ``1/k`` of each of the (up to) ``k`` k-mers
covering it; strided k-mers likewise over their spans; non-overlapping 6-mers give ``1/6`` to each base and
single-base tokens all to their base; BPE tokens ``1/len`` to each of their bases. Special tokens are dropped
(``pad``/``mask`` baselines give them exactly 0).

Long sequences: split into windows as the attention lens does (:func:`core.model.tokenization.plan_windows`); each
window is explained **on its own** (its own prediction; completeness holds per window) and the window tracks are
stitched by the same linear cross-fade (:func:`core.model.tokenization.stitch_windows`). Orientation: ``reverse``
explains the reverse complement's prediction and flips the track back to the sequence's own positions; ``both``
averages the two readings' tracks (the prediction read both ways is the mean of the two too).

Models stay immutable and shared: the forward function takes the input embeddings (``model(inputs_embeds=...)``), so
no module is hooked. Models whose forward has no ``inputs_embeds`` (DNABERT-2's remote code), or whose
``inputs_embeds`` path does not reproduce the ``input_ids`` path on the first batch, get a forward hook on the word
embedding layer for the duration of the call: it replaces that layer's output only inside the calling thread (a
context variable), and a per-model lock serialises such calls.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import re
import threading
import weakref
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import InputError, ModelError
from ..io.sequences import Sequence, reverse_complement
from ..io.shuffle import dinucleotide_shuffle
from ..model.tokenization import Encoded, plan_windows, stitch_windows
from .base import Lens, Track

OUTPUTS = ("log-odds", "prob")
BASELINES = ("pad", "mask")
TOKEN_BUDGET = (4096, 65536)  # tokens per forward pass of the expanded batch (min, max); scaled by model size
NOT_PROVIDED = {
    "deeplift-shap": "dnalens has no DeepLIFT for transformers: captum's DeepLift rescales only the nonlinear modules "
    "it knows and uses plain gradients through GELU, LayerNorm and attention, so it is neither DeepLIFT nor "
    "summation-to-delta there. Use --lens expected-gradients: integrated gradients averaged over the same "
    "dinucleotide-shuffled references (what DeepLiftShap approximates), with completeness kept"
}


# --------------------------------------------------------------------------------------------------------------
# tokens -> nucleotides


def tokens_to_nucleotides(token_scores: np.ndarray, spans: np.ndarray, length: int) -> np.ndarray:
    """Per-base attribution ``[length]``: each token's score ``[T]`` spread evenly over its span ``[T, 2]`` and summed
    per base (special tokens, span ``-1``, dropped). Conserves the total of the nucleotide tokens."""
    token_scores = np.asarray(token_scores, dtype=np.float64)
    real = (spans[:, 0] >= 0) & (spans[:, 1] > spans[:, 0])
    s, e = spans[real, 0], spans[real, 1]
    per_base = token_scores[real] / (e - s)
    acc = np.zeros(length + 1)
    np.add.at(acc, s, per_base)
    np.add.at(acc, e, -per_base)
    return np.cumsum(acc)[:length]


def shuffled_references(bases: str, n: int, seed: int = 0) -> list[str]:
    """``n`` dinucleotide shuffles of ``bases``; runs of non-ACGT bases (N) stay where they are, so every tokenizer
    family but BPE tokenizes a reference into the same token spans. Seeded by ``seed`` and the bases."""
    rng = random.Random(f"{seed}:{bases}")
    parts = re.split(r"([^ACGT]+)", bases)
    return [
        "".join(p if (not p or p[0] not in "ACGT") else dinucleotide_shuffle(p, rng) for p in parts) for _ in range(n)
    ]


# --------------------------------------------------------------------------------------------------------------
# the model side: embeddings in, one scalar per row out


_OVERRIDE: contextvars.ContextVar = contextvars.ContextVar("dnalens_embedding_override", default=None)
_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _model_lock(module) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(module, threading.Lock())


def _override_hook(module, args, output):
    """Forward hook on the word-embedding layer: inside :meth:`_Engine.logits` of the calling thread, the layer's
    output becomes the embeddings being attributed; everywhere else it does nothing."""
    return _OVERRIDE.get()


def word_embeddings(model):
    """The model's token (word) embedding layer."""
    emb = None
    try:
        emb = model.get_input_embeddings()
    except (AttributeError, NotImplementedError):
        pass
    if emb is None:
        base = getattr(model, "base_model", model)
        emb = getattr(getattr(base, "embeddings", None), "word_embeddings", None)
    if emb is None:
        raise ModelError("cannot find the model's token embedding layer, which the attribution lenses differentiate")
    return emb


def score_logits(logits, target, output: str):
    """The scored quantity per row ``[B]`` from logits ``[B, C]`` and target classes ``[B]`` (see ``output``)."""
    import torch

    logits = logits.float()
    if logits.shape[1] == 1:
        return logits[:, 0]
    if output == "prob":
        return torch.softmax(logits, dim=-1).gather(1, target[:, None])[:, 0]
    zt = logits.gather(1, target[:, None])[:, 0]
    return zt - logits.scatter(1, target[:, None], float("-inf")).logsumexp(dim=-1)


class _Engine:
    """One call's view of a loaded model: embeddings of token ids, and logits from embeddings."""

    def __init__(self, lm, output: str):
        import inspect

        self.lm, self.output = lm, output
        self.emb = word_embeddings(lm.model)
        self.use_embeds = "inputs_embeds" in inspect.signature(lm.model.forward).parameters
        self.checked = False

    def embed(self, ids):
        import torch

        with torch.no_grad():
            return self.emb(ids).detach()

    def logits(self, E, ids, mask):
        if self.use_embeds:
            return self.lm.model(inputs_embeds=E, attention_mask=mask).logits
        token = _OVERRIDE.set(E)
        try:
            return self.lm.model(input_ids=ids, attention_mask=mask).logits
        finally:
            _OVERRIDE.reset(token)

    def objective(self, E, ids, mask, target):
        """The function captum differentiates: embeddings ``[B, T, H]`` -> scored quantity ``[B]``."""
        return score_logits(self.logits(E, ids, mask), target, self.output)

    def check(self, ids, mask) -> None:
        """Once per call: the ``inputs_embeds`` path must give the logits of the ``input_ids`` path, else use the
        embedding hook."""
        import torch

        if self.checked or not self.use_embeds:
            self.checked = True
            return
        ids, mask = ids[:1], mask[:1]  # one row is enough to tell
        with torch.no_grad():
            a = self.lm.model(input_ids=ids, attention_mask=mask).logits.float()
            b = self.lm.model(inputs_embeds=self.embed(ids), attention_mask=mask).logits.float()
        self.use_embeds = bool(torch.allclose(a, b, rtol=1e-4, atol=1e-4))
        self.checked = True

    @contextlib.contextmanager
    def session(self):
        """Nothing for the ``inputs_embeds`` path; otherwise the per-model lock and the thread-local embedding
        hook, removed on exit."""
        if self.use_embeds:
            yield
            return
        with _model_lock(self.lm.model):
            handle = self.emb.register_forward_hook(_override_hook)
            try:
                yield
            finally:
                handle.remove()

    def rows_budget(self, T: int) -> int:
        """Rows of ``T`` tokens one forward+backward pass may hold (token budget scaled by the model's size)."""
        cfg = self.lm.model.config
        size = max(1, int(getattr(cfg, "hidden_size", 768)) * max(1, self.lm.n_layers))
        tokens = int(np.clip(2**25 // size, *TOKEN_BUDGET))
        return max(1, tokens // max(1, T))


# --------------------------------------------------------------------------------------------------------------
# windows and batches


@dataclass
class _Window:
    seq: int  # index in the chunk
    orientation: str
    start: int
    end: int
    bases: str  # the window's bases in its reading orientation
    enc: Encoded
    target: int


@dataclass
class _Result:
    tokens: np.ndarray  # [T] attribution per token (special tokens included)
    f_x: float
    f_ref: float = float("nan")
    delta: float = float("nan")
    probs: np.ndarray | None = None


def _windows_of(lm, i: int, seq: Sequence, orientation: str, overlap, target: int) -> list[_Window]:
    L = len(seq.seq)
    if L < lm.tokenizer.min_length():
        raise InputError(
            f"sequence of length {L} is shorter than the model's k-mer size {lm.tokenizer.min_length()}",
            record=seq.id,
        )
    out = []
    for orient in ["forward", "reverse"] if orientation == "both" else [orientation]:
        s = seq.seq if orient == "forward" else reverse_complement(seq.seq)
        for a, b in plan_windows(L, lm.tokenizer.window_nt(), overlap):
            out.append(_Window(i, orient, a, b, s[a:b], lm.tokenizer.encode(s[a:b]), target))
    return out


def _batch_tensors(lm, windows: list[_Window]):
    """``(ids [B, T], mask [B, T], nucleotide-token mask [B, T] bool, target [B])`` on the model's device."""
    import torch

    from ..model.inference import _pad_batch

    ids, mask = _pad_batch(lm, [w.enc for w in windows])
    nuc = np.zeros(tuple(ids.shape), dtype=bool)
    for i, w in enumerate(windows):
        nuc[i, : len(w.enc)] = w.enc.spans[:, 0] >= 0
    target = torch.tensor([w.target for w in windows], dtype=torch.long, device=ids.device)
    return ids, mask, torch.from_numpy(nuc).to(ids.device), target


def _forward_values(engine: _Engine, E, ids, mask, target):
    """``(scored quantity [B], class probabilities [B, C])`` without gradients."""
    import torch

    with torch.no_grad():
        z = engine.logits(E, ids, mask).float()
        return score_logits(z, target, engine.output).cpu().numpy(), torch.softmax(z, -1).cpu().numpy()


def _assemble(seq: Sequence, results: list[tuple[_Window, _Result]], orientation: str) -> tuple[np.ndarray, dict]:
    """The track ``[L]`` of one sequence from its windows' token attributions, and the per-window facts."""
    L = len(seq.seq)
    tracks = []
    for orient in ["forward", "reverse"] if orientation == "both" else [orientation]:
        mine = [(w, r) for w, r in results if w.orientation == orient]
        per_window = [tokens_to_nucleotides(r.tokens[: len(w.enc)], w.enc.spans, w.end - w.start) for w, r in mine]
        tr = stitch_windows(per_window, [(w.start, w.end) for w, _ in mine], L)
        tracks.append(tr[::-1].copy() if orient == "reverse" else tr)
    rows = [
        {
            "orientation": w.orientation,
            "start": w.start,
            "end": w.end,
            "f_x": r.f_x,
            "f_reference": r.f_ref,
            "convergence_delta": r.delta,
            "attribution_sum": float(r.tokens[: len(w.enc)][w.enc.spans[:, 0] >= 0].sum()),
        }
        for w, r in results
    ]
    deltas = np.array([r["convergence_delta"] for r in rows])
    detail = {
        "target": results[0][0].target,
        "f_x": float(np.mean([r["f_x"] for r in rows])),
        "f_reference": float(np.mean([r["f_reference"] for r in rows])),
        "convergence_delta": float(deltas[np.nanargmax(np.abs(deltas))]) if np.isfinite(deltas).any() else np.nan,
        "windows": rows,
    }
    return np.mean(tracks, axis=0), detail


# --------------------------------------------------------------------------------------------------------------
# the lenses


@dataclass(frozen=True)
class _Attribution(Lens):
    """What the attribution lenses share: target class, scored output, windows, orientation, batching."""

    needs_classifier: ClassVar[bool] = True
    signed: ClassVar[bool] = True
    method: ClassVar[str] = ""
    target: int | str | None = None
    output: str = "log-odds"

    def __post_init__(self):
        super().__post_init__()
        if self.output not in OUTPUTS:
            raise InputError(f"unknown attribution output '{self.output}' (use {', '.join(OUTPUTS)})")

    @property
    def score_name(self) -> str:
        cls = "the positive class" if self.target is None else f"class {self.target}"
        return f"{self.method} ({self.output} of {cls})"

    def describe(self) -> str:
        cls = "" if self.target is None else f", class {self.target}"
        return f"{self.method} ({self.output}{cls}), {self.orientation}"

    def applies_to(self, model) -> str | None:
        """Why this lens cannot explain ``model`` (None: it can)."""
        return None

    def rows_per_pass(self, engine: _Engine, batch_size: int, T: int) -> int:
        """Windows per batch."""
        return max(1, min(batch_size, engine.rows_budget(T)))

    def attribute(self, engine: _Engine, windows: list[_Window]) -> list[_Result]:
        raise NotImplementedError

    def compute(self, model, sequences, *, batch_size, overlap, progress):
        why = self.applies_to(model)
        if why:
            raise InputError(why)
        engine, done, chunk = _Engine(model, self.output), 0, []
        for seq in sequences:
            chunk.append(seq)
            if len(chunk) >= max(4 * batch_size, 16):
                yield from self._chunk(engine, chunk, batch_size, overlap)
                done += len(chunk)
                chunk = []
                if progress:
                    progress(done)
        if chunk:
            yield from self._chunk(engine, chunk, batch_size, overlap)
            if progress:
                progress(done + len(chunk))

    def _targets(self, lm, seqs: list[Sequence]) -> list[int]:
        from ..model.scoring import class_probabilities, target_class

        if self.target is not None or lm.num_labels <= 2:
            return [target_class(lm, None, self.target)] * len(seqs)
        probs = class_probabilities(lm, seqs, orientation=self.orientation)
        return [target_class(lm, p, None) for p in probs]

    def _chunk(self, engine: _Engine, seqs: list[Sequence], batch_size: int, overlap):
        lm = engine.lm
        targets = self._targets(lm, seqs)
        windows = [w for i, s in enumerate(seqs) for w in _windows_of(lm, i, s, self.orientation, overlap, targets[i])]
        order = sorted(range(len(windows)), key=lambda j: len(windows[j].enc))
        results: dict[int, _Result] = {}
        b0 = 0
        while b0 < len(order):  # windows sorted by length: the last one of a batch is its longest
            T = len(windows[order[min(b0 + batch_size, len(order)) - 1]].enc)
            idx = order[b0 : b0 + self.rows_per_pass(engine, batch_size, T)]
            for j, r in zip(idx, self.attribute(engine, [windows[j] for j in idx])):
                results[j] = r
            b0 += len(idx)
        for i, seq in enumerate(seqs):
            mine = [(w, results[j]) for j, w in enumerate(windows) if w.seq == i]
            scores, detail = _assemble(seq, mine, self.orientation)
            probs = [r.probs for _, r in mine if r.probs is not None]
            detail["output"] = self.output
            yield Track(seq, scores, np.mean(probs, axis=0) if probs else None, detail)


@dataclass(frozen=True)
class GradInput(_Attribution):
    """Gradient × input on the token embeddings (captum ``InputXGradient``), spread to bases (module docstring)."""

    name: ClassVar[str] = "grad-input"
    method: ClassVar[str] = "gradient × input"

    def attribute(self, engine, windows):
        from captum.attr import InputXGradient

        ids, mask, _, target = _batch_tensors(engine.lm, windows)
        engine.check(ids, mask)
        E = engine.embed(ids)
        with engine.session():
            fx, probs = _forward_values(engine, E, ids, mask, target)
            attr = InputXGradient(engine.objective).attribute(
                E.clone().requires_grad_(True), additional_forward_args=(ids, mask, target)
            )
        tok = (attr.sum(-1) * mask).detach().cpu().numpy().astype(np.float64)
        return [_Result(tok[i], float(fx[i]), probs=probs[i]) for i in range(len(windows))]


@dataclass(frozen=True)
class _PathIntegral(_Attribution):
    """Integrated gradients from baselines to the input (shared by ``ig`` and ``expected-gradients``)."""

    n_steps: int = 32
    internal_batch_size: int | None = None  # rows per forward pass of the expanded batch (default: by model size)

    def __post_init__(self):
        super().__post_init__()
        if self.n_steps < 1:
            raise InputError("integrated gradients needs at least one step (--ig-steps)")
        if self.internal_batch_size is not None and self.internal_batch_size < 1:
            raise InputError("the internal batch size must be at least 1")

    def internal_rows(self, engine: _Engine, rows: int, T: int) -> int:
        budget = self.internal_batch_size or engine.rows_budget(T)
        return max(rows, (budget // rows) * rows)

    def integrate(self, engine: _Engine, E, Eb, ids, mask, target, gap: np.ndarray):
        """captum IG: ``(token attributions [B, T] numpy, convergence delta [B] numpy)``. The delta is captum's
        (``sum of attributions - (f(x) - f(baseline))``), from the ``gap = f(x) - f(baseline)`` already computed
        instead of two more forward passes."""
        from captum.attr import IntegratedGradients as CaptumIG

        attr = CaptumIG(engine.objective).attribute(
            E,
            baselines=Eb,
            additional_forward_args=(ids, mask, target),
            n_steps=self.n_steps,
            internal_batch_size=self.internal_rows(engine, E.shape[0], E.shape[1]),
        )
        full = attr.sum(-1).detach().cpu().numpy().astype(np.float64)  # every token, as captum's delta sums them
        tok = full * mask.cpu().numpy()
        return tok, full.sum(axis=1) - gap


@dataclass(frozen=True)
class IntegratedGradients(_PathIntegral):
    """Integrated gradients on the token embeddings from an all-[PAD] (default) or all-[MASK] baseline inside
    [CLS]/[SEP], ``n_steps`` Gauss–Legendre points; the convergence delta goes to ``Track.detail``."""

    name: ClassVar[str] = "ig"
    method: ClassVar[str] = "integrated gradients"
    baseline: str = "pad"

    def __post_init__(self):
        super().__post_init__()
        if self.baseline not in BASELINES:
            raise InputError(f"unknown IG baseline '{self.baseline}' (use {', '.join(BASELINES)})")

    def describe(self) -> str:
        cls = "" if self.target is None else f", class {self.target}"
        return (
            f"integrated gradients ({self.n_steps} steps, {self.baseline} baseline, {self.output}{cls}), "
            f"{self.orientation}"
        )

    def baseline_id(self, lm) -> int:
        if self.baseline == "pad":
            return int(lm.tokenizer.pad_id)
        mid = getattr(lm.hf_tokenizer, "mask_token_id", None)
        if mid is None:
            raise InputError(f"model '{lm.name}' has no mask token; use the pad baseline (--baseline pad)")
        return int(mid)

    def attribute(self, engine, windows):
        import torch

        lm = engine.lm
        ids, mask, nuc, target = _batch_tensors(lm, windows)
        engine.check(ids, mask)
        base_ids = torch.where(nuc, torch.full_like(ids, self.baseline_id(lm)), ids)
        E, Eb = engine.embed(ids), engine.embed(base_ids)
        B = len(windows)
        with engine.session():
            both, probs = _forward_values(
                engine, torch.cat([E, Eb]), torch.cat([ids, base_ids]), mask.repeat(2, 1), target.repeat(2)
            )
            fx, fb, probs = both[:B], both[B:], probs[:B]
            tok, delta = self.integrate(engine, E, Eb, ids, mask, target, fx - fb)
        return [_Result(tok[i], float(fx[i]), float(fb[i]), float(delta[i]), probs[i]) for i in range(len(windows))]


@dataclass(frozen=True)
class ExpectedGradients(_PathIntegral):
    """Integrated gradients from ``shuffles`` dinucleotide-shuffled references of each window, averaged (expected
    gradients; the module docstring says why this, not DeepLIFT). ``n_steps`` points per reference."""

    name: ClassVar[str] = "expected-gradients"
    method: ClassVar[str] = "expected gradients"
    n_steps: int = 16
    shuffles: int = 8
    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.shuffles < 1:
            raise InputError("expected gradients needs at least one shuffled reference (--shuffles)")

    def describe(self) -> str:
        cls = "" if self.target is None else f", class {self.target}"
        return (
            f"expected gradients ({self.shuffles} dinucleotide-shuffled references x {self.n_steps} steps, "
            f"{self.output}{cls}), {self.orientation}"
        )

    def applies_to(self, model) -> str | None:
        if model.family == "bpe":
            return (
                f"the expected-gradients lens needs references that tokenize like the input, and model "
                f"'{model.name}' uses BPE: a shuffled sequence becomes different tokens. Use --lens ig or grad-input"
            )
        return None

    def rows_per_pass(self, engine, batch_size, T):
        return max(1, min(batch_size, engine.rows_budget(T) // self.shuffles))

    def _references(self, lm, windows: list[_Window]) -> list[Encoded]:
        refs = []
        for w in windows:
            for r in shuffled_references(w.bases, self.shuffles, self.seed):
                enc = lm.tokenizer.encode(r)
                if not np.array_equal(enc.spans, w.enc.spans):
                    raise ModelError("a shuffled reference tokenized into different token spans than its window")
                refs.append(enc)
        return refs

    def attribute(self, engine, windows):
        import torch

        from ..model.inference import _pad_batch

        lm, S = engine.lm, self.shuffles
        ids, mask, _, target = _batch_tensors(lm, windows)
        engine.check(ids, mask)
        ref_ids, _ = _pad_batch(lm, self._references(lm, windows))
        rep = lambda t: t.repeat_interleave(S, dim=0)
        E, Er = rep(engine.embed(ids)), engine.embed(ref_ids)
        B = len(windows)
        with engine.session():
            vals, probs = _forward_values(
                engine,
                torch.cat([E[::S], Er]),
                torch.cat([ids, ref_ids]),
                torch.cat([mask, rep(mask)]),
                torch.cat([target, rep(target)]),
            )
            fx, fr, probs = vals[:B], vals[B:], probs[:B]
            tok, delta = self.integrate(engine, E, Er, rep(ids), rep(mask), rep(target), np.repeat(fx, S) - fr)
        T = tok.shape[1]
        tok, delta, fr = tok.reshape(B, S, T).mean(1), delta.reshape(B, S).mean(1), fr.reshape(B, S).mean(1)
        return [_Result(tok[i], float(fx[i]), float(fr[i]), float(delta[i]), probs[i]) for i in range(B)]


ATTRIBUTION_LENSES = {c.name: c for c in (GradInput, IntegratedGradients, ExpectedGradients)}
