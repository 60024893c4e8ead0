"""What every trainer shares: the small BERT configuration of the demo models, DNABERT's on-disk layout, metrics,
batching, and one training loop (AdamW, linear warm-up then decay) used by fine-tuning, the demo classifier and
masked-LM pre-training."""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..model.loading import torch_threads  # noqa: F401 (re-exported for the trainers)
from ..model.tokenization import dnabert_vocab


def demo_config(**overrides):
    """The demo models' BertConfig: DNABERT-6 vocabulary, 2 layers, hidden 64, 4 heads, 512 positions."""
    from transformers import BertConfig

    base = dict(
        vocab_size=4101,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=512,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
        architectures=["BertForSequenceClassification"],
    )
    base.update(overrides)
    return BertConfig(**base)


def save_dnabert_layout(model, out_dir: str | os.PathLike, k: int = 6, max_len: int = 512) -> None:
    """Save weights (safetensors) and DNABERT's tokenizer files: vocab.txt, tokenizer_config.json, special tokens."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    (out / "vocab.txt").write_text("\n".join(dnabert_vocab(k)) + "\n")
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "do_lower_case": False,
                "max_len": max_len,
                "model_max_length": max_len,
                "tokenizer_class": "BertTokenizer",
            },
            indent=2,
        )
        + "\n"
    )
    (out / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "unk_token": "[UNK]",
                "sep_token": "[SEP]",
                "pad_token": "[PAD]",
                "cls_token": "[CLS]",
                "mask_token": "[MASK]",
            },
            indent=2,
        )
        + "\n"
    )
    for f in out.iterdir():
        os.chmod(f, 0o644)


def classification_metrics(y: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, F1 (binary; macro for multi-class), MCC, AUROC and AUPRC (binary; macro one-vs-rest for
    multi-class)."""
    from scipy.stats import rankdata

    y = np.asarray(y).astype(int)
    probs = np.asarray(probs, dtype=np.float64)
    C = probs.shape[1]
    pred = probs.argmax(axis=1)
    cm = np.zeros((C, C))
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm)
    f1s = [2 * tp[c] / (cm[c].sum() + cm[:, c].sum()) if (cm[c].sum() + cm[:, c].sum()) else 0.0 for c in range(C)]
    t, p, n = cm.sum(axis=1), cm.sum(axis=0), cm.sum()  # Gorodkin's multi-class MCC
    den = math.sqrt((n**2 - p @ p) * (n**2 - t @ t))
    aucs, aps = [], []
    for c in range(1, 2) if C == 2 else range(C):
        pos = y == c
        if pos.all() or (~pos).all():
            continue
        r = rankdata(probs[:, c])
        aucs.append((r[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))
        aps.append(_average_precision(pos, probs[:, c]))
    return {
        "accuracy": round(float((pred == y).mean()), 4),
        "f1": round(float(f1s[1] if C == 2 else np.mean(f1s)), 4),
        "mcc": round(float((np.trace(cm) * n - t @ p) / den) if den > 0 else 0.0, 4),
        "auroc": round(float(np.mean(aucs)) if aucs else float("nan"), 4),
        "auprc": round(float(np.mean(aps)) if aps else float("nan"), 4),
        "n": int(len(y)),
    }


def _average_precision(pos: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision (scikit-learn's definition)."""
    order = np.argsort(-score, kind="stable")
    hits = pos[order].astype(np.float64)
    # ties share a threshold: evaluate precision at the last index of each distinct score
    s = score[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(hits)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0.0, tp]) / max(1.0, hits.sum())
    return float(np.sum(precision * recall_gain))


def pad_batches(ids: list[np.ndarray], labels: np.ndarray, batch_size: int, pad: int, order: np.ndarray):
    """``(input_ids, attention_mask, labels)`` torch batches in ``order``, padded to each batch's longest."""
    import torch

    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        T = max(len(ids[j]) for j in idx)
        x = np.full((len(idx), T), pad, dtype=np.int64)
        m = np.zeros((len(idx), T), dtype=np.int64)
        for r, j in enumerate(idx):
            x[r, : len(ids[j])] = ids[j]
            m[r, : len(ids[j])] = 1
        yield torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(labels[idx])


def optimizer(
    model, lr: float, total_steps: int, warmup: float = 0.1, weight_decay: float = 0.0, decay_groups: bool = False
):
    """AdamW with a linear warm-up over ``warmup`` of the steps, then linear decay to 0. With ``decay_groups``
    biases and LayerNorm weights get no weight decay (DNABERT's fine-tuning recipe)."""
    import torch

    if decay_groups:
        no_decay = ("bias", "LayerNorm.weight")
        params = [
            {
                "params": [p for n, p in model.named_parameters() if not any(x in n for x in no_decay)],
                "weight_decay": weight_decay,
            },
            {"params": [p for n, p in model.named_parameters() if any(x in n for x in no_decay)], "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(params, lr=lr)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=lr)  # torch's default weight decay, 0.01
    warm = max(1, int(warmup * total_steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total_steps - s) / max(1, total_steps - warm))
    )
    return opt, sched


def train_epoch(
    model,
    batches: Iterable,
    opt,
    sched,
    *,
    device: str = "cpu",
    clip: float | None = None,
    bf16: bool = False,
    step: int = 0,
    total: int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[list[float], int]:
    """One pass over ``batches`` of ``(input_ids, attention_mask or None, labels)``; returns the losses and the
    step count. Stops at ``total`` steps. The model's own loss is used (classification or masked LM)."""
    import torch

    model.train()
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    losses = []
    for x, m, yb in batches:
        kwargs = {"input_ids": x.to(device), "labels": yb.to(device)}
        if m is not None:
            kwargs["attention_mask"] = m.to(device)
        with amp:
            loss = model(**kwargs).loss
        opt.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        step += 1
        losses.append(float(loss.detach()))
        if progress:
            progress(step, total or step, float(np.mean(losses[-20:])))
        if total is not None and step >= total:
            break
    return losses, step


def predict_probs(model, ids: list[np.ndarray], batch_size: int, pad: int, device: str) -> np.ndarray:
    """Softmax class probabilities ``[N, C]`` of token-id rows, in order."""
    import torch

    model.eval()
    out = []
    with torch.inference_mode():
        for x, m, _ in pad_batches(ids, np.zeros(len(ids), dtype=np.int64), batch_size, pad, np.arange(len(ids))):
            logits = model(input_ids=x.to(device), attention_mask=m.to(device)).logits
            out.append(torch.softmax(logits.float(), -1).cpu().numpy())
    return np.concatenate(out)
