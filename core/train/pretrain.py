"""Masked-language-model pre-training, DNABERT style (``dnalens pretrain`` and the demo MLM).

**Masking rule** (DNABERT's ``mask_tokens`` with its ``MASK_LIST``, stated exactly). Let ``w`` be the number of
tokens that cover one base (overlapping k-mers: ``w = ceil(k / stride)``, so ``w = k`` for DNABERT; non-overlapping
6-mers and BPE: ``w = 1``). Among the maskable tokens (real k-mers: not ``[CLS]``/``[SEP]``/padding, not ``[UNK]``):

1. each token is a span *centre* independently with probability ``q = 1 - (1 - p)^(1/w)`` (``p = 0.15``);
2. a centre ``c`` selects the ``w`` contiguous tokens ``c - lo … c + w - 1 - lo`` with ``lo = (w - 1) // 2``
   (k = 6: ``c-2 … c+3``; k = 3: ``c-1 … c+1``: DNABERT's offsets), clipped to the maskable tokens. Away from the
   ends a token is then selected with probability exactly ``1 - (1 - q)^w = p`` = 15 %;
3. a sequence that drew no centre gets one, uniformly among its maskable tokens (every row has a target);
4. each selected token becomes ``[MASK]`` (80 %), a random k-mer token (10 %) or stays (10 %); the loss is the
   cross-entropy of the original token at the selected positions only.

Why spans: with overlapping k-mers a base sits in ``k`` tokens, so a lone masked token could be read off its
neighbours. ``k`` contiguous masked k-mers ``[c-lo, c+w-1-lo]`` hide exactly one base (the base at
``c + w - 1 - lo``); every other base they cover is also covered by a visible neighbour.

The loss is computed on the selected positions only: the encoder runs on the whole batch and the MLM head only on
the selected rows (the full-vocabulary head over every position is most of the cost of a small model). Training
uses the shared loop and optimizer (:func:`core.train.common.train_epoch`, :func:`core.train.common.optimizer`).

**The demo MLM** (``dnalens pretrain-demo``; shipped in ``core/assets/demo_mlm``): see :func:`pretrain_demo`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from ..io.sequences import Sequence

MLM_PROBABILITY = 0.15


@dataclass
class PretrainConfig:
    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    mlm_probability: float = MLM_PROBABILITY
    seed: int = 0
    threads: int | None = None
    max_steps: int | None = None
    dev_fraction: float = 0.05  # held out for the masked-token metrics when no dev set is given


# --------------------------------------------------------------------------------------------------------------
# masking


def span_width(tokenizer) -> int:
    """How many tokens cover one base: ``ceil(k / stride)`` for overlapping k-mers, else 1."""
    if getattr(tokenizer, "family", "") == "kmer":
        return math.ceil(tokenizer.k / tokenizer.stride)
    return 1


def span_offsets(w: int) -> range:
    """Token offsets a span centre masks: DNABERT's ``MASK_LIST`` plus the centre (k = 6: -2 … 3)."""
    lo = (w - 1) // 2
    return range(-lo, w - lo)


def centre_probability(p: float, w: int) -> float:
    """Centre probability that selects a token with probability ``p`` once spans of ``w`` are drawn around it."""
    return 1.0 - (1.0 - p) ** (1.0 / w)


def mask_tokens(
    ids: np.ndarray,
    maskable: np.ndarray,
    rng: np.random.Generator,
    *,
    w: int,
    mask_id: int,
    random_ids: np.ndarray,
    p: float = MLM_PROBABILITY,
) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, labels)`` for a batch of token ids ``[B, T]`` (see the module docstring for the rule).

    maskable: bool ``[B, T]``, the tokens that may be selected. labels: the original id at selected tokens, -100
    elsewhere."""
    ids = np.asarray(ids, dtype=np.int64)
    maskable = np.asarray(maskable, dtype=bool)
    centres = (rng.random(ids.shape) < centre_probability(p, w)) & maskable
    for r in np.flatnonzero(~centres.any(axis=1) & maskable.any(axis=1)):
        centres[r, rng.choice(np.flatnonzero(maskable[r]))] = True
    T = ids.shape[1]
    selected = np.zeros_like(centres)
    for off in span_offsets(w):  # centre c selects c + off
        if off >= 0:
            selected[:, off:] |= centres[:, : T - off]
        else:
            selected[:, : T + off] |= centres[:, -off:]
    selected &= maskable
    labels = np.where(selected, ids, -100)
    u = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[selected & (u < 0.8)] = mask_id
    swap = selected & (u >= 0.8) & (u < 0.9)
    inputs[swap] = rng.choice(random_ids, size=int(swap.sum()))
    return inputs, labels


# --------------------------------------------------------------------------------------------------------------
# model, tokenizer, data


def _mlm_vocab_facts(tok, vocab: dict[str, int], mask_id: int | None) -> tuple[int, np.ndarray]:
    """``(mask id, ids of real DNA tokens)`` (the random replacements)."""
    import re

    if mask_id is None:
        raise ModelError("the tokenizer has no mask token ([MASK]); masked-LM pre-training needs one")
    dna = re.compile(r"^[ACGT]+$")
    k = getattr(tok, "k", None) if tok.family == "kmer" else None
    real = [i for t, i in vocab.items() if dna.match(t) and (k is None or len(t) == k)]
    return int(mask_id), np.array(sorted(real), dtype=np.int64)


def _from_scratch(scratch_config: dict | None, kmer: int | None):
    """``(model, tokenizer, vocabulary, mask id, k, description, None)``: the demo configuration with a masked-LM
    head."""
    from transformers import BertForMaskedLM

    from ..model.tokenization import KmerTokenizer, dnabert_vocab
    from .common import demo_config

    k = kmer or 6
    cfg = demo_config(
        vocab_size=len(dnabert_vocab(k)),
        architectures=["BertForMaskedLM"],
        id2label={0: "LABEL_0", 1: "LABEL_1"},
        label2id={"LABEL_0": 0, "LABEL_1": 1},
    )
    for key, val in (scratch_config or {}).items():
        setattr(cfg, key, val)
    if cfg.vocab_size != len(dnabert_vocab(k)):
        raise InputError(f"vocab_size {cfg.vocab_size} does not fit DNABERT-{k}'s vocabulary ({4**k + 5} tokens)")
    tok = KmerTokenizer.dnabert(k, cfg.max_position_embeddings)
    desc = "from scratch (demo configuration)" if not scratch_config else "from scratch"
    return BertForMaskedLM(cfg), tok, dict(tok.vocab), tok.vocab["[MASK]"], k, desc, None


def _from_base(base: str, kmer: int | None, trust_remote_code: bool, device: str):
    """``(model, tokenizer, vocabulary, mask id, k, description, base folder)``: a checkpoint, continued. A base without a
    trained MLM head (a classifier) gets a new head; its encoder must be complete."""
    from transformers import AutoModelForMaskedLM

    from ..model.loading import (
        _check_weights,
        _load_hf_tokenizer,
        _materialise_alibi,
        _resolve_path,
        build_tokenizer,
        check_model_folder,
    )

    name, path = _resolve_path(base, allow_download=False)
    base_cfg = check_model_folder(name, path, trust_remote_code)
    hf_tok = _load_hf_tokenizer(path, trust_remote_code, base_cfg.get("model_type", "bert"))
    tok, family, k = build_tokenizer(hf_tok, int(base_cfg.get("max_position_embeddings", 512)), None, kmer)
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(
            str(path), local_files_only=True, trust_remote_code=trust_remote_code, output_loading_info=True
        )
    except (ValueError, OSError) as exc:
        raise ModelError(f"cannot load base model '{name}' with a masked-LM head: {exc}") from None
    _check_weights(
        name,
        type(model).__name__,
        info,
        has_remote_code=bool(base_cfg.get("auto_map")),
        trust_remote_code=trust_remote_code,
        may_miss=(".pooler.", ".contact_head.", "cls.", "lm_head."),
    )
    _materialise_alibi(model, device)
    tok.max_tokens = min(tok.max_tokens, int(getattr(model.config, "max_position_embeddings", 512)))
    return model, tok, hf_tok.get_vocab(), getattr(hf_tok, "mask_token_id", None), k, name, path


def split_pieces(seqs: list[Sequence], tok) -> list[str]:
    """Sequences cut into consecutive pieces that fit the model's window; pieces shorter than k are dropped."""
    window = tok.window_nt()
    out = []
    for s in seqs:
        for a in range(0, len(s.seq), window):
            piece = s.seq[a : a + window]
            if len(piece) >= tok.min_length():
                out.append(piece)
    return out


def _encode_pieces(tok, pieces: list[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Token ids and maskable flags (real tokens, not [UNK]) of every piece."""
    unk = getattr(tok, "unk_id", None)
    ids, maskable = [], []
    for p in pieces:
        enc = tok.encode(p)
        ids.append(enc.ids)
        maskable.append((enc.spans[:, 0] >= 0) & (enc.ids != unk))
    return ids, maskable


def _batches(ids, maskable, order, batch_size: int, pad: int, rng, mask_args: dict):
    """Padded, masked torch batches ``(inputs, attention_mask, labels)`` in ``order``."""
    import torch

    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        T = max(len(ids[j]) for j in idx)
        x = np.full((len(idx), T), pad, dtype=np.int64)
        mk = np.zeros((len(idx), T), dtype=bool)
        att = np.zeros((len(idx), T), dtype=np.int64)
        for r, j in enumerate(idx):
            x[r, : len(ids[j])], mk[r, : len(ids[j])], att[r, : len(ids[j])] = ids[j], maskable[j], 1
        inputs, labels = mask_tokens(x, mk, rng, **mask_args)
        yield torch.from_numpy(inputs), torch.from_numpy(att), torch.from_numpy(labels)


def bucketed_order(lengths: list[int], batch_size: int, rng) -> np.ndarray:
    """A training order whose batches hold sequences of similar length (less padding), batches shuffled."""
    lengths = np.asarray(lengths)
    by_len = np.lexsort((rng.random(len(lengths)), lengths))
    chunks = [by_len[i : i + batch_size] for i in range(0, len(by_len), batch_size)]
    return np.concatenate([chunks[i] for i in rng.permutation(len(chunks))]) if chunks else by_len


# --------------------------------------------------------------------------------------------------------------
# training


def masked_lm_loss_model(model):
    """A module whose forward ``(input_ids, labels, attention_mask)`` returns the masked-LM loss with the head run
    on the selected rows only (same loss as the model's own, less work); the model's own forward when its head
    cannot be separated."""
    import types

    import torch

    from ..lenses.mlm import masked_lm_parts

    parts = masked_lm_parts(model)

    class MaskedRowsLoss(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mlm = model

        def forward(self, input_ids, labels, attention_mask=None):
            if parts is None:
                return self.mlm(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
            hidden = parts.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            sel = labels != -100
            logits = parts.logits(hidden[sel])
            loss = torch.nn.functional.cross_entropy(logits.float(), labels[sel])
            return types.SimpleNamespace(loss=loss, logits=logits, labels=labels[sel])

    return MaskedRowsLoss()


def evaluate_masked(wrapper, ids, maskable, batch_size: int, pad: int, mask_args: dict, seed: int) -> dict:
    """Held-out masked-token accuracy and loss (fixed masks from ``seed``)."""
    import torch

    rng = np.random.default_rng(seed)
    wrapper.eval()
    n, correct, loss_sum = 0, 0, 0.0
    with torch.inference_mode():
        for x, m, y in _batches(ids, maskable, np.arange(len(ids)), batch_size, pad, rng, mask_args):
            out = wrapper(input_ids=x, labels=y, attention_mask=m)
            sel = y[y != -100]
            if getattr(out, "labels", None) is None:  # the model's own forward: full logits
                logits = out.logits[y != -100]
            else:
                logits = out.logits
            n += len(sel)
            correct += int((logits.argmax(-1) == sel).sum())
            loss_sum += float(out.loss) * len(sel)
    return {
        "masked_tokens": n,
        "masked_accuracy": round(correct / max(n, 1), 4),
        "loss": round(loss_sum / max(n, 1), 4),
    }


def _fit(wrapper, tok, pieces, dev_pieces, config: PretrainConfig, mask_args, device, rng, log, progress):
    """Train ``config.epochs`` epochs (fresh masks every epoch) with the shared loop; returns the history."""
    from .common import optimizer, train_epoch

    ids, maskable = _encode_pieces(tok, pieces)
    dv_ids, dv_mask = _encode_pieces(tok, dev_pieces)
    steps_per_epoch = math.ceil(len(ids) / config.batch_size)
    total = config.max_steps or steps_per_epoch * config.epochs
    opt, sched = optimizer(wrapper, config.lr, total, config.warmup, config.weight_decay, decay_groups=True)
    step, history, t0 = 0, [], time.time()
    for ep in range(config.epochs):
        order = bucketed_order([len(x) for x in ids], config.batch_size, rng)
        batches = _batches(ids, maskable, order, config.batch_size, tok.pad_id, rng, mask_args)
        losses, step = train_epoch(
            wrapper, batches, opt, sched, device=device, clip=1.0, step=step, total=total, progress=progress
        )
        dev = evaluate_masked(wrapper, dv_ids, dv_mask, 128, tok.pad_id, mask_args, config.seed + 1) if dv_ids else {}
        history.append({"epoch": ep + 1, "train_loss": round(float(np.mean(losses)), 4), **dev})
        if log:
            log(
                f"epoch {ep + 1}: loss {np.mean(losses):.4f}, held-out masked accuracy "
                f"{dev.get('masked_accuracy')}, loss {dev.get('loss')} ({time.time() - t0:.0f} s)"
            )
        if step >= total:
            break
    return history


def pretrain(
    train: list[Sequence],
    out_dir: str | os.PathLike,
    *,
    base: str | None = None,
    dev: list[Sequence] | None = None,
    config: PretrainConfig = PretrainConfig(),
    scratch_config: dict | None = None,
    kmer: int | None = None,
    device: str = "auto",
    log: Callable[[str], None] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    trust_remote_code: bool = False,
    extra_metrics: Callable[[Path], dict] | None = None,
) -> dict:
    """Pre-train a masked LM on ``train`` (from the demo configuration, or ``scratch_config``, or continued from
    ``base``) and save it to ``out_dir`` in DNABERT's layout (``architectures: ["BertForMaskedLM"]``) with
    ``training_metrics.json``; returns the metrics. Sequences longer than the model's window are cut into pieces;
    without ``dev`` a seeded ``dev_fraction`` of the pieces is held out for the masked-token metrics.
    ``extra_metrics(out folder)`` may add metrics computed on the saved model (the demo's lens checks)."""
    import torch

    from ..io.atomic import atomic_dir
    from ..model.loading import quiet_transformers, resolve_device
    from .common import torch_threads

    quiet_transformers()
    from .finetune import _save

    if not train:
        raise InputError("no training sequences")
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    t0 = time.time()
    with torch_threads(config.threads):
        dev_ = resolve_device(device)
        model, tok, vocab, mask_id, k, desc, base_path = (
            _from_base(base, kmer, trust_remote_code, dev_) if base else _from_scratch(scratch_config, kmer)
        )
        mask_id, random_ids = _mlm_vocab_facts(tok, vocab, mask_id)
        mask_args = {"w": span_width(tok), "mask_id": mask_id, "random_ids": random_ids, "p": config.mlm_probability}
        pieces = split_pieces(train, tok)
        if dev is not None:
            dev_pieces = split_pieces(dev, tok)
        else:
            held = rng.random(len(pieces)) < config.dev_fraction
            pieces, dev_pieces = [p for p, h in zip(pieces, held) if not h], [p for p, h in zip(pieces, held) if h]
        if not pieces:
            raise InputError(f"no training piece is at least {tok.min_length()} bases long")
        model.to(dev_)
        wrapper = masked_lm_loss_model(model)
        history = _fit(wrapper, tok, pieces, dev_pieces, config, mask_args, dev_, rng, log, progress)
        model.eval()
        metrics = {
            **(history[-1] if history else {}),
            "split": "held-out pieces" + (" (--dev)" if dev is not None else f" ({config.dev_fraction:.0%} of train)"),
            "base": desc,
            "k": k,
            "family": tok.family,
            "masking": f"contiguous spans of {mask_args['w']} tokens, {config.mlm_probability:.0%} of tokens, "
            "80/10/10 [MASK]/random/kept (core/train/pretrain.py)",
            "train_pieces": len(pieces),
            "dev_pieces": len(dev_pieces),
            "train_bases": int(sum(len(p) for p in pieces)),
            "history": history,
            "config": asdict(config),
            "train_seconds": round(time.time() - t0, 1),
        }
        with atomic_dir(out_dir, announce=log) as tmp:
            model.config.architectures = [type(model).__name__]
            _save(model, tmp, base_path, k, copy_code=bool(trust_remote_code and base_path is not None))
            if extra_metrics:
                metrics.update(extra_metrics(tmp))
            metrics["total_seconds"] = round(time.time() - t0, 1)
            (tmp / "training_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


# --------------------------------------------------------------------------------------------------------------
# the demo MLM

DEMO_MLM_LENGTHS = (100, 150, 200)
DEMO_MOTIFS_PER_100BP = 2.0


def draw_mlm_sequences(
    n: int,
    *,
    seed: int,
    lengths: tuple[int, ...] = DEMO_MLM_LENGTHS,
    motifs_per_100bp: float = DEMO_MOTIFS_PER_100BP,
    power: float | None = None,
) -> tuple[list[Sequence], list[list[tuple[str, int, int]]]]:
    """``n`` sequences of the demo's synthetic world for pre-training: uniform background (GC 0.5), lengths drawn
    from ``lengths``, and ``round(motifs_per_100bp * L / 100)`` non-overlapping motif instances (TBP or CTCF, 50/50,
    sampled from the same sharpened JASPAR matrices as the demo classifier's positives, forward strand). Returns the
    sequences and, per sequence, the planted ``(motif, start, end)`` (0-based, half-open)."""
    from .demo import BASES, SHARPEN, DemoGenerator, jaspar_ppms

    gen = DemoGenerator(jaspar_ppms(), length=max(lengths), seed=seed, power=SHARPEN if power is None else power)
    rng = gen.rng
    seqs, truth = [], []
    for i in range(n):
        L = int(lengths[rng.integers(len(lengths))])
        x = rng.integers(0, 4, size=L)
        taken = np.zeros(L, dtype=bool)
        placed = []
        for _ in range(int(round(motifs_per_100bp * L / 100))):
            name = gen.names[rng.integers(len(gen.names))]
            inst = gen.instance(name)
            for s in rng.integers(0, L - len(inst) + 1, size=20):  # first free spot of 20 random tries
                if not taken[s : s + len(inst)].any():
                    x[s : s + len(inst)], taken[s : s + len(inst)] = inst, True
                    placed.append((name, int(s), int(s) + len(inst)))
                    break
        seqs.append(Sequence(f"mlm_{i + 1:06d}", "".join(BASES[x])))
        truth.append(sorted(placed, key=lambda p: p[1]))
    return seqs, truth


DEMO_MLM_RECIPE = {
    "train_sequences": 51_200,
    "dev_sequences": 300,
    "batch_size": 64,
    "lr": 4e-3,
    "epochs": 1,
    "seed": 0,
    "lengths": list(DEMO_MLM_LENGTHS),
    "motifs_per_100bp": DEMO_MOTIFS_PER_100BP,
    "config": {"num_hidden_layers": 1},  # the demo configuration with one layer (see pretrain_demo)
}


def _auroc(label: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``label == 1`` (ties count half; Mann-Whitney)."""
    from scipy.stats import rankdata

    r = rankdata(score)
    n1, n0 = int(label.sum()), int((1 - label).sum())
    return round(float((r[label == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)), 4)


def demo_mlm_checks(lm, *, n: int = 60, seed: int = 20_250, combine: str = "mean") -> dict:
    """What the demo MLM must show, on held-out classifier-world positives drawn with a new seed
    (:class:`core.train.demo.DemoGenerator`): the lens's mean log P(reference base) inside vs outside the planted
    motif (one-sided Mann-Whitney U), and the zero-shot llr's AUROC separating motif-breaking substitutions (the
    planted matrix's strongest column, to its least likely base) from substitutions >= 10 bp from the motif."""
    from scipy.stats import mannwhitneyu

    from ..lenses.mlm import BASES, base_probabilities, score_probabilities
    from .demo import DemoGenerator, jaspar_ppms

    gen = DemoGenerator(jaspar_ppms(), seed=seed)
    seqs, y, planted = gen.draw(4 * n)
    pos = [(s, p) for s, yy, p in zip(seqs, y, planted) if yy == 1][:n]
    rng = np.random.default_rng(seed)
    inside, outside, llr, label = [], [], [], []
    for s, p in pos:
        probs = base_probabilities(lm, s, combine=combine)
        lp = score_probabilities(probs, s)
        mask = np.zeros(len(s), bool)
        mask[p.start : p.end] = True
        inside.append(lp[mask])
        outside.append(lp[~mask])
        col = int(np.argmax(gen.ppms[p.motif].max(axis=1)))
        c, low = p.start + col, int(np.argmin(gen.ppms[p.motif][col]))
        if BASES[low] != s[c]:
            llr.append(np.log(probs[c, low]) - np.log(probs[c, BASES.index(s[c])]))
            label.append(1)
        q = int(rng.choice([i for i in range(len(s)) if i < p.start - 10 or i >= p.end + 10]))
        alt = [b for b in BASES if b != s[q]][int(rng.integers(3))]
        llr.append(np.log(probs[q, BASES.index(alt)]) - np.log(probs[q, BASES.index(s[q])]))
        label.append(0)
    ins, out = np.concatenate(inside), np.concatenate(outside)
    test = mannwhitneyu(ins, out, alternative="greater")
    auroc = _auroc(np.array(label), -np.array(llr))
    return {
        "lens_check": {
            "data": f"{len(pos)} held-out positives, DemoGenerator seed {seed} (100 bp, one planted motif)",
            "combine": combine,
            "mean_logp_inside_motif": round(float(ins.mean()), 4),
            "mean_logp_outside_motif": round(float(out.mean()), 4),
            "uniform_logp": round(float(np.log(0.25)), 4),
            "mannwhitney_u": float(test.statistic),
            "mannwhitney_p": float(test.pvalue),
            "llr_auroc_motif_breaking_vs_far": auroc,
            "llr_mean_motif_breaking": round(float(np.mean([v for v, t in zip(llr, label) if t])), 4),
            "llr_mean_far": round(float(np.mean([v for v, t in zip(llr, label) if not t])), 4),
        }
    }


def _write_fasta_gz(path: Path, seqs: list[Sequence]) -> None:
    import gzip

    with gzip.open(path, "wt", compresslevel=9) as fh:
        for s in seqs:
            fh.write(f">{s.id}\n{s.seq}\n")


def pretrain_demo(
    out_dir: str | os.PathLike,
    *,
    threads: int | None = 1,
    log: Callable[[str], None] | None = print,
    write_data: str | os.PathLike | None = None,
    recipe: dict | None = None,
) -> dict:
    """Train the demo MLM (:data:`DEMO_MLM_RECIPE`): ``train_sequences`` fresh draws of
    :func:`draw_mlm_sequences` (seed 0; 100/150/200 bp, two planted TBP/CTCF instances per 100 bp), one pass over
    them with :func:`pretrain` from the demo configuration with **one** transformer layer (hidden 64, 4 heads,
    intermediate 256, DNABERT-6 vocabulary), AdamW lr 4e-3 with 10 % warm-up and linear decay, batch 64, one
    thread (deterministic); held-out masked-token metrics on ``dev_sequences`` more (seed 10000) and
    :func:`demo_mlm_checks` on the saved model.

    Why one layer: measured on this synthetic world, a two-layer model reached the same held-out masked-token
    loss and accuracy and the same lens results after the same steps, at 2.5x the training time, and a
    dependency map costs about 3L² masked forward passes, which one layer makes about 5x cheaper (the lens runs
    the last layer only for the masked rows).

    ``write_data``: also write those sequences (``mlm_train.fa.gz``, ``mlm_dev.fa.gz``) so that
    ``dnalens pretrain --train mlm_train.fa.gz --dev mlm_dev.fa.gz --config one_layer.json --epochs 1
    --batch-size 64 --lr 4e-3 --seed 0 --threads 1`` (``one_layer.json``: ``{"num_hidden_layers": 1}``, also
    written) gives the same model."""
    r = {**DEMO_MLM_RECIPE, **(recipe or {})}
    draw = {"lengths": tuple(r["lengths"]), "motifs_per_100bp": r["motifs_per_100bp"]}
    train, _ = draw_mlm_sequences(r["train_sequences"], seed=r["seed"], **draw)
    dev, _ = draw_mlm_sequences(r["dev_sequences"], seed=r["seed"] + 10_000, **draw)
    if write_data:
        Path(write_data).mkdir(parents=True, exist_ok=True)
        _write_fasta_gz(Path(write_data) / "mlm_train.fa.gz", train)
        _write_fasta_gz(Path(write_data) / "mlm_dev.fa.gz", dev)
        (Path(write_data) / "one_layer.json").write_text(json.dumps(r["config"]) + "\n")

    def checks(folder: Path) -> dict:
        from ..model.loading import load_model

        return {
            **demo_mlm_checks(load_model(str(folder), device="cpu")),
            "recipe": r,
            "rebuild": "dnalens pretrain-demo --out DIR (core/train/pretrain.py: pretrain_demo)",
        }

    config = PretrainConfig(epochs=r["epochs"], batch_size=r["batch_size"], lr=r["lr"], seed=r["seed"], threads=threads)
    metrics = pretrain(
        train, out_dir, dev=dev, config=config, scratch_config=r["config"], log=log, extra_metrics=checks
    )
    if log:
        c = metrics["lens_check"]
        log(
            f"lens check: mean log P(ref) inside motifs {c['mean_logp_inside_motif']}, outside "
            f"{c['mean_logp_outside_motif']}; zero-shot llr AUROC {c['llr_auroc_motif_breaking_vs_far']}"
        )
    return metrics
