"""Generated genome-scale fixtures: a reference FASTA (a few Mb, 60-column lines, like real references) and a
bgzipped, tabix-indexed VCF written as text (what callers and bcftools write), with every kind of record the
genome mode must handle. ``expected`` says, for every ALT allele, whether it is scored or skipped and why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIZES = {"chr1": 2_000_000, "chr2": 1_000_000, "chrM": 16_569}


def make_reference(folder, sizes=SIZES, seed: int = 0) -> tuple[Path, dict[str, str]]:
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    seqs = {name: bases[rng.integers(0, 4, n)].tobytes().decode() for name, n in sizes.items()}
    # a run of N, as real assemblies have
    if "chr2" in seqs:
        s = seqs["chr2"]
        seqs["chr2"] = s[:5000] + "N" * 200 + s[5200:]
    path = Path(folder) / "reference.fa"
    with open(path, "w") as fh:
        for name, seq in seqs.items():
            fh.write(f">{name} generated\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i : i + 60] + "\n")
    return path, seqs


@dataclass
class Expected:
    record: int
    chrom: str
    pos: int
    id: str | None
    ref: str
    alt: str
    skip: str | None  # None: scored; else a word the skip reason starts with


KINDS = ["snv"] * 50 + ["multi"] * 10 + ["ins"] * 8 + ["del"] * 8 + ["mnv"] * 3
KINDS += ["dot", "symbolic", "mismatch", "star", "longdel"]


def _record(kind: str, seq: str, pos: int, rng) -> tuple[str, list[str], str | None]:
    """``(REF, ALTs, skip reason start or None)`` for a record of ``kind`` at 1-based ``pos``."""
    ref = seq[pos - 1]
    other = [b for b in "ACGT" if b != ref]
    if kind == "snv":
        return ref, [str(rng.choice(other))], None
    if kind == "multi":
        alts = [str(a) for a in rng.choice(other, 2, replace=False)]
        return ref, alts + [ref + "TT"], None  # two substitutions and an insertion
    if kind == "ins":
        return ref, [ref + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 8))))], None
    if kind in ("del", "longdel"):
        n = int(rng.integers(1, 12)) if kind == "del" else 80
        return seq[pos - 1 : pos + n], [ref], None if kind == "del" else "the deletion"
    if kind == "mnv":
        r = seq[pos - 1 : pos + 2]
        return r, ["".join("A" if b != "A" else "C" for b in r)], None
    if kind == "dot":
        return ref, ["."], "ALT is '.'"
    if kind == "symbolic":
        return ref, ["<DEL>"], "symbolic allele"
    if kind == "star":
        return ref, [str(other[0]), "*"], None  # the '*' allele is checked apart
    return other[0], [other[1]], "REF does not match"  # mismatch


def make_vcf(folder, seqs: dict[str, str], n_records: int = 3000, seed: int = 1, name: str = "calls"):
    """A bgzipped VCF of ``n_records`` records over ``seqs`` plus records on a contig the reference lacks;
    returns ``(path, [Expected per allele], n_records_written)``."""
    import pysam

    rng = np.random.default_rng(seed)
    contigs = list(seqs)
    per = np.bincount(rng.integers(0, len(contigs), n_records), minlength=len(contigs))
    lines, expected, rec = [], [], 0
    for chrom, n in zip(contigs, per):
        L = len(seqs[chrom])
        positions = np.sort(rng.choice(np.arange(2, L - 100), n, replace=False)) if n else []
        positions = sorted({1, 3, *positions[2:], L - 1}) if chrom == "chrM" else positions  # contig edges
        for pos in positions:
            kind = str(rng.choice(KINDS)) if pos not in (1, L - 1) else "snv"
            ref, alts, skip = _record(kind, seqs[chrom], int(pos), rng)
            vid = f"rs{rec}" if rng.random() < 0.7 else None
            lines.append(
                f"{chrom}\t{pos}\t{vid or '.'}\t{ref}\t{','.join(alts)}\t50\tPASS\tDP={int(rng.integers(5, 90))}"
            )
            for alt in alts:
                s = "spanning deletion" if alt == "*" else skip
                expected.append(Expected(rec, chrom, int(pos), vid, ref, alt, s))
            rec += 1
    for pos in (100, 200):  # a contig the reference lacks
        lines.append(f"chrUn\t{pos}\t.\tA\tG\t50\tPASS\tDP=10")
        expected.append(Expected(rec, "chrUn", pos, None, "A", "G", "contig not in the reference"))
        rec += 1
    header = ["##fileformat=VCFv4.2", '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">']
    header += ['##ALT=<ID=DEL,Description="Deletion">']
    header += [f"##contig=<ID={c},length={len(s)}>" for c, s in seqs.items()] + ["##contig=<ID=chrUn,length=1000>"]
    header.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    path = Path(folder) / f"{name}.vcf"
    path.write_text("\n".join(header + lines) + "\n")
    gz = pysam.tabix_index(str(path), preset="vcf", force=True)
    return Path(gz), expected, rec


def window(p: int, n_ref: int, L: int, w: int) -> tuple[int, int]:
    """The documented centring rule, written out independently for the tests."""
    start = p - w // 2
    if start + w > L:
        start = L - w
    start = max(start, 0)
    return start, min(L, start + w)


def expected_windows(e: Expected, seqs: dict[str, str], w: int) -> tuple[str, str, int, int] | None:
    """``(reference window, mutant window, start, end)`` by plain string operations, or None if it does not fit."""
    ref, alt, p = e.ref, e.alt, e.pos - 1
    if len(ref) != len(alt) and ref[0] == alt[0]:  # the VCF anchor base
        ref, alt, p = ref[1:], alt[1:], p + 1
    seq = seqs[e.chrom]
    start, end = window(p, len(ref), len(seq), w)
    if p + len(ref) > end:
        return None
    refw = seq[start:end]
    o = p - start
    return refw, refw[:o] + alt + refw[o + len(ref) :], start, end
