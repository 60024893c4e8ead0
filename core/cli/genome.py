"""``dnalens variants VARIANTS.vcf --reference REF.fa --out DIR`` (genome mode): the arguments turned into one
call to :func:`core.reports.variants.genome_variants_report`."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .inputs import Progress, say


def cmd_genome_variants(args) -> int:
    """Every ALT allele of a VCF scored in windows of the reference genome (sharded, resumable)."""
    from ..reports.variants import GenomeJob, genome_variants_report
    from ..variants.genome import GenomeSettings

    lenses = tuple(n.strip() for n in args.lens_at_variant.split(",") if n.strip())
    exports = tuple(e.strip() for e in args.export.split(",") if e.strip() not in ("", "none"))
    if set(exports) - {"vcf", "bed"}:
        raise InputError(f"--export takes vcf, bed or none, not {args.export!r}")
    classifier, mlm = models_for(args)
    settings = GenomeSettings(
        classifier=classifier is not None,
        zero_shot=mlm is not None,
        window=args.window,
        shard_size=args.shard_size,
        orientation=args.orientation,
        target=args.target,
        lenses=lenses,
        batch_size=max(64, args.batch_size),
    )
    job = GenomeJob(
        out=str(Path(args.out).resolve()),
        vcf=str(Path(args.files[0]).resolve()),
        reference=str(Path(args.reference).resolve()),
        settings=settings,
        model=classifier,
        mlm=mlm,
    )
    with Progress(None, "variants", unit="record") as bar:
        s = genome_variants_report(
            job,
            engine=args.engine,
            resume=args.resume,
            exports=exports,
            ray_address=args.ray_address,
            progress=bar.update,
            announce=say,
        )
    if job.mlm is not None:
        say("llr = log P(alt) - log P(ref) under the masked LM; < 0: the model finds the alternative less likely")
    reasons = ", ".join(f"{k}: {n}" for k, n in s["skipped_by_reason"].items())
    say(
        f"wrote {s['scored']} scored alleles of {s['records']} VCF records to {Path(args.out) / 'variants.parquet'} "
        f"({s['shards']} shards, {s['variants_per_s']} records/s); skipped {s['skipped']}"
        f"{' (' + reasons + ')' if reasons else ''}, listed in skipped.tsv"
    )
    return 0


def models_for(args) -> tuple[dict | None, dict | None]:
    """``(classifier, masked LM)`` as ``load_model`` keyword arguments. Without ``--zero-shot``: ``--model`` (default:
    the demo classifier) and no masked LM. With it, as the sequence form of ``dnalens variants --zero-shot`` does:
    llr from ``--mlm-model``, else ``--model`` when it is a masked LM, else the demo MLM; the classifier columns
    only when ``--model`` is a classifier."""
    if not getattr(args, "zero_shot", False):
        return model_spec(args, args.model), None
    from .mlm import DEMO_MLM, load_mlm

    given = load_mlm(args, args.model) if args.model else None
    classifier = model_spec(args, args.model) if given is not None and given.has_classifier else None
    if args.mlm_model:
        name = args.mlm_model
    else:
        name = args.model if given is not None and given.is_masked_lm else DEMO_MLM
    return classifier, model_spec(args, name)


def model_spec(args, name: str | None) -> dict:
    """``load_model`` keyword arguments; a model folder made absolute, so Ray workers find it at the same path."""
    if name and Path(name).exists():
        name = str(Path(name).resolve())
    return {
        "name_or_path": name,
        "device": args.device,
        "dtype": args.dtype,
        "kmer": args.kmer,
        "trust_remote_code": args.trust_remote_code,
        "family": args.tokenizer_family,
        "stride": args.stride,
    }
