"""Scored variants for genome browsers: a VCF with the scores in INFO fields (bgzipped and tabix-indexed with
pysam) and a BED9 file (one interval per allele, coloured by the direction of the effect). Both stream the part
files of a genome variants folder (or take a DataFrame), so memory does not grow with the number of variants."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.atomic import atomic_file

SCORES = {"p_ref": "P_REF", "p_alt": "P_ALT", "delta": "DELTA", "diff": "DIFF", "logOR": "LOGOR", "llr": "LLR"}
DESCRIPTIONS = {
    "P_REF": "probability of the scored class, reference window",
    "P_ALT": "probability of the scored class, mutant window",
    "DELTA": "P_ALT - P_REF",
    "DIFF": "(P_ALT - P_REF) * max(P_REF, P_ALT); > 0: the allele raises the prediction",
    "LOGOR": "log2 odds(P_REF) - log2 odds(P_ALT); > 0: the allele lowers the prediction",
    "LLR": "masked-LM log-likelihood ratio log P(alt) - log P(ref)",
}


def _frames(source) -> Iterator[pd.DataFrame]:
    """DataFrames from a DataFrame or a folder of part files (in file-name order)."""
    if isinstance(source, pd.DataFrame):
        yield source
        return
    for part in sorted(Path(source).glob("part-*.parquet")):
        yield pd.read_parquet(part)


def _info_fields(df: pd.DataFrame) -> dict[str, str]:
    """``{column: INFO key}`` for the score columns present (lens summaries as ``<LENS>_AT_VARIANT``)."""
    out = {c: SCORES[c] for c in SCORES if c in df.columns}
    out.update({c: c.upper() for c in df.columns if c.endswith("_at_variant")})
    return out


def _fmt(x) -> str:
    return "." if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.6g}"


def _vcf_header(contigs: list[tuple[str, int]], fields: dict[str, str], reference: str) -> str:
    lines = ["##fileformat=VCFv4.2", "##source=dnalens", f"##reference=file://{os.path.abspath(reference)}"]
    lines += [f"##contig=<ID={n},length={length}>" for n, length in contigs]
    for key in fields.values():
        desc = DESCRIPTIONS.get(key, f"{key.lower()} (lens track at the variant)")
        lines.append(f'##INFO=<ID={key},Number=1,Type=Float,Description="{desc}">')
    lines.append('##INFO=<ID=CLASS,Number=1,Type=String,Description="the scored class">')
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    return "\n".join(lines) + "\n"


def write_variants_vcf(source, out: str | os.PathLike, reference: str, announce=None) -> Path:
    """Scored alleles as a VCF (``.vcf.gz``: bgzipped and tabix-indexed; else plain text), one line per allele,
    the scores as INFO fields (``P_REF``, ``P_ALT``, ``DELTA``, ``DIFF``, ``LOGOR``, ``LLR``, ``<LENS>_AT_VARIANT``,
    ``CLASS``). ``source``: a DataFrame or a folder of part files. An unsorted input is bgzipped without an
    index (``announce`` says so)."""
    from ..io.sequences import open_reference

    out = Path(out)
    fa = open_reference(reference)
    contigs = [(name, len(fa[name])) for name in fa.keys()]
    gz = out.name.endswith(".gz")
    plain = out.with_name(out.name[:-3]) if gz else out
    fields = None
    with atomic_file(plain) as tmp, open(tmp, "w") as fh:
        for df in _frames(source):
            if fields is None:
                fields = _info_fields(df)
                fh.write(_vcf_header(contigs, fields, reference))
            df = df.rename(columns={"class": "klass"})
            for line in _vcf_lines_named(df, fields):
                fh.write(line + "\n")
        if fields is None:
            fh.write(_vcf_header(contigs, {}, reference))
    if gz:
        _bgzip_index(plain, out, announce)
    return out


def _vcf_lines_named(df: pd.DataFrame, fields: dict[str, str]) -> list[str]:
    cols = {c: df[c].to_numpy() for c in fields}
    chrom, pos, ids = df["chrom"].to_numpy(), df["pos"].to_numpy(), df["id"].to_numpy()
    ref, alt, klass = df["ref"].to_numpy(), df["alt"].to_numpy(), df["klass"].to_numpy()
    out = []
    for i in range(len(df)):
        info = ";".join(f"{key}={_fmt(float(cols[c][i]))}" for c, key in fields.items())
        vid = ids[i] if isinstance(ids[i], str) and ids[i] else "."
        out.append(f"{chrom[i]}\t{pos[i]}\t{vid}\t{ref[i]}\t{alt[i]}\t.\tPASS\t{info};CLASS={klass[i]}")
    return out


def _bgzip_index(plain: Path, out: Path, announce) -> None:
    import pysam

    for stale in (out, Path(str(out) + ".tbi")):
        stale.unlink(missing_ok=True)
    try:
        pysam.tabix_index(str(plain), preset="vcf", force=True)  # writes out (= plain + .gz) and .tbi
    except OSError:
        pysam.tabix_compress(str(plain), str(out), force=True)
        plain.unlink()
        if announce:
            announce(f"dnalens: {out.name} is not indexed: the input VCF is not sorted by position")


def _bed_lines(df: pd.DataFrame) -> list[str]:
    delta = df["delta"].to_numpy(dtype=np.float64)
    start = df["pos"].to_numpy() - 1
    end = start + df["ref"].str.len().to_numpy()
    score = np.clip(np.rint(np.abs(delta) * 1000), 0, 1000).astype(int)
    ids = df["id"].to_numpy()
    chrom, ref, alt = df["chrom"].to_numpy(), df["ref"].to_numpy(), df["alt"].to_numpy()
    out = []
    for i in range(len(df)):
        name = f"{ids[i] if isinstance(ids[i], str) and ids[i] else '.'}|{ref[i]}>{alt[i]}|delta={delta[i]:+.3g}"
        rgb = "200,30,30" if delta[i] > 0 else "30,60,200" if delta[i] < 0 else "120,120,120"
        out.append(f"{chrom[i]}\t{start[i]}\t{end[i]}\t{name}\t{score[i]}\t.\t{start[i]}\t{end[i]}\t{rgb}")
    return out


def write_variants_bed(source, out: str | os.PathLike) -> Path:
    """Scored alleles as BED9 (0-based half-open over the VCF REF bases): name ``id|REF>ALT|delta=...``, score
    ``round(1000 * |delta|)``, red when the allele raises the prediction, blue when it lowers it."""
    out = Path(out)
    with atomic_file(out) as tmp, open(tmp, "w") as fh:
        fh.write('track name="dnalens variants" description="delta = p_alt - p_ref" itemRgb="On"\n')
        for df in _frames(source):
            for line in _bed_lines(df):
                fh.write(line + "\n")
    return out
