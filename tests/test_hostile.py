"""A hostile-input corpus, generated here, run through the real command line: every case ends with status 2 and one
line on stderr that names the file and the cause (never "internal error"); inputs that are odd but valid (BOM,
bgzip VCF, stdin) work. A few run as a real ``dnalens`` subprocess with a timeout (a FIFO must not hang).

Categories (issue 15, "Why"): labels (label=inf, NaN/inf/huge labels in tables), truncated .gz, a folder where a
file belongs, malformed score files (shape, object array, NaN, row count, missing columns, text), model folders
(empty / malformed / k=3 vocabulary beside k=6 weights, damaged config.json), malformed --config JSON, FIFO and
device files, variant text that names a server file, VCF (bgzip read as VCF, ALT '.', symbolic, breakend, all
skipped), BOM, stdin, --overlap >= window, numbers out of range, BED and variant-table fields.
"""

import gzip
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.model.tokenization import dnabert_vocab

FA = ">s1 label=1\nACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGGGGGCGCTAGCTAG\n>s2 label=0\nTTTTGGGGCCCCAAAATTTTACGTACGTGGCCAATTGGCCAATATATAGCG\n"
MANY = "".join(f">r{i}\nACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGG\n" for i in range(300))  # distinct ids
DNABERT = str(Path(sys.executable).parent / "dnalens")


def noise(n: int, seed: int) -> bytes:
    """n random bytes, the same on every run (os.urandom once put a line break first and moved the error's line)."""
    return random.Random(seed).randbytes(n)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The hostile files (written fresh for every run, in real formats)."""
    d = tmp_path_factory.mktemp("hostile")

    def put(name, content):
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
        return p

    put("ok.fa", FA)
    put("label_inf.fa", FA.replace("label=1", "label=inf"))
    put("label_neg.fa", FA.replace("label=0", "label=-2"))
    put("label_huge.fa", FA.replace("label=1", "label=1e300"))
    put("nan_label.tsv", "sequence\tlabel\nACGTACGTAC\t1\nACGTACGTTT\tnan\n")
    put("inf_label.tsv", "sequence\tlabel\nACGTACGTAC\tinf\nACGTACGTTT\t0\n")
    put("huge_label.tsv", "sequence\tlabel\nACGTACGTAC\t99999999999999999999\nACGTACGTTT\t0\n")
    put("short_row.tsv", "id\tsequence\tlabel\nr1\tACGTACGTAC\t1\nr2\tACGT\n")
    put("truncated.fa.gz", gzip.compress(MANY.encode())[:-30])
    put("corrupt.fa.gz", b"\x1f\x8b\x08\x00" + noise(64, seed=1))
    (d / "a_folder.fa").mkdir()
    # starts with a byte that is not a line break, so the first line is line 1 on every run
    put("binary.fa", b"\x00" + noise(4096, seed=2).replace(b">", b"x"))
    put("bom.fa", b"\xef\xbb\xbf" + FA.encode())
    put("bom.bed", b"\xef\xbb\xbfchr1\t0\t60\tiv1\t0\t+\n")
    put("bom.tsv", b"\xef\xbb\xbfsequence\tlabel\nACGTACGTACGTAAAT\t1\nACGTACGTTTGGCA\t0\n")
    put("ref.fa", ">chr1\n" + "ACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGGGGGCGCTAGCTAGGATCCATGCAAGT\n")
    put("bad_strand.bed", "chr1\t0\t20\tx\t0\t+-\n")
    put("neg_start.bed", "chr1\t-5\t20\n")
    put("inf_end.bed", "chr1\t0\tinf\n")
    # score files for motifs --scores (2 positives)
    np.save(d / "wrong_shape.npy", np.zeros((2, 3, 4)))
    np.save(d / "object.npy", np.array([[1, "a"], [None, 2.0]], dtype=object), allow_pickle=True)
    np.save(d / "nan.npy", np.where(np.eye(2, 60) > 0, np.nan, 0.5))
    np.save(d / "rows.npy", np.zeros((3, 60)))
    np.save(d / "text.npy", np.array([["a"] * 60] * 2))
    put("missing_cols.csv", "id,pos,value\ns1,0,0.5\n")
    put("dup_positions.csv", "id,position,score\ns1,0,0.5\ns1,0,0.6\ns2,0,0.1\n")
    put("nan_scores.csv", "id,position,score\ns1,0,nan\ns2,0,0.1\n")
    put("not_parquet.parquet", b"PAR1garbage")
    # variants
    put("secret.txt", "seq_id\tpos\tref\talt\ns1\t1\tA\tG\n")
    put("path_as_variants.tsv", str(d / "secret.txt") + "\n")
    put("pos_nan.tsv", "seq_id\tpos\tref\talt\ns1\tnan\tA\tG\n")
    put("pos_zero.tsv", "seq_id\tpos\tref\talt\ns1\t0\tA\tG\n")
    vcf_head = "##fileformat=VCFv4.2\n##contig=<ID=s1,length=51>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    rows = "s1\t2\tv1\tC\tA,G\t.\tPASS\t.\ns1\t3\tv2\tG\t.\t.\tPASS\t.\ns1\t4\tv3\tT\t<DEL>\t.\tPASS\t.\n"
    rows += "s1\t5\tv4\tT\tT]s1:20]\t.\tPASS\t.\n"
    put("v.vcf", vcf_head + rows)
    import pysam

    pysam.tabix_compress(str(d / "v.vcf"), str(d / "v.vcf.gz"), force=True)
    put("all_skipped.vcf", vcf_head + "s1\t3\tv2\tG\t.\t.\tPASS\t.\ns1\t4\tv3\tT\t<DEL>\t.\tPASS\t.\n")
    put("five_cols.vcf", "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\ns1\t2\t.\tC\tA\n")
    put("truncated.vcf.gz", (d / "v.vcf.gz").read_bytes()[:-40])
    # --config JSON
    put("config_bad.json", '{"num_hidden_layers": 2,')
    put("config_list.json", "[1, 2]")
    put("config_heads.json", '{"num_attention_heads": 5}')
    put("config_nan.json", '{"hidden_dropout_prob": NaN}')
    put("config_unknown.json", '{"hidden_sise": 64}')
    # model folders (the checks run before any weights are read, so the weights file is a placeholder)
    import json

    good = d / "models" / "k6"
    good.mkdir(parents=True)
    config = {"model_type": "bert", "architectures": ["BertForSequenceClassification"], "vocab_size": 4101}
    config.update(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    (good / "config.json").write_text(json.dumps(config))
    (good / "vocab.txt").write_text("\n".join(dnabert_vocab(6)) + "\n\n")
    (good / "tokenizer_config.json").write_text('{"do_lower_case": false}')
    (good / "model.safetensors").write_bytes(b"placeholder")
    for name, change in {
        "k3_vocab": lambda p: (p / "vocab.txt").write_text("\n".join(dnabert_vocab(3)) + "\n"),
        "empty_vocab": lambda p: (p / "vocab.txt").write_text(""),
        "binary_vocab": lambda p: (p / "vocab.txt").write_bytes(noise(3000, seed=3)),
        "bad_config": lambda p: (p / "config.json").write_text('{"model_type": "bert",'),
    }.items():
        p = d / "models" / name
        p.mkdir()
        for f in good.iterdir():
            (p / f.name).write_bytes(f.read_bytes())
        change(p)
    return d


# (name, argv with {d} for the corpus folder, regex the message must contain)
CASES = [
    (
        "label=inf in a FASTA header",
        ["predict", "{d}/label_inf.fa"],
        r"label_inf.fa, record 's1', line 1: the label .* must be a whole number, found 'inf'",
    ),
    (
        "label=-2 in a FASTA header",
        ["predict", "{d}/label_neg.fa"],
        r"record 's2', line 3: the label .* must be between 0 and 999, found -2",
    ),
    (
        "label=1e300 in a FASTA header",
        ["predict", "{d}/label_huge.fa"],
        r"record 's1', line 1: the label .* must be between 0 and 999",
    ),
    (
        "NaN label in a table",
        ["finetune", "--train", "{d}/nan_label.tsv", "--from-scratch"],
        r"nan_label.tsv, line 3: the label .* must be a whole number, found 'nan'",
    ),
    (
        "inf label in a table",
        ["finetune", "--train", "{d}/inf_label.tsv", "--from-scratch"],
        r"inf_label.tsv, line 2: the label .* found 'inf'",
    ),
    (
        "huge label in a table",
        ["finetune", "--train", "{d}/huge_label.tsv", "--from-scratch"],
        r"huge_label.tsv, line 2: the label .* must be between 0 and 999",
    ),
    (
        "table row with too few columns",
        ["predict", "{d}/short_row.tsv"],
        r"short_row.tsv, line 3: expected 3 columns, found 2",
    ),
    (
        "truncated .gz FASTA",
        ["predict", "{d}/truncated.fa.gz"],
        r"truncated.fa.gz: cannot read the file: the gzip stream is truncated or corrupt",
    ),
    (
        "corrupt .gz FASTA",
        ["predict", "{d}/corrupt.fa.gz"],
        r"corrupt.fa.gz: cannot read the file: the gzip stream is truncated or corrupt",
    ),
    ("a folder where a FASTA belongs", ["predict", "{d}/a_folder.fa"], r"a_folder.fa: this is a folder, not a file"),
    (
        "binary file as FASTA",
        ["predict", "{d}/binary.fa"],
        r"binary.fa, line 1: expected a FASTA header starting with '>'",
    ),
    (
        "device file as FASTA",
        ["predict", "/dev/zero"],
        r"/dev/zero: this is not a regular file \(a pipe, socket or device\)",
    ),
    ("missing file", ["predict", "{d}/nothing.fa"], r"nothing.fa: file not found"),
    (
        "BED strand '+-'",
        ["predict", "--bed", "{d}/bad_strand.bed", "--reference", "{d}/ref.fa"],
        r"bad_strand.bed, line 1: strand must be '\+', '-' or '.', found '\+-'",
    ),
    (
        "BED negative start",
        ["predict", "--bed", "{d}/neg_start.bed", "--reference", "{d}/ref.fa"],
        r"neg_start.bed, line 1: start \(0-based\) must be at least 0, found -5",
    ),
    (
        "BED end inf",
        ["predict", "--bed", "{d}/inf_end.bed", "--reference", "{d}/ref.fa"],
        r"inf_end.bed, line 1: end must be a whole number, found 'inf'",
    ),
    (
        "reference is a folder",
        ["predict", "--bed", "{d}/bom.bed", "--reference", "{d}/a_folder.fa"],
        r"a_folder.fa: this is a folder, not a reference FASTA",
    ),
    (
        "scores: wrong shape",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/wrong_shape.npy", "--no-jaspar"],
        r"wrong_shape.npy: scores array has shape \(2, 3, 4\); expected \[2, length\]",
    ),
    (
        "scores: object array",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/object.npy", "--no-jaspar"],
        r"object.npy: not a numeric .npy array \(Object arrays cannot be loaded",
    ),
    (
        "scores: text array",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/text.npy", "--no-jaspar"],
        r"text.npy: the array holds <U1 values; scores must be numbers",
    ),
    (
        "scores: NaN inside a sequence",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/nan.npy", "--no-jaspar"],
        r"nan.npy, record 's1': row 0 has a non-finite score \(nan\) at position 0",
    ),
    (
        "scores: wrong row count",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/rows.npy", "--no-jaspar"],
        r"rows.npy: scores array has shape \(3, 60\); expected \[2, length\]",
    ),
    (
        "scores table: missing columns",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/missing_cols.csv", "--no-jaspar"],
        r"missing_cols.csv: the scores table lacks the column\(s\) position, score",
    ),
    (
        "scores table: duplicate positions",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/dup_positions.csv", "--no-jaspar"],
        r"dup_positions.csv: the positions of 's1' are not 0 .. 1, once each",
    ),
    (
        "scores table: NaN score",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/nan_scores.csv", "--no-jaspar"],
        r"nan_scores.csv: row 1: score .* is not a finite number \(id 's1', position 0\)",
    ),
    (
        "scores table: not Parquet",
        ["motifs", "{d}/ok.fa", "--scores", "{d}/not_parquet.parquet", "--no-jaspar"],
        r"not_parquet.parquet: cannot read the scores table",
    ),
    (
        "variant text naming a server file",
        ["variants", "{d}/ok.fa", "{d}/path_as_variants.tsv"],
        r"path_as_variants.tsv, line 1: the variant table needs a header with seq_id",
    ),
    (
        "variant pos NaN",
        ["variants", "{d}/ok.fa", "{d}/pos_nan.tsv"],
        r"pos_nan.tsv, line 2: pos must be a whole number \(1-based\), found 'nan'",
    ),
    (
        "variant pos 0",
        ["variants", "{d}/ok.fa", "{d}/pos_zero.tsv"],
        r"pos_zero.tsv, line 2: pos is 1-based and must be at least 1, found 0",
    ),
    (
        "VCF: every allele unscorable",
        ["variants", "{d}/ok.fa", "{d}/all_skipped.vcf"],
        r"all_skipped.vcf: no variant could be scored: all 2 alleles were skipped \(ALT is '.': 1, symbolic allele <DEL>: 1\)",
    ),
    (
        "VCF: 5-column header",
        ["variants", "{d}/ok.fa", "{d}/five_cols.vcf"],
        r"five_cols.vcf: cannot read the VCF: the #CHROM line has 5 tab-separated columns",
    ),
    (
        "VCF: truncated bgzip",
        ["variants", "{d}/ok.fa", "{d}/truncated.vcf.gz"],
        r"truncated.vcf.gz: cannot read the VCF: the bgzip stream is truncated",
    ),
    (
        "--config not JSON",
        ["finetune", "--train", "{d}/bom.tsv", "--from-scratch", "--config", "{d}/config_bad.json"],
        r"config_bad.json: the configuration .* is not valid JSON",
    ),
    (
        "--config a list",
        ["finetune", "--train", "{d}/bom.tsv", "--from-scratch", "--config", "{d}/config_list.json"],
        r"config_list.json: the configuration .* must be a JSON object",
    ),
    (
        "--config heads not dividing hidden",
        ["finetune", "--train", "{d}/bom.tsv", "--from-scratch", "--config", "{d}/config_heads.json"],
        r"config_heads.json: hidden_size 64 must be a multiple of num_attention_heads 5",
    ),
    (
        "--config NaN dropout",
        ["finetune", "--train", "{d}/bom.tsv", "--from-scratch", "--config", "{d}/config_nan.json"],
        r"config_nan.json: hidden_dropout_prob must be a finite number, found 'nan'",
    ),
    (
        "--config unknown field",
        ["finetune", "--train", "{d}/bom.tsv", "--from-scratch", "--config", "{d}/config_unknown.json"],
        r"config_unknown.json: unknown configuration field\(s\) 'hidden_sise'",
    ),
    (
        "--config is /dev/zero",
        ["finetune", "--train", "{d}/bom.tsv", "--from-scratch", "--config", "/dev/zero"],
        r"/dev/zero: this is not a regular file",
    ),
    (
        "model: k=3 vocabulary beside k=6 weights",
        ["predict", "{d}/ok.fa", "--model", "{d}/models/k3_vocab"],
        r"holds 3-mers \(69 tokens\) but its weights were trained on 6-mers",
    ),
    (
        "model: empty vocabulary",
        ["predict", "{d}/ok.fa", "--model", "{d}/models/empty_vocab"],
        r"vocab.txt of 'empty_vocab' is empty",
    ),
    (
        "model: binary vocabulary",
        ["predict", "{d}/ok.fa", "--model", "{d}/models/binary_vocab"],
        r"vocab.txt of 'binary_vocab' lacks DNABERT's special token",
    ),
    (
        "model: damaged config.json",
        ["predict", "{d}/ok.fa", "--model", "{d}/models/bad_config"],
        r"config.json of 'bad_config' is not valid JSON",
    ),
    (
        "--overlap >= window",
        ["attention", "{d}/ok.fa", "--overlap", "600"],
        r"overlap 600 must be at least 0 and smaller than the model's window of 515 bases",
    ),
    (
        "--overlap negative",
        ["attention", "{d}/ok.fa", "--overlap", "-1"],
        r"argument --overlap: the value must be at least 0, found -1",
    ),
    (
        "--batch-size inf",
        ["predict", "{d}/ok.fa", "--batch-size", "inf"],
        r"argument --batch-size: the value must be a whole number, found 'inf'",
    ),
    (
        "--pval-cutoff NaN",
        ["motifs", "{d}/ok.fa", "--pval-cutoff", "nan"],
        r"argument --pval-cutoff: the value must be a finite number, found 'nan'",
    ),
    (
        "--shuffle-copies huge",
        ["motifs", "{d}/ok.fa", "--shuffle-copies", "1e9"],
        r"argument --shuffle-copies: the value must be between 0 and 100",
    ),
    (
        "--stride 0",
        ["predict", "{d}/ok.fa", "--stride", "0"],
        r"argument --stride: the value must be between 1 and 6, found 0",
    ),
    (
        "--lr negative",
        ["finetune", "--train", "{d}/bom.tsv", "--from-scratch", "--lr", "-1"],
        r"argument --lr: the value must be greater than 0",
    ),
]


@pytest.mark.parametrize("name,argv,message", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_gets_one_clear_line(corpus, tmp_path, capsys, name, argv, message):
    import re

    out = tmp_path / ("out.csv" if argv[0] in ("predict", "attention", "tracks") else "out")
    rc = main([a.format(d=corpus) for a in argv] + ["--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, (rc, err)
    assert "internal error" not in err and "Traceback" not in err
    assert re.search(message, err), err
    assert not out.exists()  # a failed run leaves nothing behind


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv,expect",
    [
        (["predict", "{d}/bom.fa"], "wrote 2 predictions"),
        (["predict", "--bed", "{d}/bom.bed", "--reference", "{d}/ref.fa"], "wrote 1 predictions"),
        (["predict", "{d}/bom.tsv"], "wrote 2 predictions"),
        (
            ["variants", "{d}/ok.fa", "{d}/v.vcf.gz"],
            "skipped 3 alleles (ALT is '.': 1, symbolic allele <DEL>: 1, breakend: 1)",
        ),
    ],
    ids=["BOM FASTA", "BOM BED", "BOM table", "bgzip VCF with unscorable alleles"],
)
def test_odd_but_valid_input_works(corpus, tmp_path, capsys, argv, expect):
    out = tmp_path / ("out.csv" if argv[0] == "predict" else "out")
    rc = main([a.format(d=corpus) for a in argv] + ["--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert expect in err
    if argv[0] == "variants":
        import pandas as pd

        skipped = pd.read_csv(out / "skipped.tsv", sep="\t")
        assert sorted(skipped["id"]) == ["v2", "v3", "v4"] and len(pd.read_csv(out / "variants.csv")) == 2


def _dnalens(args, timeout=120, stdin=None):
    return subprocess.run([DNABERT, *args], capture_output=True, text=True, timeout=timeout, input=stdin)


def test_fifo_and_device_are_refused_at_once_by_the_real_command(tmp_path):
    fifo = tmp_path / "input.fa"
    os.mkfifo(fifo)  # nothing ever writes to it: opening it would wait forever
    for target in (fifo, "/dev/zero"):
        res = _dnalens(["predict", str(target), "--out", str(tmp_path / "p.csv")], timeout=60)
        assert res.returncode == 2, res.stderr
        assert "this is not a regular file (a pipe, socket or device)" in res.stderr
        assert "internal error" not in res.stderr


@pytest.mark.slow
def test_stdin_fasta_and_truncated_gzip_through_the_real_command(tmp_path):
    res = _dnalens(["predict", "-", "--out", str(tmp_path / "p.csv")], stdin=FA)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "p.csv").read_text().count("\n") == 3  # header + 2 sequences
    res = _dnalens(["predict", "-", "--out", str(tmp_path / "q.csv")], stdin="")
    assert res.returncode == 2 and "no FASTA on standard input (it is empty)" in res.stderr
    cut = tmp_path / "cut.fa.gz"
    cut.write_bytes(gzip.compress(MANY.encode())[:-25])
    res = _dnalens(["predict", str(cut), "--out", str(tmp_path / "r.csv")])
    assert res.returncode == 2 and "the gzip stream is truncated or corrupt" in res.stderr, res.stderr
