"""Genome mode of ``dnalens variants``: a VCF and a reference in, every ALT allele scored in a window centred on
it, sharded and resumable; the browser exports. Fixtures are generated (tests/genome_data.py)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from genome_data import expected_windows, make_reference, make_vcf, window

from core.cli.main import main
from core.io.sequences import Sequence
from core.reports.variants import read_variants
from core.variants.genome import window_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    return make_dnabert_checkpoint(tmp_path_factory.mktemp("g6"), k=6, max_pos=128, hidden=16, heads=2, seed=3)


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    d = tmp_path_factory.mktemp("genome")
    ref, seqs = make_reference(d)
    return d, ref, seqs


@pytest.fixture(scope="module")
def small_vcf(genome):
    d, _, seqs = genome
    return make_vcf(d, seqs, n_records=160, seed=2, name="small")


@pytest.fixture(scope="module")
def whole_run(genome, small_vcf, model_dir, tmp_path_factory):
    """One uninterrupted run over the small VCF, shared by the tests that compare against it."""
    out = tmp_path_factory.mktemp("whole") / "run"
    assert _run(small_vcf[0], genome[1], model_dir, out, "--export", "none") == 0
    return out


def _run(vcf, ref, model_dir, out, *extra):
    args = ["variants", str(vcf), "--reference", str(ref), "--model", str(model_dir), "--out", str(out)]
    return main(args + ["--window", "60", "--shard-size", "20", "--device", "cpu", *extra])


def test_window_rule_is_centred_and_stays_inside_the_contig():
    assert window_of(500, 1, 10_000, 100) == (450, 550)  # the changed base at start + window // 2
    assert window_of(3, 1, 10_000, 100) == (0, 100)  # near the start: shifted right
    assert window_of(9_998, 1, 10_000, 100) == (9_900, 10_000)  # near the end: shifted left
    assert window_of(10, 1, 40, 100) == (0, 40)  # a contig shorter than the window: all of it
    assert window_of(500, 50, 10_000, 100) == (450, 550)  # a 50-base deletion just fits
    assert window_of(500, 51, 10_000, 100) is None  # one more does not
    for p, n, L in [(0, 1, 500), (499, 1, 500), (250, 7, 500), (0, 0, 500)]:
        assert window_of(p, n, L, 60) == window(p, n, L, 60)


def _expected_probs(model_dir, expected, seqs, w):
    from core.model.loading import load_model
    from core.model.scoring import class_probabilities

    lm = load_model(str(model_dir), device="cpu")
    ok = [e for e in expected if e.skip is None and expected_windows(e, seqs, w) is not None]
    wins = [expected_windows(e, seqs, w) for e in ok]
    refs = class_probabilities(lm, [Sequence(f"r{i}", x[0]) for i, x in enumerate(wins)])[:, 1]
    alts = class_probabilities(lm, [Sequence(f"a{i}", x[1]) for i, x in enumerate(wins)])[:, 1]
    return ok, wins, refs, alts


def test_rows_and_skips_are_exactly_right(genome, small_vcf, model_dir, whole_run):
    _, ref, seqs = genome
    vcf, expected, n_records = small_vcf
    out = whole_run
    df = read_variants(out)
    ok, wins, p_ref, p_alt = _expected_probs(model_dir, expected, seqs, 60)
    assert len(df) == len(ok)
    assert list(zip(df.chrom, df.pos, df.ref, df.alt)) == [(e.chrom, e.pos, e.ref, e.alt) for e in ok]
    assert [None if pd.isna(x) else x for x in df["id"]] == [e.id for e in ok]
    assert df.window_start.tolist() == [w[2] for w in wins] and df.window_end.tolist() == [w[3] for w in wins]
    np.testing.assert_allclose(df.p_ref, p_ref, atol=2e-6)
    np.testing.assert_allclose(df.p_alt, p_alt, atol=2e-6)
    np.testing.assert_allclose(df.delta, df.p_alt - df.p_ref, atol=1e-12)
    lo = np.log2(df.p_ref / (1 - df.p_ref)) - np.log2(df.p_alt / (1 - df.p_alt))
    np.testing.assert_allclose(df.logOR, lo, atol=1e-9)
    assert set(df.kind) >= {"substitution", "insertion", "deletion", "multi-base substitution"}
    # skipped: every other allele, in VCF order, each with its reason
    sk = pd.read_csv(out / "skipped.tsv", sep="\t", keep_default_na=False)
    want = [e for e in expected if e not in ok]
    assert [(r.record, r.alt) for r in sk.itertuples()] == [(e.record, e.alt) for e in want]
    for r, e in zip(sk.itertuples(), want):
        assert r.reason.startswith(e.skip or "the deletion"), (r.reason, e)
    reasons = {e.skip.split()[0] for e in want if e.skip}
    assert reasons >= {"ALT", "symbolic", "REF", "spanning", "contig", "the"}
    run = __import__("json").loads((out / "run.json").read_text())
    assert run["complete"] and run["summary"]["records"] == n_records
    assert run["summary"]["scored"] == len(ok) and run["summary"]["skipped"] == len(want)


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_an_injected_failure_then_resume_equals_an_uninterrupted_run(
    genome, small_vcf, model_dir, tmp_path, monkeypatch, whole_run
):
    import core.reports.shards as rv

    _, ref, _ = genome
    vcf = small_vcf[0]
    real, calls = rv.score_alleles, []

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C in shard 4
        return real(*a, **k)

    monkeypatch.setattr(rv, "score_alleles", failing)
    assert _run(vcf, ref, model_dir, tmp_path / "cut", "--export", "none") != 0  # "dnalens: interrupted"
    parts = sorted((tmp_path / "cut" / "variants.parquet").glob("part-*.parquet"))
    assert len(parts) == 3 and not (tmp_path / "cut" / "skipped.tsv").exists()
    monkeypatch.setattr(rv, "score_alleles", real)
    before = {p.name: p.stat().st_mtime_ns for p in parts}
    assert _run(vcf, ref, model_dir, tmp_path / "cut", "--export", "none", "--resume") == 0
    assert {p.name: p.stat().st_mtime_ns for p in parts} == before  # finished shards kept, not redone
    pd.testing.assert_frame_equal(read_variants(tmp_path / "cut"), read_variants(whole_run))
    assert (tmp_path / "cut" / "skipped.tsv").read_text() == (whole_run / "skipped.tsv").read_text()


def test_resume_refuses_other_settings_and_foreign_folders(genome, small_vcf, model_dir, tmp_path, capsys, whole_run):
    import shutil

    _, ref, _ = genome
    vcf = small_vcf[0]
    out = tmp_path / "r"
    shutil.copytree(whole_run, out)
    assert main(["variants", str(vcf), "--reference", str(ref), "--model", str(model_dir), "--out", str(out),
                 "--window", "80", "--shard-size", "20", "--resume"]) == 2  # fmt: skip
    assert "different settings" in capsys.readouterr().err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert _run(vcf, ref, model_dir, tmp_path / "other") == 2
    assert "not a dnalens variants folder" in capsys.readouterr().err
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_browser_exports_carry_the_scores(genome, model_dir, tmp_path):
    import pysam

    _, ref, seqs = genome
    out = tmp_path / "e"
    vcf = make_vcf(tmp_path, seqs, n_records=50, seed=3, name="few")[0]
    assert _run(vcf, ref, model_dir, out, "--lens-at-variant", "attention") == 0
    df = read_variants(out)
    assert df["attention_at_variant"].notna().all() and (df["attention_at_variant"] > 0).all()
    assert (out / "variants.vcf.gz.tbi").exists()
    with pysam.VariantFile(str(out / "variants.vcf.gz")) as vf:
        recs = list(vf)
        assert len(recs) == len(df)
        got = np.array([r.info["DELTA"] for r in recs])
        att = np.array([r.info["ATTENTION_AT_VARIANT"] for r in recs])
        assert [(r.chrom, r.pos, r.ref, r.alts[0]) for r in recs] == list(zip(df.chrom, df.pos, df.ref, df.alt))
        assert len(list(vf.fetch("chr1", 0, 1_000_000))) == int(((df.chrom == "chr1") & (df.pos <= 1_000_000)).sum())
    np.testing.assert_allclose(got, df.delta, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(att, df.attention_at_variant, rtol=1e-5, atol=1e-7)
    bed = [ln.split("\t") for ln in (out / "variants.bed").read_text().splitlines()[1:]]
    assert len(bed) == len(df)
    assert [int(b[1]) for b in bed] == (df.pos - 1).tolist()
    assert [int(b[2]) - int(b[1]) for b in bed] == df.ref.str.len().tolist()
    assert [int(b[4]) for b in bed] == np.clip(np.rint(df.delta.abs() * 1000), 0, 1000).astype(int).tolist()


@pytest.mark.slow
def test_thousands_of_records_rows_and_skips(genome, model_dir, tmp_path):
    _, ref, seqs = genome
    vcf, expected, n = make_vcf(tmp_path, seqs, n_records=3000, seed=5)
    out = tmp_path / "big"
    assert _run(vcf, ref, model_dir, out, "--export", "none", "--shard-size", "500") == 0
    df = read_variants(out)
    ok, wins, p_ref, p_alt = _expected_probs(model_dir, expected, seqs, 60)
    assert n > 3000 and len(df) == len(ok) > 3000
    assert list(zip(df.record, df.alt)) == [(e.record, e.alt) for e in ok]
    np.testing.assert_allclose(df.p_ref, p_ref, atol=2e-6)
    np.testing.assert_allclose(df.p_alt, p_alt, atol=2e-6)
    sk = pd.read_csv(out / "skipped.tsv", sep="\t", keep_default_na=False)
    assert len(sk) + len(df) == len(expected)


@pytest.mark.slow
def test_killed_subprocess_then_resume_equals_an_uninterrupted_run(genome, model_dir, tmp_path):
    _, ref, seqs = genome
    vcf, _, _ = make_vcf(tmp_path, seqs, n_records=1500, seed=7)
    args = ["variants", str(vcf), "--reference", str(ref), "--model", str(model_dir), "--window", "60"]
    args += ["--shard-size", "100", "--device", "cpu", "--export", "vcf"]
    out = tmp_path / "killed"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", *args, "--out", str(out)], cwd=ROOT, env=env)
    parts = out / "variants.parquet"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(parts.glob("part-*.parquet"))) < 3:
        assert proc.poll() is None, "the run finished before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(parts.glob("part-*.parquet")))
    assert 3 <= done < 15 and not (out / "skipped.tsv").exists()
    assert main([*args, "--out", str(out), "--resume"]) == 0
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    pd.testing.assert_frame_equal(read_variants(out), read_variants(tmp_path / "whole"))
    for name in ("skipped.tsv",):
        assert (out / name).read_text() == (tmp_path / "whole" / name).read_text()


@pytest.mark.slow
def test_zero_shot_llr_in_genome_mode(genome, model_dir, tmp_path):
    from core.io.sequences import Sequence
    from core.model.loading import load_model
    from core.variants.variants import Variant
    from core.variants.zero_shot import zero_shot_scores

    _, ref, seqs = genome
    vcf, expected, _ = make_vcf(tmp_path, seqs, n_records=30, seed=9, name="zs")
    from checkpoints import make_dnabert_checkpoint

    mlm_dir = make_dnabert_checkpoint(tmp_path / "mlm", k=6, classifier=False, max_pos=128, hidden=16, heads=2)
    out = tmp_path / "zs"
    assert _run(vcf, ref, model_dir, out, "--zero-shot", "--mlm-model", str(mlm_dir), "--export", "vcf") == 0
    df = read_variants(out)
    ok = [e for e in expected if e.skip is None]
    assert len(df) == len(ok) and {"p_ref", "llr", "llr_note", "mlm_p_ref"} <= set(df.columns)
    mlm = load_model(str(mlm_dir), device="cpu")
    for e, r in zip(ok, df.itertuples()):
        refw, _, start, _ = expected_windows(e, seqs, 60)
        if len(e.ref) != len(e.alt):
            assert np.isnan(r.llr) and r.llr_note.startswith("indel")
            continue
        v = Variant("w", e.pos - 1 - start, e.ref, e.alt)
        want = zero_shot_scores(mlm, [Sequence("w", refw)], [v]).llr.iloc[0]
        assert r.llr == pytest.approx(want, rel=1e-5, abs=1e-6)
    assert df.llr.notna().sum() > 10
    assert "LLR=" in __import__("gzip").open(out / "variants.vcf.gz", "rt").read()


@pytest.mark.slow
def test_bcf_and_plain_vcf_give_the_same_table(genome, model_dir, tmp_path):
    import gzip

    import pysam

    _, ref, seqs = genome
    gz = make_vcf(tmp_path, seqs, n_records=25, seed=13, name="few")[0]
    plain = tmp_path / "plain.vcf"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    bcf = tmp_path / "few.bcf"
    with pysam.VariantFile(str(gz)) as src, pysam.VariantFile(str(bcf), "wb", header=src.header) as dst:
        for rec in src:
            dst.write(rec)
    tables = []
    for name, path in (("gz", gz), ("plain", plain), ("bcf", bcf)):
        assert _run(path, ref, model_dir, tmp_path / name, "--export", "none") == 0
        tables.append(read_variants(tmp_path / name))
    assert len(tables[0]) > 20
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])
