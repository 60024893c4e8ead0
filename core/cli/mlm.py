"""The masked-LM commands: ``dnalens pretrain``, ``pretrain-demo``, ``dependency`` and the zero-shot path of
``dnalens variants`` (one call into core each). The shipped demo MLM (``demo-mlm``) is the default model of every
masked-LM feature."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from .inputs import Progress, say

DEMO_MLM = "demo-mlm"


def load_mlm(args, name: str | None = None):
    """The masked LM the arguments name (``name``, else ``--model``, else the demo MLM)."""
    from ..model.loading import load_model as _load

    return _load(
        name or getattr(args, "model", None) or DEMO_MLM,
        device=args.device,
        dtype=args.dtype,
        kmer=args.kmer,
        trust_remote_code=args.trust_remote_code,
        family=args.tokenizer_family,
        stride=args.stride,
    )


def _one_sequence(args):
    from .inputs import load_sequences

    seqs = load_sequences(args)
    if not seqs:
        raise InputError("the input holds no sequence")
    if args.id:
        chosen = [s for s in seqs if s.id == args.id]
        if not chosen:
            raise InputError(f"no sequence with id '{args.id}' (first ids: {', '.join(s.id for s in seqs[:3])})")
        return chosen[0]
    if len(seqs) > 1:
        say(f"dnalens: {len(seqs)} sequences in the input; mapping the first, '{seqs[0].id}' (choose with --id)")
    return seqs[0]


def cmd_dependency(args) -> int:
    from ..reports.dependency import dependency_report

    seq = _one_sequence(args)
    lm = load_mlm(args)
    with Progress(len(seq.seq) * (2 if args.orientation == "both" else 1), "dependency", unit="target") as bar:
        dm = dependency_report(
            lm,
            seq,
            args.out,
            batch_size=args.batch_size,
            orientation=args.orientation,
            progress=lambda i, total: bar.update(bar.n + 1),
            announce=say,
            threads=args.threads,
        )
    i, j = divmod(int(dm.matrix.argmax()), len(dm.seq))
    say(
        f"wrote the {len(dm.seq)} x {len(dm.seq)} dependency map of '{seq.id}' to {args.out} ({dm.passes} masked "
        f"forward passes); strongest: substituting position {j} changes the prediction at {i} by "
        f"{dm.matrix[i, j]:.2f} bits"
    )
    return 0


def zero_shot_variants(args, seqs, variants) -> int:
    """``dnalens variants ... --zero-shot``: llr from the masked LM (``--mlm-model``, else ``--model`` when it is a
    masked LM, else the demo MLM); the classifier's columns too when ``--model`` is a classifier."""
    from ..reports.mutations import variants_report

    given = load_mlm(args, args.model) if args.model else None
    classifier = given if given is not None and given.has_classifier else None
    if args.mlm_model:
        mlm = load_mlm(args, args.mlm_model)
    else:
        mlm = given if given is not None and given.is_masked_lm else load_mlm(args, DEMO_MLM)
    with Progress(None, "variants", unit="seq") as bar:
        df = variants_report(
            classifier,
            seqs,
            variants,
            args.out,
            orientation=args.orientation,
            target=args.target,
            max_figures=args.max_figures,
            batch_size=max(64, args.batch_size),
            progress=lambda stage, k, total: bar.update(k, total),
            announce=say,
            zero_shot=mlm,
        )
    cols = ["seq_id", "pos", "ref", "alt"] + (["p_ref", "p_alt", "delta"] if classifier else []) + ["llr"]
    say(df[cols].head(20).to_string(index=False))
    say(
        f"wrote {len(df)} variants to {args.out} (llr = log P(alt) - log P(ref) under masked LM '{mlm.name}'; "
        "< 0: the model finds the alternative less likely)"
    )
    return 0


def _pretrain_config(args):
    from ..train.pretrain import PretrainConfig

    return PretrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        threads=args.threads,
        max_steps=args.max_steps,
    )


def cmd_pretrain(args) -> int:
    from ..io.sequences import read_records
    from ..train.pretrain import pretrain
    from .training import _scratch_config

    if args.base and args.config:
        raise InputError("--config describes a model built from scratch; it does not apply with --base")
    args.from_scratch = args.base is None
    train = read_records(args.train)
    dev = read_records(args.dev) if args.dev else None
    with Progress(None, "pretrain", unit="step") as bar:
        metrics = pretrain(
            train,
            args.out,
            base=args.base,
            dev=dev,
            config=_pretrain_config(args),
            scratch_config=_scratch_config(args),
            kmer=args.kmer,
            device=args.device,
            log=lambda m: bar.bar.write(m, file=sys.stderr),
            progress=lambda step, total, loss: bar.update(step, total),
            trust_remote_code=args.trust_remote_code,
        )
    say(
        f"saved {args.out}: held-out masked-token accuracy {metrics.get('masked_accuracy')}, loss "
        f"{metrics.get('loss')} ({metrics['train_pieces']} training pieces, {metrics['train_seconds']} s)"
    )
    return 0


def cmd_pretrain_demo(args) -> int:
    from ..paths import ASSETS
    from ..train.pretrain import pretrain_demo

    if Path(args.out).resolve().is_relative_to(ASSETS.resolve()):
        raise InputError("this is the shipped demo MLM inside the package; write to another folder", source=args.out)
    metrics = pretrain_demo(args.out, threads=args.threads, log=say, write_data=args.write_data)
    say(
        f"saved the demo MLM to {args.out}: held-out masked-token accuracy {metrics['masked_accuracy']}, "
        f"{metrics['train_seconds']} s"
    )
    return 0
