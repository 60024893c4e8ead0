"""``dnalens`` arguments. Nothing heavy is imported here: ``dnalens --help`` and model-free commands start at once."""

from __future__ import annotations

import argparse

ORIENTATIONS = ("forward", "reverse", "both")


def count(lo: int, hi: int | None = None):
    """An argparse type: a whole number in ``[lo, hi]`` (``inf``, ``nan``, ``1.5`` and out-of-range values are
    refused with the allowed range)."""

    def parse(text: str) -> int:
        from ..errors import InputError
        from ..io.checks import whole

        try:
            return whole(text, "the value", lo=lo, hi=hi)
        except InputError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    return parse


def number(lo: float | None = None, hi: float | None = None, lo_open: bool = False):
    """An argparse type: a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""

    def parse(text: str) -> float:
        from ..errors import InputError
        from ..io.checks import real

        try:
            return real(text, "the value", lo=lo, hi=hi, lo_open=lo_open)
        except InputError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    return parse


LENS_NAMES = (
    "attention",
    "ism",
    "grad-input",
    "ig",
    "expected-gradients",
    "mlm",
    "dnabert-viz",
    "dnabert-viz-parity",
    "rollout",
)


class _OrientationAlias(argparse.Action):
    """``--strand`` (older name) sets ``--orientation``; its value ``mean`` means ``both``."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.orientation = "both" if values == "mean" else values


def add_input(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input", nargs="?", help="FASTA (plain or .gz), DNABERT train/dev.tsv, or - for stdin; omit with --bed"
    )
    p.add_argument("--bed", help="BED3/BED6 intervals (0-based, half-open); needs --reference")
    p.add_argument("--reference", help="reference genome FASTA for --bed (indexed with pyfaidx)")


def add_orientation(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--orientation",
        default="forward",
        choices=ORIENTATIONS,
        help="how the model reads each sequence: forward, reverse (its reverse complement; scores mapped "
        "back to the sequence's own positions) or both",
    )
    p.add_argument(
        "--strand", action=_OrientationAlias, choices=("forward", "reverse", "both", "mean"), help=argparse.SUPPRESS
    )


def add_model(p: argparse.ArgumentParser, ensemble: bool = False) -> None:
    p.add_argument(
        "--model",
        default=None,
        help="checkpoint folder or Hugging Face id (from the local cache); default: the shipped demo model",
    )
    if ensemble:
        p.add_argument(
            "--models",
            help="multi-k ensemble as DNABERT-viz does it: comma-separated checkpoints "
            "(e.g. DNA_bert_3,...,DNA_bert_6); tracks are L2-normalised and summed, "
            "probabilities averaged",
        )
    p.add_argument("--kmer", type=int, choices=(3, 4, 5, 6), help="k-mer size (default: from the vocabulary)")
    p.add_argument("--batch-size", type=count(1, 65536), default=32)
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    p.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow the checkpoint's own Python code to run (off by default)",
    )
    p.add_argument(
        "--tokenizer-family", choices=("kmer", "nonoverlap", "bpe"), help="override the detected tokenizer family"
    )
    p.add_argument("--stride", type=count(1, 6), default=1, help="k-mer stride (GenomeNet-style stride-3 6-mers: 3)")


def add_lens_options(p: argparse.ArgumentParser, lens_choice: bool) -> None:
    """The lens and its options (attention recipe options, ISM summary, target class)."""
    if lens_choice:
        p.add_argument(
            "--lens",
            default="attention",
            choices=LENS_NAMES,
            help="per-nucleotide method (dnabert-viz, dnabert-viz-parity and rollout are attention presets)",
        )
    g = p.add_argument_group("attention lens")
    g.add_argument(
        "--recipe",
        default=None,
        choices=("dnabert-viz", "dnabert-viz-parity", "custom", "rollout"),
        help="dnabert-viz: last layer [CLS] row, heads summed, k-mer mean, L2 (default)",
    )
    g.add_argument("--layers", help="custom recipe: layers, e.g. -1 or 0,1 or all (default: last)")
    g.add_argument("--heads", help="custom recipe: heads, e.g. 0,3 or all (default: all)")
    g.add_argument("--head-agg", default="sum", choices=("sum", "mean", "max"))
    g.add_argument("--layer-agg", default="mean", choices=("sum", "mean", "max"))
    g.add_argument(
        "--normalize",
        default="l2",
        choices=("l2", "max", "sum", "none"),
        help="custom/rollout recipes (dnabert-viz always uses l2)",
    )
    g.add_argument(
        "--max-seq-length", type=count(3, 100_000), help="DNABERT-viz's T, for the dnabert-viz-parity recipe"
    )
    g = p.add_argument_group("ISM lens")
    g.add_argument(
        "--ism-summary",
        default="maxabs",
        choices=("maxabs", "mean", "toward-ref"),
        help="per-position summary of the substitutions: max |Δp|, mean Δp, or p_ref - mean p_alt",
    )
    g.add_argument("--target", help="class to score (name or index; default: the positive class)")
    _attribution_options(p)
    _mlm_lens_options(p)


def _mlm_lens_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("masked-LM lens (mlm; default model: the demo MLM)")
    g.add_argument(
        "--mlm-score",
        default="ref-logprob",
        choices=("ref-logprob", "entropy"),
        help="log P(reference base) in nats (default) or the entropy of P(base) in bits",
    )
    g.add_argument(
        "--mlm-combine",
        default="mean",
        choices=("mean", "product"),
        help="how the k masked k-mers covering a base are combined: mean of their 4-way conditionals "
        "(default, calibrated) or their product",
    )


def _attribution_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("attribution lenses (grad-input, ig, expected-gradients)")
    g.add_argument(
        "--attribution-output",
        default="log-odds",
        choices=("log-odds", "prob"),
        help="what is explained: the target class's log-odds (default) or its probability",
    )
    g.add_argument("--ig-steps", type=int, help="integration steps (ig: 32, expected-gradients: 16 per reference)")
    g.add_argument(
        "--baseline",
        default="pad",
        choices=("pad", "mask"),
        help="ig baseline: every nucleotide token [PAD] (zero embedding) or [MASK], inside [CLS]/[SEP]",
    )
    g.add_argument("--shuffles", type=int, default=8, help="expected-gradients: dinucleotide-shuffled references")
    g.add_argument("--attribution-seed", type=int, default=0, help="expected-gradients: seed of the shuffles")


def _tracks_commands(sub) -> None:
    from .commands import cmd_attention, cmd_predict, cmd_tracks

    p = sub.add_parser("predict", help="class probabilities for every sequence")
    add_input(p)
    add_model(p)
    add_orientation(p)
    p.add_argument("--out", required=True, help="output table (.csv, .tsv or .parquet)")
    p.set_defaults(func=cmd_predict)
    for name, func, helptext in (
        ("tracks", cmd_tracks, "per-nucleotide scores under any lens"),
        ("attention", cmd_attention, "per-nucleotide attention (tracks --lens attention)"),
    ):
        p = sub.add_parser(name, help=helptext)
        add_input(p)
        add_model(p, ensemble=True)
        add_orientation(p)
        add_lens_options(p, lens_choice=name == "tracks")
        p.add_argument(
            "--overlap",
            type=count(0),
            help="bases shared by neighbouring windows of long sequences (default: a quarter of the window)",
        )
        p.add_argument("--out", required=True, help="output: .parquet, .csv, .tsv or .npy")
        p.set_defaults(func=func)


def _motifs_command(sub) -> None:
    from .commands import cmd_motifs

    p = sub.add_parser("motifs", help="motifs a lens highlights (DNABERT-viz pipeline), matched to JASPAR")
    p.add_argument("input", nargs="?", help="FASTA (or DNABERT tsv) of positive sequences")
    p.add_argument("--negatives", help="FASTA of background sequences (default: dinucleotide-shuffled positives)")
    p.add_argument(
        "--scores",
        help="precomputed per-nucleotide scores: a `dnalens tracks` table or an .npy "
        "[n_positives, width] in FASTA order (DNABERT-viz's atten.npy)",
    )
    add_model(p, ensemble=True)
    add_orientation(p)
    add_lens_options(p, lens_choice=True)
    p.add_argument("--parity", choices=("dnabert-viz",), help="reproduce DNABERT-viz's motif_analysis exactly")
    p.add_argument("--window-size", type=count(1, 10_000), default=24)
    p.add_argument("--min-len", type=count(1, 1000), default=5)
    p.add_argument("--pval-cutoff", type=number(0, 1, lo_open=True), default=0.005)
    p.add_argument("--min-n-motif", type=count(1), default=3)
    p.add_argument(
        "--align-all-ties",
        action="store_true",
        help="accepted for DNABERT-viz compatibility; with Biopython >= 1.80 semantics it changes nothing",
    )
    p.add_argument(
        "--region-rule",
        default=None,
        choices=("dnabert-viz", "zscore", "quantile"),
        help="high-score rule (default zscore; parity always uses dnabert-viz)",
    )
    p.add_argument(
        "--min-factor",
        type=number(0),
        default=None,
        help="dnabert-viz rule: score must exceed this multiple of the sequence's minimum (10)",
    )
    p.add_argument("--z", type=number(), default=None, help="zscore rule: score > mean + z SD (2)")
    p.add_argument("--quantile", type=number(0, 1), default=None, help="quantile rule: score >= this quantile (0.9)")
    p.add_argument("--forward-only", action="store_true", help="default mode: count and merge the forward strand only")
    p.add_argument("--shuffle-copies", type=count(0, 100), default=1, help="shuffled copies per positive as background")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jaspar-release", default="JASPAR2026")
    p.add_argument("--no-jaspar", action="store_true", help="skip the JASPAR comparison")
    p.add_argument(
        "--logo-formats", default="png", help="logo files: png, svg and/or pdf, separated by commas (default png)"
    )
    p.add_argument(
        "--logo-modes",
        default="information",
        help="logos drawn per motif: information (bits, as find_motifs.py draws one per motif) and/or probability, "
        "separated by commas (default information)",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_motifs)


def _mutation_commands(sub) -> None:
    from .commands import cmd_mutate, cmd_variants

    p = sub.add_parser("mutate", help="saturation mutagenesis map(s) with attention beside")
    add_input(p)
    add_model(p)
    add_orientation(p)
    p.add_argument("--id", help="only this sequence (default: every sequence)")
    p.add_argument("--start", type=count(0), default=0, help="window start (0-based)")
    p.add_argument("--end", type=count(1), help="window end (0-based, exclusive; default: sequence end)")
    p.add_argument("--target", help="class to score (name or index; default: the positive class)")
    p.add_argument("--top-k", type=count(1), default=10, help="top-k positions for the attention-ISM overlap")
    p.add_argument("--max-figures", type=count(0), default=20)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_mutate)

    p = sub.add_parser(
        "variants",
        help="score user variants (table or VCF) on sequences, or a whole VCF on a reference genome (genome mode)",
    )
    p.add_argument(
        "files",
        nargs="+",
        help="SEQS.fa VARIANTS (.tsv/.csv/.vcf); only VARIANTS with --bed; genome mode: only VARIANTS.vcf[.gz|.bcf] "
        "with --reference and no --bed",
    )
    p.add_argument("--bed", help="BED intervals (variants then use genomic chrom/pos)")
    p.add_argument("--reference", help="reference FASTA for --bed, or for a VCF alone (genome mode)")
    _genome_variant_options(p)
    add_model(p)
    add_orientation(p)
    p.add_argument("--target", help="class to score (name or index; default: the positive class)")
    p.add_argument("--max-figures", type=count(0), default=20)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--zero-shot",
        action="store_true",
        help="add llr = log P(alt) - log P(ref) from a masked LM (no classifier needed; default MLM: --model "
        "when it is one, else the demo MLM)",
    )
    p.add_argument("--mlm-model", help="with --zero-shot: the masked LM for llr (default: see --zero-shot)")
    p.set_defaults(func=cmd_variants)


def _genome_variant_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("genome mode (a VCF and --reference)")
    g.add_argument(
        "--window",
        type=int,
        default=100,
        help="bases of reference around each allele, centred on its first changed base (default 100)",
    )
    g.add_argument("--shard-size", type=int, default=2000, help="VCF records per shard (default 2000)")
    g.add_argument("--resume", action="store_true", help="keep the finished shards of --out and score the rest")
    g.add_argument("--engine", default="local", choices=("local", "ray"), help="local, or ray (pip install .[ray])")
    g.add_argument("--ray-address", help="an existing Ray cluster (auto, host:6379, ray://host:10001)")
    g.add_argument(
        "--lens-at-variant",
        default="",
        help="lenses summarised at each allele, comma-separated (e.g. attention,ism): a column <lens>_at_variant",
    )
    g.add_argument(
        "--export",
        default="vcf,bed",
        help="browser files written beside the table: vcf, bed, both (default vcf,bed) or none",
    )


def _training_commands(sub) -> None:
    from .training import cmd_finetune, cmd_train_demo

    p = sub.add_parser(
        "finetune", help="fine-tune a DNABERT checkpoint (or the demo configuration) on labelled sequences"
    )
    p.add_argument(
        "--train",
        help="labelled data: table (sequence,label columns; CSV/TSV; DNABERT's train.tsv) or FASTA with label=",
    )
    p.add_argument("--positives", help="FASTA of positives (label 1), with --negatives")
    p.add_argument("--negatives", help="FASTA of negatives (label 0), with --positives")
    p.add_argument("--dev", help="labelled dev data for early stopping (default: 10 %% of --train)")
    p.add_argument("--test", help="labelled held-out data, evaluated once at the end")
    p.add_argument("--base", help="DNABERT checkpoint folder or cached Hugging Face id to start from")
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow the base checkpoint's own Python code to run (DNABERT-2 needs it; off by default)",
    )
    p.add_argument(
        "--from-scratch", action="store_true", help="start from random weights: the demo configuration, or --config"
    )
    p.add_argument(
        "--config",
        help="with --from-scratch: a JSON file of BertConfig fields (e.g. "
        '{"num_hidden_layers": 4, "hidden_size": 128, "num_attention_heads": 4})',
    )
    p.add_argument("--kmer", type=int, choices=(3, 4, 5, 6))
    p.add_argument("--epochs", type=count(1, 10_000), default=3)
    p.add_argument("--batch-size", type=count(1, 65536), default=32)
    p.add_argument("--lr", type=number(0, 1, lo_open=True), default=2e-4)
    p.add_argument("--dropout", type=number(0, 0.99), default=0.1, help="hidden and classification-head dropout")
    p.add_argument("--patience", type=count(0), default=2, help="epochs without dev-MCC gain before stopping")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=count(1, 1024), help="torch CPU threads")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, help="output checkpoint folder")
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("train-demo", help="rebuild the demo model (and optionally the sample data)")
    p.add_argument(
        "--out",
        default="demo_model",
        help="output folder (default: ./demo_model; never the shipped demo model inside the package)",
    )
    p.add_argument("--sample-data", help="also write the held-out sample data to this folder")
    p.add_argument("--epochs", type=count(1, 10_000), default=6)
    p.add_argument("--per-epoch", type=count(1), default=6000, help="fresh sequences per epoch")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train_demo)


def _agreement_command(sub) -> None:
    from .agreement import cmd_agreement

    p = sub.add_parser("agreement", help="which lens can I trust? every lens against ISM (and known motif sites)")
    add_input(p)
    add_model(p)
    add_orientation(p)
    add_lens_options(p, lens_choice=False)
    p.add_argument(
        "--lenses",
        help="comma-separated lenses to compare with ISM (default: every lens that applies to the model)",
    )
    p.add_argument("--truth", help="known sites: a table with id, start, end (0-based, half-open), e.g. truth.tsv")
    p.add_argument("--sites-jaspar", help="known sites from a FIMO scan of these JASPAR ids, e.g. MA0139.2,MA0108.3")
    p.add_argument("--jaspar-release", default=None, help="JASPAR release for --sites-jaspar (default: the newest)")
    p.add_argument("--fimo-threshold", type=float, default=1e-4, help="FIMO p-value threshold (default 1e-4)")
    p.add_argument("--top-k", type=int, default=10, help="top-k positions for the overlap (default 10)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_agreement)


def _mlm_commands(sub) -> None:
    from .mlm import cmd_dependency, cmd_pretrain, cmd_pretrain_demo

    p = sub.add_parser("pretrain", help="masked-LM pre-training, DNABERT style (k-mer span masking, 15 %%)")
    p.add_argument("--train", required=True, help="FASTA (plain or .gz) or DNABERT tsv of unlabelled sequences")
    p.add_argument("--dev", help="held-out sequences for the masked-token metrics (default: 5 %% of --train)")
    p.add_argument("--base", help="continue from this checkpoint (default: the demo configuration from scratch)")
    p.add_argument("--config", help="from scratch: a JSON file of BertConfig fields changing the demo configuration")
    p.add_argument("--kmer", type=int, choices=(3, 4, 5, 6), help="from scratch: k-mer size (default 6)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", default="auto")
    p.add_argument("--trust-remote-code", action="store_true", help="allow --base's own Python code to run")
    p.add_argument("--out", required=True, help="output checkpoint folder")
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("pretrain-demo", help="rebuild the demo MLM (the recipe in core/train/pretrain.py)")
    p.add_argument("--out", default="demo_mlm", help="output folder (default: ./demo_mlm)")
    p.add_argument("--write-data", help="also write its training and held-out sequences (FASTA) to this folder")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: deterministic)")
    p.set_defaults(func=cmd_pretrain_demo)

    p = sub.add_parser("dependency", help="nucleotide dependency map of one sequence (masked LM)")
    add_input(p)
    add_model(p)
    add_orientation(p)
    p.add_argument("--id", help="the sequence to map (default: the first)")
    p.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (default 1: fastest for these many small passes)"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_dependency, batch_size=128)


def build_parser() -> argparse.ArgumentParser:
    from .commands import cmd_app

    ap = argparse.ArgumentParser(
        prog="dnalens", description="What does a DNA language model look at, and which lens can you trust?"
    )
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = ap.add_subparsers(dest="command", required=True)
    _tracks_commands(sub)
    _motifs_command(sub)
    _agreement_command(sub)
    _mutation_commands(sub)
    _training_commands(sub)
    _mlm_commands(sub)
    p = sub.add_parser("app", help="start the dashboard")
    p.add_argument("--port", type=count(1, 65535), default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--headless", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_app)
    return ap
