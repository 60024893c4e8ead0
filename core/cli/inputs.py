"""What the commands share: reading the input sequences, loading model(s), building the lens from the arguments,
and progress bars on stderr."""

from __future__ import annotations

import sys

from ..errors import InputError


def parse_index_list(text: str | None, what: str):
    if text is None or text.strip().lower() == "all":
        return None
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(
            f"--{what} takes comma-separated integers (negative counts from the end) or 'all', not {text!r}"
        ) from None


def load_sequences(args) -> list:
    """The input sequences as a list: BED intervals on a reference, or a FASTA / DNABERT tsv file."""
    from ..io import sequences

    if args.bed:
        if not args.reference:
            raise InputError("--bed needs --reference (the genome FASTA the intervals refer to)")
        if args.input:
            raise InputError("give either a sequence file or --bed/--reference, not both")
        return sequences.read_bed(args.bed, args.reference)
    if not args.input:
        raise InputError("no input: give a FASTA file (or DNABERT tsv), or --bed with --reference")
    return sequences.read_records(args.input)


def stream_sequences(args):
    """``(make_iterator, n_records, has_coordinates, longest)`` without holding a FASTA file in memory (the
    longest length is only measured when ``need_longest``)."""
    from ..io import sequences

    if args.bed or not args.input or args.input == "-" or sequences.is_table(args.input):
        seqs = load_sequences(args)
        return (
            (lambda: iter(seqs)),
            len(seqs),
            any(s.has_coordinates for s in seqs),
            max((len(s.seq) for s in seqs), default=0),
        )
    path = args.input
    n = sequences.count_fasta_records(path)
    if n == 0:
        list(sequences.iter_fasta(path))  # raises the reader's own error (empty, not FASTA)
    return (lambda: sequences.iter_fasta(path)), n, False, None


def load_model(args):
    """The model ``--model`` names; without one the demo model, or the demo MLM for the masked-LM lens."""
    from ..model.loading import load_model as _load

    default = "demo-mlm" if getattr(args, "lens", None) == "mlm" else None
    return _load(
        args.model or default,
        device=args.device,
        dtype=args.dtype,
        kmer=args.kmer,
        trust_remote_code=args.trust_remote_code,
        family=args.tokenizer_family,
        stride=args.stride,
    )


def load_models(args):
    """The ensemble's models (``--models a,b,c``), or None when a single --model is used."""
    from ..model.loading import load_model as _load

    if not getattr(args, "models", None):
        return None
    if args.model:
        raise InputError("give either --model or --models, not both")
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if len(names) < 2:
        raise InputError("--models needs at least two checkpoints, separated by commas")
    return [
        _load(
            None if n == "demo" else n, device=args.device, dtype=args.dtype, trust_remote_code=args.trust_remote_code
        )
        for n in names
    ]


ATTENTION_PRESET_RECIPES = {
    "attention": "dnabert-viz",
    "dnabert-viz": "dnabert-viz",
    "dnabert-viz-parity": "dnabert-viz-parity",
    "rollout": "rollout",
}


def lens_from_args(args):
    """The lens the arguments describe (``--lens`` and its options, ``--orientation``)."""
    from ..lenses import make_lens

    name = getattr(args, "lens", "attention")
    if name in ATTENTION_PRESET_RECIPES:
        recipe = args.recipe or ATTENTION_PRESET_RECIPES[name]
        if recipe in ("dnabert-viz", "dnabert-viz-parity") and (args.layers or args.heads):
            raise InputError(
                "--layers/--heads apply to --recipe custom (the dnabert-viz recipe is fixed: last "
                "layer, all heads summed)"
            )
        return make_lens(
            "attention",
            recipe=recipe,
            layers=parse_index_list(args.layers, "layers"),
            heads=parse_index_list(args.heads, "heads"),
            head_agg=args.head_agg,
            layer_agg=args.layer_agg,
            normalize=args.normalize,
            max_seq_length=args.max_seq_length,
            orientation=args.orientation,
        )
    if name == "ism":
        return make_lens("ism", summary=args.ism_summary, target=args.target, orientation=args.orientation)
    if name in ("grad-input", "ig", "expected-gradients"):
        return make_lens(name, orientation=args.orientation, **attribution_options(args, name))
    if name == "mlm":
        return make_lens(
            "mlm",
            score=getattr(args, "mlm_score", "ref-logprob"),
            combine=getattr(args, "mlm_combine", "mean"),
            orientation=args.orientation,
        )
    return make_lens(name, orientation=args.orientation)


def attribution_options(args, name: str) -> dict:
    """The attribution lens options the arguments give (``--target``, ``--attribution-output``, ``--ig-steps``,
    ``--baseline``, ``--shuffles``, ``--attribution-seed``)."""
    opts = {"target": getattr(args, "target", None), "output": getattr(args, "attribution_output", "log-odds")}
    if name in ("ig", "expected-gradients") and getattr(args, "ig_steps", None) is not None:
        opts["n_steps"] = args.ig_steps
    if name == "ig":
        opts["baseline"] = getattr(args, "baseline", "pad")
    if name == "expected-gradients":
        opts["shuffles"] = getattr(args, "shuffles", 8)
        opts["seed"] = getattr(args, "attribution_seed", 0)
    return opts


class ConvergenceDeltas:
    """The largest integrated-gradients convergence delta over the tracks it is shown (``add(track)``), relative to
    the gap ``f(x) - f(baseline)`` it should close; other lenses leave it empty."""

    def __init__(self):
        self.worst, self.n = None, 0

    def add(self, track) -> None:
        d = track.detail.get("convergence_delta") if isinstance(track.detail, dict) else None
        if d is None or d != d:  # absent or NaN
            return
        gap = abs(track.detail.get("f_x", float("nan")) - track.detail.get("f_reference", float("nan")))
        self.n += 1
        if self.worst is None or abs(d) > abs(self.worst[0]):
            self.worst = (d, gap, track.id)

    def line(self) -> str:
        d, gap, sid = self.worst
        rel = f" ({abs(d) / gap:.1e} of |f(x) - f(baseline)| = {gap:.3g})" if gap == gap and gap > 0 else ""
        return f"convergence: largest |delta| over {self.n} sequences {abs(d):.2e} at '{sid}'{rel}"


class Progress:
    """A tqdm bar on stderr; ``update(done)`` takes the running count. Use as a context manager. ``shown=False``:
    no bar (and no tqdm import), for a stage the run skips."""

    def __init__(self, total: int | None, desc: str, unit: str = "seq", shown: bool = True):
        self.bar, self.n = None, 0
        if not shown:
            return
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            file=sys.stderr,
            dynamic_ncols=True,
            disable=None if sys.stderr.isatty() else False,
            mininterval=0.5,
        )

    def update(self, done: int, total: int | None = None) -> None:
        if self.bar is None:
            return
        if total is not None and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.n)
        self.n = done

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


def say(message: str) -> None:
    print(message, file=sys.stderr)
