"""``dnalens`` command line: the same core functions the dashboard uses.

Errors in the input print one clear line and exit with status 2; no tracebacks (``--debug`` shows them).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import DnalensError, InputError

EXIT_INPUT = 2


# --------------------------------------------------------------------------------------------------------------
# shared options

def _add_input(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", help="FASTA file (plain or .gz); omit when using --bed")
    p.add_argument("--bed", help="BED3/BED6 intervals (0-based, half-open); needs --reference")
    p.add_argument("--reference", help="reference genome FASTA for --bed (indexed with pyfaidx)")


def _add_model(p: argparse.ArgumentParser, ensemble: bool = False) -> None:
    p.add_argument("--model", default=None, help="checkpoint folder or Hugging Face id (from the local cache); "
                                                 "default: the shipped demo model")
    if ensemble:
        p.add_argument("--models", help="multi-k ensemble as DNABERT-viz does it: comma-separated checkpoints "
                                        "(e.g. DNA_bert_3,...,DNA_bert_6); tracks are L2-normalised and summed, "
                                        "probabilities averaged")
    p.add_argument("--kmer", type=int, choices=(3, 4, 5, 6), help="k-mer size (default: from the vocabulary)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    p.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow the checkpoint's own Python code to run (off by default)")
    p.add_argument("--tokenizer-family", choices=("kmer", "nonoverlap", "bpe"),
                   help="override the detected tokenizer family")
    p.add_argument("--stride", type=int, default=1, help="k-mer stride (GenomeNet-style stride-3 6-mers: 3)")


def _parse_index_list(text: str | None, what: str):
    if text is None or text.strip().lower() == "all":
        return None
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--{what} takes comma-separated integers (negative counts from the end) or 'all', "
                         f"not {text!r}") from None


def _load_inputs(args):
    from . import sequences

    if args.bed:
        if not args.reference:
            raise InputError("--bed needs --reference (the genome FASTA the intervals refer to)")
        if args.input:
            raise InputError("give either a FASTA input or --bed/--reference, not both")
        return sequences.read_bed(args.bed, args.reference)
    if not args.input:
        raise InputError("no input: give a FASTA file, or --bed with --reference")
    return sequences.read_fasta(args.input)


def _load_model(args):
    from .models import load_model

    return load_model(args.model, device=args.device, dtype=args.dtype, kmer=args.kmer,
                      trust_remote_code=args.trust_remote_code, family=args.tokenizer_family, stride=args.stride)


def _load_models(args) -> list:
    """The ensemble's models (``--models a,b,c``), or None when a single --model is used."""
    from .models import load_model

    if not getattr(args, "models", None):
        return None
    if args.model:
        raise InputError("give either --model or --models, not both")
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if len(names) < 2:
        raise InputError("--models needs at least two checkpoints, separated by commas")
    return [load_model(None if n == "demo" else n, device=args.device, dtype=args.dtype,
                       trust_remote_code=args.trust_remote_code) for n in names]


def _progress(total: int, desc: str):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="seq", file=sys.stderr, dynamic_ncols=True,
               disable=None if sys.stderr.isatty() else False, mininterval=0.5)
    state = {"n": 0}

    def update(done: int):
        bar.update(done - state["n"])
        state["n"] = done

    return bar, update


# --------------------------------------------------------------------------------------------------------------
# commands

def cmd_predict(args) -> int:
    from . import inference
    from .export import predictions_frame, write_table

    seqs = _load_inputs(args)
    lm = _load_model(args)
    if not lm.has_classifier:
        raise InputError(f"model '{lm.name}' has no classification head (a pre-trained-only checkpoint): "
                         "predictions are absent. `dnalens attention` still works with it.")
    bar, update = _progress(len(seqs), "predict")
    rows = [(rec.sequence, rec.probs) for rec in inference.run(
        lm, seqs, batch_size=args.batch_size, strand=args.strand, attention=False, progress=update)]
    bar.close()
    df = predictions_frame(rows, lm.label_names)
    write_table(df, args.out)
    print(f"wrote {len(df)} predictions to {args.out}", file=sys.stderr)
    return 0


def cmd_attention(args) -> int:
    from . import attention, inference
    from .export import TrackWriter, format_of

    spec = attention.AttentionSpec(
        recipe=args.recipe, layers=_parse_index_list(args.layers, "layers"),
        heads=_parse_index_list(args.heads, "heads"), head_agg=args.head_agg, layer_agg=args.layer_agg,
        normalize=args.normalize, strand=args.strand, max_seq_length=args.max_seq_length)
    if spec.recipe == "dnabert-viz" and (args.layers or args.heads):
        raise InputError("--layers/--heads apply to --recipe custom (the dnabert-viz recipe is fixed: last layer, "
                         "all heads summed)")
    from . import sequences

    fmt = format_of(args.out)
    if args.bed or not args.input:
        seqs = _load_inputs(args)                 # BED intervals: a list (small); also validates the arguments
        n, coords = len(seqs), any(s.has_coordinates for s in seqs)
        n_max = max(len(s.seq) for s in seqs)
        source = lambda: iter(seqs)               # noqa: E731
    else:                                         # FASTA: streamed, so memory does not grow with the file
        path = args.input
        n = sequences.count_fasta_records(path) if os.path.exists(path) else 0
        source = lambda: sequences.iter_fasta(path)   # noqa: E731
        coords = False
        n_max = max((len(s.seq) for s in source()), default=0) if fmt == "npy" else 0
        if n == 0:
            list(source())                        # raises the reader's own error (missing, empty, no records)
    models = _load_models(args)
    if models:
        if spec.recipe != "dnabert-viz":
            raise InputError("--models (ensemble) uses the dnabert-viz recipe")
        bar, update = _progress(n, "attention (ensemble)")
        t0 = time.time()
        with TrackWriter(args.out, coordinates=coords, n_records=n, max_length=n_max) as w:
            for seq, track, _ in attention.ensemble_tracks(models, source(), spec, args.batch_size, update):
                w.write(seq, track)
        bar.close()
        print(f"wrote ensemble attention ({len(models)} models) for {n} sequences to {args.out} "
              f"({time.time() - t0:.1f} s)", file=sys.stderr)
        return 0
    lm = _load_model(args)
    bar, update = _progress(n, "attention")
    t0 = time.time()
    done = 0
    with TrackWriter(args.out, coordinates=coords, n_records=n, max_length=n_max) as w:
        for rec in inference.run(lm, source(), batch_size=args.batch_size, strand=spec.run_strand,
                                 rollout=spec.needs_rollout, attention=not spec.needs_rollout,
                                 overlap=args.overlap, progress=update, cls_layers=spec.layers_needed(lm.n_layers)):
            w.write(rec.sequence, attention.nucleotide_scores(rec, spec, k=lm.k, n_layers=lm.n_layers))
            done += 1
    bar.close()
    print(f"wrote attention for {done} sequences to {args.out} ({time.time() - t0:.1f} s)", file=sys.stderr)
    return 0


def _load_scores(path: str, seqs) -> list:
    """Per-nucleotide scores for ``seqs`` from a ``dnalens attention`` table (by id) or an ``.npy`` of shape
    ``[n, L]`` in FASTA order (DNABERT-viz's atten.npy; longer rows are cut at each sequence's length)."""
    import numpy as np

    from .export import read_scores_table

    if not os.path.exists(path):
        raise InputError("scores file not found", source=path)
    if path.endswith(".npy"):
        arr = np.load(path, allow_pickle=False)
        if arr.ndim != 2 or arr.shape[0] != len(seqs):
            raise InputError(f"scores array has shape {arr.shape}; expected [{len(seqs)}, length] (one row per "
                             "positive, in FASTA order)", source=path)
        return [arr[i] for i in range(len(seqs))]
    table = read_scores_table(path)
    missing = [s.id for s in seqs if s.id not in table]
    if missing:
        raise InputError(f"no scores for {len(missing)} positives (first: '{missing[0]}'); the table's ids must "
                         "match the FASTA ids", source=path)
    return [table[s.id] for s in seqs]


def cmd_motifs(args) -> int:
    from . import attention, inference, motifs, sequences

    if not args.input:
        raise InputError("no positives: give a FASTA file of positive sequences")
    if not args.no_jaspar:
        from .motif_db import jaspar_releases

        if args.jaspar_release not in jaspar_releases():
            raise InputError(f"JASPAR release '{args.jaspar_release}' does not exist here; available: "
                             + ", ".join(jaspar_releases()))
    pos = sequences.read_fasta(args.input)
    if args.parity:
        params = motifs.MotifParams.dnabert_viz(window_size=args.window_size, min_len=args.min_len,
                                                pval_cutoff=args.pval_cutoff, min_n_motif=args.min_n_motif,
                                                align_all_ties=args.align_all_ties, min_factor=args.min_factor)
    else:
        params = motifs.MotifParams(window_size=args.window_size, min_len=args.min_len,
                                    pval_cutoff=args.pval_cutoff, min_n_motif=args.min_n_motif,
                                    region_rule=args.region_rule, both_strands=not args.forward_only,
                                    min_factor=args.min_factor, z=args.z, quantile=args.quantile)
    if args.negatives:
        neg = [s.seq for s in sequences.read_fasta(args.negatives)]
        background = f"negatives from {os.path.basename(args.negatives)}"
    else:
        neg = motifs.shuffled_background([s.seq for s in pos], copies=args.shuffle_copies, seed=args.seed)
        background = f"dinucleotide-shuffled positives ({args.shuffle_copies} per positive, seed {args.seed})"
    models = None if args.scores else _load_models(args)
    if args.scores:
        scores = _load_scores(args.scores, pos)
        source = f"scores from {os.path.basename(args.scores)}"
    elif models:
        spec = attention.AttentionSpec(strand=args.strand)
        bar, update = _progress(len(pos), "attention (ensemble)")
        scores = [t for _, t, _ in attention.ensemble_tracks(models, pos, spec, args.batch_size, update)]
        bar.close()
        source = f"ensemble of {', '.join(m.name for m in models)} (summed L2-normalised tracks)"
    else:
        lm = _load_model(args)
        spec = attention.AttentionSpec(strand=args.strand)
        bar, update = _progress(len(pos), "attention")
        scores = [attention.nucleotide_scores(r, spec, k=lm.k, n_layers=lm.n_layers)
                  for r in inference.run(lm, pos, batch_size=args.batch_size, strand=spec.run_strand,
                                         progress=update, cls_layers=spec.layers_needed(lm.n_layers))]
        bar.close()
        source = f"attention of model '{lm.name}' (dnabert-viz recipe, strand {args.strand})"
    print("discovering motifs ...", file=sys.stderr)
    result = motifs.discover_motifs([s.seq for s in pos], scores, neg, params, pos_ids=[s.id for s in pos])
    result.background = background
    tomtom = None
    if result.motifs and not args.no_jaspar:
        print(f"matching against {args.jaspar_release} CORE vertebrates ...", file=sys.stderr)
        tomtom = motifs.match_jaspar(result, args.jaspar_release)
    motifs.write_report(result, args.out, tomtom, extra={"scores": source, "jaspar_release": args.jaspar_release,
                                                         "positives_file": args.input})
    st = result.stages
    print(f"regions {st['regions']} -> candidates {st['candidates']} -> passing FDR {st['passing_fdr']} -> "
          f"merged {st['merged']} -> kept {st['kept']} motifs; wrote {args.out}", file=sys.stderr)
    if result.explanation:
        print(f"no motifs: {result.explanation}", file=sys.stderr)
    else:
        summary = motifs.motif_summary(result, tomtom)
        for r in summary.itertuples():
            match = f", best JASPAR {r.best_jaspar_id} {r.best_jaspar_name} (q={r.best_jaspar_q:.2g})" \
                if isinstance(r.best_jaspar_id, str) else ""
            print(f"  {r.name}: {r.instances} instances in {r.sequences} sequences, q={r.q:.2g}{match}",
                  file=sys.stderr)
    return 0


LEGEND = ("Columns: p_ref / p_alt = probability of the scored class for the reference / mutant sequence; "
          "delta = p_alt - p_ref; diff = (p_alt - p_ref) * max(p_ref, p_alt) (DNABERT-viz; > 0: the variant RAISES "
          "the prediction); logOR = log2 odds(p_ref) - log2 odds(p_alt) (DNABERT-viz; > 0: the variant LOWERS the "
          "prediction). Probabilities are clipped to [1e-6, 1 - 1e-6]. Positions: 'position' is 0-based in "
          "saturation tables and 1-based in variant tables (as in the input), along the sequence as read by the "
          "model; 'genomic_position' is 0-based on the forward strand, 'genomic' is chrom:pos (1-based, VCF).\n")


def _write_tables(df, out: Path, stem: str) -> None:
    from .export import write_table

    write_table(df, out / f"{stem}.csv")
    write_table(df, out / f"{stem}.parquet")
    (out / "LEGEND.txt").write_text(LEGEND)


def cmd_mutate(args) -> int:
    import json

    import pandas as pd

    from . import attention, inference, mutations
    from .plots import close, mutation_map_figure, save_figure

    seqs = _load_inputs(args)
    if args.id:
        chosen = [s for s in seqs if s.id == args.id]
        if not chosen:
            raise InputError(f"no sequence with id '{args.id}' (first ids: "
                             + ", ".join(s.id for s in seqs[:3]) + ")")
        seqs = chosen
    lm = _load_model(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spec = attention.AttentionSpec(strand={"forward": "forward", "reverse": "reverse", "both": "mean"}[args.strand])
    tables, agree = [], []
    for n, s in enumerate(seqs):
        end = args.end if args.end is not None else len(s.seq)
        n_mut = 3 * (end - args.start)
        bar, update = _progress(n_mut + 1, f"ISM {s.id}")
        res = mutations.saturation_mutagenesis(lm, s, args.start, end, batch_size=args.batch_size,
                                               strand=args.strand, target=args.target, progress=update)
        bar.close()
        rec = next(inference.run(lm, [s], strand=spec.run_strand))
        track = attention.nucleotide_scores(rec, spec, k=lm.k)[args.start:end]
        summary = res.per_position("maxabs")
        ag = mutations.agreement(track, summary, args.top_k)
        agree.append({"id": s.id, "start": args.start, "end": end, "p_ref": res.p_ref,
                      "class": lm.label_names[res.target], **ag})
        tables.append(res.table)
        if n < args.max_figures:
            fig = mutation_map_figure(res.effect, res.ref_seq, args.start, attention=track, summary=summary,
                                      title=f"{s.id}: in-silico mutagenesis ({lm.label_names[res.target]}), "
                                            f"attention–ISM Spearman {ag['spearman_rho']:.2f}",
                                      genomic=s.genomic_positions() if s.has_coordinates else None, chrom=s.chrom)
            for fmt in ("png", "svg", "pdf"):
                save_figure(fig, out / "maps" / f"{s.id}.{fmt}")
            close(fig)
    _write_tables(pd.concat(tables, ignore_index=True), out, "saturation")
    pd.DataFrame(agree).to_csv(out / "agreement.csv", index=False)
    (out / "run.json").write_text(json.dumps({"model": lm.card(), "strand": args.strand, "start": args.start,
                                              "end": args.end, "top_k": args.top_k}, indent=2, default=str))
    for a in agree:
        print(f"  {a['id']}: p={a['p_ref']:.3f}; attention–ISM Spearman {a['spearman_rho']:.2f}, top-{a['top_k']} "
              f"overlap {a['top_k_overlap']} (random: {a['expected_overlap_random']:.1f})", file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_variants(args) -> int:
    from . import attention, mutations, sequences
    from .plots import before_after_figure, close, save_figure

    if args.bed:
        if not args.reference:
            raise InputError("--bed needs --reference")
        if len(args.files) != 1:
            raise InputError("with --bed give only the variant file: dnalens variants VARIANTS --bed B "
                             "--reference R --out DIR")
        seqs = sequences.read_bed(args.bed, args.reference)
        vfile = args.files[0]
    else:
        if len(args.files) != 2:
            raise InputError("usage: dnalens variants SEQS.fa VARIANTS(.tsv|.vcf) --out DIR "
                             "(or VARIANTS with --bed and --reference)")
        seqs = sequences.read_fasta(args.files[0])
        vfile = args.files[1]
    if not os.path.exists(vfile):
        raise InputError("variant file not found", source=vfile)
    variants = mutations.read_variant_table(vfile, seqs)
    lm = _load_model(args)
    bar, update = _progress(len(variants) + len({v.seq_id for v in variants}), "variants")
    df = mutations.score_variants(lm, seqs, variants, batch_size=args.batch_size, strand=args.strand,
                                  target=args.target, progress=update)
    bar.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_tables(df, out, "variants")
    by_id = {s.id: s for s in seqs}
    spec = attention.AttentionSpec()
    for k, v in enumerate(variants[:args.max_figures]):
        ba = mutations.attention_before_after(lm, by_id[v.seq_id], v, spec)
        fig = before_after_figure(ba.ref_track, ba.alt_on_ref, v.offset,
                                  title=f"{v.seq_id} {v.offset + 1} {v.ref or '-'}>{v.alt or '-'} ({v.kind}): "
                                        f"Δp {df.loc[k, 'delta']:+.3f}", ref_len_marked=len(v.ref))
        for fmt in ("png", "svg", "pdf"):
            save_figure(fig, out / "before_after" / f"{k + 1:03d}_{v.seq_id}_{v.offset + 1}.{fmt}")
        close(fig)
    print(df[["seq_id", "position", "ref", "alt", "p_ref", "p_alt", "delta", "logOR"]].head(20).to_string(
        index=False), file=sys.stderr)
    print(f"wrote {len(df)} variants to {out} (logOR > 0: the variant lowers the prediction)", file=sys.stderr)
    return 0


def cmd_finetune(args) -> int:
    from tqdm import tqdm

    from .finetune import FinetuneConfig, finetune, read_labelled

    if (args.base is None) == (not args.from_scratch):
        raise InputError("give either --base MODEL (a DNABERT checkpoint) or --from-scratch (the demo configuration)")
    train = read_labelled(args.train, args.positives, args.negatives)
    dev = read_labelled(args.dev) if args.dev else None
    cfg = FinetuneConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, dropout=args.dropout,
                         patience=args.patience, seed=args.seed, threads=args.threads)
    bar = tqdm(total=1, desc="finetune", unit="step", file=sys.stderr, mininterval=0.5)

    def progress(step, total, loss):
        bar.total = total
        bar.n = step
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.refresh()

    scratch = None
    if args.from_scratch:
        scratch = {}
        if args.config:
            import json

            try:
                scratch = json.loads(Path(args.config).read_text())
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot read the configuration: {exc}", source=args.config) from None
            if not isinstance(scratch, dict):
                raise InputError("the configuration must be a JSON object of BertConfig fields", source=args.config)
    elif args.config:
        raise InputError("--config applies to --from-scratch")
    metrics = finetune(train, args.out, base=args.base, dev=dev, config=cfg, kmer=args.kmer, device=args.device,
                       log=lambda m: tqdm.write(m, file=sys.stderr), progress=progress, scratch_config=scratch,
                       trust_remote_code=args.trust_remote_code)
    bar.close()
    print(f"saved {args.out}: dev accuracy {metrics['accuracy']}, F1 {metrics['f1']}, MCC {metrics['mcc']}, "
          f"AUROC {metrics['auroc']} ({metrics['train_sequences']} training sequences, {metrics['epochs_run']} "
          "epochs)", file=sys.stderr)
    return 0


def cmd_train_demo(args) -> int:
    from .demo import make_sample_data, train_demo

    metrics = train_demo(args.out, epochs=args.epochs, per_epoch=args.per_epoch, seed=args.seed,
                         log=lambda m: print(m, file=sys.stderr))
    print(f"saved the demo model to {args.out}: held-out accuracy {metrics['accuracy']}, "
          f"AUROC {metrics['auroc']}", file=sys.stderr)
    if args.sample_data:
        from .demo import write_demo_splits

        counts = make_sample_data(args.sample_data)
        counts.update(write_demo_splits(args.sample_data, epochs=args.epochs, per_epoch=args.per_epoch,
                                        seed=args.seed))
        print(f"wrote sample data to {args.sample_data}: {counts}", file=sys.stderr)
    return 0


def cmd_app(args) -> int:
    import subprocess

    app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    if not app.exists():
        raise InputError(f"the dashboard is not installed ({app} is missing)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.address", args.address, "--browser.gatherUsageStats", "false"]
    if args.headless:
        cmd += ["--server.headless", "true"]
    print(f"dnalens: starting the dashboard on http://{args.address}:{args.port}", file=sys.stderr)
    return subprocess.call(cmd, cwd=app.parent.parent)      # the project root: .streamlit/config.toml applies


# --------------------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="dnalens", description="What does a DNA language model pay attention to?")
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="class probabilities for every sequence")
    _add_input(p)
    _add_model(p)
    p.add_argument("--strand", default="forward", choices=("forward", "reverse", "both"),
                   help="reverse: score the reverse complement; both: average the two")
    p.add_argument("--out", required=True, help="output table (.csv, .tsv or .parquet)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("attention", help="per-nucleotide attention scores for every sequence")
    _add_input(p)
    _add_model(p, ensemble=True)
    p.add_argument("--recipe", default="dnabert-viz",
                   choices=("dnabert-viz", "dnabert-viz-parity", "custom", "rollout"),
                   help="dnabert-viz: last layer [CLS] row, heads summed, k-mer mean, L2 (default)")
    p.add_argument("--layers", help="custom recipe: layers, e.g. -1 or 0,1 or all (default: last)")
    p.add_argument("--heads", help="custom recipe: heads, e.g. 0,3 or all (default: all)")
    p.add_argument("--head-agg", default="sum", choices=("sum", "mean", "max"))
    p.add_argument("--layer-agg", default="mean", choices=("sum", "mean", "max"))
    p.add_argument("--normalize", default="l2", choices=("l2", "max", "sum", "none"),
                   help="custom/rollout recipes (dnabert-viz always uses l2)")
    p.add_argument("--strand", default="forward", choices=("forward", "reverse", "mean"),
                   help="reverse: read the reverse complement, scores flipped back; mean: both averaged")
    p.add_argument("--max-seq-length", type=int, help="DNABERT-viz's T, for --recipe dnabert-viz-parity")
    p.add_argument("--overlap", type=int, help="bases shared by neighbouring windows of long sequences "
                                               "(default: a quarter of the window)")
    p.add_argument("--out", required=True, help="output: .parquet, .csv, .tsv or .npy")
    p.set_defaults(func=cmd_attention)

    p = sub.add_parser("motifs", help="motifs the model attends to (DNABERT-viz pipeline), matched to JASPAR")
    p.add_argument("input", nargs="?", help="FASTA of positive sequences")
    p.add_argument("--negatives", help="FASTA of background sequences (default: dinucleotide-shuffled positives)")
    p.add_argument("--scores", help="precomputed per-nucleotide scores: a `dnalens attention` table or an .npy "
                                    "[n_positives, L] in FASTA order (DNABERT-viz's atten.npy)")
    _add_model(p, ensemble=True)
    p.add_argument("--strand", default="forward", choices=("forward", "reverse", "mean"))
    p.add_argument("--parity", choices=("dnabert-viz",), help="reproduce DNABERT-viz's motif_analysis exactly")
    p.add_argument("--window-size", type=int, default=24)
    p.add_argument("--min-len", type=int, default=5)
    p.add_argument("--pval-cutoff", type=float, default=0.005)
    p.add_argument("--min-n-motif", type=int, default=3)
    p.add_argument("--align-all-ties", action="store_true", help="accepted for DNABERT-viz compatibility; with "
                                                                 "Biopython >= 1.80 semantics it changes nothing")
    p.add_argument("--region-rule", default="zscore", choices=("dnabert-viz", "zscore", "quantile"),
                   help="default mode: high-attention rule (parity always uses dnabert-viz)")
    p.add_argument("--min-factor", type=float, default=10.0,
                   help="dnabert-viz rule: score must exceed this multiple of the sequence's minimum")
    p.add_argument("--z", type=float, default=2.0, help="zscore rule: score > mean + z SD")
    p.add_argument("--quantile", type=float, default=0.9, help="quantile rule: score >= this quantile")
    p.add_argument("--forward-only", action="store_true", help="default mode: count and merge the forward "
                                                               "strand only")
    p.add_argument("--shuffle-copies", type=int, default=1, help="shuffled copies per positive as background")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jaspar-release", default="JASPAR2026")
    p.add_argument("--no-jaspar", action="store_true", help="skip the JASPAR comparison")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_motifs)

    p = sub.add_parser("mutate", help="saturation mutagenesis map(s) with attention beside")
    _add_input(p)
    _add_model(p)
    p.add_argument("--id", help="only this sequence (default: every sequence)")
    p.add_argument("--start", type=int, default=0, help="window start (0-based)")
    p.add_argument("--end", type=int, help="window end (0-based, exclusive; default: sequence end)")
    p.add_argument("--strand", default="forward", choices=("forward", "reverse", "both"))
    p.add_argument("--target", help="class to score (name or index; default: the positive class)")
    p.add_argument("--top-k", type=int, default=10, help="top-k positions for the attention-ISM overlap")
    p.add_argument("--max-figures", type=int, default=20)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_mutate)

    p = sub.add_parser("variants", help="score user variants (table or VCF), attention before/after")
    p.add_argument("files", nargs="+", help="SEQS.fa VARIANTS (.tsv/.csv/.vcf); only VARIANTS with --bed")
    p.add_argument("--bed", help="BED intervals (variants then use genomic chrom/pos)")
    p.add_argument("--reference", help="reference FASTA for --bed")
    _add_model(p)
    p.add_argument("--strand", default="forward", choices=("forward", "reverse", "both"))
    p.add_argument("--target", help="class to score (name or index; default: the positive class)")
    p.add_argument("--max-figures", type=int, default=20)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_variants)

    p = sub.add_parser("finetune", help="fine-tune a DNABERT checkpoint (or the demo configuration) on labelled "
                                        "sequences")
    p.add_argument("--train", help="labelled data: table (sequence,label columns; CSV/TSV) or FASTA with label=")
    p.add_argument("--positives", help="FASTA of positives (label 1), with --negatives")
    p.add_argument("--negatives", help="FASTA of negatives (label 0), with --positives")
    p.add_argument("--dev", help="labelled dev data for early stopping (default: 10 %% of --train)")
    p.add_argument("--base", help="DNABERT checkpoint folder or cached Hugging Face id to start from")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow the base checkpoint's own Python code to run (DNABERT-2 needs it; off by default)")
    p.add_argument("--from-scratch", action="store_true", help="start from random weights: the demo configuration, "
                                                                "or --config")
    p.add_argument("--config", help="with --from-scratch: a JSON file of BertConfig fields (e.g. "
                                    "{\"num_hidden_layers\": 4, \"hidden_size\": 128, \"num_attention_heads\": 4})")
    p.add_argument("--kmer", type=int, choices=(3, 4, 5, 6))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--dropout", type=float, default=0.1, help="hidden and classification-head dropout")
    p.add_argument("--patience", type=int, default=2, help="epochs without dev-MCC gain before stopping")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, help="output checkpoint folder")
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("train-demo", help="rebuild the demo model (and optionally the sample data)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "assets" / "demo_model"))
    p.add_argument("--sample-data", help="also write the held-out sample data to this folder")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--per-epoch", type=int, default=6000, help="fresh sequences per epoch")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train_demo)

    p = sub.add_parser("app", help="start the dashboard")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--headless", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_app)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        if getattr(args, "batch_size", 1) is not None and getattr(args, "batch_size", 1) < 1:
            raise InputError("--batch-size must be at least 1")
        return args.func(args)
    except DnalensError as exc:
        if args.debug:
            raise
        print(f"dnalens: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("dnalens: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a raw traceback for the user
        if args.debug:
            raise
        print(f"dnalens: internal error ({type(exc).__name__}: {exc}); rerun with --debug for details",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
