"""Fine-tuning a DNABERT-style classifier on labelled sequences.

Labels come from a table (``sequence``/``seq`` and ``label`` columns, CSV or TSV; DNABERT's ``dev.tsv`` with k-mer
text works too), from ``label=`` in FASTA headers, or from two FASTA files (positives 1, negatives 0). Binary and
multi-class (e.g. 3 classes for splice sites).

Default recipe (DNABERT's fine-tuning): AdamW (weight decay 0.01), linear warm-up over 10 % of the steps then
linear decay, dropout 0.1 on the hidden layers and the classification head, early stopping on the dev split's MCC
(patience 2 epochs; the best epoch is kept). The output folder is an ordinary checkpoint in DNABERT's layout plus
``training_metrics.json``; every command and the dashboard load it.
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
from ..io.sequences import Sequence, read_fasta, read_table
from .common import classification_metrics


@dataclass
class FinetuneConfig:
    epochs: int = 3
    batch_size: int = 32
    lr: float = 2e-4
    weight_decay: float = 0.01
    warmup: float = 0.1
    dropout: float = 0.1
    patience: int = 2
    seed: int = 0
    threads: int | None = None
    max_steps: int | None = None


# --------------------------------------------------------------------------------------------------------------
# labelled data


def read_labelled(
    path: str | os.PathLike | None = None, positives: str | None = None, negatives: str | None = None
) -> list[Sequence]:
    """Labelled sequences from a table, a FASTA with ``label=`` headers, or positives + negatives FASTA files."""
    from ..io.sequences import with_label

    if positives or negatives:
        if not (positives and negatives):
            raise InputError("give both --positives and --negatives")
        return with_label(read_fasta(positives), 1) + with_label(read_fasta(negatives), 0)
    if path is None:
        raise InputError("no training data given")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError("file not found", source=path)
    name = os.path.basename(path)
    low = name.lower().removesuffix(".gz")
    if low.endswith((".fa", ".fasta", ".fna", ".fas")):
        seqs = read_fasta(path)
        missing = [s.id for s in seqs if s.label is None]
        if missing:
            raise InputError(
                f"{len(missing)} records have no numeric label= in their header (first: "
                f"'{missing[0]}'); write e.g. '>seq1 label=1', or give --positives/--negatives",
                source=name,
            )
        return seqs
    return read_table(path)


def check_labels(seqs: list[Sequence], what: str = "training", allow_one: bool = False) -> int:
    """Number of classes (labels must be 0..n-1 and, for training, at least two must occur)."""
    labels = sorted({s.label for s in seqs})
    if len(labels) < (1 if allow_one else 2):
        raise InputError(
            f"the {what} data has only one class ({labels[0] if labels else 'none'}); a classifier needs at least two"
        )
    return max(labels) + 1


# --------------------------------------------------------------------------------------------------------------
# training


def _encode(tok, seqs: list[Sequence], what: str) -> list[np.ndarray]:
    window = tok.window_nt()
    out = []
    for s in seqs:
        if len(s.seq) > window:
            raise InputError(
                f"sequence of {len(s.seq)} bp is longer than the model's window ({window} bp): "
                "fine-tuning does not split sequences; trim them or use a model with more positions",
                source=s.source or what,
                record=s.id,
            )
        if len(s.seq) < tok.min_length():
            raise InputError(f"sequence of {len(s.seq)} bp is shorter than k", source=s.source or what, record=s.id)
        out.append(tok.encode(s.seq).ids)
    return out


def split_dev(train: list[Sequence], n_classes: int, rng) -> tuple[list[Sequence], list[Sequence]]:
    """Hold out 10 % of each class (seeded) for early stopping: ``(train, dev)``."""
    y = np.array([s.label for s in train])
    dev_idx = np.concatenate(
        [
            rng.permutation(np.flatnonzero(y == c))[: max(1, int(0.1 * (y == c).sum()))]
            for c in range(n_classes)
            if (y == c).any()
        ]
    )
    mask = np.zeros(len(train), bool)
    mask[dev_idx] = True
    return [s for s, m in zip(train, mask) if not m], [s for s, m in zip(train, mask) if m]


def _labels(n_classes: int) -> dict:
    return {i: ("negative", "positive")[i] if n_classes == 2 else f"class_{i}" for i in range(n_classes)}


def _from_base(
    base: str, n_classes: int, config: FinetuneConfig, kmer: int | None, trust_remote_code: bool, device: str
):
    """``(model, tokenizer, family, k, description, base folder)`` for fine-tuning a checkpoint."""
    from transformers import AutoModelForSequenceClassification

    from ..model.loading import (
        _check_weights,
        _load_hf_tokenizer,
        _materialise_alibi,
        _resolve_path,
        build_tokenizer,
        check_model_folder,
    )

    name, path = _resolve_path(base, allow_download=False)
    base_cfg = check_model_folder(name, path, trust_remote_code)  # regular files, a JSON config, a vocabulary
    hf_tok = _load_hf_tokenizer(path, trust_remote_code, base_cfg.get("model_type", "bert"))
    n_vocab = len([t for t in hf_tok.get_vocab() if t.strip()])  # DNABERT-6's vocab.txt ends with ""
    if base_cfg.get("vocab_size") is not None and base_cfg["vocab_size"] != n_vocab:
        raise ModelError(
            f"base model '{name}': config.json says vocab_size {base_cfg['vocab_size']} but its "
            f"vocabulary has {n_vocab} tokens"
        )
    tok, family, k = build_tokenizer(hf_tok, 512, None, kmer)
    id2label = _labels(n_classes)
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            str(path),
            num_labels=n_classes,
            id2label=id2label,
            label2id={v: i for i, v in id2label.items()},
            ignore_mismatched_sizes=True,
            hidden_dropout_prob=config.dropout,
            classifier_dropout=config.dropout,
            local_files_only=True,
            trust_remote_code=trust_remote_code,
            output_loading_info=True,
        )
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise ModelError(
                f"base model '{name}' needs custom code from its repository; pass "
                "--trust-remote-code only if you trust it"
            ) from None
        raise ModelError(f"cannot load base model '{name}': {exc}") from None
    _check_weights(
        name,
        type(model).__name__,
        info,
        has_remote_code=bool(base_cfg.get("auto_map")),
        trust_remote_code=trust_remote_code,
        may_miss=(".pooler.", ".classifier.", ".contact_head."),
    )
    _materialise_alibi(model, device)
    tok.max_tokens = int(getattr(model.config, "max_position_embeddings", 512))
    return model, tok, family, k, name, path


def _from_scratch(scratch_config: dict, n_classes: int, config: FinetuneConfig, kmer: int | None):
    """``(model, tokenizer, family, k, description, None)``: the demo configuration (or ``scratch_config``)."""
    from transformers import BertForSequenceClassification

    from ..model.tokenization import KmerTokenizer
    from .common import demo_config

    if kmer is not None and kmer != 6:
        raise InputError("from scratch, the demo configuration uses the DNABERT-6 vocabulary; --kmer must be 6")
    cfg = demo_config()
    for key, val in (scratch_config or {}).items():
        setattr(cfg, key, val)
    id2label = _labels(n_classes)
    cfg.num_labels, cfg.id2label, cfg.label2id = n_classes, id2label, {v: i for i, v in id2label.items()}
    cfg.hidden_dropout_prob = (scratch_config or {}).get("hidden_dropout_prob", config.dropout)
    cfg.classifier_dropout = config.dropout
    desc = "from scratch (demo configuration)" if not scratch_config else "from scratch"
    return (
        BertForSequenceClassification(cfg),
        KmerTokenizer.dnabert(6, cfg.max_position_embeddings),
        "kmer",
        6,
        desc,
        None,
    )


def _fit(model, tok, train, dev, config: FinetuneConfig, device: str, rng, log, progress) -> list[dict]:
    """Train with early stopping on the dev MCC; the best epoch's weights are left in ``model``."""

    from .common import optimizer, pad_batches, predict_probs, train_epoch

    tr_ids, dv_ids = _encode(tok, train, "training data"), _encode(tok, dev, "dev split")
    y_tr = np.array([s.label for s in train], dtype=np.int64)
    y_dv = np.array([s.label for s in dev], dtype=np.int64)
    total = math.ceil(len(tr_ids) / config.batch_size) * config.epochs if config.max_steps is None else config.max_steps
    opt, sched = optimizer(model, config.lr, total, config.warmup, config.weight_decay, decay_groups=True)
    best, best_state, bad, step, history, t0 = -2.0, None, 0, 0, [], time.time()
    for ep in range(config.epochs):
        batches = pad_batches(tr_ids, y_tr, config.batch_size, tok.pad_id, rng.permutation(len(tr_ids)))
        losses, step = train_epoch(
            model,
            batches,
            opt,
            sched,
            device=device,
            clip=1.0,
            bf16=device.startswith("cuda"),
            step=step,
            total=total,
            progress=progress,
        )
        dm = classification_metrics(y_dv, predict_probs(model, dv_ids, 128, tok.pad_id, device))
        history.append(
            {
                "epoch": ep + 1,
                "train_loss": round(float(np.mean(losses)), 4),
                **{f"dev_{key}": v for key, v in dm.items()},
            }
        )
        if log:
            log(
                f"epoch {ep + 1}: loss {np.mean(losses):.4f}, dev accuracy {dm['accuracy']}, MCC {dm['mcc']}, "
                f"AUROC {dm['auroc']} ({time.time() - t0:.0f} s)"
            )
        if dm["mcc"] > best:
            best, bad = dm["mcc"], 0
            best_state = {key: v.detach().clone() for key, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= config.patience:
                if log:
                    log(f"early stop: dev MCC did not improve for {config.patience} epochs")
                break
        if step >= total:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def _save(model, out_dir: Path, base_path: Path | None, k: int | None, copy_code: bool) -> None:
    """The fine-tuned checkpoint: DNABERT's layout from scratch, else the base's tokenizer files (and its model
    code when it ships some)."""
    import shutil

    from .common import save_dnabert_layout

    model.config.architectures = [type(model).__name__]
    if base_path is None:
        save_dnabert_layout(
            model, out_dir, k=k or 6, max_len=int(getattr(model.config, "max_position_embeddings", 512))
        )
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    keep = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"]
    if copy_code:
        keep += [p.name for p in base_path.glob("*.py")]  # the model code the config points to
    for f in keep:
        if (base_path / f).exists():
            shutil.copyfile(base_path / f, out_dir / f)


def degenerate_warning(metrics: dict) -> str | None:
    """A warning when a trained model predicts one class or stays near chance (with advice), else None."""
    if metrics.get("mcc", 0) <= 0.05 or not metrics.get("auroc", 0) > 0.6:
        return (
            f"the model is degenerate: MCC {metrics.get('mcc')}, AUROC {metrics.get('auroc')} (it predicts one "
            "class or stays at chance). Try more epochs (--epochs 10), a larger learning rate from scratch "
            "(--lr 1e-3 --dropout 0), more labelled sequences, or check that the labels are right."
        )
    return None


def finetune(
    train: list[Sequence],
    out_dir: str | os.PathLike,
    *,
    base: str | None = None,
    dev: list[Sequence] | None = None,
    test: list[Sequence] | None = None,
    config: FinetuneConfig = FinetuneConfig(),
    scratch_config: dict | None = None,
    kmer: int | None = None,
    device: str = "auto",
    log: Callable[[str], None] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    trust_remote_code: bool = False,
) -> dict:
    """Fine-tune ``base`` (a checkpoint folder or cached hub id) or a model built from ``scratch_config``
    (BertConfig arguments; ``{}`` gives the demo configuration) on ``train``; returns the metrics.

    Without ``dev``, 10 % of ``train`` (stratified, seeded) is held out for early stopping. ``test``: a held-out
    set evaluated once at the end (``metrics['test']``). The output folder appears only when training succeeded
    (written beside it, then moved into place). ``trust_remote_code`` lets a base that ships its own model code
    (DNABERT-2) run it; that code is copied to ``out_dir`` so the result loads like its base."""
    import torch

    from ..io.atomic import atomic_dir
    from ..model.loading import quiet_transformers, resolve_device
    from .common import predict_probs, torch_threads

    quiet_transformers()

    n_classes = check_labels(train)
    for extra, what in ((dev, "dev"), (test, "test")):
        if extra and check_labels(extra, what, allow_one=True) > n_classes:
            raise InputError(f"the {what} data has a class the training data lacks")
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    if dev is None:
        train, dev = split_dev(train, n_classes, rng)
    t0 = time.time()
    with torch_threads(config.threads):
        dev_ = resolve_device(device)
        model, tok, family, k, base_desc, base_path = (
            _from_base(base, n_classes, config, kmer, trust_remote_code, dev_)
            if base is not None
            else _from_scratch(scratch_config, n_classes, config, kmer)
        )
        model.to(dev_)
        history = _fit(model, tok, train, dev, config, dev_, rng, log, progress)
        y_dev = np.array([s.label for s in dev])
        metrics = {
            **classification_metrics(y_dev, predict_probs(model, _encode(tok, dev, "dev"), 128, tok.pad_id, dev_)),
            "split": "dev",
            "base": base_desc,
            "classes": n_classes,
            "train_sequences": len(train),
            "dev_sequences": len(dev),
            "epochs_run": len(history),
            "history": history,
            "config": asdict(config),
            "family": family,
            "train_seconds": round(time.time() - t0, 1),
        }
        if test:
            probs = predict_probs(model, _encode(tok, test, "test data"), 128, tok.pad_id, dev_)
            metrics["test"] = classification_metrics(np.array([s.label for s in test]), probs)
        warning = degenerate_warning(metrics.get("test", metrics))
        metrics["warning"] = warning
        with atomic_dir(out_dir, announce=log) as tmp:
            _save(model, tmp, base_path, k, copy_code=bool(trust_remote_code and base_path is not None))
            (tmp / "training_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
