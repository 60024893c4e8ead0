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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import InputError, ModelError
from .sequences import Sequence, read_fasta


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

def _kmer2seq(text: str) -> str:
    kmers = text.split()
    return kmers[0] + "".join(k[-1] for k in kmers[1:]) if kmers else ""


def read_labelled(path: str | os.PathLike | None = None, positives: str | None = None,
                  negatives: str | None = None) -> list[Sequence]:
    """Labelled sequences from a table, a FASTA with ``label=`` headers, or positives + negatives FASTA files."""
    from .sequences import with_label

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
            raise InputError(f"{len(missing)} records have no numeric label= in their header (first: "
                             f"'{missing[0]}'); write e.g. '>seq1 label=1', or give --positives/--negatives",
                             source=name)
        return seqs
    return _read_table(path, name)


def _read_table(path: str, name: str) -> list[Sequence]:
    import re

    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    lines = [(i, ln) for i, ln in enumerate(lines, start=1) if ln.strip()]
    if not lines:
        raise InputError("the table is empty", source=name)
    sep = "\t" if "\t" in lines[0][1] else ","
    header = [h.strip().lower() for h in lines[0][1].split(sep)]
    seq_col = next((c for c in ("sequence", "seq") if c in header), None)
    if seq_col is None or "label" not in header:
        raise InputError("the table needs a header with 'sequence' and 'label' columns; found: "
                         + ", ".join(header), source=name, line=lines[0][0])
    si, li = header.index(seq_col), header.index("label")
    ii = header.index("id") if "id" in header else None
    out = []
    valid = re.compile(r"^[ACGTN]+$")
    for line_no, ln in lines[1:]:
        cells = ln.split(sep)
        if len(cells) <= max(si, li):
            raise InputError(f"expected {len(header)} columns, found {len(cells)}", source=name, line=line_no)
        raw = cells[si].strip().upper()
        seq = _kmer2seq(raw) if " " in raw else raw
        if not valid.match(seq):
            raise InputError("the sequence has characters other than A, C, G, T, N", source=name, line=line_no)
        lab = cells[li].strip()
        if lab == "":
            raise InputError("the label is missing", source=name, line=line_no)
        try:
            fl = float(lab)
        except ValueError:
            raise InputError(f"the label {lab!r} is not a number (classes are 0, 1, ...)", source=name,
                             line=line_no) from None
        if fl != int(fl) or fl < 0:
            raise InputError(f"the label {lab!r} is not a class index (0, 1, 2, ...)", source=name, line=line_no)
        rid = cells[ii].strip() if ii is not None else f"row{line_no}"
        out.append(Sequence(rid, seq, source=name, label=int(fl)))
    if not out:
        raise InputError("the table has a header but no rows", source=name)
    return out


def check_labels(seqs: list[Sequence], what: str = "training") -> int:
    """Number of classes (labels must be 0..n-1 and at least two must occur)."""
    labels = sorted({s.label for s in seqs})
    if len(labels) < 2:
        raise InputError(f"the {what} data has only one class ({labels[0] if labels else 'none'}); a classifier "
                         "needs at least two")
    return max(labels) + 1


# --------------------------------------------------------------------------------------------------------------
# metrics

def classification_metrics(y: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, F1 (binary; macro for multi-class), MCC and AUROC (binary; macro one-vs-rest for multi-class)."""
    from scipy.stats import rankdata

    y = np.asarray(y).astype(int)
    probs = np.asarray(probs, dtype=np.float64)
    C = probs.shape[1]
    pred = probs.argmax(axis=1)
    acc = float((pred == y).mean())
    cm = np.zeros((C, C))
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm)
    f1s = [2 * tp[c] / (cm[c].sum() + cm[:, c].sum()) if (cm[c].sum() + cm[:, c].sum()) else 0.0 for c in range(C)]
    f1 = f1s[1] if C == 2 else float(np.mean(f1s))
    t, p, n = cm.sum(axis=1), cm.sum(axis=0), cm.sum()            # Gorodkin's multi-class MCC
    num = np.trace(cm) * n - t @ p
    den = math.sqrt((n ** 2 - p @ p) * (n ** 2 - t @ t))
    mcc = float(num / den) if den > 0 else 0.0
    aucs = []
    for c in (range(1, 2) if C == 2 else range(C)):
        pos = y == c
        if pos.all() or (~pos).all():
            continue
        r = rankdata(probs[:, c])
        aucs.append((r[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))
    auc = float(np.mean(aucs)) if aucs else float("nan")
    return {"accuracy": round(acc, 4), "f1": round(float(f1), 4), "mcc": round(mcc, 4), "auroc": round(auc, 4),
            "n": int(len(y))}


# --------------------------------------------------------------------------------------------------------------
# training

def _encode(tok, seqs: list[Sequence], what: str) -> list[np.ndarray]:
    window = tok.window_nt()
    out = []
    for s in seqs:
        if len(s.seq) > window:
            raise InputError(f"sequence of {len(s.seq)} bp is longer than the model's window ({window} bp): "
                             "fine-tuning does not split sequences; trim them or use a model with more positions",
                             source=s.source or what, record=s.id)
        if len(s.seq) < tok.min_length():
            raise InputError(f"sequence of {len(s.seq)} bp is shorter than k", source=s.source or what, record=s.id)
        out.append(tok.encode(s.seq).ids)
    return out


def _batches(ids: list[np.ndarray], labels: np.ndarray, bs: int, pad: int, order: np.ndarray):
    import torch

    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        T = max(len(ids[j]) for j in idx)
        x = np.full((len(idx), T), pad, dtype=np.int64)
        m = np.zeros((len(idx), T), dtype=np.int64)
        for r, j in enumerate(idx):
            x[r, :len(ids[j])] = ids[j]
            m[r, :len(ids[j])] = 1
        yield torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(labels[idx])


def _predict(model, ids, bs, pad, device) -> np.ndarray:
    import torch

    model.eval()
    out = []
    with torch.inference_mode():
        for x, m, _ in _batches(ids, np.zeros(len(ids), dtype=np.int64), bs, pad, np.arange(len(ids))):
            logits = model(input_ids=x.to(device), attention_mask=m.to(device)).logits
            out.append(torch.softmax(logits.float(), -1).cpu().numpy())
    return np.concatenate(out)


def finetune(train: list[Sequence], out_dir: str | os.PathLike, *, base: str | None = None,
             dev: list[Sequence] | None = None, config: FinetuneConfig = FinetuneConfig(),
             scratch_config: dict | None = None, kmer: int | None = None, device: str = "auto",
             log: Callable[[str], None] | None = None, progress: Callable[[int, int, float], None] | None = None,
             trust_remote_code: bool = False) -> dict:
    """Fine-tune ``base`` (a DNABERT checkpoint folder or cached hub id) or a model built from ``scratch_config``
    (BertConfig arguments; ``{}`` gives the demo configuration) on ``train``; saves to ``out_dir`` and returns the
    metrics. Without ``dev``, 10 % of ``train`` (stratified, seeded) is held out for early stopping.
    ``trust_remote_code`` lets a base that ships its own model code (DNABERT-2) run it; that code is copied to
    ``out_dir`` so the result loads like its base."""
    import torch
    from transformers import AutoModelForSequenceClassification, BertForSequenceClassification

    from .demo import demo_config, save_dnabert_layout
    from .models import _resolve_path, build_tokenizer, resolve_device
    from .tokenization import KmerTokenizer

    n_classes = check_labels(train)
    dev_n = check_labels(dev, "dev") if dev else None
    if dev_n is not None and dev_n > n_classes:
        raise InputError(f"the dev data has class {dev_n - 1}, which the training data lacks")
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    if dev is None:
        y_all = np.array([s.label for s in train])
        dev_idx = np.concatenate([rng.permutation(np.flatnonzero(y_all == c))[:max(1, int(0.1 * (y_all == c).sum()))]
                                  for c in range(n_classes) if (y_all == c).any()])
        mask = np.zeros(len(train), bool)
        mask[dev_idx] = True
        dev = [s for s, m in zip(train, mask) if m]
        train = [s for s, m in zip(train, mask) if not m]
    dev_name = "dev split"
    old_threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    dev_ = resolve_device(device)
    id2label = {i: ("negative", "positive")[i] if n_classes == 2 else f"class_{i}" for i in range(n_classes)}
    try:
        if base is not None:
            name, path = _resolve_path(base, allow_download=False)
            from .models import _check_weights, _load_hf_tokenizer, _materialise_alibi

            base_cfg = json.loads((path / "config.json").read_text())
            hf_tok = _load_hf_tokenizer(path, trust_remote_code, base_cfg.get("model_type", "bert"))
            cfg_vocab = base_cfg.get("vocab_size")
            n_vocab = len([t for t in hf_tok.get_vocab() if t.strip()])   # DNABERT-6's vocab.txt ends with ""
            if cfg_vocab is not None and cfg_vocab != n_vocab:
                raise ModelError(f"base model '{name}': config.json says vocab_size {cfg_vocab} but its vocabulary "
                                 f"has {n_vocab} tokens")
            tok, family, k = build_tokenizer(hf_tok, 512, None, kmer)
            try:
                model, info = AutoModelForSequenceClassification.from_pretrained(
                    str(path), num_labels=n_classes, id2label=id2label,
                    label2id={v: k_ for k_, v in id2label.items()}, ignore_mismatched_sizes=True,
                    hidden_dropout_prob=config.dropout, classifier_dropout=config.dropout, local_files_only=True,
                    trust_remote_code=trust_remote_code, output_loading_info=True)
            except ValueError as exc:
                if "trust_remote_code" in str(exc):
                    raise ModelError(f"base model '{name}' needs custom code from its repository; pass "
                                     "--trust-remote-code only if you trust it") from None
                raise ModelError(f"cannot load base model '{name}': {exc}") from None
            _check_weights(name, type(model).__name__, info, has_remote_code=bool(base_cfg.get("auto_map")),
                           trust_remote_code=trust_remote_code,
                           may_miss=(".pooler.", ".classifier.", ".contact_head."))
            _materialise_alibi(model, dev_)
            tok.max_tokens = int(getattr(model.config, "max_position_embeddings", 512))
            base_desc = name
        else:
            cfg = demo_config()
            for key_, val in (scratch_config or {}).items():
                setattr(cfg, key_, val)
            cfg.num_labels = n_classes
            cfg.id2label, cfg.label2id = id2label, {v: k_ for k_, v in id2label.items()}
            cfg.hidden_dropout_prob = (scratch_config or {}).get("hidden_dropout_prob", config.dropout)
            cfg.classifier_dropout = config.dropout
            model = BertForSequenceClassification(cfg)
            tok, k, family = KmerTokenizer.dnabert(6, cfg.max_position_embeddings), 6, "kmer"
            if kmer is not None and kmer != 6:
                raise InputError("from scratch, the demo configuration uses the DNABERT-6 vocabulary; --kmer must be 6")
            base_desc = "from scratch (demo configuration)" if not scratch_config else "from scratch"
        model.to(dev_)
        tr_ids, dv_ids = _encode(tok, train, "training data"), _encode(tok, dev, dev_name)
        y_tr = np.array([s.label for s in train], dtype=np.int64)
        y_dv = np.array([s.label for s in dev], dtype=np.int64)
        steps_per_epoch = math.ceil(len(tr_ids) / config.batch_size)
        total = steps_per_epoch * config.epochs if config.max_steps is None else config.max_steps
        warm = max(1, int(config.warmup * total))
        no_decay = ("bias", "LayerNorm.weight")
        groups = [{"params": [p for n, p in model.named_parameters() if not any(x in n for x in no_decay)],
                   "weight_decay": config.weight_decay},
                  {"params": [p for n, p in model.named_parameters() if any(x in n for x in no_decay)],
                   "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=config.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
        amp = (torch.autocast("cuda", dtype=torch.bfloat16) if dev_.startswith("cuda") else None)
        best, best_state, bad_epochs, step, history = -2.0, None, 0, 0, []
        t0 = time.time()
        for ep in range(config.epochs):
            model.train()
            order = rng.permutation(len(tr_ids))
            losses = []
            for x, m, yb in _batches(tr_ids, y_tr, config.batch_size, tok.pad_id, order):
                x, m, yb = x.to(dev_), m.to(dev_), yb.to(dev_)
                if amp is not None:
                    with amp:
                        loss = model(input_ids=x, attention_mask=m, labels=yb).loss
                else:
                    loss = model(input_ids=x, attention_mask=m, labels=yb).loss
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                step += 1
                losses.append(float(loss.detach()))
                if progress:
                    progress(step, total, float(np.mean(losses[-20:])))
                if step >= total:
                    break
            dm = classification_metrics(y_dv, _predict(model, dv_ids, 128, tok.pad_id, dev_))
            history.append({"epoch": ep + 1, "train_loss": round(float(np.mean(losses)), 4), **{f"dev_{k_}": v for k_, v
                                                                                               in dm.items()}})
            if log:
                log(f"epoch {ep + 1}: loss {np.mean(losses):.4f}, dev accuracy {dm['accuracy']}, MCC {dm['mcc']}, "
                    f"AUROC {dm['auroc']} ({time.time() - t0:.0f} s)")
            if dm["mcc"] > best:
                best, bad_epochs = dm["mcc"], 0
                best_state = {k_: v.detach().clone() for k_, v in model.state_dict().items()}
            else:
                bad_epochs += 1
                if bad_epochs >= config.patience:
                    if log:
                        log(f"early stop: dev MCC did not improve for {config.patience} epochs")
                    break
            if step >= total:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        final = classification_metrics(y_dv, _predict(model, dv_ids, 128, tok.pad_id, dev_))
        model.config._attn_implementation = "eager"
        model.config.architectures = [type(model).__name__]
        if base is None:
            save_dnabert_layout(model, out_dir, k=k or 6,
                                max_len=int(getattr(model.config, "max_position_embeddings", 512)))
        else:                                  # keep the base checkpoint's own tokenizer files
            import shutil

            Path(out_dir).mkdir(parents=True, exist_ok=True)
            model.save_pretrained(out_dir, safe_serialization=True)
            keep = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"]
            if trust_remote_code and base_cfg.get("auto_map"):
                keep += [p.name for p in path.glob("*.py")]              # the model code the config points to
            for f in keep:
                if (path / f).exists():
                    shutil.copyfile(path / f, Path(out_dir) / f)
        metrics = {**final, "split": "dev", "base": base_desc, "classes": n_classes, "train_sequences": len(train),
                   "dev_sequences": len(dev), "epochs_run": len(history), "history": history,
                   "config": asdict(config), "train_seconds": round(time.time() - t0, 1), "family": family}
        (Path(out_dir) / "training_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        return metrics
    finally:
        torch.set_num_threads(old_threads)
