"""Which lens can I trust: lenses against ISM per sequence and over the set, peaks in known sites, the output folder
and the command."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.io.sequences import Sequence
from core.lenses import ISM, Attention, GradInput, Track, Tracks, tracks
from core.lenses.agreement import agreement, per_sequence_agreement, summarize_agreement, verdict
from core.motifs.sites import read_sites


def _tracks(lens, rows, seqs):
    return Tracks(tuple(Track(s, np.asarray(r, float)) for s, r in zip(seqs, rows)), lens)


def test_agreement_tables_by_hand():
    seqs = [Sequence("a", "ACGTACGTAC", label=1), Sequence("b", "TTTTACGTAA", label=0)]
    ism = _tracks(ISM(), [[0, 0, 1, 5, 4, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]], seqs)
    # a signed lens whose strongest base is negative: importance is |score|, so its peak is position 3
    signed = _tracks(GradInput(), [[0, 0, 1, -6, 4, 0, 0, 0, 0, 0], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]], seqs)
    att = _tracks(Attention(), [[5, 4, 0, 0, 0, 0, 0, 0, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8, 10, 9]], seqs)
    sites = {"a": [(3, 5)]}
    per = per_sequence_agreement({"grad-input": signed, "attention": att}, ism, sites, top_k=2)
    assert len(per) == 6 and set(per.lens) == {"grad-input", "attention", "ism"}
    row = per[(per.lens == "grad-input") & (per.id == "a")].iloc[0]
    assert row.peak == 3 and row.peak_in_site == 1.0 and row.top_k_overlap == 2
    assert np.isclose(row.spearman_rho, agreement(np.abs(signed[0].scores), ism[0].scores, 2)["spearman_rho"])
    assert per[(per.lens == "attention") & (per.id == "a")].iloc[0].peak_in_site == 0.0
    assert np.isnan(per[(per.id == "b") & (per.lens == "attention")].iloc[0].peak_in_site)  # no site known
    assert per[(per.id == "b") & (per.lens == "grad-input")].iloc[0].spearman_rho == pytest.approx(-1.0)
    summary = summarize_agreement(per, {"grad-input": signed, "attention": att}, ism, {"attention": "attn"})
    assert summary.lens.tolist() == ["attention", "grad-input", "ism"]  # best mean Spearman first, reference last
    att_row = summary.iloc[0]
    want = np.mean([agreement(att[i].scores, ism[i].scores)["spearman_rho"] for i in range(2)])
    assert att_row.mean_spearman == pytest.approx(want) and att_row.description == "attn"
    assert att_row.peak_in_site == 0.0 and att_row.n_with_sites == 1
    assert summary.iloc[1].peak_in_site == 1.0 and summary.iloc[2].peak_in_site == 1.0
    line = verdict(summary)
    assert line.startswith("attention agrees best with ISM") and "grad-input 100%" in line and "ISM 100%" in line


def test_read_sites(tmp_path):
    p = tmp_path / "truth.tsv"
    p.write_text("id\tlabel\tstart\tend\nx\t1\t3\t9\ny\t0\t\t\nx\t1\t20\t25\n")
    assert read_sites(p) == {"x": [(3, 9), (20, 25)]}
    (tmp_path / "t.csv").write_text("id,begin,end\nx,1,2\n")
    with pytest.raises(InputError, match="missing: start"):
        read_sites(tmp_path / "t.csv")
    (tmp_path / "u.csv").write_text("id,start,end\nx,5,2\n")
    with pytest.raises(InputError, match="line 2"):
        read_sites(tmp_path / "u.csv")


@pytest.mark.slow
def test_agreement_report_on_sample_data(demo_model, sample, tmp_path):
    from core.io.sequences import read_records
    from core.reports.agreement import agreement_report

    seqs = read_records(sample / "demo.fa")[:2]
    out = tmp_path / "agr"
    res = agreement_report(
        demo_model, seqs, out, lenses=["grad-input", "attention"], truth=sample / "truth.tsv", top_k=5
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "per_sequence.csv",
        "provenance.json",
        "summary.csv",
        "verdict.txt",
    ]
    per, summary = pd.read_csv(out / "per_sequence.csv"), pd.read_csv(out / "summary.csv")
    assert len(per) == 6 and summary.lens.tolist()[-1] == "ism" and len(summary) == 3
    assert summary.mean_spearman.iloc[0] >= summary.mean_spearman.iloc[1]
    # the numbers are the lenses' own: the tracks are what the lens gives, and the table is computed from them
    g, m = res.tracks["grad-input"][0].scores, res.tracks["ism"][0].scores
    assert np.allclose(g, tracks(demo_model, seqs[:1], GradInput())[0].scores, atol=1e-6)
    assert res.tracks["ism"].lens == ISM() and len(m) == len(seqs[0].seq)
    row = per[(per.lens == "grad-input") & (per.id == seqs[0].id)].iloc[0]
    assert row.spearman_rho == pytest.approx(agreement(np.abs(g), m, 5)["spearman_rho"], abs=1e-9)
    truth = pd.read_csv(sample / "truth.tsv", sep="\t").set_index("id")
    s, e = truth.loc[seqs[0].id, ["start", "end"]].astype(int)
    assert row.peak_in_site == float(s <= int(np.argmax(np.abs(g))) < e)
    assert summary.n_with_sites.max() == 1  # demo.fa alternates positives and negatives
    assert (out / "verdict.txt").read_text().strip() == res.verdict
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["lenses"]["grad-input"]["lens"]["lens"] == "grad-input" and prov["sites"].startswith("truth table")


def test_lenses_for_skips_what_does_not_apply(demo_model, tiny_model):
    import dataclasses

    from core.reports.agreement import lenses_for

    chosen, skipped = lenses_for(demo_model, orientation="both")
    assert {"attention", "grad-input", "ig", "expected-gradients"} <= set(chosen) and "ism" not in chosen
    assert all(lens.orientation == "both" for lens in chosen.values())
    assert set(skipped) <= {"mlm"}  # the masked-LM lens needs a masked-LM head, the demo classifier has none
    bpe_like = dataclasses.replace(tiny_model, family="bpe")
    chosen, skipped = lenses_for(bpe_like)
    assert "expected-gradients" in skipped and "BPE" in skipped["expected-gradients"] and "ig" in chosen
    with pytest.raises(InputError, match="does not apply"):
        lenses_for(bpe_like, ["expected-gradients"])


@pytest.mark.slow
def test_fimo_sites_and_the_command_as_a_subprocess(sample, tmp_path):
    """JASPAR sites found by FIMO where the truth table says the motifs were planted; the command end to end."""
    from core.io.sequences import read_records
    from core.motifs.sites import scan_sites

    seqs = [s for s in read_records(sample / "demo.fa") if s.label == 1][:12]
    truth = read_sites(sample / "truth.tsv")
    sites, hits = scan_sites(seqs, ["MA0139.2", "MA0108.3"], "JASPAR2024", 1e-4)
    overlaps = lambda sid, a, b: any(max(a, s) < min(b, e) for s, e in truth[sid])
    assert len(hits) and all(overlaps(r.id, r.start, r.end) for r in hits.itertuples())  # every hit is planted
    ctcf = pd.read_csv(sample / "truth.tsv", sep="\t").query("motif == 'CTCF'").id
    assert all(x.id in sites for x in seqs if x.id in set(ctcf))  # the 15-bp CTCF sites are all found (TBP: 7 bp)
    assert set(hits.columns) >= {"id", "motif", "start", "end", "strand", "p-value"}
    fa = tmp_path / "three.fa"
    fa.write_text("".join(f">{s.id}\n{s.seq}\n" for s in seqs[4:7]))  # two CTCF sites, one TBP
    out = tmp_path / "agr"
    cmd = [sys.executable, "-m", "core.cli", "agreement", str(fa), "--lenses", "attention,grad-input"]
    cmd += ["--sites-jaspar", "MA0139.2,MA0108.3", "--jaspar-release", "JASPAR2024", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "agrees best with ISM" in proc.stderr and (out / "sites.csv").exists()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.lens) == {"attention", "grad-input", "ism"} and summary.n_with_sites.max() >= 2
    bad = subprocess.run(cmd[:4] + ["--lenses", "ism", "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 2 and "reference" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_motifs_from_a_signed_lens_use_its_positive_part(demo_model, sample, tmp_path):
    from core.io.sequences import read_records
    from core.motifs import MotifParams
    from core.reports.motifs import motifs_report

    pos = read_records(sample / "demo_positives.fa")[:24]
    params = MotifParams(region_rule="dnabert-viz")
    res, _ = motifs_report(pos, tmp_path / "lens", model=demo_model, lens=GradInput(), params=params)
    raw = tracks(demo_model, pos, GradInput()).scores
    clipped, _ = motifs_report(pos, tmp_path / "a", scores=[np.clip(s, 0, None) for s in raw], params=params)
    unclipped, _ = motifs_report(pos, tmp_path / "b", scores=raw, params=params)
    assert res.candidates.equals(clipped.candidates) and not res.candidates.equals(unclipped.candidates)
    assert res.stages["regions"] < unclipped.stages["regions"] or len(res.candidates) < len(unclipped.candidates)
    info = json.loads((tmp_path / "lens" / "stages.json").read_text())
    assert "positive part" in info["signed_scores"] and info["scores"]["lens"]["lens"] == "grad-input"
