"""Outputs appear whole or not at all, and a second run says what it replaces (issue 14, item 7); the minus
strand maps every score to its genomic position (item 8)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failing_tracks_run_leaves_the_file_as_it_was(tmp_path, sample, capsys):
    out = tmp_path / "scores.csv"
    out.write_text("id,position,base,score\nold,0,A,1.0\n")
    before = out.read_bytes()
    bad = tmp_path / "bad.fa"  # the error comes after the first records were already scored and written
    good = "".join(f">s{i}\n{'ACGT' * 20}\n" for i in range(40))
    bad.write_text(good + ">broken\nACGTXACGT\n")
    assert main(["attention", str(bad), "--batch-size", "4", "--out", str(out)]) == 2
    assert "invalid character 'X'" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.fa", "scores.csv"]  # no partial file left
    good_fa = tmp_path / "good.fa"
    good_fa.write_text(good)
    assert main(["attention", str(good_fa), "--out", str(out)]) == 0
    assert f"{out} exists; it will be replaced" in capsys.readouterr().err
    assert pd.read_csv(out)["id"].nunique() == 40


def test_a_failing_motifs_run_leaves_the_folder_as_it_was(tmp_path, sample, capsys, monkeypatch):
    import core.reports.motifs as reports

    pos = tmp_path / "pos.fa"
    from core.io.sequences import read_fasta

    pos.write_text("".join(f">{s.id}\n{s.seq}\n" for s in read_fasta(sample / "demo_positives.fa")[:40]))
    out = tmp_path / "motifs"
    args = ["motifs", str(pos), "--no-jaspar", "--min-n-motif", "2", "--out", str(out)]
    assert main(args) == 0
    before = _snapshot(out)
    assert "motifs.csv" in before
    capsys.readouterr()

    real = reports.write_report

    def half_then_fail(result, tmp, *a, **k):
        (Path(tmp) / "motifs.csv").write_text("half written\n")
        raise OSError("disk full")

    monkeypatch.setattr(reports, "write_report", half_then_fail)
    assert main(args) == 1
    assert "disk full" in capsys.readouterr().err
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motifs", "pos.fa"]
    monkeypatch.setattr(reports, "write_report", real)
    assert main(args) == 0
    assert f"{out} exists ({len(before)} files); it will be replaced when this run finishes" in capsys.readouterr().err


def test_predict_says_what_it_replaces(tmp_path, sample, capsys):
    out = tmp_path / "p.csv"
    assert main(["predict", str(sample / "demo.fa"), "--out", str(out)]) == 0
    assert "exists" not in capsys.readouterr().err
    assert main(["predict", str(sample / "demo.fa"), "--out", str(out)]) == 0
    assert f"{out} exists; it will be replaced" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------- minus strand
@pytest.fixture
def minus_interval(tmp_path):
    """A reference and one interval on each strand over the same bases; a FASTA of the '-' read, forward."""
    from core.io.sequences import reverse_complement

    rng = np.random.default_rng(7)
    chrom = "".join(rng.choice(list("ACGT"), 400))
    chrom = chrom[:150] + "TTGCCACCAGGGGGCGCTATAAAAGG" + chrom[176:]
    (tmp_path / "ref.fa").write_text(">chr1\n" + "\n".join(chrom[i : i + 60] for i in range(0, 400, 60)) + "\n")
    (tmp_path / "iv.bed").write_text("chr1\t120\t220\tplus\t0\t+\nchr1\t120\t220\tminus\t0\t-\n")
    read = reverse_complement(chrom[120:220])
    (tmp_path / "read.fa").write_text(f">minus_read\n{read}\n")
    return tmp_path, chrom, read


def test_minus_interval_track_is_the_forward_read_reversed_on_the_genome(minus_interval):
    from core.io.tables import bedgraph_lines
    from core.lenses import Attention, tracks
    from core.model.loading import load_model
    from core.reports.figures import attention_track_figure, close, plotly_track

    d, chrom, read = minus_interval
    bed = d / "bed.csv"
    assert main(["attention", "--bed", str(d / "iv.bed"), "--reference", str(d / "ref.fa"), "--out", str(bed)]) == 0
    assert main(["attention", str(d / "read.fa"), "--out", str(d / "read.csv")]) == 0
    fwd = pd.read_csv(d / "read.csv")["score"].to_numpy()
    table = pd.read_csv(bed)
    minus = table[table["id"] == "minus"].sort_values("genomic_position")
    assert minus["genomic_position"].tolist() == list(range(120, 220))
    np.testing.assert_allclose(minus["score"].to_numpy(), fwd[::-1], rtol=1e-5)
    # the base column holds the read's own base, so on the genome it is the complement of the reference base
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}
    assert "".join(comp[b] for b in minus["base"]) == chrom[120:220]

    lm = load_model("demo", device="cpu")
    from core.io.sequences import read_bed

    seq = next(s for s in read_bed(d / "iv.bed", d / "ref.fa") if s.id == "minus")
    assert seq.seq == read
    t = tracks(lm, [seq], Attention())[0]
    # bedGraph: value at genomic position g is the score of the read's base that sits there
    values = {}
    for line in bedgraph_lines(seq, t.scores):
        c, a, b, v = line.split("\t")
        for g in range(int(a), int(b)):
            values[g] = float(v)
    np.testing.assert_allclose([values[g] for g in range(120, 220)], fwd[::-1], rtol=1e-4)
    # the dashboard's genome axis (plotly) and the static figure: x is the genomic position, increasing
    g = seq.genomic_positions()
    fig = plotly_track(seq.seq, t.scores, "minus", g, seq.chrom)
    line = fig.data[1]
    assert list(line.x) == list(range(120, 220))
    np.testing.assert_allclose(line.y, fwd[::-1], rtol=1e-5)
    mfig = attention_track_figure(seq.seq, t.scores, "minus", g, seq.chrom)
    x, y = mfig.axes[1].lines[0].get_data()
    assert list(x) == list(range(120, 220))
    np.testing.assert_allclose(y, fwd[::-1], rtol=1e-5)
    assert "forward strand" in mfig.axes[1].get_xlabel()
    close(mfig)
