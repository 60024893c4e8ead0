"""The demo model and sample data: synthetic sequences with JASPAR motifs planted, and a small DNABERT-6 classifier.

Recipe (``dnalens train-demo``; all seeded, deterministic with one thread):

* Motifs: JASPAR CORE matrices read offline from ``pyjaspar`` (release ``JASPAR2024``): TBP ``MA0108.3`` (TATA box,
  7 bp) and CTCF ``MA0139.2`` (15 bp). Each matrix is *sharpened* (probabilities squared and renormalised per
  column, after a 0.5 pseudocount) so that a classifier can reach ~0.95 accuracy; with the raw matrices even the
  Bayes-optimal classifier stops at ~0.85 on 100 bp sequences.
* Sequences: 100 bp, uniform background (GC 0.5). Positives carry one motif instance (TBP or CTCF, 50/50) sampled
  from the sharpened matrix at a uniform random position on the forward strand. Negatives are background only
  (50 %) or carry a *shuffled* motif instance (50 %: a sampled instance with its bases permuted), so base
  composition does not give the class away.
* Model: ``BertForSequenceClassification`` with the full DNABERT-6 vocabulary (4101 tokens), 2 layers, hidden 64,
  4 heads, intermediate 256, 512 positions, no dropout (data are regenerated every epoch). AdamW lr 1e-3, batch 64,
  6 epochs of 6000 fresh sequences, 10 % linear warm-up then linear decay.
* Saved in DNABERT's layout: ``config.json``, ``model.safetensors``, ``vocab.txt``, ``tokenizer_config.json``
  (``do_lower_case: false``), ``special_tokens_map.json``, plus ``training_metrics.json`` (held-out metrics).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model.tokenization import KmerTokenizer

JASPAR_RELEASE = "JASPAR2024"
DEMO_MOTIFS = {"TBP": "MA0108.3", "CTCF": "MA0139.2"}
BASES = np.array(list("ACGT"))
SEQ_LEN = 100
SHARPEN = 1.25  # power applied to the JASPAR probabilities before sampling instances


@dataclass
class Planted:
    motif: str | None  # motif name or None
    jaspar_id: str | None
    start: int | None  # 0-based, half-open on the sequence
    end: int | None
    strand: str | None
    decoy: bool = False  # a shuffled instance (negatives)


def jaspar_ppms(release: str = JASPAR_RELEASE, motifs: dict[str, str] = DEMO_MOTIFS) -> dict[str, np.ndarray]:
    """Position probability matrices ``[w, 4]`` (A,C,G,T) of the demo motifs, read offline from pyjaspar."""
    from pyjaspar import jaspardb

    jdb = jaspardb(release=release)
    out = {}
    for name, mid in motifs.items():
        m = jdb.fetch_motif_by_id(mid)
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=np.float64).T  # [w, 4]
        out[name] = (counts + 0.5) / (counts + 0.5).sum(axis=1, keepdims=True)
    return out


def sharpen(ppm: np.ndarray, power: float = 2.0) -> np.ndarray:
    p = ppm**power
    return p / p.sum(axis=1, keepdims=True)


class DemoGenerator:
    """Draws labelled sequences with planted motifs. ``rng`` controls everything."""

    def __init__(self, ppms: dict[str, np.ndarray], length: int = SEQ_LEN, seed: int = 0, power: float = SHARPEN):
        self.names = sorted(ppms)
        self.ppms = {n: sharpen(ppms[n], power) for n in self.names}
        self.cdf = {n: np.cumsum(p, axis=1) for n, p in self.ppms.items()}
        self.length = length
        self.rng = np.random.default_rng(seed)

    def background(self, n: int) -> np.ndarray:
        return self.rng.integers(0, 4, size=(n, self.length))

    def instance(self, name: str) -> np.ndarray:
        u = self.rng.random(len(self.cdf[name]))
        return (u[:, None] > self.cdf[name]).sum(axis=1).clip(0, 3)

    def draw(self, n: int, positive_fraction: float = 0.5) -> tuple[list[str], np.ndarray, list[Planted]]:
        X = self.background(n)
        y = (self.rng.random(n) < positive_fraction).astype(np.int64)
        planted = []
        for i in range(n):
            decoy = y[i] == 0 and self.rng.random() < 0.5
            if y[i] == 1 or decoy:
                name = self.names[self.rng.integers(len(self.names))]
                inst = self.instance(name)
                if decoy:
                    inst = self.rng.permutation(inst)
                w = len(inst)
                s = int(self.rng.integers(0, self.length - w + 1))
                X[i, s : s + w] = inst
                planted.append(
                    Planted(
                        None if decoy else name,
                        None if decoy else DEMO_MOTIFS[name],
                        None if decoy else s,
                        None if decoy else s + w,
                        None if decoy else "+",
                        decoy,
                    )
                )
            else:
                planted.append(Planted(None, None, None, None, None))
        seqs = ["".join(BASES[row]) for row in X]
        return seqs, y, planted


# --------------------------------------------------------------------------------------------------------------
# training


def train_demo(
    out_dir: str | os.PathLike,
    *,
    epochs: int = 6,
    per_epoch: int = 6000,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    n_test: int = 2000,
    threads: int = 1,
    power: float = SHARPEN,
    log: Callable[[str], None] | None = print,
) -> dict:
    """Train the demo classifier on fresh draws every epoch and save it to ``out_dir`` (written beside it and
    moved into place at the end); returns the held-out metrics."""
    import torch
    from transformers import BertForSequenceClassification

    from ..io.atomic import atomic_dir
    from .common import (
        classification_metrics,
        demo_config,
        optimizer,
        predict_probs,
        save_dnabert_layout,
        torch_threads,
        train_epoch,
    )

    t0 = time.time()
    with torch_threads(threads):
        torch.manual_seed(seed)
        ppms = jaspar_ppms()
        tok = KmerTokenizer.dnabert(6)
        gen = DemoGenerator(ppms, seed=seed, power=power)
        model = BertForSequenceClassification(demo_config())
        steps_per_epoch = per_epoch // batch_size
        opt, sched = optimizer(model, lr, epochs * steps_per_epoch)
        step = 0
        for ep in range(epochs):
            seqs, y, _ = gen.draw(steps_per_epoch * batch_size)
            ids, yt = torch.from_numpy(np.stack([tok.encode(s).ids for s in seqs])), torch.from_numpy(y)
            batches = (
                (ids[b : b + batch_size], None, yt[b : b + batch_size])
                for b in range(0, steps_per_epoch * batch_size, batch_size)
            )
            losses, step = train_epoch(model, batches, opt, sched, step=step)
            if log:
                log(f"epoch {ep + 1}/{epochs}: loss {np.mean(losses):.4f} ({time.time() - t0:.0f} s)")
        seqs, y, _ = DemoGenerator(ppms, seed=seed + 10_000, power=power).draw(n_test)
        probs = predict_probs(model, [tok.encode(s).ids for s in seqs], 256, tok.pad_id, "cpu")
        metrics = classification_metrics(y, probs)
        metrics.update(
            {
                "split": "held-out synthetic test set (fresh draw, seed + 10000)",
                "train_sequences": epochs * steps_per_epoch * batch_size,
                "epochs": epochs,
                "train_seconds": round(time.time() - t0, 1),
                "seed": seed,
                "jaspar_release": JASPAR_RELEASE,
                "motifs": DEMO_MOTIFS,
                "sharpen_power": power,
            }
        )
        with atomic_dir(out_dir, announce=log) as tmp:
            save_dnabert_layout(model, tmp)
            (tmp / "training_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if log:
        log(
            f"held-out: accuracy {metrics['accuracy']}, AUROC {metrics['auroc']}, F1 {metrics['f1']}, "
            f"MCC {metrics['mcc']} ({time.time() - t0:.0f} s)"
        )
    return metrics


# --------------------------------------------------------------------------------------------------------------
# sample data


def _write_fasta(path: Path, records: list[tuple[str, str, str]], width: int = 60) -> None:
    with open(path, "w") as fh:
        for rid, desc, seq in records:
            fh.write(f">{rid}{' ' + desc if desc else ''}\n")
            for i in range(0, len(seq), width):
                fh.write(seq[i : i + width] + "\n")


def _draw_labelled_sets(gen: DemoGenerator, n_pos: int, n_neg: int, n_demo: int):
    """``(positives, negatives, demo, truth rows)``: records ``(id, 'label=..', seq)`` and the planted truth."""
    truth_rows = []

    def draw_class(n, label, prefix):
        recs = []
        while len(recs) < n:
            seqs, y, planted = gen.draw(4 * n)
            for s, yy, pl in zip(seqs, y, planted):
                if yy == label and len(recs) < n:
                    rid = f"{prefix}_{len(recs) + 1:04d}"
                    recs.append((rid, f"label={label}", s))
                    truth_rows.append(
                        {
                            "id": rid,
                            "label": label,
                            "motif": pl.motif or "",
                            "jaspar_id": pl.jaspar_id or "",
                            "start": pl.start if pl.start is not None else "",
                            "end": pl.end if pl.end is not None else "",
                            "strand": pl.strand or "",
                            "decoy": int(pl.decoy),
                        }
                    )
        return recs

    pos = draw_class(n_pos, 1, "pos")
    neg = draw_class(n_neg, 0, "neg")
    demo_pos = draw_class(n_demo // 2, 1, "demo_pos")
    demo_neg = draw_class(n_demo - n_demo // 2, 0, "demo_neg")
    return pos, neg, [r for pair in zip(demo_pos, demo_neg) for r in pair], truth_rows


GENOME_PLAN = [
    ("chr1", 300, "TBP", "+"),
    ("chr1", 1200, "CTCF", "-"),
    ("chr1", 2500, "CTCF", "+"),
    ("chr1", 3800, "TBP", "-"),
    ("chr1", 5000, None, "+"),
    ("chr2", 400, "CTCF", "+"),
    ("chr2", 1500, "TBP", "+"),
    ("chr2", 2600, "CTCF", "-"),
    ("chr2", 3500, None, "-"),
]


def _write_genome(out: Path, gen: DemoGenerator, rng) -> tuple[dict, list]:
    """``reference.fa``, ``intervals.bed`` and ``intervals_truth.tsv``: a 10 kb genome with motifs planted on both
    strands. Returns the genome (base codes per chromosome) and what was placed where."""
    genome = {c: rng.integers(0, 4, size=n) for c, n in {"chr1": 6000, "chr2": 4000}.items()}
    bed_rows, bed_truth, placed = [], [], []
    for i, (chrom, ivs, name, strand) in enumerate(GENOME_PLAN):
        offset = None
        if name:
            inst = gen.instance(name)
            w = len(inst)
            offset = int(rng.integers(10, SEQ_LEN - w - 10))  # motif start in the interval's orientation
            if strand == "+":
                genome[chrom][ivs + offset : ivs + offset + w] = inst
            else:  # reading the - strand must give the motif forward: plant its reverse complement
                g0 = ivs + SEQ_LEN - offset - w
                genome[chrom][g0 : g0 + w] = 3 - inst[::-1]
        rid = f"peak{i + 1}"
        placed.append((chrom, ivs, name, strand, offset))
        bed_rows.append(f"{chrom}\t{ivs}\t{ivs + SEQ_LEN}\t{rid}\t0\t{strand}")
        bed_truth.append(
            f"{rid}\t{name or ''}\t{DEMO_MOTIFS.get(name, '') if name else ''}\t"
            f"{offset if name else ''}\t{offset + len(gen.ppms[name]) if name else ''}"
        )
    with open(out / "reference.fa", "w") as fh:
        for c, arr in genome.items():
            s = "".join(BASES[arr])
            s = s[:100] + s[100:160].lower() + s[160:]  # soft-masked, as genome FASTAs mark repeats
            fh.write(f">{c}\n")
            for j in range(0, len(s), 60):
                fh.write(s[j : j + 60] + "\n")
    with open(out / "intervals.bed", "w") as fh:
        fh.write('track name=demo_peaks description="demo intervals over reference.fa"\n')
        fh.write("# chrom\tstart\tend\tname\tscore\tstrand (0-based, half-open)\n")
        fh.write("\n".join(bed_rows) + "\n")
    with open(out / "intervals_truth.tsv", "w") as fh:
        fh.write("id\tmotif\tjaspar_id\tstart\tend\n" + "\n".join(bed_truth) + "\n")
    return genome, placed


def _write_variants(out: Path, gen: DemoGenerator, pos, truth_rows, genome, placed, vrng) -> None:
    """``variants.tsv`` (inside / outside the planted motifs of 20 positives, 1-based) and ``variants.vcf``
    (the same on the reference genome)."""
    seq_of = {rid: s for rid, _, s in pos}
    vrows = ["seq_id\tpos\tref\talt\tnote"]
    for r in [r for r in truth_rows if r["label"] == 1 and r["id"].startswith("pos_")][:20]:
        s = seq_of[r["id"]]
        core = int(np.argmax(gen.ppms[r["motif"]].max(axis=1)))  # the strongest column of the planted matrix
        outside = [p for p in range(len(s)) if p < r["start"] - 8 or p >= r["end"] + 8]
        p_out = int(vrng.choice(outside))
        for p, note in ((r["start"] + core, f"inside {r['motif']}"), (p_out, "outside motif")):
            alt = [b for b in "ACGT" if b != s[p]][int(vrng.integers(3))]
            vrows.append(f"{r['id']}\t{p + 1}\t{s[p]}\t{alt}\t{note}")
    (out / "variants.tsv").write_text("\n".join(vrows) + "\n")
    ref_seqs = {c: "".join(BASES[a]) for c, a in genome.items()}
    vcf = [
        "##fileformat=VCFv4.2",
        "##reference=reference.fa",
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]),
    ]
    for chrom, ivs, name, strand, offset in placed:
        if not name:
            continue
        j_in = offset + int(np.argmax(gen.ppms[name].max(axis=1)))  # motif core, in the interval's orientation
        for j, tag in ((j_in, f"in_{name}"), (5, "outside")):
            g = ivs + j if strand == "+" else ivs + SEQ_LEN - 1 - j
            ref = ref_seqs[chrom][g]
            alt = [b for b in "ACGT" if b != ref][int(vrng.integers(3))]
            vcf.append(f"{chrom}\t{g + 1}\t{chrom}_{g + 1}_{tag}\t{ref}\t{alt}\t.\tPASS\t.")
    (out / "variants.vcf").write_text("\n".join(vcf) + "\n")


def make_sample_data(
    out_dir: str | os.PathLike,
    seed: int = 7,
    n_pos: int = 300,
    n_neg: int = 300,
    n_demo: int = 200,
    power: float = SHARPEN,
) -> dict:
    """Write the held-out sample data (a different seed from training):

    * ``demo_positives.fa`` / ``demo_negatives.fa``: labelled held-out sets (``label=1``/``label=0`` in headers);
    * ``demo.fa``: a small mixed set the app and README examples start with;
    * ``truth.tsv``: for every sequence above, its label and planted motif (name, JASPAR id, start, end, strand);
    * ``reference.fa`` + ``intervals.bed``: a small soft-masked genome with motifs planted on both strands and BED6
      intervals over it (``intervals_truth.tsv`` gives the motif position in each interval's own orientation);
    * ``variants.tsv``: substitutions inside and outside planted motifs of demo positives (1-based ``pos``);
      ``variants.vcf``: the same kind of variants on the reference genome.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = DemoGenerator(jaspar_ppms(), seed=seed, power=power)
    pos, neg, demo, truth_rows = _draw_labelled_sets(gen, n_pos, n_neg, n_demo)
    _write_fasta(out / "demo_positives.fa", pos)
    _write_fasta(out / "demo_negatives.fa", neg)
    _write_fasta(out / "demo.fa", demo)
    cols = ["id", "label", "motif", "jaspar_id", "start", "end", "strand", "decoy"]
    with open(out / "truth.tsv", "w") as fh:
        fh.write("\t".join(cols) + "\n")
        for r in truth_rows:
            fh.write("\t".join(str(r[c]) for c in cols) + "\n")
    genome, placed = _write_genome(out, gen, np.random.default_rng(seed + 1))
    _write_variants(out, gen, pos, truth_rows, genome, placed, np.random.default_rng(seed + 2))
    return {"positives": len(pos), "negatives": len(neg), "demo": len(demo)}


def write_demo_splits(
    out_dir: str | os.PathLike,
    *,
    epochs: int = 6,
    per_epoch: int = 6000,
    batch_size: int = 64,
    seed: int = 0,
    n_test: int = 2000,
    power: float = SHARPEN,
) -> dict:
    """The exact sequences :func:`train_demo` draws (``train.fa.gz``: every epoch's draw, in order) and its held-out
    test set (``test.fa.gz``: the set behind the accuracy in training_metrics.json), with ``label=`` headers, so
    that ``dnalens finetune`` can reproduce the demo model from files."""
    import gzip

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ppms = jaspar_ppms()
    gen = DemoGenerator(ppms, seed=seed, power=power)
    n_train = 0
    with gzip.open(out / "train.fa.gz", "wt", compresslevel=9) as fh:
        for _ in range(epochs):
            seqs, y, _ = gen.draw((per_epoch // batch_size) * batch_size)
            for s, yy in zip(seqs, y):
                n_train += 1
                fh.write(f">train_{n_train:06d} label={int(yy)}\n{s}\n")
    seqs, y, _ = DemoGenerator(ppms, seed=seed + 10_000, power=power).draw(n_test)
    with gzip.open(out / "test.fa.gz", "wt", compresslevel=9) as fh:
        for i, (s, yy) in enumerate(zip(seqs, y), start=1):
            fh.write(f">test_{i:05d} label={int(yy)}\n{s}\n")
    return {"train": n_train, "test": len(seqs)}
