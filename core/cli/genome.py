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
    settings = GenomeSettings(
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
        model=model_spec(args),
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
    reasons = ", ".join(f"{k}: {n}" for k, n in s["skipped_by_reason"].items())
    say(
        f"wrote {s['scored']} scored alleles of {s['records']} VCF records to {Path(args.out) / 'variants.parquet'} "
        f"({s['shards']} shards, {s['variants_per_s']} records/s); skipped {s['skipped']}"
        f"{' (' + reasons + ')' if reasons else ''}, listed in skipped.tsv"
    )
    return 0


def model_spec(args) -> dict:
    """``load_model`` keyword arguments; a model folder made absolute, so Ray workers find it at the same path."""
    name = args.model
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
