"""The training commands: ``dnalens finetune`` and ``dnalens train-demo`` (one call into core/train each)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from .inputs import Progress, say


def _scratch_config(args) -> dict | None:
    if not args.from_scratch:
        if args.config:
            raise InputError("--config applies to --from-scratch")
        return None
    if not args.config:
        return {}
    from ..io.checks import check_scratch_config, read_json_object
    from ..train.common import demo_config

    cfg = read_json_object(args.config, "configuration (a JSON object of BertConfig fields)")
    return check_scratch_config(cfg, args.config, defaults=demo_config().to_dict())


def cmd_finetune(args) -> int:
    from ..train.finetune import FinetuneConfig, finetune, read_labelled

    if (args.base is None) == (not args.from_scratch):
        raise InputError("give either --base MODEL (a DNABERT checkpoint) or --from-scratch (the demo configuration)")
    train = read_labelled(args.train, args.positives, args.negatives)
    dev = read_labelled(args.dev) if args.dev else None
    test = read_labelled(args.test) if args.test else None
    cfg = FinetuneConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        dropout=args.dropout,
        patience=args.patience,
        seed=args.seed,
        threads=args.threads,
    )
    with Progress(None, "finetune", unit="step") as bar:
        metrics = finetune(
            train,
            args.out,
            base=args.base,
            dev=dev,
            test=test,
            config=cfg,
            kmer=args.kmer,
            device=args.device,
            log=lambda m: bar.bar.write(m, file=sys.stderr),
            progress=lambda step, total, loss: bar.update(step, total),
            scratch_config=_scratch_config(args),
            trust_remote_code=args.trust_remote_code,
        )
    shown = metrics.get("test", metrics)
    say(
        f"saved {args.out}: {'test' if 'test' in metrics else 'dev'} accuracy {shown['accuracy']}, F1 {shown['f1']}, "
        f"MCC {shown['mcc']}, AUROC {shown['auroc']}, AUPRC {shown['auprc']} ({metrics['train_sequences']} "
        f"training sequences, {metrics['epochs_run']} epochs)"
    )
    if metrics.get("warning"):
        say(f"dnalens: warning: {metrics['warning']}")
    return 0


def cmd_train_demo(args) -> int:
    from ..paths import ASSETS
    from ..train.demo import make_sample_data, train_demo, write_demo_splits

    for target in filter(None, (args.out, args.sample_data)):
        if Path(target).resolve().is_relative_to(ASSETS.resolve()):
            raise InputError("this is the shipped demo data inside the package; write to another folder", source=target)
    metrics = train_demo(args.out, epochs=args.epochs, per_epoch=args.per_epoch, seed=args.seed, log=say)
    say(f"saved the demo model to {args.out}: held-out accuracy {metrics['accuracy']}, AUROC {metrics['auroc']}")
    if args.sample_data:
        counts = make_sample_data(args.sample_data)
        counts.update(write_demo_splits(args.sample_data, epochs=args.epochs, per_epoch=args.per_epoch, seed=args.seed))
        say(f"wrote sample data to {args.sample_data}: {counts}")
    return 0
