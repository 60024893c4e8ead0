import numpy as np
import pandas as pd
import pytest

from core.cli import main


def first_records(fasta, n, folder):
    """The first ``n`` records of a FASTA file, as a new file in ``folder`` (small inputs keep the CLI tests fast)."""
    lines = fasta.read_text().splitlines(keepends=True)
    starts = [i for i, ln in enumerate(lines) if ln.startswith(">")] + [len(lines)]
    path = folder / f"first{n}_{fasta.name}"
    path.write_text("".join(lines[: starts[n]]))
    return path


def test_attention_parquet(tmp_path, sample, capsys):
    out = tmp_path / "scores.parquet"
    assert main(["attention", str(sample / "demo.fa"), "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert list(df.columns) == ["id", "position", "base", "score"]
    assert df["id"].nunique() == 200 and len(df) == 20000
    norms = df.groupby("id")["score"].apply(lambda s: float(np.sqrt((s**2).sum())))
    assert np.allclose(norms, 1, atol=1e-5)
    assert "attention" in capsys.readouterr().err  # progress bar / summary on stderr


def test_attention_bed_has_genomic_coordinates(tmp_path, sample):
    out = tmp_path / "bed.csv"
    assert (
        main(
            [
                "attention",
                "--bed",
                str(sample / "intervals.bed"),
                "--reference",
                str(sample / "reference.fa"),
                "--out",
                str(out),
                "--strand",
                "mean",
            ]
        )
        == 0
    )
    df = pd.read_csv(out)
    assert {"chrom", "genomic_position", "strand"} <= set(df.columns)
    minus = df[df["strand"] == "-"]
    first = minus.groupby("id").head(2)
    # on the - strand, position 0 is the interval's last base
    assert (first.groupby("id")["genomic_position"].diff().dropna() == -1).all()


def test_attention_npy_and_custom_recipe(tmp_path, sample):
    out = tmp_path / "a.npy"
    assert (
        main(
            [
                "attention",
                str(sample / "demo.fa"),
                "--out",
                str(out),
                "--recipe",
                "custom",
                "--layers",
                "0,1",
                "--heads",
                "all",
                "--head-agg",
                "mean",
                "--normalize",
                "max",
            ]
        )
        == 0
    )
    a = np.load(out)
    assert a.shape == (200, 100) and np.allclose(np.nanmax(a, axis=1), 1)


def test_predict(tmp_path, sample):
    out = tmp_path / "p.csv"
    assert main(["predict", str(sample / "demo.fa"), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns[:5]) == ["id", "length", "p_negative", "p_positive", "predicted"]
    assert np.allclose(df["p_negative"] + df["p_positive"], 1, atol=1e-5)
    assert ((df["p_positive"] >= 0.5) == (df["label"] == 1)).mean() > 0.8  # model: 0.85 held out


@pytest.mark.parametrize(
    "args,msg",
    [
        (["attention", "MISSING.fa", "--out", "x.parquet"], "MISSING.fa: file not found"),
        (["attention", "BAD", "--out", "x.parquet"], "record 'a', line 2: invalid character 'X'"),
        (["attention", "SAMPLE", "--out", "x.xlsx"], "cannot tell the output format"),
        (
            ["predict", "SAMPLE", "--out", "p.csv", "--model", "/no/such/model"],
            "model folder '/no/such/model' not found",
        ),
        (["attention", "--bed", "BED", "--out", "x.csv"], "--bed needs --reference"),
        (["attention", "SAMPLE", "--out", "x.csv", "--layers", "0"], "--layers/--heads apply to --recipe custom"),
        (["attention", "SAMPLE", "--out", "x.csv", "--recipe", "custom", "--layers", "7"], "layer 7 does not exist"),
        (["attention", "SHORT", "--out", "x.csv"], "record 'tiny'"),
    ],
)
def test_bad_input_exits_2_with_message(tmp_path, sample, capsys, args, msg):
    (tmp_path / "bad.fa").write_text(">a\nACGTXX\n")
    (tmp_path / "short.fa").write_text(">tiny\nACG\n")
    repl = {
        "BAD": str(tmp_path / "bad.fa"),
        "SAMPLE": str(sample / "demo.fa"),
        "SHORT": str(tmp_path / "short.fa"),
        "BED": str(sample / "intervals.bed"),
        "x.parquet": str(tmp_path / "x.parquet"),
        "x.csv": str(tmp_path / "x.csv"),
        "p.csv": str(tmp_path / "p.csv"),
        "x.xlsx": str(tmp_path / "x.xlsx"),
    }
    rc = main([repl.get(a, a) for a in args])
    err = capsys.readouterr().err
    assert rc == 2
    assert msg in err and "Traceback" not in err


def test_console_script_installed():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "dnalens"  # console script installed beside the interpreter
    assert exe.exists(), "the dnalens command is not installed (pip install -r requirements.txt installs -e .)"
    res = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "attention" in res.stdout


@pytest.mark.slow
def test_motifs_command_writes_every_output(tmp_path, sample, capsys):
    out = tmp_path / "motifs"
    assert (
        main(
            [
                "motifs",
                str(sample / "demo_positives.fa"),
                "--negatives",
                str(sample / "demo_negatives.fa"),
                "--out",
                str(out),
                "--jaspar-release",
                "JASPAR2026",
                "--logo-formats",
                "png,svg,pdf",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "regions" in err and "kept" in err and "TBP (MA0108.3)" in err and "CTCF (MA0139.2)" in err
    motifs = pd.read_csv(out / "motifs.csv")
    assert {
        "name",
        "consensus",
        "instances",
        "sequences",
        "p",
        "q",
        "best_jaspar_id",
        "best_jaspar_name",
        "best_jaspar_q",
    } <= set(motifs.columns)
    inst = pd.read_csv(out / "instances.csv")
    assert list(inst.columns) == [
        "motif",
        "sequence_id",
        "seq_index",
        "start",
        "end",
        "strand",
        "core_start",
        "core_end",
        "window",
    ]
    tt = pd.read_csv(out / "tomtom.tsv", sep="\t")
    assert list(tt.columns) == [
        "Query_ID",
        "Target_ID",
        "Target_name",
        "Optimal_offset",
        "p-value",
        "E-value",
        "q-value",
        "Overlap",
        "Query_consensus",
        "Target_consensus",
        "Orientation",
    ]
    import json

    from memelite.io import read_meme

    assert len(read_meme(str(out / "motifs.meme"))) == len(motifs)
    stages = json.loads((out / "stages.json").read_text())
    assert stages["stages"]["kept"] == len(motifs) and stages["background"] == "300 negatives"
    for name in motifs["name"]:  # PNG logos by default (--logo-formats adds svg/pdf)
        assert (out / "logos" / f"{name}_information.png").stat().st_size > 1000


def test_motifs_command_scores_npy_parity_and_errors(tmp_path, sample, capsys):
    positives = first_records(sample / "demo_positives.fa", 60, tmp_path)
    npy = tmp_path / "pos.npy"
    assert main(["attention", str(positives), "--out", str(npy)]) == 0
    out = tmp_path / "par"
    assert (
        main(
            [
                "motifs",
                str(positives),
                "--scores",
                str(npy),
                "--parity",
                "dnabert-viz",
                "--no-jaspar",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "shuffled" in (out / "stages.json").read_text()  # default background said so
    capsys.readouterr()
    assert (
        main(
            [
                "motifs",
                str(positives),
                "--scores",
                str(npy),
                "--out",
                str(out),
                "--jaspar-release",
                "JASPAR1999",
            ]
        )
        == 2
    )
    assert "JASPAR release 'JASPAR1999' does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((3, 100)))
    assert main(["motifs", str(positives), "--scores", str(bad), "--out", str(out), "--no-jaspar"]) == 2
    assert "scores array has shape (3, 100); expected [60, length]" in capsys.readouterr().err


def test_track_writer_streams_in_chunks_and_round_trips(tmp_path):
    """Small chunks force many flushes: every format writes every row once, in order."""
    from core.io.scores import read_scores_table
    from core.io.sequences import Sequence
    from core.io.tables import TrackWriter

    rng = np.random.default_rng(0)
    seqs = [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), int(rng.integers(5, 40))))) for i in range(50)]
    tracks = [rng.random(len(s.seq)).astype(np.float32) for s in seqs]
    for ext in ("parquet", "csv", "tsv"):
        path = tmp_path / f"t.{ext}"
        with TrackWriter(path, chunk_rows=37) as w:
            for s, t in zip(seqs, tracks):
                w.write(s, t)
        back = read_scores_table(path)
        assert list(back) == [s.id for s in seqs]
        assert all(np.allclose(back[s.id], t, atol=1e-6) for s, t in zip(seqs, tracks))
    df = pd.read_parquet(tmp_path / "t.parquet")
    assert df["base"].tolist()[:5] == list(seqs[0].seq[:5]) and df["position"].tolist()[:3] == [0, 1, 2]
    with TrackWriter(tmp_path / "e.parquet") as w:
        pass
    assert pd.read_parquet(tmp_path / "e.parquet").empty


def test_ensemble_attention_and_motifs_from_the_cli(tmp_path, sample, capsys):
    from checkpoints import make_dnabert_checkpoint

    k5 = make_dnabert_checkpoint(tmp_path / "k5", k=5, layers=1, hidden=16, heads=2)
    seqs, positives = (first_records(sample / f, 40, tmp_path) for f in ("demo.fa", "demo_positives.fa"))
    out = tmp_path / "ens.parquet"
    assert main(["attention", str(seqs), "--models", f"demo,{k5}", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    norms = df.groupby("id")["score"].apply(lambda s: float(np.sqrt((s**2).sum())))
    assert (norms > 1.0).all() and (norms <= 2.0 + 1e-5).all()  # a sum of two unit-norm tracks
    mout = tmp_path / "mot"
    assert main(["motifs", str(positives), "--models", f"demo,{k5}", "--no-jaspar", "--out", str(mout)]) == 0
    assert "ensemble of demo" in (mout / "stages.json").read_text()
    capsys.readouterr()
    assert main(["attention", str(seqs), "--models", "demo", "--out", str(out)]) == 2
    assert "--models needs at least two checkpoints" in capsys.readouterr().err


@pytest.mark.slow
def test_dnabert2_layout_from_the_cli(tmp_path, sample, capsys):
    """A checkpoint in DNABERT-2's layout: refused without --trust-remote-code, attention and a mutation map with."""
    import pandas as pd
    from checkpoints import make_alibi_checkpoint

    ck = make_alibi_checkpoint(tmp_path / "dnabert2", alibi_size=32)
    seqs = first_records(sample / "demo.fa", 40, tmp_path)
    out = tmp_path / "att.parquet"
    assert main(["attention", str(seqs), "--model", str(ck), "--out", str(out)]) == 2
    assert "--trust-remote-code" in capsys.readouterr().err
    assert main(["attention", str(seqs), "--model", str(ck), "--trust-remote-code", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert df["id"].nunique() == 40 and len(df) == 4000 and df["score"].notna().all()
    assert (
        main(
            [
                "mutate",
                str(seqs),
                "--model",
                str(ck),
                "--trust-remote-code",
                "--id",
                "demo_pos_0001",
                "--start",
                "40",
                "--end",
                "70",
                "--out",
                str(tmp_path / "ism"),
            ]
        )
        == 0
    )
    sat = pd.read_csv(tmp_path / "ism" / "saturation.csv")
    assert sorted(set(sat["position"])) == list(range(40, 70)) and len(sat) == 90  # 3 substitutions per base
    assert (tmp_path / "ism" / "maps" / "demo_pos_0001.png").stat().st_size > 1000
