"""The genome view's files (core/reports/genome_view.py), without a browser: the reference igv.js reads, the
loaded intervals, lens tracks as bigWig, motif instances on genome coordinates, scored variants as VCF."""

import numpy as np
import pandas as pd
import pytest

from core.io.sequences import Sequence, read_bed, reverse_complement
from core.reports.genome_view import build_genome_view

pyBigWig = pytest.importorskip("pyBigWig")


def test_fasta_sequences_become_contigs_with_tracks_motifs_and_variants(tmp_path, tiny_model):
    rng = np.random.default_rng(0)
    seqs = [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), 80 + 10 * i))) for i in range(3)]
    tracks = {"attention": [rng.random(len(s.seq)) for s in seqs]}
    inst = pd.DataFrame(
        {"motif": ["M1"], "sequence_id": ["s1"], "start": [-3], "end": [21], "strand": ["-"]}
        | {"core_start": [2], "core_end": [12]}
    )
    s = seqs[2]
    vcf = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    vcf += f"s2\t40\tv1\t{s.seq[39]}\t{'A' if s.seq[39] != 'A' else 'C'}\t.\t.\t.\n"
    vcf += "s2\t41\tv2\tNN\tA\t.\t.\t.\n"
    view = build_genome_view(
        tmp_path / "v", seqs, tracks=tracks, instances=inst, vcf=("mine.vcf", vcf.encode()), model=tiny_model, url="u/"
    )
    o = view.options
    assert o["loadDefaultGenomes"] is False and o["search"] is False
    assert o["reference"]["fastaURL"] == "u/reference.fa" and o["locus"] == "s0:1-80"
    assert [t["name"] for t in o["tracks"]] == ["loaded sequences", "attention", "motif instances", "scored variants"]
    fa = (tmp_path / "v" / "reference.fa").read_text().split(">")[1:]
    assert [(r.split("\n", 1)[0], r.split("\n", 1)[1].replace("\n", "")) for r in fa] == [(q.id, q.seq) for q in seqs]
    assert (tmp_path / "v" / "reference.fa.fai").exists()
    bw = pyBigWig.open(str(tmp_path / "v" / "track-0.bw"))
    for q, t in zip(seqs, tracks["attention"]):
        np.testing.assert_allclose(bw.values(q.id, 0, len(q.seq)), t, rtol=1e-6)
    assert (tmp_path / "v" / "motifs.bed").read_text() == "s1\t2\t12\tM1 in s1\t0\t-\n"
    assert len(view.variants) == 1 and view.variants.id.tolist() == ["v1"]
    assert view.skipped.reason.str.startswith("REF does not match").tolist() == [True]
    lines = [ln for ln in (tmp_path / "v" / "variants.vcf").read_text().splitlines() if not ln.startswith("#")]
    assert lines[0].startswith("s2\t40\tv1\t") and "DELTA=" in lines[0]


def test_bed_intervals_without_their_reference_are_rebuilt_in_place(tmp_path):
    from genome_data import make_reference

    ref, chroms = make_reference(tmp_path, sizes={"chrA": 500, "chrB": 300}, seed=1)
    bed = tmp_path / "r.bed"
    bed.write_text("chrA\t100\t150\ta\t0\t+\nchrA\t140\t200\tb\t0\t-\nchrB\t10\t30\tc\t0\t-\n")
    seqs = read_bed(bed, ref)
    assert seqs[1].seq == reverse_complement(chroms["chrA"][140:200])
    build_genome_view(tmp_path / "v", seqs)  # the reference file is not known here
    rec = {
        r.split("\n", 1)[0]: r.split("\n", 1)[1].replace("\n", "")
        for r in (tmp_path / "v" / "reference.fa").read_text().split(">")[1:]
    }
    assert rec["chrA"] == "N" * 100 + chroms["chrA"][100:200]
    assert rec["chrB"] == "N" * 10 + chroms["chrB"][10:30]
    view = build_genome_view(tmp_path / "w", seqs, reference=ref)  # known: the reference itself, linked
    assert (tmp_path / "w" / "reference.fa").read_bytes() == ref.read_bytes()
    assert view.options["locus"] == "chrA:101-150"
    assert (tmp_path / "w" / "intervals.bed").read_text().splitlines()[1] == "chrA\t140\t200\tb\t0\t-"
    # a rebuild never writes through the link into the user's reference
    build_genome_view(tmp_path / "w", seqs[:1])
    assert ref.read_bytes().startswith(b">chrA generated\n")
