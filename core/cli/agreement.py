"""``dnalens agreement INPUT --out DIR``: every lens against ISM, one call to
:func:`core.reports.agreement.agreement_report`."""

from __future__ import annotations

import argparse

from ..errors import InputError
from .inputs import Progress, lens_from_args, load_model, load_sequences, say


def cmd_agreement(args) -> int:
    from ..reports.agreement import agreement_report

    names = [n.strip() for n in args.lenses.split(",") if n.strip()] if args.lenses else None
    if names and "ism" in names:
        raise InputError("ISM is the reference every lens is compared with; leave it out of --lenses")
    jaspar_ids = [m.strip() for m in args.sites_jaspar.split(",") if m.strip()] if args.sites_jaspar else None
    seqs = load_sequences(args)
    lm = load_model(args)

    def build(name):
        return lens_from_args(argparse.Namespace(**{**vars(args), "lens": name}))

    with Progress(len(seqs), "agreement") as bar:

        def progress(stage, done, total):
            bar.bar.set_description(f"agreement: {stage}")
            bar.update(done, total)

        res = agreement_report(
            lm,
            seqs,
            args.out,
            lenses=names,
            build=build,
            orientation=args.orientation,
            target=args.target,
            ism_summary=args.ism_summary,
            truth=args.truth,
            jaspar_ids=jaspar_ids,
            jaspar_release=args.jaspar_release,
            fimo_threshold=args.fimo_threshold,
            top_k=args.top_k,
            batch_size=args.batch_size,
            progress=progress,
            announce=say,
        )
    cols = ["lens", "mean_spearman", "mean_top_k_overlap", "peak_in_site", "max_abs_convergence_delta"]
    say(res.summary[[c for c in cols if c in res.summary.columns]].to_string(index=False, float_format="%.3f"))
    for name, why in res.provenance["skipped_lenses"].items():
        say(f"  skipped {name}: {why}")
    say(res.verdict)
    say(f"wrote {args.out}")
    return 0
