import math

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.io.sequences import Sequence, read_bed, read_fasta, reverse_complement
from core.lenses.agreement import agreement
from core.lenses.ism import saturation_mutagenesis
from core.model.scoring import effect_scores
from core.variants.variants import (
    Variant,
    alt_to_ref_map,
    parse_variants,
    read_variant_file,
    score_variants,
    tracks_before_after,
)


def test_effect_scores_by_hand():
    sc = effect_scores(0.8, 0.2)
    assert sc["delta"] == pytest.approx(-0.6)
    assert sc["diff"] == pytest.approx(-0.6 * 0.8)  # (p_alt - p_ref) * max(p_ref, p_alt)
    assert sc["logOR"] == pytest.approx(math.log2(4) - math.log2(0.25))  # 4 > 0: the variant lowers p
    up = effect_scores(0.2, 0.8)
    assert up["diff"] == pytest.approx(0.6 * 0.8) and up["logOR"] == pytest.approx(-4)
    edge = effect_scores(1.0, 0.0)  # clipped: finite
    assert np.isfinite(edge["logOR"]) and edge["logOR"] == pytest.approx(2 * math.log2((1 - 1e-6) / 1e-6))


def test_variant_apply_and_coordinate_map():
    ref = "ACGTACGTAC"
    sub = Variant("s", 3, "T", "G")
    assert sub.apply(ref) == "ACGGACGTAC" and sub.kind == "substitution"
    assert alt_to_ref_map(sub, 10).tolist() == list(range(10))
    dele = Variant("s", 2, "GTA", "")
    assert dele.apply(ref) == "ACCGTAC" and dele.kind == "deletion"
    assert alt_to_ref_map(dele, 10).tolist() == [0, 1, 5, 6, 7, 8, 9]  # reference positions 2..4 deleted
    ins = Variant("s", 4, "", "TT")
    assert ins.apply(ref) == "ACGTTTACGTAC" and ins.kind == "insertion"
    assert alt_to_ref_map(ins, 10).tolist() == [0, 1, 2, 3, -1, -1, 4, 5, 6, 7, 8, 9]


def seqs():
    return [Sequence("s1", "ACGTACGTACGTACGTACGT"), Sequence("s2", "TTTTGGGGCCCCAAAATTTT")]


def test_table_variants_one_based_dash_alleles_and_vcf_anchors():
    text = (
        "seq_id\tpos\tref\talt\tnote\n"
        "s1\t4\tT\tG\tsnv\n"
        "s1\t5\tA\t-\tdel\n"
        "s2\t3\t-\tCC\tins\n"
        "s2\t4\tTG\tT\tvcf-style deletion\n"
        "s2\t8\tG\tGAA\tvcf-style insertion\n"
    )
    vs = parse_variants(text, seqs(), "t.tsv")
    assert [(v.seq_id, v.offset, v.ref, v.alt) for v in vs] == [
        ("s1", 3, "T", "G"),
        ("s1", 4, "A", ""),
        ("s2", 2, "", "CC"),
        ("s2", 4, "G", ""),
        ("s2", 8, "", "AA"),
    ]
    assert vs[3].apply("TTTTGGGGCCCCAAAATTTT") == "TTTTGGGCCCCAAAATTTT"
    assert [v.source_line for v in vs] == [2, 3, 4, 5, 6] and vs[0].label == "snv"


def test_vcf_multiallelic_split_and_sequence_ids():
    vcf = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\ns1\t2\tv1\tC\tA,G,T\t.\tPASS\t.\n"
    vs = parse_variants(vcf, seqs(), "x.vcf")
    assert [(v.offset, v.alt, v.label) for v in vs] == [(1, "A", "v1"), (1, "G", "v1"), (1, "T", "v1")]


@pytest.mark.parametrize(
    "text,msg",
    [
        (
            "seq_id\tpos\tref\talt\ns1\t4\tA\tG\n",
            r"t.tsv, line 2: REF 'A' does not match sequence 's1' at position 4, "
            r"which reads 'T'",
        ),
        ("seq_id\tpos\tref\talt\ns1\t40\tA\tG\n", r"line 2: position 40 is outside sequence 's1' \(length 20\)"),
        ("seq_id\tpos\tref\talt\nsX\t4\tT\tG\n", r"line 2: 'sX' is neither a loaded sequence id"),
        ("seq_id\tpos\tref\talt\ns1\t4\tT\tR\n", r"line 2: ALT allele 'R' is not a DNA string"),
        ("seq_id\tpos\tref\talt\ns1\tfour\tT\tG\n", r"line 2: pos must be a whole number"),
        ("seq_id\tpos\tref\talt\ns1\t0\tT\tG\n", r"line 2: pos is 1-based and must be at least 1, found 0"),
        ("seq_id\tpos\tref\talt\n", "header but no variants"),
        ("id\tposition\n s1\t4\n", "needs a header with seq_id"),
        ("", "empty"),
        (
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
            "the VCF has a header but no variant records",
        ),
        (
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\ns1\t4\t.\tT\tA\n",
            "the #CHROM line has 5 tab-separated columns",
        ),
        (
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\ns1\t4\t.\tT\t<DEL>\t.\t.\t.\n",
            r"^x: no variant could be scored: all 1 alleles were skipped \(symbolic allele <DEL>: 1\)",
        ),
        (
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\ns1\t4\t.\tG\tA\t.\t.\t.\n",
            r"^x: no variant .* s1:4 G>A: REF 'G' does not match sequence 's1' at position 4, which reads 'T'",
        ),
    ],
)
def test_hostile_variant_input(text, msg):
    with pytest.raises(InputError, match=msg):
        parse_variants(text, seqs(), "t.tsv" if not text.startswith("##") else "x")


def test_genomic_variants_on_both_strands(tmp_path):
    ref = tmp_path / "r.fa"
    ref.write_text(">chr1\nAAAACCCCGGGGTTTTACGT\n")
    bed = tmp_path / "b.bed"
    bed.write_text("chr1\t2\t14\tplus\t0\t+\nchr1\t2\t14\tminus\t0\t-\n")
    recs = read_bed(bed, ref)
    vcf = (
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr1\t6\tsnv\tC\tT\t.\t.\t.\n"  # genomic 0-based 5
        "chr1\t9\tdel\tGG\tG\t.\t.\t.\n"
    )  # delete genomic 9 (anchor at 8)
    vs = parse_variants(vcf, recs, "v.vcf")
    assert len(vs) == 4  # each variant on both intervals
    genome = "AAAACCCCGGGGTTTTACGT"
    for v in vs:
        s = next(r for r in recs if r.id == v.seq_id)
        g = list(genome)
        if v.label == "snv":
            g[5] = "T"
        else:
            del g[9]
        fwd = "".join(g)[2:13] if v.label == "del" else "".join(g)[2:14]
        expect = fwd if s.strand == "+" else reverse_complement(fwd)
        assert v.apply(s.seq) == expect, (v, s.strand)
        assert v.genomic == ("chr1:6" if v.label == "snv" else "chr1:9")
    minus_snv = next(v for v in vs if v.seq_id == "minus" and v.label == "snv")
    assert (minus_snv.ref, minus_snv.alt, minus_snv.offset) == ("G", "A", 14 - 5 - 1)


def test_saturation_matches_single_predictions(demo_model):
    from core.model.inference import predict

    s = Sequence("x", "ACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGGGGGCGCTAGCTAGGATC")
    res = saturation_mutagenesis(demo_model, s, 10, 20, batch_size=7)
    assert len(res.table) == 30 and res.effect.shape == (4, 10)
    assert set(res.table["position"]) == set(range(10, 20))
    row = res.table.iloc[4]
    mutant = s.seq[: row.position] + row.alt + s.seq[row.position + 1 :]
    (_, p_ref), (_, p_alt) = predict(demo_model, [s, Sequence("m", mutant)])
    assert row.p_ref == pytest.approx(p_ref[1], abs=1e-5) and row.p_alt == pytest.approx(p_alt[1], abs=1e-5)
    assert res.effect["ACGT".index(row.alt), row.position - 10] == pytest.approx(row.delta)
    assert (res.effect[["ACGT".index(b) for b in s.seq[10:20]], range(10)] == 0).all()  # reference base: 0
    with pytest.raises(InputError, match="outside the sequence"):
        saturation_mutagenesis(demo_model, s, 10, 500)


def test_sample_variants_inside_motifs_matter_more(demo_model, sample):
    """On the shipped variant table, substitutions inside planted motifs change the prediction far more."""
    pos = read_fasta(sample / "demo_positives.fa")
    vs = read_variant_file(sample / "variants.tsv", pos)
    df = score_variants(demo_model, pos, vs)
    inside = df["delta"].abs()[[v.label.startswith("inside") for v in vs]]
    outside = df["delta"].abs()[[v.label.startswith("outside") for v in vs]]
    assert len(inside) == len(outside) == 20
    assert inside.median() > 0.2 and inside.median() > 10 * outside.median(), (inside.median(), outside.median())
    assert (df["logOR"][[v.label.startswith("inside") for v in vs]] > 0).mean() > 0.8  # mostly lowering


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_saturation_map_concentrates_on_the_motif(demo_model, sample):
    pos = {s.id: s for s in read_fasta(sample / "demo_positives.fa")}
    truth = pd.read_csv(sample / "truth.tsv", sep="\t").set_index("id")
    ratios = []
    for sid in ["pos_0002", "pos_0003", "pos_0005"]:
        res = saturation_mutagenesis(demo_model, pos[sid])
        eff = res.per_position("maxabs")
        t = truth.loc[sid]
        inside = eff[int(t.start) : int(t.end)].mean()
        outside = np.delete(eff, range(int(t.start), int(t.end))).mean()
        ratios.append(inside / outside)
    assert min(ratios) > 3, ratios


def test_before_after_deletion_and_agreement(demo_model):
    s = Sequence("x", "ACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGGGGGCGCTAGCTAGGATC")
    v = Variant("x", 15, "TATA", "")
    ba = tracks_before_after(demo_model, s, v)
    assert ba.ref_track.shape == (len(s.seq),) and ba.alt_track.shape == (len(s.seq) - 4,)
    assert np.isnan(ba.alt_on_ref[15:19]).all() and np.isfinite(np.delete(ba.alt_on_ref, range(15, 19))).all()
    ins = tracks_before_after(demo_model, s, Variant("x", 10, "", "GGG"))
    assert len(ins.inserted) == 3 and ins.inserted_after == 9 and np.isfinite(ins.alt_on_ref).all()
    a = np.arange(20.0)
    ag = agreement(a, a**2, top_k=5)
    assert ag["spearman_rho"] == pytest.approx(1.0) and ag["top_k_overlap"] == 5
    ag = agreement(a, -a, top_k=5)
    assert ag["spearman_rho"] == pytest.approx(-1.0) and ag["top_k_overlap"] == 0
