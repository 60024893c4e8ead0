"""core.io.vcf: VCF through pysam (plain, bgzip + tabix, BCF), alleles split and skipped with reasons, errors."""

import gzip
import os

import pytest

pysam = pytest.importorskip("pysam")

from core.errors import InputError  # noqa: E402
from core.io.vcf import VcfAllele, VcfSkip, iter_vcf, looks_like_vcf, read_vcf, read_vcf_bytes, skip_counts  # noqa: E402

GENOME = {"chr1": "ACGTACGTAC" * 6, "chr2": "TTTTGGGGCC" * 4}
ROWS = [
    "chr1\t2\tv1\tC\tA,G\t.\tPASS\tDP=7",  # multi-allelic: two alleles
    "chr1\t5\tv2\tA\t.\t.\tPASS\t.",  # ALT '.'
    "chr1\t9\tv3\tA\t<DEL>\t.\tPASS\tSVTYPE=DEL;END=20",  # symbolic
    "chr1\t12\tv4\tG\tG]chr2:5]\t.\tPASS\t.",  # breakend
    "chr1\t13\tv5\tT\t*,C\t.\tPASS\t.",  # spanning deletion + a real allele (reference reads G at 13)
    "chr1\t22\tv6\tCGT\tC\t.\tPASS\t.",  # deletion, REF matches
    "chr2\t3\tv7\tG\tT\t.\tPASS\t.",  # REF mismatch: reference reads T
    "chr2\t40\t.\tCA\tC\t.\tPASS\t.",  # runs past the end of chr2 (length 40)
    "chrX\t3\tv9\tA\tG\t.\tPASS\t.",  # contig not in the reference
]


def header(contigs=True):
    hdr = pysam.VariantHeader()
    if contigs:
        for name in ("chr1", "chr2", "chrX"):
            hdr.contigs.add(name, length=100)
    hdr.add_line('##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">')
    hdr.add_line('##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">')
    hdr.add_line('##INFO=<ID=END,Number=1,Type=Integer,Description="End">')
    hdr.add_line('##ALT=<ID=DEL,Description="Deletion">')
    return hdr


def write_vcf(path, rows=ROWS):
    path.write_text(str(header()) + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def reference(tmp_path):
    fa = tmp_path / "ref.fa"
    fa.write_text("".join(f">{c}\n{s}\n" for c, s in GENOME.items()))
    return fa


@pytest.fixture
def three_formats(tmp_path):
    plain = write_vcf(tmp_path / "v.vcf")
    copy = write_vcf(tmp_path / "w.vcf")
    bgz = pysam.tabix_index(str(copy), preset="vcf", force=True)  # bgzip + .tbi, as bcftools users have them
    bcf = tmp_path / "v.bcf"
    with pysam.VariantFile(str(plain)) as src, pysam.VariantFile(str(bcf), "wb", header=src.header) as out:
        for rec in src:
            out.write(rec)
    return plain, bgz, bcf


def summary(items):
    return [(i.chrom, i.pos, i.ref, i.alt, i.record, i.reason if isinstance(i, VcfSkip) else "ok") for i in items]


def test_plain_bgzip_and_bcf_give_the_same_alleles(three_formats):
    results = [list(iter_vcf(p)) for p in three_formats]
    assert summary(results[0]) == summary(results[1]) == summary(results[2])
    kept = [i for i in results[0] if isinstance(i, VcfAllele)]
    assert [(a.pos, a.ref, a.alt, a.record) for a in kept] == [
        (2, "C", "A", 0),
        (2, "C", "G", 0),
        (13, "T", "C", 4),
        (22, "CGT", "C", 5),
        (3, "G", "T", 6),
        (40, "CA", "C", 7),
        (3, "A", "G", 8),
    ]
    assert kept[0].id == "v1" and kept[0].info["DP"] == 7 and kept[5].id is None


def test_unscorable_alleles_are_skipped_with_their_reason(three_formats):
    _, skipped = read_vcf(three_formats[1])
    reasons = {s.id: s.reason for s in skipped}
    assert reasons["v2"].startswith("ALT is '.'") and [s.alt for s in skipped if s.id == "v2"] == ["."]
    assert reasons["v3"].startswith("symbolic allele <DEL>")
    assert reasons["v4"].startswith("breakend")
    assert reasons["v5"].startswith("spanning deletion *")
    assert skip_counts(skipped) == {"ALT is '.'": 1, "symbolic allele": 1, "breakend": 1, "spanning deletion *": 1}


def test_reference_checks_contig_ref_and_length(three_formats, reference):
    for path in three_formats:
        kept, skipped = read_vcf(path, reference=reference)
        assert [(a.chrom, a.pos, a.alt) for a in kept] == [("chr1", 2, "A"), ("chr1", 2, "G"), ("chr1", 22, "C")]
        why = {(s.chrom, s.pos, s.alt): s.reason for s in skipped}
        assert why[("chr1", 13, "C")] == "REF does not match the reference (reference reads 'G')"
        assert why[("chr2", 3, "T")] == "REF does not match the reference (reference reads 'T')"
        assert why[("chr2", 40, "C")].startswith("past the end of chr2 (length 40)")
        assert why[("chrX", 3, "G")] == "contig not in the reference"
    import pyfaidx

    kept, _ = read_vcf(three_formats[0], reference=pyfaidx.Fasta(str(reference)))  # an open Fasta works too
    assert len(kept) == 3


def test_plain_gzip_bom_crlf_and_bytes(tmp_path):
    text = str(header(contigs=False)) + "chr1\t2\tv1\tc\ta\t.\tPASS\t.\n"
    gz = tmp_path / "plain.vcf.gz"
    gz.write_bytes(gzip.compress(text.encode()))  # gzip, not bgzip: htslib cannot read it directly
    bom = tmp_path / "bom.vcf"
    bom.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    for p in (gz, bom):
        kept, skipped = read_vcf(p)
        assert [(a.ref, a.alt) for a in kept] == [("C", "A")] and not skipped, p
    assert looks_like_vcf(gz.read_bytes()[:4096]) and looks_like_vcf(bom.read_bytes())
    assert not looks_like_vcf(b"seq_id\tpos\tref\talt\n")
    kept, _ = read_vcf_bytes(gz.read_bytes(), source="upload.vcf.gz")
    assert kept[0].alt == "A"


def fixed(rows):
    return "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(r + "\n" for r in rows)


@pytest.mark.parametrize(
    "content,msg",
    [
        ("", "the VCF is empty"),
        ("hello\n", r"this is not a VCF: the first line must be '##fileformat=VCFv4.x', found 'hello'"),
        ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\ns1\t4\t.\tT\tA\n", "the #CHROM line has 5"),
        ("##fileformat=VCFv4.2\n", "the header has no '#CHROM"),
        (fixed(["s1\tfour\t.\tT\tA\t.\t.\t."]), r"line 3: data record 1: POS 'four' is not a positive whole number"),
        (fixed(["s1\t4\t.\tT\tA\t.\t.\t.", "s1\t5\t.\tT"]), r"line 4: data record 2: a VCF record needs 8"),
        (fixed(["s1\t4\t.\tT\tA\t.\t.\t.", "", "s1\t6\t.\tT\tA\t.\t.\t."]), r"line 4: data record 2: a blank line"),
    ],
)
def test_malformed_vcf_names_file_record_and_line(tmp_path, content, msg):
    p = tmp_path / "bad.vcf"
    p.write_text(content)
    with pytest.raises(InputError, match=msg) as err:
        read_vcf(p)
    assert str(p) in str(err.value)


def test_truncated_and_corrupt_compressed_vcf(three_formats, tmp_path):
    _, bgz, bcf = three_formats
    raw = open(bgz, "rb").read()
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"cut.vcf.gz: cannot read the VCF: the bgzip stream is truncated"):
        read_vcf(cut)
    bad = bytearray(raw)
    bad[40:48] = b"\xff" * 8
    corrupt = tmp_path / "corrupt.vcf.gz"
    corrupt.write_bytes(bytes(bad))
    with pytest.raises(
        InputError, match=r"corrupt.vcf.gz: cannot read the VCF: the (bgzip|compressed) stream is corrupt"
    ):
        read_vcf(corrupt)
    raw = bcf.read_bytes()
    cut_bcf = tmp_path / "cut.bcf"
    cut_bcf.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="cut.bcf: .*truncated"):
        read_vcf(cut_bcf)


def test_folder_and_pipe_are_refused(tmp_path):
    with pytest.raises(InputError, match="this is a folder"):
        read_vcf(tmp_path)
    fifo = tmp_path / "fifo.vcf"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_vcf(fifo)  # refused at once, never opened (opening a FIFO would wait for a writer)
