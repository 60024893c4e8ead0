"""The masked-LM lens: the model's own probability of each base given the rest of the sequence.

For base ``i`` the model reads a copy of the sequence in which **every token that covers base i is masked** (the
``k`` overlapping k-mers ``i-k+1 … i`` of a DNABERT-k model, as DNABERT's pre-training masks ``k`` contiguous
k-mers; the one token of a non-overlapping 6-mer model). For overlapping k-mers that hides base ``i`` and nothing
else (every other base those tokens cover is also in a visible neighbour), except within ``k - 1`` bases of a
sequence end, where the masked k-mers also hide the bases between ``i`` and that end (no other token covers them);
their reference bases still fix the candidates below.

**Rule** (combining the covering tokens' predictions into one distribution over A/C/G/T). For each masked token
``t`` the model predicts a distribution over the vocabulary. Its *candidates* are the four tokens it would be if
base ``i`` were A, C, G or T and its other bases were as in the sequence: the only k-mers consistent with what the
model can see. Each token gives a four-way conditional ``c_t(b) = p_t(cand_t(b)) / sum_b' p_t(cand_t(b'))`` (the
k-mer distribution marginalised onto base i *given* the visible bases, so mass the model puts on k-mers that
contradict the visible neighbours does not count), and the tokens are combined by

    P(x_i = b) = mean_t c_t(b)                        (``combine="mean"``, the default)

The alternative ``combine="product"``, ``P(x_i = b) ∝ Π_t c_t(b)`` (product of experts: the model's factorised
probability that the masked tokens jointly spell the sequence with ``x_i = b``), treats the k predictions as
independent evidence although they are made from the same visible context, so it counts that evidence k times and
is overconfident: on held-out data of the demo world it gives the true base a lower mean log-probability than a
uniform guess (``README``, "The demo MLM"), while the mean is calibrated (equal to each token's conditional when
they agree) and robust to one poorly predicted token. Neither needs the vocabulary-wide normaliser (it cancels in
``c_t``), so only the four candidate logits of each masked token are formed. Tokens whose candidates are not all in
the vocabulary (a k-mer with N elsewhere) are left out; a base no usable token covers gets NaN.

Orientation: ``reverse`` reads the reverse complement and maps the distribution back (the probability of base b at
i is that of complement(b) at the mirrored position); ``both`` averages the two distributions. Long sequences are
read in windows and cross-faded as every lens does. BPE tokenizers are refused: substituting one base can change
how the whole neighbourhood is split into tokens, so no masked token carries a distribution for one base.

Scores: ``ref-logprob`` (default), ``log P(x_i = reference base)`` in nats (NaN at N); ``entropy`` of the
distribution in bits (0 … 2). ``Track.detail["probs"]`` holds the full ``[L, 4]`` probabilities (A, C, G, T).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import InputError
from ..io.sequences import reverse_complement
from ..model.tokenization import plan_windows, stitch_windows
from .base import Lens, Track

BASES = "ACGT"
COMBINE = ("mean", "product")
SCORES = ("ref-logprob", "entropy")
_BASE_INDEX = np.full(256, -1, dtype=np.int64)
for _i, _b in enumerate(BASES):
    _BASE_INDEX[ord(_b)] = _i
_ATCG_DIGIT = np.array([0, 2, 3, 1])  # A, C, G, T -> digit in DNABERT's itertools.product('ATCG') order


# --------------------------------------------------------------------------------------------------------------
# the model's masked-LM head


@dataclass(frozen=True)
class MaskedLMParts:
    """A masked-LM split into encoder and head: ``logits(h) = transform(h) @ weight.T + bias``."""

    encoder: object  # (input_ids, attention_mask) -> output whose [0] is hidden states [B, T, H]
    transform: Callable
    weight: object  # [V, H]
    bias: object | None  # [V]

    def logits(self, hidden):
        out = self.transform(hidden) @ self.weight.T
        return out if self.bias is None else out + self.bias

    def candidate_logits(self, hidden, cand):
        """Logits of ``cand`` ``[N, C]`` token ids only, for hidden rows ``[N, H]``: ``[N, C]``."""
        h = self.transform(hidden)
        out = (self.weight[cand] * h[:, None, :]).sum(-1)
        return out if self.bias is None else out + self.bias[cand]


def masked_lm_parts(model) -> MaskedLMParts | None:
    """Encoder and head of a BERT (``cls.predictions``) or ESM/RoBERTa (``lm_head``) masked LM; None for others
    (callers then run the whole model)."""
    import torch

    preds = getattr(getattr(model, "cls", None), "predictions", None)
    if preds is not None and hasattr(preds, "transform"):
        return MaskedLMParts(model.base_model, preds.transform, preds.decoder.weight, preds.decoder.bias)
    head = getattr(model, "lm_head", None)
    if head is not None and all(hasattr(head, a) for a in ("dense", "layer_norm", "decoder")):
        bias = head.decoder.bias if head.decoder.bias is not None else getattr(head, "bias", None)
        return MaskedLMParts(
            model.base_model,
            lambda x: head.layer_norm(torch.nn.functional.gelu(head.dense(x))),
            head.decoder.weight,
            bias,
        )
    return None


def mask_token_id(lm) -> int:
    mid = getattr(lm.hf_tokenizer, "mask_token_id", None)
    if mid is None:
        raise InputError(f"model '{lm.name}' has no mask token in its vocabulary; the masked-LM lens needs one")
    return int(mid)


def check_family(lm) -> None:
    if lm.family == "bpe":
        raise InputError(
            f"model '{lm.name}' uses a BPE tokenizer: substituting one base can change how the whole "
            "neighbourhood is split into tokens, so no masked token holds a distribution for one base and the "
            "masked-LM lens cannot be computed honestly; use a k-mer (DNABERT) or non-overlapping 6-mer model"
        )


# --------------------------------------------------------------------------------------------------------------
# which tokens to mask, and their candidates


@dataclass(frozen=True)
class MaskPlan:
    """For every base of one sequence window: the tokens to mask and their candidates.

    ids: ``[T]`` the window's token ids. cover: ``[L, W]`` token index (into ``ids``) of each token covering base
    i, ``-1`` padding (W = most tokens covering one base: k for DNABERT-k). offset: ``[L, W]`` position of base i
    inside that token. cand: ``[L, W, 4]`` the token's id were base i A, C, G or T (``-1``: not in the vocabulary,
    the token is left out).
    """

    ids: np.ndarray
    cover: np.ndarray
    offset: np.ndarray
    cand: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        """``[L, W]`` covering tokens whose four candidates all exist."""
        return (self.cover >= 0) & (self.cand >= 0).all(axis=-1)


def _covering(spans: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray]:
    """``(cover [L, W], offset [L, W])`` from token spans (see :class:`MaskPlan`)."""
    tok = np.flatnonzero(spans[:, 0] >= 0)
    widths = spans[tok, 1] - spans[tok, 0]
    t_rep = np.repeat(tok, widths)
    off = np.concatenate([np.arange(w) for w in widths]) if len(tok) else np.zeros(0, np.int64)
    base = spans[t_rep, 0] + off
    order = np.lexsort((t_rep, base))
    base, t_rep, off = base[order], t_rep[order], off[order]
    counts = np.bincount(base, minlength=L)
    W = max(int(counts.max()) if len(counts) else 1, 1)
    slot = np.arange(len(base)) - np.repeat(np.cumsum(counts) - counts, counts)
    cover = np.full((L, W), -1, dtype=np.int64)
    offset = np.zeros((L, W), dtype=np.int64)
    cover[base, slot], offset[base, slot] = t_rep, off
    return cover, offset


def _kmer_candidates(tokenizer, seq: str, spans: np.ndarray, cover: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Candidates of DNABERT k-mer tokens by base-4 arithmetic on the tokenizer's k-mer table."""
    from ..model.tokenization import _CODE

    k = tokenizer.k
    codes = _CODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    starts = spans[:, 0].clip(min=0)
    win = codes[(starts[:, None] + np.arange(k)).clip(max=len(seq) - 1)]  # [T, k] (special rows unused)
    digits = np.where(win < 4, win, 0)
    n_bad = (win >= 4).sum(axis=1)
    pw = 4 ** np.arange(k - 1, -1, -1, dtype=np.int64)
    index = digits @ pw  # [T]
    t = cover.clip(min=0)
    here = win[t, offset]  # digit of base i inside the token
    idx0 = index[t] - np.where(here < 4, here, 0) * pw[offset]
    cand_idx = idx0[..., None] + _ATCG_DIGIT[None, None, :] * pw[offset][..., None]
    cand = tokenizer._table[cand_idx]
    ok = (cover >= 0) & (n_bad[t] - (here >= 4) == 0)
    cand = np.where(ok[..., None] & (cand != tokenizer.unk_id), cand, -1)
    return cand


def _generic_candidates(tokenizer, seq: str, spans: np.ndarray, cover: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Candidates by spelling each covering token with the four bases and looking them up in the vocabulary."""
    vocab = tokenizer.vocab
    cand = np.full(cover.shape + (4,), -1, dtype=np.int64)
    for i, slot in zip(*np.nonzero(cover >= 0)):
        s, e = spans[cover[i, slot]]
        text, o = seq[s:e], offset[i, slot]
        cand[i, slot] = [vocab.get(text[:o] + b + text[o + 1 :], -1) for b in BASES]
    return cand


def mask_plan(tokenizer, seq: str) -> MaskPlan:
    """The :class:`MaskPlan` of one window ``seq`` (it must fit the model)."""
    enc = tokenizer.encode(seq)
    cover, offset = _covering(enc.spans, len(seq))
    if getattr(tokenizer, "family", "") == "kmer" and hasattr(tokenizer, "_table"):
        cand = _kmer_candidates(tokenizer, seq, enc.spans, cover, offset)
    else:
        cand = _generic_candidates(tokenizer, seq, enc.spans, cover, offset)
    return MaskPlan(enc.ids, cover, offset, cand)


def masked_copies(ids: np.ndarray, cover: np.ndarray, mask_id: int) -> np.ndarray:
    """One copy of ``ids`` per row of ``cover`` ``[P, W]`` with those tokens set to ``mask_id``: ``[P, T]``.
    ``ids`` may be one row ``[T]`` or one row per copy ``[P, T]``."""
    P = cover.shape[0]
    out = np.array(np.broadcast_to(ids, (P, ids.shape[-1])), dtype=np.int64)
    rows, slots = np.nonzero(cover >= 0)
    out[rows, cover[rows, slots]] = mask_id
    return out


# --------------------------------------------------------------------------------------------------------------
# forward passes and the combination rule


def _is_plain_bert(encoder) -> bool:
    """A transformers ``BertModel`` encoder whose last layer :func:`_bert_rows` can run for chosen rows."""
    cfg = getattr(encoder, "config", None)
    return (
        type(encoder).__name__ == "BertModel"
        and not getattr(cfg, "is_decoder", False)
        and getattr(cfg, "position_embedding_type", "absolute") == "absolute"
    )


def _bert_rows(encoder, x, cover):
    """Last hidden states ``[B, W, H]`` of a BERT encoder at token positions ``cover`` ``[B, W]`` (clipped to
    >= 0) of an unpadded batch ``x`` ``[B, T]``: every layer but the last runs on all tokens; the last computes
    keys and values for all tokens and everything else for the chosen rows only (the same numbers as the full
    forward pass, tested, with less work: the masked-LM head reads only those rows)."""
    import torch

    h = encoder.embeddings(input_ids=x)
    for layer in encoder.encoder.layer[:-1]:
        h = layer(h)
        h = h[0] if isinstance(h, tuple) else h
    last = encoder.encoder.layer[-1]
    sa = last.attention.self
    B, T, H = h.shape
    nh, d = sa.num_attention_heads, sa.attention_head_size
    idx = torch.as_tensor(cover, device=h.device).clamp(min=0)
    hq = torch.gather(h, 1, idx[..., None].expand(-1, -1, H))  # [B, W, H]
    q = sa.query(hq).view(B, -1, nh, d)
    k = sa.key(h).view(B, T, nh, d)
    v = sa.value(h).view(B, T, nh, d)
    att = torch.softmax(torch.einsum("bwnd,btnd->bnwt", q, k) * (d**-0.5), dim=-1)
    ctx = torch.einsum("bnwt,btnd->bwnd", att, v).reshape(B, -1, nh * d)
    a = last.attention.output(ctx, hq)
    return last.output(last.intermediate(a), a)


def candidate_logits(lm, ids: np.ndarray, cover: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Logits of the candidates of the masked tokens: ids ``[B, T]`` (no padding), cover ``[B, W]`` (``-1``:
    unused slot), cand ``[B, W, 4]`` → ``[B, W, 4]`` float64 (unused slots are meaningless). One forward pass."""
    import torch

    from ..model.inference import autocast

    x = torch.from_numpy(np.ascontiguousarray(ids)).to(lm.device)
    c = torch.from_numpy(cand.clip(min=0)).to(lm.device)
    parts = masked_lm_parts(lm.model)
    B, W = cover.shape
    with torch.inference_mode(), autocast(lm):
        if parts is None:
            logits = lm.model(input_ids=x).logits  # [B, T, V]
            rows = torch.gather(
                logits, 1, torch.from_numpy(cover.clip(min=0)).to(lm.device)[..., None].expand(-1, -1, logits.shape[-1])
            )
            picked = torch.gather(rows, 2, c)
        else:
            if _is_plain_bert(parts.encoder):
                h = _bert_rows(parts.encoder, x, cover)
            else:
                hidden = parts.encoder(input_ids=x)[0]
                idx = torch.from_numpy(cover.clip(min=0)).to(lm.device)
                h = torch.gather(hidden, 1, idx[..., None].expand(-1, -1, hidden.shape[-1]))
            picked = parts.candidate_logits(h.reshape(B * W, -1), c.reshape(B * W, 4)).reshape(B, W, 4)
    return picked.float().cpu().numpy().astype(np.float64)


def combine(logits: np.ndarray, usable: np.ndarray, rule: str = "mean") -> np.ndarray:
    """Per-base distribution ``[P, 4]`` from the candidate logits ``[P, W, 4]`` of the usable covering tokens
    ``[P, W]`` (see the module docstring); NaN rows where no token is usable."""
    if rule not in COMBINE:
        raise InputError(f"unknown combination rule '{rule}' (use {', '.join(COMBINE)})")
    z = logits - logits.max(axis=-1, keepdims=True)
    cond = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # each token's own 4-way log-conditional
    n = usable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if rule == "product":
            s = np.where(usable[..., None], cond, 0.0).sum(axis=1)
            s -= s.max(axis=-1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(axis=-1, keepdims=True)
        else:
            p = np.where(usable[..., None], np.exp(cond), 0.0).sum(axis=1) / n[:, None]
    p[n == 0] = np.nan
    return p


def plan_probabilities(
    lm, plan: MaskPlan, positions: np.ndarray, mask_id: int, batch_size: int, rule: str = "mean"
) -> np.ndarray:
    """``[len(positions), 4]`` base distributions at ``positions`` of one planned window, in batches."""
    out = np.full((len(positions), 4), np.nan)
    for b in range(0, len(positions), batch_size):
        pos = positions[b : b + batch_size]
        cover = np.where(plan.usable[pos], plan.cover[pos], -1)
        ids = masked_copies(plan.ids, plan.cover[pos], mask_id)
        logits = candidate_logits(lm, ids, cover, plan.cand[pos])
        out[b : b + len(pos)] = combine(logits, cover >= 0, rule)
    return out


def _oriented_probabilities(lm, seq: str, positions, mask_id, batch_size, overlap, rule) -> np.ndarray:
    """``[L, 4]`` read forward (rows outside ``positions`` are NaN), windowed and cross-faded."""
    L = len(seq)
    windows = plan_windows(L, lm.tokenizer.window_nt(), overlap)
    want = np.zeros(L, dtype=bool)
    want[positions] = True
    per_window = []
    for a, e in windows:
        full = np.zeros((e - a, 4))
        local = np.flatnonzero(want[a:e])
        if len(local):
            full[local] = plan_probabilities(lm, mask_plan(lm.tokenizer, seq[a:e]), local, mask_id, batch_size, rule)
        per_window.append(full)
    probs = np.stack([stitch_windows([w[:, c] for w in per_window], windows, L) for c in range(4)], axis=1)
    probs[~want] = np.nan
    return probs


def base_probabilities(
    lm,
    seq: str,
    positions=None,
    *,
    batch_size: int = 128,
    orientation: str = "forward",
    overlap: int | None = None,
    combine: str = "mean",
) -> np.ndarray:
    """The model's distribution over A, C, G, T at each base of ``seq`` (or only at ``positions``, 0-based; other
    rows NaN): ``[L, 4]`` float64, k-mer-aware masking as in the module docstring."""
    check_family(lm)
    if combine not in COMBINE:
        raise InputError(f"unknown combination rule '{combine}' (use {', '.join(COMBINE)})")
    L = len(seq)
    if L < lm.tokenizer.min_length():
        raise InputError(f"sequence of length {L} is shorter than the model's k-mer size {lm.tokenizer.min_length()}")
    pos = np.arange(L) if positions is None else np.asarray(positions, dtype=np.int64)
    mid = mask_token_id(lm)
    out = []
    if orientation in ("forward", "both"):
        out.append(_oriented_probabilities(lm, seq, pos, mid, batch_size, overlap, combine))
    if orientation in ("reverse", "both"):
        rc = _oriented_probabilities(lm, reverse_complement(seq), L - 1 - pos, mid, batch_size, overlap, combine)
        out.append(rc[::-1, ::-1])  # mirrored positions; A,C,G,T reversed = complements
    if not out:
        raise InputError(f"unknown orientation '{orientation}' (use forward, reverse or both)")
    return np.mean(out, axis=0)


def reference_index(seq: str) -> np.ndarray:
    """Index of each base in A, C, G, T (``-1`` for N)."""
    return _BASE_INDEX[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def score_probabilities(probs: np.ndarray, seq: str, score: str = "ref-logprob") -> np.ndarray:
    """``[L]`` log P(reference base) in nats (NaN at N) or the entropy in bits."""
    if score == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.nansum(np.where(probs > 0, probs * np.log2(probs), 0.0), axis=1) + np.where(
                np.isnan(probs).any(axis=1), np.nan, 0.0
            )
    if score != "ref-logprob":
        raise InputError(f"unknown masked-LM score '{score}' (use {', '.join(SCORES)})")
    ref = reference_index(seq)
    with np.errstate(divide="ignore"):
        lp = np.log(probs[np.arange(len(seq)), ref.clip(min=0)])
    return np.where(ref >= 0, lp, np.nan)


# --------------------------------------------------------------------------------------------------------------
# the lens


@dataclass(frozen=True)
class MLM(Lens):
    """Masked-LM lens: per-base probabilities with k-mer-aware masking (one masked copy per base, batched).
    ``score``: ``ref-logprob`` or ``entropy``; ``combine``: ``mean`` (default) or ``product``."""

    name: ClassVar[str] = "mlm"
    needs_masked_lm: ClassVar[bool] = True
    score: str = "ref-logprob"
    combine: str = "mean"

    def __post_init__(self):
        super().__post_init__()
        if self.score not in SCORES:
            raise InputError(f"unknown masked-LM score '{self.score}' (use {', '.join(SCORES)})")
        if self.combine not in COMBINE:
            raise InputError(f"unknown combination rule '{self.combine}' (use {', '.join(COMBINE)})")

    @property
    def score_name(self) -> str:
        return "log P(reference base) (nats)" if self.score == "ref-logprob" else "entropy of P(base) (bits)"

    def describe(self) -> str:
        return f"masked LM ({self.score}, {self.combine} of covering k-mers), {self.orientation}"

    def compute(self, model, sequences, *, batch_size, overlap, progress):
        check_family(model)
        done = 0
        for seq in sequences:
            probs = base_probabilities(
                model,
                seq.seq,
                batch_size=max(batch_size, 128),
                orientation=self.orientation,
                overlap=overlap,
                combine=self.combine,
            )
            done += 1
            if progress:
                progress(done)
            yield Track(seq, score_probabilities(probs, seq.seq, self.score), None, {"probs": probs, "bases": BASES})
