"""The files and igv.js options of the dashboard's genome view (no Streamlit here: the page only lays it out).

Everything goes into one folder the app serves (a per-session folder under ``dashboard/static/sessions/``), under
fixed names (never a name derived from user text):

* ``reference.fa`` + ``reference.fa.fai``: what igv.js reads bases from. Sequences from BED intervals on a reference
  FASTA: that reference (hard-linked, else copied; only its chromosomes the intervals touch when the whole file is
  over the app's 200 MB static-file limit). BED sequences whose reference is not known: their chromosomes rebuilt
  from the intervals' own bases, N elsewhere (coordinates exact). Sequences without coordinates (FASTA): each
  sequence is a contig of its own.
* ``intervals.bed``: the loaded sequences as features (name = sequence id, so a click selects it).
* ``track-<n>.bw``: each lens's tracks as bigWig (:mod:`core.io.bigwig`: overlaps averaged per base).
* ``motifs.bed``: motif instances on genome coordinates; ``variants.vcf``: scored variants with the scores in INFO.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.bigwig import BigWigWriter
from ..io.sequences import Sequence, reverse_complement

STATIC_LIMIT = 200 * 2**20  # Streamlit's largest static file


def placed(seqs: list[Sequence]) -> list[Sequence]:
    """The sequences with genomic coordinates: as they are, or (no coordinates) each on a contig of its own."""
    if all(s.has_coordinates for s in seqs):
        return list(seqs)
    return [replace(s, chrom=s.id, start=0, end=len(s.seq), strand="+") for s in seqs]


def _write_fasta(path: Path, records) -> None:
    with open(path, "w") as fh:
        for name, seq in records:
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i : i + 60] + "\n")


def _index(path: Path) -> list[tuple[str, int]]:
    from ..io.bigwig import chrom_sizes

    return chrom_sizes(path)  # writes path.fai beside it


def _rebuilt(seqs: list[Sequence]) -> list[tuple[str, str]]:
    """Chromosomes rebuilt from BED sequences' own bases (forward strand), N where no interval reaches."""
    chroms: dict[str, np.ndarray] = {}
    for s in seqs:
        arr = chroms.setdefault(s.chrom, np.full(0, ord("N"), dtype=np.uint8))
        if len(arr) < s.end:
            arr = np.concatenate([arr, np.full(s.end - len(arr), ord("N"), dtype=np.uint8)])
        fwd = reverse_complement(s.seq) if s.strand == "-" else s.seq
        arr[s.start : s.end] = np.frombuffer(fwd.encode(), dtype=np.uint8)
        chroms[s.chrom] = arr
    return [(c, a.tobytes().decode()) for c, a in chroms.items()]


def write_reference(folder: Path, seqs: list[Sequence], reference: str | os.PathLike | None) -> list[tuple[str, int]]:
    """``folder/reference.fa`` (+ ``.fai``) for igv.js; returns the chromosome sizes."""
    out = folder / "reference.fa"
    out.unlink(missing_ok=True)
    Path(str(out) + ".fai").unlink(missing_ok=True)
    if not all(s.has_coordinates for s in seqs):
        _write_fasta(out, [(s.chrom, s.seq) for s in placed(seqs)])
    elif reference is None:
        _write_fasta(out, _rebuilt(seqs))
    elif str(reference).endswith(".gz") or os.path.getsize(reference) > STATIC_LIMIT:
        from ..io.sequences import open_reference

        fa = open_reference(os.fspath(reference))
        touched = list(dict.fromkeys(s.chrom for s in seqs))
        if sum(len(fa[c]) for c in touched) > STATIC_LIMIT:
            raise InputError(
                "the chromosomes of the loaded intervals are larger than the 200 MB the app can serve to the "
                "genome view; load intervals on fewer chromosomes",
                source=str(reference),
            )
        _write_fasta(out, [(c, str(fa[c][:])) for c in touched])
    else:
        try:
            os.link(reference, out)
        except OSError:  # another filesystem
            shutil.copyfile(reference, out)
    return _index(out)


def write_intervals(path: Path, seqs: list[Sequence]) -> None:
    with open(path, "w") as fh:
        for s in seqs:
            fh.write(f"{s.chrom}\t{s.start}\t{s.end}\t{s.id}\t0\t{s.strand}\n")


def write_track(path: Path, seqs: list[Sequence], scores: list[np.ndarray], sizes) -> None:
    with BigWigWriter(path, sizes) as w:
        for s, sc in zip(seqs, scores):
            w.write(s, sc)


def motif_features(seqs: list[Sequence], instances: pd.DataFrame) -> pd.DataFrame:
    """Motif instances on genome coordinates: ``sequence_id``, the instance's own bases ``core_start..core_end``
    (else ``start..end``) along the sequence, ``strand``."""
    by_id = {s.id: s for s in seqs}
    lo, hi = ("core_start", "core_end") if "core_start" in instances.columns else ("start", "end")
    rows = []
    for r in instances.itertuples(index=False):
        s = by_id.get(str(r.sequence_id))
        if s is None:
            continue
        g = s.genomic_positions()[max(0, int(getattr(r, lo))) : int(getattr(r, hi))]
        if not len(g):
            continue
        strand = r.strand if s.strand == "+" else {"+": "-", "-": "+"}.get(r.strand, r.strand)
        rows.append((s.chrom, int(g.min()), int(g.max()) + 1, f"{r.motif} in {s.id}", strand))
    return pd.DataFrame(rows, columns=["chrom", "start", "end", "name", "strand"])


@dataclass
class GenomeView:
    """igv.js options for the view, and the scored variants (with the alleles skipped and why) when a VCF came."""

    options: dict
    variants: pd.DataFrame | None = None
    skipped: pd.DataFrame | None = None


def score_vcf(model, vcf: tuple[str, bytes], reference: Path, window: int = 100) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score an uploaded VCF ``(name, bytes)`` on ``reference`` as genome mode does (window centred on each allele)."""
    from ..io.sequences import open_reference
    from ..io.vcf import read_vcf_bytes
    from ..variants.genome import GenomeSettings, score_alleles, skips_frame

    alleles, skips = read_vcf_bytes(vcf[1], source=vcf[0], reference=str(reference))
    df, late = score_alleles(model, open_reference(str(reference)), alleles, GenomeSettings(window=window))
    return df, skips_frame(skips + late)


def build_genome_view(
    folder: str | os.PathLike,
    seqs: list[Sequence],
    *,
    reference: str | os.PathLike | None = None,
    tracks: dict[str, list[np.ndarray]] | None = None,
    instances: pd.DataFrame | None = None,
    vcf: tuple[str, bytes] | None = None,
    model=None,
    window: int = 100,
    url: str = "",
) -> GenomeView:
    """Write the view's files into ``folder``; ``url`` is the folder's address as the page sees it (e.g.
    ``app/static/sessions/<token>/<build>/``). ``tracks``: ``{lens name: scores per sequence}``; ``vcf``: an
    uploaded VCF ``(name, bytes)`` scored with ``model`` on the view's reference."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seqs_g = placed(seqs)
    sizes = write_reference(folder, seqs, reference)
    variants = skipped = None
    if vcf is not None:
        variants, skipped = score_vcf(model, vcf, folder / "reference.fa", window)
    write_intervals(folder / "intervals.bed", seqs_g)
    items = [_feature_track("loaded sequences", url + "intervals.bed", "#2b6cb0")]
    for n, (name, scores) in enumerate((tracks or {}).items()):
        write_track(folder / f"track-{n}.bw", seqs_g, scores, sizes)
        items.append({"name": name, "type": "wig", "format": "bigwig", "url": url + f"track-{n}.bw", "height": 60})
    if instances is not None and len(instances):
        feats = motif_features(seqs_g, instances)
        feats = feats.sort_values(["chrom", "start"], kind="stable")
        feats.assign(score=0)[["chrom", "start", "end", "name", "score", "strand"]].to_csv(
            folder / "motifs.bed", sep="\t", header=False, index=False
        )
        items.append(_feature_track("motif instances", url + "motifs.bed", "#c05621"))
    if variants is not None and len(variants):
        from .variant_exports import write_variants_vcf

        write_variants_vcf(variants, folder / "variants.vcf", folder / "reference.fa")
        items.append({"name": "scored variants", "type": "variant", "format": "vcf", "url": url + "variants.vcf"})
        items[-1].update(indexed=False, displayMode="EXPANDED")
    options = {
        "loadDefaultGenomes": False,
        "search": False,
        "showSampleNames": False,
        "locus": locus(seqs_g, None),
        "reference": {
            "id": "dnalens",
            "name": "loaded reference",
            "fastaURL": url + "reference.fa",
            "indexURL": url + "reference.fa.fai",
        },
        "tracks": items,
    }
    return GenomeView(options, variants, skipped)


def locus(seqs: list[Sequence], seq_id: str | None) -> str:
    """igv.js locus of a loaded sequence (the first when ``seq_id`` is not loaded)."""
    seqs_g = placed(seqs)
    s = next((q for q in seqs_g if q.id == seq_id), seqs_g[0])
    return f"{s.chrom}:{s.start + 1}-{s.end}"


def _feature_track(name: str, url: str, color: str) -> dict:
    return {
        "name": name,
        "type": "annotation",
        "format": "bed",
        "url": url,
        "indexed": False,
        "displayMode": "EXPANDED",
        "color": color,
    }
