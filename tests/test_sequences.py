import gzip

import numpy as np
import pytest

from core.errors import InputError
from core.io.sequences import (
    gc_content,
    parse_bed,
    parse_text,
    read_bed,
    read_fasta,
    reverse_complement,
    sequences_table,
)


def write(p, text):
    p.write_text(text)
    return p


def test_fasta_multi_record_softmask_and_n(tmp_path):
    f = write(tmp_path / "a.fa", ">s1 label=1 some text\nacgtNN\nACG\n>s2\nTTTT\n")
    recs = read_fasta(f)
    assert [r.id for r in recs] == ["s1", "s2"]
    assert recs[0].seq == "ACGTNNACG"  # soft-masked bases upper-cased, N kept
    assert recs[0].label == 1 and recs[1].label is None
    assert recs[0].description == "label=1 some text"
    assert recs[0].source == "a.fa"


def test_fasta_gzip(tmp_path):
    p = tmp_path / "a.fa.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(">x\nACGT\n>y\nGG\nCC\n")
    assert [(r.id, r.seq) for r in read_fasta(p)] == [("x", "ACGT"), ("y", "GGCC")]


def test_invalid_character_names_record_line_and_character(tmp_path):
    f = write(tmp_path / "bad.fa", ">ok\nACGT\n>s2 desc\nACGTACGT\nACXGT\n")
    with pytest.raises(InputError) as e:
        read_fasta(f)
    msg = str(e.value)
    assert "bad.fa" in msg and "record 's2'" in msg and "line 5" in msg and "'X'" in msg and "column 3" in msg


def test_empty_file_and_no_records(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_fasta(write(tmp_path / "e.fa", ""))
    with pytest.raises(InputError, match="empty"):
        read_fasta(write(tmp_path / "blank.fa", "\n\n  \n"))
    with pytest.raises(InputError, match=r"line 1: expected a FASTA header"):
        read_fasta(write(tmp_path / "raw.fa", "ACGT\n"))
    with pytest.raises(InputError, match="record 'h'.*no sequence"):
        read_fasta(write(tmp_path / "h.fa", ">h\n>i\nACGT\n"))


def test_duplicate_ids_rejected(tmp_path):
    with pytest.raises(InputError, match="line 3: duplicate sequence id 'a'"):
        read_fasta(write(tmp_path / "d.fa", ">a\nAC\n>a\nGT\n"))


def test_parse_text_raw_and_fasta():
    recs = parse_text("acgtac\nGGCC\n\nTTTT\n")
    assert [(r.id, r.seq) for r in recs] == [("seq_1", "ACGTACGGCC"), ("seq_2", "TTTT")]
    recs = parse_text(">q1\nACGT\n>q2\nNNNN\n")
    assert [r.id for r in recs] == ["q1", "q2"]
    with pytest.raises(InputError, match="pasted text, record 'seq_1', line 2: invalid character '!'"):
        parse_text("ACGT\nAC!T\n")
    with pytest.raises(InputError, match="empty"):
        parse_text("   \n")


def test_reverse_complement_and_gc():
    assert reverse_complement("AACGTN") == "NACGTT"
    assert gc_content("GGCCAT") == pytest.approx(4 / 6)
    assert np.isnan(gc_content("NNN"))


REF = ">chr1\nAAAACCCCGGGGTTTT\nacgtacgtACGTACGT\n>chr2\nGGGGAAAA\n"


def test_bed_strand_aware(tmp_path):
    ref = write(tmp_path / "ref.fa", REF)
    bed = write(
        tmp_path / "x.bed",
        "track name=t\nbrowser position chr1:1-10\n# comment\n"
        "chr1\t2\t10\tfwd\t0\t+\n"
        "chr1\t2\t10\trev\t0\t-\n"
        "chr1\t16\t20\n"
        "chr2 0 4 . 0 .\n",
    )
    recs = read_bed(bed, ref)
    assert recs[0].id == "fwd" and recs[0].seq == "AACCCCGG"
    assert recs[1].id == "rev" and recs[1].seq == reverse_complement("AACCCCGG")
    assert (recs[1].chrom, recs[1].start, recs[1].end, recs[1].strand) == ("chr1", 2, 10, "-")
    assert recs[2].id == "chr1:16-20(+)" and recs[2].seq == "ACGT"  # soft-masked -> upper case
    assert recs[3].id == "chr2:0-4(+)" and recs[3].strand == "+"
    # genomic coordinates of each base, - strand runs backwards
    assert list(recs[1].genomic_positions()) == list(range(9, 1, -1))
    assert list(recs[0].genomic_positions()) == list(range(2, 10))


def test_bed_errors(tmp_path):
    ref = write(tmp_path / "ref.fa", REF)
    with pytest.raises(
        InputError,
        match=r"b1.bed, line 2: interval chr1:10-40 runs past the end of chr1 "
        r"\(length 32\)",
    ):
        read_bed(write(tmp_path / "b1.bed", "chr1\t0\t5\nchr1\t10\t40\n"), ref)
    with pytest.raises(InputError, match=r"b2.bed, line 1: chromosome 'chrX' is not in the reference"):
        read_bed(write(tmp_path / "b2.bed", "chrX\t0\t5\n"), ref)
    with pytest.raises(InputError, match="line 1: invalid interval"):
        parse_bed(["chr1\t5\t5\n"], "b.bed")
    with pytest.raises(InputError, match="at least 3 columns"):
        parse_bed(["chr1\t5\n"], "b.bed")
    with pytest.raises(InputError, match=r"line 1: start \(0-based\) must be a whole number, found 'x'"):
        parse_bed(["chr1\tx\t5\n"], "b.bed")
    with pytest.raises(InputError, match="no BED intervals"):
        parse_bed(["track name=x\n"], "b.bed")
    with pytest.raises(InputError, match="reference FASTA not found"):
        read_bed(write(tmp_path / "b3.bed", "chr1\t0\t5\n"), tmp_path / "missing.fa")


def test_sample_bed_motifs_read_forward(sample):
    """The shipped BED intervals carry the planted motif in their own orientation, on both strands."""
    import pandas as pd

    recs = {r.id: r for r in read_bed(sample / "intervals.bed", sample / "reference.fa")}
    truth = pd.read_csv(sample / "intervals_truth.tsv", sep="\t")
    strands = {r.strand for r in recs.values()}
    assert strands == {"+", "-"}
    from core.train.demo import DemoGenerator, jaspar_ppms

    gen = DemoGenerator(jaspar_ppms())
    for row in truth.dropna(subset=["motif"]).itertuples():
        inst = recs[row.id].seq[int(row.start) : int(row.end)]
        cons = "".join("ACGT"[i] for i in gen.ppms[row.motif].argmax(axis=1))
        matches = sum(a == b for a, b in zip(inst, cons))
        assert matches >= 0.6 * len(cons), (row.id, inst, cons)


def test_sequences_table():
    recs = parse_text(">a label=0\nGGCC\n>b\nATAT\n")
    df = sequences_table(recs)
    assert list(df["gc"]) == [1.0, 0.0] and list(df["length"]) == [4, 4]


def test_labelled_fasta_is_read_in_one_pass(tmp_path, monkeypatch):
    """Header lines are only searched for when there is an error to report: valid labels never rescan the file
    (a rescan per record made reading train.fa.gz quadratic)."""
    from core.io import sequences

    calls = []
    real = sequences._locate_header
    monkeypatch.setattr(sequences, "_locate_header", lambda *a: calls.append(1) or real(*a))
    fa = tmp_path / "many.fa"
    fa.write_text("".join(f">s{i} label={i % 2}\nACGTACGT\n" for i in range(500)))
    assert [s.label for s in sequences.read_fasta(fa)][:4] == [0, 1, 0, 1] and not calls
    fa.write_text(">a label=1\nACGT\n>b label=inf\nACGT\n")
    with pytest.raises(InputError, match="line 3"):
        sequences.read_fasta(fa)


def test_an_edited_reference_is_reindexed(tmp_path):
    """A .fai older than its FASTA (the reference was edited after indexing) is rebuilt, never trusted."""
    import os

    ref = tmp_path / "ref.fa"
    ref.write_text(">chr1\nACGTACGTAC\n")
    bed = tmp_path / "a.bed"
    bed.write_text("chr1\t0\t4\n")
    assert read_bed(bed, ref)[0].seq == "ACGT"
    ref.write_text(">chr2\nGGGGGGGGGG\n>chr1\nTTTTTTTTTTTTTTTTTTTT\n")  # chr1 moved: old offsets read chr2
    fai = tmp_path / "ref.fa.fai"
    os.utime(fai, (1, 1))  # the old index is now older than the FASTA
    assert read_bed(bed, ref)[0].seq == "TTTT"
