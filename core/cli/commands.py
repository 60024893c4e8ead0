"""One function per ``dnalens`` command: check the arguments, then one call into core (mostly the reports layer)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import InputError
from .inputs import (
    ConvergenceDeltas,
    Progress,
    lens_from_args,
    load_model,
    load_models,
    load_sequences,
    say,
    stream_sequences,
)


def cmd_predict(args) -> int:
    from ..reports.tracks import write_predictions

    seqs = load_sequences(args)
    lm = load_model(args)
    with Progress(len(seqs), "predict") as bar:
        df = write_predictions(
            lm,
            seqs,
            args.out,
            orientation=args.orientation,
            batch_size=args.batch_size,
            progress=bar.update,
            announce=say,
        )
    say(f"wrote {len(df)} predictions to {args.out}")
    return 0


def cmd_tracks(args) -> int:
    from ..io.sequences import iter_records
    from ..io.tables import format_of
    from ..reports.tracks import write_tracks

    lens = lens_from_args(args)
    fmt = "bigwig" if args.out.lower().endswith((".bw", ".bigwig")) else format_of(args.out)
    if fmt == "bigwig" and not args.bed:
        raise InputError("bigWig output (.bw) needs genomic coordinates: give --bed B --reference R")
    source, n, coords, longest = stream_sequences(args)
    if fmt == "npy" and longest is None:
        longest = max((len(s.seq) for s in iter_records(args.input)), default=0)
    models = load_models(args)
    model = models or load_model(args)
    t0 = time.time()
    deltas = ConvergenceDeltas()
    with Progress(n, f"{lens.name}{' (ensemble)' if models else ''}") as bar:
        done = write_tracks(
            model,
            source(),
            lens,
            args.out,
            n_records=n,
            max_length=longest or 0,
            coordinates=coords,
            batch_size=args.batch_size,
            overlap=args.overlap,
            progress=bar.update,
            announce=say,
            reference=args.reference,
            on_track=deltas.add,
        )
    say(f"wrote {lens.describe()} for {done} sequences to {args.out} ({time.time() - t0:.1f} s)")
    if deltas.worst is not None:
        say(deltas.line())
    return 0


def cmd_attention(args) -> int:
    args.lens = "attention"
    return cmd_tracks(args)


def _motif_params(args):
    from ..motifs import MotifParams

    common = dict(
        window_size=args.window_size, min_len=args.min_len, pval_cutoff=args.pval_cutoff, min_n_motif=args.min_n_motif
    )
    if args.parity:
        ignored = [
            flag
            for flag, val in (
                ("--region-rule", args.region_rule),
                ("--z", args.z),
                ("--quantile", args.quantile),
                ("--forward-only", args.forward_only),
            )
            if val not in (None, False)
        ]
        if ignored:
            raise InputError(
                f"{', '.join(ignored)} do not apply with --parity dnabert-viz (parity uses "
                "DNABERT-viz's own rule: score > mean and > min-factor x min, forward strand only)"
            )
        extra = {} if args.min_factor is None else {"min_factor": args.min_factor}
        return MotifParams.dnabert_viz(align_all_ties=args.align_all_ties, **common, **extra)
    opts = {
        k: v
        for k, v in (
            ("region_rule", args.region_rule),
            ("min_factor", args.min_factor),
            ("z", args.z),
            ("quantile", args.quantile),
        )
        if v is not None
    }
    return MotifParams(both_strands=not args.forward_only, **common, **opts)


def _motif_scores_and_lens(args, records, rows):
    """``(scores or None, model or models or None, lens or None, description)`` for ``dnalens motifs``; ``rows``:
    the positives among ``records`` (an ``atten.npy`` has a row for every row of DNABERT's ``dev.tsv``)."""
    from ..io.scores import read_score_file

    if args.scores:
        every = read_score_file(args.scores, records)
        return [every[i] for i in rows], None, None, f"scores from {Path(args.scores).name}"
    if args.parity and args.lens == "attention" and args.recipe is None:
        if args.max_seq_length is None:
            raise InputError(
                "--parity dnabert-viz without --scores computes DNABERT-viz's attention itself: give "
                "its --max-seq-length T (the motifs depend on T)"
            )
        args.recipe = "dnabert-viz-parity"
    lens = lens_from_args(args)
    return None, load_models(args) or load_model(args), lens, lens.describe()


def _logo_formats(text: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise InputError(f"--logo-formats takes png, svg and/or pdf separated by commas, not {text!r}")
    return formats


def _logo_modes(text: str) -> tuple[str, ...]:
    modes = tuple(dict.fromkeys(m.strip().lower() for m in text.split(",") if m.strip()))
    if not modes or any(m not in ("information", "probability") for m in modes):
        raise InputError(f"--logo-modes takes information and/or probability separated by commas, not {text!r}")
    return modes


def cmd_motifs(args) -> int:
    from ..io.sequences import read_records
    from ..reports.logos import start_logo_worker

    if not args.input:
        raise InputError("no positives: give a FASTA file of positive sequences")
    logo_formats = _logo_formats(args.logo_formats)
    logo_modes = _logo_modes(args.logo_modes)
    # the logo helper process starts first: its imports overlap ours, reading the inputs and discovery
    worker = start_logo_worker(logo_formats, args.window_size, logo_modes) if args.scores else None
    release = None if args.no_jaspar else args.jaspar_release
    if release:
        from ..motifs.jaspar import jaspar_releases

        if release not in jaspar_releases():
            raise InputError(
                f"JASPAR release '{release}' does not exist here; available: " + ", ".join(jaspar_releases())
            )
    params = _motif_params(args)
    records = read_records(args.input)
    negatives = read_records(args.negatives) if args.negatives else None
    from ..reports.motifs import labelled_split, motifs_report, summary_rows

    pos, neg, rows = labelled_split(records, negatives)
    if len(pos) < len(records):
        say(f"positives: the {len(pos)} rows labelled 1; background: the {len(neg)} rows labelled 0")
    scores, model, lens, source = _motif_scores_and_lens(args, records, rows)
    with Progress(len(pos), "tracks", shown=scores is None) as bar:  # given scores: no tracks to compute
        result, tomtom = motifs_report(
            pos,
            args.out,
            scores=scores,
            model=model,
            lens=lens,
            negatives=neg,
            params=params,
            jaspar_release=release,
            shuffle_copies=args.shuffle_copies,
            seed=args.seed,
            batch_size=args.batch_size,
            progress=bar.update,
            announce=say,
            extra={"scores_from": source, "positives_file": args.input},
            logo_formats=logo_formats,
            logo_modes=logo_modes,
            logo_worker=worker,
        )
    st = result.stages
    say(
        f"regions {st['regions']} -> candidates {st['candidates']} -> passing FDR {st['passing_fdr']} -> "
        f"merged {st['merged']} -> kept {st['kept']} motifs; wrote {args.out}"
    )
    if result.explanation:
        say(f"no motifs: {result.explanation}")
    for r in summary_rows(result, tomtom):
        match = ""
        if r["jaspar_match"]:
            match = f", matches JASPAR {r['jaspar_match']} (q={r['best_jaspar_q']:.2g})"
        elif isinstance(r["best_jaspar_id"], str):
            match = f", no significant JASPAR match (best {r['best_jaspar_id']}, q={r['best_jaspar_q']:.2g})"
        low = f" [low support: {r['support_issue']}]" if r["low_support"] else ""
        say(f"  {r['name']}: {r['instances']} instances in {r['sequences']} sequences, q={r['q']:.2g}{match}{low}")
    return 0


def cmd_mutate(args) -> int:
    from ..reports.mutations import saturation_report

    seqs = load_sequences(args)
    if args.id:
        seqs = [s for s in seqs if s.id == args.id]
        if not seqs:
            raise InputError(f"no sequence with id '{args.id}'")
    lm = load_model(args)
    with Progress(None, "ISM", unit="variant") as bar:
        agree = saturation_report(
            lm,
            seqs,
            args.out,
            start=args.start,
            end=args.end,
            orientation=args.orientation,
            target=args.target,
            top_k=args.top_k,
            max_figures=args.max_figures,
            batch_size=max(64, args.batch_size),
            progress=lambda stage, k, total: bar.update(k, total),
            announce=say,
        )
    for a in agree.itertuples():
        say(
            f"  {a.id}: p={a.p_ref:.3f}; attention–ISM Spearman {a.spearman_rho:.2f}, top-{a.top_k} overlap "
            f"{a.top_k_overlap} (random: {a.expected_overlap_random:.1f})"
        )
    say(f"wrote {args.out}")
    return 0


def cmd_variants(args) -> int:
    from ..io import sequences
    from ..reports.mutations import variants_report
    from ..variants.variants import read_variant_file

    if args.reference and not args.bed and len(args.files) == 1:
        from .genome import cmd_genome_variants

        return cmd_genome_variants(args)
    if args.bed:
        if not args.reference:
            raise InputError("--bed needs --reference")
        if len(args.files) != 1:
            raise InputError(
                "with --bed give only the variant file: dnalens variants VARIANTS --bed B --reference R --out DIR"
            )
        seqs, vfile, reference = sequences.read_bed(args.bed, args.reference), args.files[0], args.reference
    else:
        if len(args.files) != 2:
            raise InputError(
                "usage: dnalens variants SEQS.fa VARIANTS(.tsv|.vcf) --out DIR (or VARIANTS with --bed and --reference)"
            )
        seqs, vfile, reference = sequences.read_records(args.files[0]), args.files[1], None
    variants = read_variant_file(vfile, seqs, reference=reference)
    if variants.skipped:
        counts = ", ".join(f"{why}: {n}" for why, n in variants.skip_counts().items())
        say(f"{len(variants)} variants to score; skipped {len(variants.skipped)} alleles ({counts}); see skipped.tsv")
    if getattr(args, "zero_shot", False):
        from .mlm import zero_shot_variants

        return zero_shot_variants(args, seqs, variants)
    lm = load_model(args)
    with Progress(None, "variants", unit="seq") as bar:
        df = variants_report(
            lm,
            seqs,
            variants,
            args.out,
            orientation=args.orientation,
            target=args.target,
            max_figures=args.max_figures,
            batch_size=max(64, args.batch_size),
            progress=lambda stage, k, total: bar.update(k, total),
            announce=say,
        )
    say(df[["seq_id", "pos", "ref", "alt", "p_ref", "p_alt", "delta", "logOR"]].head(20).to_string(index=False))
    say(f"wrote {len(df)} variants to {args.out} (logOR > 0: the variant lowers the prediction)")
    return 0


def cmd_app(args) -> int:
    import subprocess

    import dashboard

    app = Path(dashboard.__file__).resolve().parent / "app.py"
    if not app.exists():
        raise InputError(f"the dashboard is not installed ({app} is missing)")
    cmd = [
        sys.executable,
        str(app.parent / "serve.py"),  # streamlit run app.py, with the demo's caches warmed while it starts
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--browser.gatherUsageStats",
        "false",
    ]
    if args.headless:
        cmd += ["--server.headless", "true"]
    say(f"dnalens: starting the dashboard on http://{args.address}:{args.port}")
    import signal

    server = subprocess.Popen(cmd, cwd=app.parent)  # dashboard/.streamlit/config.toml applies, installed or not
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopping dnalens app stops the server too
    try:
        return server.wait()
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
